"""API shapes of payers, coverages and benefit buckets."""

import datetime as dt

from ninja import Field, Schema

from pedsdesk.authorizations.models import (
    BenefitBucket,
    BookingRule,
    PayerType,
    RenewalDocument,
    RoundingRule,
    UnitType,
)
from pedsdesk.practices.models import Discipline
from pedsdesk.practices.schemas import InputSchema


class PayerIn(InputSchema):
    name: str
    payer_type: PayerType
    payer_id: str = Field("", description="Electronic claims payer ID.")
    phone: str = ""
    fax: str = ""
    portal_url: str = ""
    requires_authorization: bool = True
    renewal_earliest_days: int = Field(30, description="Renewals are accepted no earlier than this before expiry.")
    renewal_recommended_days: int = Field(21, description="Submit renewals this many days before expiry.")
    renewal_documents: list[RenewalDocument] = []
    decision_turnaround_days: int = 7
    expedited_turnaround_hours: int = 72
    evaluation_requires_authorization: bool = False
    unit_type: UnitType = UnitType.VISITS
    rounding_rule: RoundingRule = RoundingRule.EIGHT_MINUTE
    booking_rule: BookingRule = Field(BookingRule.WARN, description="Booking outside an authorization.")


class PayerOut(Schema):
    id: int
    name: str
    payer_type: str
    payer_id: str
    phone: str
    fax: str
    portal_url: str
    requires_authorization: bool
    renewal_earliest_days: int
    renewal_recommended_days: int
    renewal_documents: list[str]
    decision_turnaround_days: int
    expedited_turnaround_hours: int
    evaluation_requires_authorization: bool
    unit_type: str
    rounding_rule: str
    booking_rule: str


class PayerRef(Schema):
    id: int
    name: str
    payer_type: str


class BenefitBucketIn(InputSchema):
    name: str = Field(description="e.g. PT/OT combined")
    disciplines: list[Discipline] = Field(description="Several for a combined limit; each discipline in one bucket.")
    unit_type: UnitType = UnitType.VISITS
    limit: int
    reset: BenefitBucket.Reset = BenefitBucket.Reset.CALENDAR_YEAR


class BenefitBucketOut(Schema):
    id: int
    name: str
    disciplines: list[str]
    unit_type: str
    limit: int
    reset: str


class CoverageIn(InputSchema):
    payer_id: int = Field(description="One of your practice's payers.")
    priority: int = Field(1, description="1 primary, 2 secondary, 3 tertiary.")
    member_id: str
    group_number: str = ""
    subscriber_name: str = ""
    plan_year_start_month: int = Field(1, description="Month the plan year starts (1 = calendar year).")
    plan_year_start_day: int = 1
    start_date: dt.date
    end_date: dt.date | None = None
    benefit_buckets: list[BenefitBucketIn] = Field([], description="Plan-year limits of visits or units.")


class CoverageOut(Schema):
    id: int
    patient_id: int
    payer: PayerRef
    priority: int
    member_id: str
    group_number: str
    subscriber_name: str
    plan_year_start_month: int
    plan_year_start_day: int
    start_date: dt.date
    end_date: dt.date | None
    benefit_buckets: list[BenefitBucketOut]

    @staticmethod
    def resolve_benefit_buckets(obj) -> list:
        return list(obj.benefit_buckets.all())

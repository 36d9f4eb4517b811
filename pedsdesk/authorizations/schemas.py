"""API shapes of payers, coverages, benefit buckets, authorizations and renewals."""

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from pedsdesk.authorizations.models import (
    AuthorizationStatus,
    BenefitBucket,
    BookingRule,
    PayerType,
    RenewalDocument,
    RoundingRule,
    SubmissionChannel,
    UnitType,
)
from pedsdesk.fields import Id, Line, Note, Phone, SaneDate
from pedsdesk.practices.models import Discipline
from pedsdesk.practices.schemas import InputSchema, Offset


class PayerIn(InputSchema):
    name: Line(200)
    payer_type: PayerType
    payer_id: Line(40) = Field("", description="Electronic claims payer ID.")
    phone: Phone = ""
    fax: Phone = ""
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
    payer_id: Id = Field(description="One of your practice's payers.")
    priority: int = Field(1, description="1 primary, 2 secondary, 3 tertiary.")
    member_id: Line(40)
    group_number: Line(40) = ""
    subscriber_name: Line(200) = ""
    plan_year_start_month: int = Field(1, description="Month the plan year starts (1 = calendar year).")
    plan_year_start_day: int = 1
    start_date: SaneDate
    end_date: SaneDate | None = None
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


# Authorizations


class ServiceLineIn(InputSchema):
    cpt_codes: list[str] = Field(description="The CPT codes this line covers, each on one line only.")
    modifier: str = ""
    unit_type: UnitType = Field(UnitType.VISITS, description="Every line of an authorization counts the same unit.")
    quantity: int = Field(description="Authorized visits or 15-minute units; at least 1.")
    requested_quantity: int | None = Field(None, description="What was asked for, when less was approved.")
    per_week_cap: int | None = None
    per_month_cap: int | None = None


class AuthorizationIn(InputSchema):
    coverage_id: Id = Field(description="One of the patient's coverages in your practice.")
    discipline: Discipline
    number: Line(40) = Field(description="The payer's authorization number.")
    start_date: SaneDate
    end_date: SaneDate
    status: AuthorizationStatus = AuthorizationStatus.APPROVED
    notes: Note(4000) = ""
    lines: list[ServiceLineIn] = Field(description="At least one; replaces every line when given.")


class Ref(Schema):
    id: int
    name: str


class RenewalRef(Schema):
    id: int
    state: str
    due_date: dt.date


class LineOut(Schema):
    id: int
    cpt_codes: list[str]
    modifier: str
    unit_type: str
    authorized: int
    requested_quantity: int | None
    per_week_cap: int | None
    per_month_cap: int | None
    used: int
    scheduled: int
    remaining: int
    projected_exhaustion: dt.date | None


class DenialOut(Schema):
    date: dt.date
    reason: str = Field(description="after_end, beyond_units, weekly_cap, monthly_cap, code or no_authorization")
    message: str


class AuthorizationOut(Schema):
    id: int
    patient: Ref
    coverage_id: int
    payer: PayerRef
    discipline: str
    number: str
    start_date: dt.date
    end_date: dt.date
    status: str
    previous_id: int | None
    therapist: Ref | None
    unit: str = Field(description="visits or units (15-minute units)")
    authorized: int
    used: int = Field(description="Units of attended visits.")
    scheduled: int = Field(description="Units of booked visits and future occurrences of recurring series.")
    remaining: int
    days_left: int
    projected_exhaustion: dt.date | None = Field(description="The day the schedule uses the last unit, if it does.")
    flags: list[str] = Field(description="runs_out, unused_units, denials, expiring, renewal_overdue, "
                                         "decision_overdue")
    renewal: RenewalRef | None
    lines: list[LineOut]


class AuthorizationDetailOut(AuthorizationOut):
    denials: list[DenialOut] = Field(description="Each visit the authorization will not cover: a future denial.")
    notes: str


class AuthorizationFilters(Schema):
    payer_id: Id | None = None
    discipline: Discipline | None = None
    therapist_id: Id | None = Field(None, description="The therapist of the plan of care it pays for.")
    flag: str = Field("", description="Only authorizations with this flag.")
    show: Literal["current", "ended", "all"] = "current"
    sort: Literal["days_left", "-days_left", "units_left", "-units_left", "patient"] = "days_left"
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


# Renewals


class RenewalItemOut(Schema):
    document: str
    received_on: dt.date | None


class RenewalLineOut(Schema):
    id: int
    cpt_codes: list[str]
    unit_type: str
    requested_quantity: int
    approved_quantity: int | None


class RenewalOut(Schema):
    id: int
    authorization_id: int
    patient: Ref
    payer: PayerRef
    state: str
    due_date: dt.date
    window_opens: dt.date = Field(description="The first day the payer accepts the renewal.")
    due_basis: str = Field(description="end or exhaustion: what the due date counts back from.")
    therapist: Ref | None
    requested_start: dt.date
    requested_end: dt.date
    expedited: bool
    submitted_on: dt.date | None
    channel: str
    payer_reference: str
    decision_due: dt.date | None
    decided_on: dt.date | None
    denial_reason: str
    decision_note: str
    items: list[RenewalItemOut]
    lines: list[RenewalLineOut]
    next_authorization_id: int | None


class RenewalFilters(Schema):
    state: str = Field("open", description="open (not yet decided), all, or one state.")
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


class RenewalDocumentIn(InputSchema):
    document: RenewalDocument
    received: bool = True
    note: str = ""


class RenewalSubmitIn(InputSchema):
    submitted_on: SaneDate
    channel: SubmissionChannel
    payer_reference: str = ""


class ApprovedLineIn(InputSchema):
    id: int = Field(description="The renewal line's id.")
    approved_quantity: int = Field(ge=0, description="0 when the payer denied this line.")


class RenewalDecisionIn(InputSchema):
    decision: Literal["approved", "denied"]
    decided_on: SaneDate
    number: str = Field("", description="The new authorization's number (approvals).")
    start_date: SaneDate | None = Field(None, description="Approved period; the requested one when left out.")
    end_date: SaneDate | None = None
    lines: list[ApprovedLineIn] = Field([], description="Approved quantity of every renewal line (approvals).")
    reason: str = Field("", description="The payer's reason (denials).")
    note: str = ""


class BucketUsageOut(Schema):
    id: int
    name: str
    disciplines: list[str]
    unit_type: str
    limit: int
    reset: str
    period_start: dt.date
    period_end: dt.date
    used: int
    scheduled: int
    remaining: int
    projected_exhaustion: dt.date | None
    over_limit: int = Field(description="Visits booked beyond the limit this plan year.")

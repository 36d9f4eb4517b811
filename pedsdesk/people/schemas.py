"""API shapes of patients, diagnoses, guardians and plans of care."""

import datetime as dt

from ninja import Field, Schema

from pedsdesk.fields import Id, Line, Name, Phone, SaneDate
from pedsdesk.people.models import Channel, GuardianOf, Language
from pedsdesk.practices.models import Discipline
from pedsdesk.practices.schemas import InputSchema, Search, StaffRef


class SchoolRef(Schema):
    id: int
    name: str


class PatientIn(InputSchema):
    first_name: Name
    last_name: Name
    preferred_name: Line(100) = ""
    date_of_birth: SaneDate
    school_id: Id | None = Field(None, description="One of your practice's schools, or null.")
    grade: str = Field("", description="PK, K or 1 to 12; empty if not in school.")
    is_active: bool = True


class PatientOut(Schema):
    id: int
    first_name: str
    last_name: str
    preferred_name: str
    date_of_birth: dt.date
    school: SchoolRef | None
    grade: str
    is_active: bool
    created_at: dt.datetime


class PatientSearch(Search):
    is_active: bool | None = Field(None, description="Only active (true) or inactive (false) patients.")


class DiagnosisIn(InputSchema):
    code: str = Field(description="ICD-10-CM code, e.g. F80.2; the dot may be left out.")
    description: str = Field("", description="Filled in for common pediatric codes when left empty.")
    is_primary: bool = False


class DiagnosisOut(Schema):
    id: int
    code: str
    description: str
    is_primary: bool


class GuardianIn(InputSchema):
    first_name: Name
    last_name: Name
    phone: Phone = Field("", description="Mobile number; stored as E.164, e.g. +15125550142.")
    email: str = ""
    language: Language = Language.EN
    preferred_channel: Channel = Channel.SMS
    sms_consent: bool = Field(False, description="The family agreed to text messages.")


class GuardianLinkIn(GuardianIn):
    relationship: GuardianOf.Relationship
    legal_authority: bool = Field(True, description="May consent to treatment and sign disclosure authorizations.")
    is_primary_contact: bool = False


class GuardianOut(Schema):
    id: int
    first_name: str
    last_name: str
    phone: str
    email: str
    language: str
    preferred_channel: str
    sms_consent: bool
    sms_opted_out: bool
    can_text: bool

    @staticmethod
    def resolve_sms_consent(obj) -> bool:
        return obj.sms_consent_at is not None

    @staticmethod
    def resolve_sms_opted_out(obj) -> bool:
        return obj.sms_opted_out_at is not None


class ChildLinkOut(Schema):
    patient_id: int
    patient_name: str
    relationship: str
    legal_authority: bool
    is_primary_contact: bool

    @staticmethod
    def resolve_patient_name(obj) -> str:
        return str(obj.patient)


class GuardianDetailOut(GuardianOut):
    children: list[ChildLinkOut]

    @staticmethod
    def resolve_children(obj) -> list:
        return list(obj.children.all())


class PatientGuardianOut(GuardianOut):
    """A guardian as seen from one child's chart: with the relationship to that child."""

    relationship: str
    legal_authority: bool
    is_primary_contact: bool


class ServiceIn(InputSchema):
    cpt_code: str = Field(description="A CPT code billed by the plan's discipline, e.g. 97530.")
    modifier: str = Field("", description="e.g. GO, GP, GN")
    units: int = 1


class ServiceOut(Schema):
    id: int
    cpt_code: str
    modifier: str
    units: int


class PlanOfCareIn(InputSchema):
    discipline: Discipline
    therapist_id: Id
    frequency_per_week: int
    minutes: int = Field(description="Length of each visit.")
    start_date: SaneDate
    end_date: SaneDate
    goals: list[Line(500)] = Field(max_length=40, description="One goal per item, up to 500 characters each.")
    services: list[ServiceIn] = Field(min_length=1, description="Codes billed on each visit.")


class PlanOfCareOut(Schema):
    id: int
    patient_id: int
    discipline: str
    therapist: StaffRef
    frequency_per_week: int
    minutes: int
    start_date: dt.date
    end_date: dt.date
    goals: list[str]
    services: list[ServiceOut]
    created_at: dt.datetime

    @staticmethod
    def resolve_goals(obj) -> list[str]:
        return obj.goal_list

    @staticmethod
    def resolve_services(obj) -> list:
        return list(obj.services.all())

"""API shapes of schools and their calendars."""

import datetime as dt

from ninja import Field, Schema

from pedsdesk.fields import Id, Line, Note, SaneDate, SaneDateTime


class SchoolOut(Schema):
    id: int
    name: str
    district: str
    is_preschool: bool
    start_time: dt.time
    dismissal_time: dt.time
    early_release_time: dt.time | None
    phone: str
    street: str
    city: str


class SchoolDayOut(Schema):
    date: dt.date
    kind: str = Field(description="no_school or early_release")
    note: str


class SchoolDetailOut(SchoolOut):
    calendar: list[SchoolDayOut] = Field(description="Days that differ from the usual bell schedule.")


class CalendarRange(Schema):
    calendar_from: SaneDate | None = Field(None, description="Only calendar days on or after this date.")
    calendar_to: SaneDate | None = Field(None, description="Only calendar days on or before this date.")


class ContactIn(Schema):
    school_id: int | None = Field(None, description="Empty for a district-level contact.")
    district: str = ""
    name: str
    role: str = Field(description="case_manager, school_slp, school_ot, school_pt, coordinator_504, teacher, nurse, "
                                  "district")
    email: str
    phone: str = ""
    is_active: bool = Field(True, description="False: the contact has left; nothing more is sent to them.")


class ContactOut(Schema):
    id: int
    school_id: int | None
    district: str
    name: str
    role: str
    email: str
    phone: str
    is_active: bool


class DisclosureAuthorizationIn(Schema):
    patient_id: int
    template: str = Field("general_us", description="general_us or new_york")
    categories: list[str] = Field(description="evaluations, progress_summaries, plan_of_care, attendance, "
                                              "home_program, meetings")
    purpose: str = ""
    recipient_school_id: int | None = None
    recipient_district: str = ""
    recipient_contact_ids: list[int] = []
    expires_on: dt.date | None = None
    expiry_event: str = ""
    records_from: dt.date | None = None
    records_to: dt.date | None = None
    delivery: str = Field("link", description="link, or attachment (a link, or the PDF attached)")


class DisclosureAuthorizationOut(Schema):
    id: int
    patient_id: int
    template: str
    state: str = Field(description="draft, signed or revoked")
    categories: list[str]
    purpose: str
    recipient_school_id: int | None
    recipient_district: str
    recipient_contact_ids: list[int]
    expires_on: dt.date | None
    expiry_event: str
    expiry_event_on: dt.date | None = Field(description="The day the expiry event happened, once staff recorded it.")
    delivery: str
    signer_name: str
    signer_authority: str
    signed_at: dt.datetime | None
    signed_via: str
    revoked_at: dt.datetime | None


class RevokeIn(Schema):
    reason: str = ""


class ExpiryEventIn(Schema):
    happened_on: SaneDate = Field(description="The day the authorization's expiry event happened (not in the "
                                              "future, not before the signature).")


class RequestIn(Schema):
    patient_id: int
    requester: str = Field(description="school, family or payer")
    requested_by: str = ""
    kind: str = Field(description="progress_summary, evaluation_report, plan_of_care, attendance_letter")
    due_on: dt.date
    assignee_id: int
    contact_id: int | None = None
    note: str = ""


class RequestOut(Schema):
    id: int
    patient_id: int
    requester: str
    requested_by: str
    kind: str
    due_on: dt.date
    assignee_id: int
    state: str = Field(description="open, drafted, signed, sent or closed")
    overdue: bool


class SendIn(Schema):
    contact_id: int
    address: str = Field("", description="Defaults to the contact's address; any other is refused.")
    attach: bool = Field(False, description="Attach the PDF too (only if the family allowed attachments).")


class DisclosureOut(Schema):
    id: int
    patient_id: int
    contact_id: int
    to_address: str
    category: str
    description: str
    purpose: str
    sent_by: str
    created_at: dt.datetime
    status: str
    open_count: int
    first_opened_at: dt.datetime | None


class SummaryOut(Schema):
    id: int
    patient_id: int
    therapist_id: int
    request_id: int | None
    state: str
    period_from: dt.date
    period_to: dt.date
    prefilled: dict
    progress: str
    recommendations: str
    signed_at: dt.datetime | None


class MeetingIn(Schema):
    patient_id: int
    therapist_id: int
    kind: str = Field("iep", description="iep or 504")
    start_at: dt.datetime
    end_at: dt.datetime
    location: str = ""
    video_link: str = ""
    attendee_roles: str = ""
    invitee_ids: list[int] = []
    summary_due_days: int = 5


class MeetingOut(Schema):
    id: int
    patient_id: int
    therapist_id: int
    kind: str
    state: str
    start_at: dt.datetime
    end_at: dt.datetime
    location: str
    video_link: str
    uid: str
    sequence: int


class FerpaConsentIn(Schema):
    patient_id: Id
    school_id: Id
    records: list[str] = Field(description="iep, 504, evaluations, progress")
    purpose: Line(300) = ""


class FerpaConsentOut(Schema):
    id: int
    patient_id: int
    school_id: int
    state: str = Field(description="draft, signed or revoked")
    records: list[str]
    purpose: str
    signer_name: str
    signer_authority: str
    signed_at: dt.datetime | None
    signed_via: str
    revoked_at: dt.datetime | None


class StudentPlanIn(Schema):
    plan_type: str = Field(description="none, iep, 504 or evaluating")
    case_manager_id: Id | None = None
    annual_review_on: SaneDate | None = None
    reevaluation_on: SaneDate | None = None


class StudentPlanOut(Schema):
    patient_id: int
    plan_type: str
    case_manager_id: int | None
    annual_review_on: dt.date | None
    reevaluation_on: dt.date | None


class SummaryIn(Schema):
    patient_id: Id
    therapist_id: Id
    period_from: SaneDate
    period_to: SaneDate
    request_id: Id | None = Field(None, description="The documentation request it answers.")
    meeting_id: Id | None = Field(None, description="The IEP/504 meeting it is for.")


class SummaryTextIn(Schema):
    progress: Note(20000) = ""
    recommendations: Note(20000) = ""


class SummarySignIn(Schema):
    typed_name: Line(200) = Field(description="The therapist's name, typed to sign.")


class MeetingRescheduleIn(Schema):
    start_at: SaneDateTime
    end_at: SaneDateTime
    location: Line(200) | None = Field(None, description="A new place; leave out to keep it.")

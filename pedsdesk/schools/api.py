"""API of school coordination: schools and their calendars, school contacts, family
authorizations, document requests, summaries (sent through the disclosure gate), the
record of disclosures and IEP/504 meetings. Refusals of an action are 422 with what to
fix; the gate's refusal is 409 with code ``consent_required``."""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Query, Router, Status

from pedsdesk.people.models import Patient
from pedsdesk.practices.api import audit, clean, get_or_404, paginate, related_or_invalid, requires, search
from pedsdesk.practices.models import StaffMember
from pedsdesk.practices.schemas import Page, Paging, Search
from pedsdesk.schools import actions, queries
from pedsdesk.schools.models import (
    Disclosure,
    DisclosureAuthorization,
    DocumentRequest,
    FerpaConsent,
    Meeting,
    School,
    SchoolContact,
    StudentPlan,
    Summary,
)
from pedsdesk.schools.schemas import (
    CalendarRange,
    ContactIn,
    ContactOut,
    DisclosureAuthorizationIn,
    DisclosureAuthorizationOut,
    DisclosureOut,
    ExpiryEventIn,
    FerpaConsentIn,
    FerpaConsentOut,
    MeetingIn,
    MeetingOut,
    MeetingRescheduleIn,
    RequestIn,
    RequestOut,
    RevokeIn,
    SchoolDetailOut,
    SchoolOut,
    SendIn,
    StudentPlanIn,
    StudentPlanOut,
    SummaryIn,
    SummaryOut,
    SummarySignIn,
    SummaryTextIn,
)

router = Router(tags=["schools"])


def _schools(request: HttpRequest) -> QuerySet:
    return School.objects.filter(practice=request.auth.practice_id)


@router.get("/schools", response=Page[SchoolOut], summary="List and search schools")
@requires("schools.view")
def list_schools(request: HttpRequest, params: Query[Search]) -> dict[str, Any]:
    """`q` matches the name and the district."""
    rows = search(_schools(request), params.q, ["name", "district"])
    return paginate(rows.order_by("name", "pk"), params)


@router.get("/schools/{int:school_id}", response=SchoolDetailOut, summary="Get a school with its calendar")
@requires("schools.view")
def get_school(request: HttpRequest, school_id: int, dates: Query[CalendarRange]) -> dict[str, Any]:
    school = get_or_404(request, _schools(request), school_id)
    days = school.calendar.order_by("date")
    if dates.calendar_from:
        days = days.filter(date__gte=dates.calendar_from)
    if dates.calendar_to:
        days = days.filter(date__lte=dates.calendar_to)
    return {**SchoolOut.from_orm(school).dict(), "calendar": list(days)}


# --- Contacts ---------------------------------------------------------------------------

@router.get("/school-contacts", response=Page[ContactOut], summary="List school contacts")
@requires("schools.view")
def list_contacts(request: HttpRequest, params: Query[Search]) -> dict[str, Any]:
    rows = search(SchoolContact.objects.filter(practice=request.auth.practice_id), params.q, ["name", "email"])
    return paginate(rows.order_by("name", "pk"), params)


def _save_contact(request: HttpRequest, contact: SchoolContact, payload: ContactIn) -> SchoolContact:
    """Create or replace a contact. A new address reaches no child's records by itself:
    each authorization keeps the addresses it was signed for (``named_emails``)."""
    creating = contact.pk is None
    contact.school = (related_or_invalid(request, School.objects.all(), payload.school_id, "school_id")
                      if payload.school_id else None)
    contact.district, contact.name = payload.district.strip(), payload.name.strip()
    contact.role, contact.email, contact.phone = payload.role, payload.email, payload.phone
    contact.is_active = payload.is_active
    clean(contact)
    with transaction.atomic():
        contact.save()
        audit(request, "create" if creating else "update", contact)
    return contact


@router.post("/school-contacts", response={201: ContactOut}, summary="Add a school contact")
@requires("schools.edit")
def create_contact(request: HttpRequest, payload: ContactIn):
    return Status(201, _save_contact(request, SchoolContact(practice_id=request.auth.practice_id), payload))


@router.get("/school-contacts/{int:contact_id}", response=ContactOut, summary="Get a school contact")
@requires("schools.view")
def get_contact(request: HttpRequest, contact_id: int) -> SchoolContact:
    return get_or_404(request, SchoolContact.objects.all(), contact_id)


@router.put("/school-contacts/{int:contact_id}", response=ContactOut,
            summary="Replace a school contact (is_active false: no more sends to them)")
@requires("schools.edit")
def replace_contact(request: HttpRequest, contact_id: int, payload: ContactIn) -> SchoolContact:
    return _save_contact(request, get_or_404(request, SchoolContact.objects.all(), contact_id), payload)


# --- A child's IEP/504 status ----------------------------------------------------------------

@router.get("/patients/{patient_id}/school-plan", response=StudentPlanOut, summary="Get a child's IEP/504 status")
@requires("schools.view")
def get_student_plan(request: HttpRequest, patient_id: int):
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    plan = StudentPlan.objects.filter(patient=patient).first() or StudentPlan(patient=patient)
    audit(request, "view", plan if plan.pk else patient, detail={"page": "school plan"})
    return plan


@router.put("/patients/{patient_id}/school-plan", response=StudentPlanOut,
            summary="Set a child's IEP/504 status, case manager and review dates")
@requires("schools.edit")
def put_student_plan(request: HttpRequest, patient_id: int, payload: StudentPlanIn):
    """Review dates need a plan (``iep``, ``504`` or ``evaluating``); the case manager is
    one of the practice's school contacts. A task reaches the front desk 30 days before
    each date."""
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    manager = (related_or_invalid(request, SchoolContact.objects.all(), payload.case_manager_id, "case_manager_id")
               if payload.case_manager_id else None)
    with transaction.atomic():
        plan = StudentPlan.objects.select_for_update().filter(patient=patient).first() or StudentPlan(patient=patient)
        plan.plan_type, plan.case_manager = payload.plan_type, manager
        plan.annual_review_on, plan.reevaluation_on = payload.annual_review_on, payload.reevaluation_on
        plan.updated_at = timezone.now()
        clean(plan, exclude=["patient"])
        plan.save()
        audit(request, "update", plan, detail={"fields": ["plan_type", "case_manager", "annual_review_on",
                                                          "reevaluation_on"]})
    return plan


# --- Authorizations ------------------------------------------------------------------------

def _authorization_out(authorization: DisclosureAuthorization) -> dict[str, Any]:
    return {**{f: getattr(authorization, f) for f in DisclosureAuthorizationOut.model_fields
               if f != "recipient_contact_ids"},
            "recipient_contact_ids": [c.pk for c in authorization.recipient_contacts.all()]}


@router.get("/patients/{patient_id}/school-authorizations", response=list[DisclosureAuthorizationOut],
            summary="List a child's authorizations to disclose")
@requires("schools.view")
def list_school_authorizations(request: HttpRequest, patient_id: int) -> list[dict]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    rows = queries.consents_of(patient)["authorizations"]
    audit(request, "list", object_type="schools.disclosureauthorization", patient_id=patient.pk)
    return [_authorization_out(a) for a in rows]


@router.post("/school-authorizations", response={201: DisclosureAuthorizationOut},
             summary="Draft an authorization for the family to sign")
@requires("schools.consents")
def create_school_authorization(request: HttpRequest, payload: DisclosureAuthorizationIn):
    """The same field rules as the form: recipient, purpose, expiry date or event, and an
    expiry not before today. The family signs it on their family link."""
    patient = related_or_invalid(request, Patient.objects.all(), payload.patient_id, "patient_id")
    school = (related_or_invalid(request, School.objects.all(), payload.recipient_school_id, "recipient_school_id")
              if payload.recipient_school_id else None)
    contacts = list(SchoolContact.objects.filter(practice=request.auth.practice_id,
                                                 pk__in=payload.recipient_contact_ids))
    if len(contacts) != len(set(payload.recipient_contact_ids)):
        raise actions.SchoolError({"recipient_contact_ids": ["Choose contacts of this practice's schools."]})
    authorization = actions.create_authorization(
        actor=request.auth, patient=patient, categories=payload.categories, purpose=payload.purpose,
        recipient_school=school, recipient_district=payload.recipient_district, recipient_contacts=contacts,
        expires_on=payload.expires_on, expiry_event=payload.expiry_event, records_from=payload.records_from,
        records_to=payload.records_to, template=payload.template, delivery=payload.delivery, request=request)
    return Status(201, _authorization_out(authorization))


@router.post("/school-authorizations/{school_authorization_id}/revoke", response=DisclosureAuthorizationOut,
             summary="Revoke an authorization (the family told the office)")
@requires("schools.consents")
def revoke_authorization(request: HttpRequest, school_authorization_id: int, payload: RevokeIn):
    authorization = get_or_404(request, DisclosureAuthorization.objects.all(), school_authorization_id)
    actions.revoke_authorization(actor=request.auth, authorization=authorization, reason=payload.reason,
                                 request=request)
    return _authorization_out(authorization)


@router.post("/school-authorizations/{school_authorization_id}/end", response=DisclosureAuthorizationOut,
             summary="Record that an authorization's expiry event happened")
@requires("schools.consents")
def end_authorization(request: HttpRequest, school_authorization_id: int, payload: ExpiryEventIn):
    """For an authorization that ends on an event (e.g. the end of the school year): from
    then on the gate refuses sends and downloads under it. 422 when it has ended already,
    is revoked or unsigned, ends on a date only, or the date is in the future or before
    the signature."""
    authorization = get_or_404(request, DisclosureAuthorization.objects.all(), school_authorization_id)
    actions.record_expiry_event(actor=request.auth, authorization=authorization, happened_on=payload.happened_on,
                                request=request)
    return _authorization_out(authorization)


# --- FERPA consents ---------------------------------------------------------------------------

@router.get("/patients/{patient_id}/ferpa-consents", response=list[FerpaConsentOut],
            summary="List a child's FERPA consents (the school sends records to the practice)")
@requires("schools.view")
def list_ferpa_consents(request: HttpRequest, patient_id: int) -> list[FerpaConsent]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    audit(request, "list", object_type="schools.ferpaconsent", patient_id=patient.pk)
    return queries.consents_of(patient)["ferpa_consents"]


@router.post("/ferpa-consents", response={201: FerpaConsentOut},
             summary="Draft a FERPA consent for the family to sign")
@requires("schools.consents")
def create_ferpa_consent(request: HttpRequest, payload: FerpaConsentIn):
    """The family signs it on their family link, beside the authorization to disclose."""
    patient = related_or_invalid(request, Patient.objects.all(), payload.patient_id, "patient_id")
    school = related_or_invalid(request, School.objects.all(), payload.school_id, "school_id")
    consent = actions.create_ferpa_consent(actor=request.auth, patient=patient, school=school,
                                           records=payload.records, purpose=payload.purpose, request=request)
    return Status(201, consent)


@router.post("/ferpa-consents/{ferpa_consent_id}/revoke", response=FerpaConsentOut,
             summary="Revoke a FERPA consent (the family told the office)")
@requires("schools.consents")
def revoke_ferpa_consent(request: HttpRequest, ferpa_consent_id: int, payload: RevokeIn):
    consent = get_or_404(request, FerpaConsent.objects.all(), ferpa_consent_id)
    actions.revoke_ferpa_consent(actor=request.auth, consent=consent, reason=payload.reason, request=request)
    return consent


# --- Requests, summaries, sends ---------------------------------------------------------------

def _request_out(doc: DocumentRequest, today) -> dict[str, Any]:
    return {**{f: getattr(doc, f) for f in RequestOut.model_fields if f != "overdue"},
            "overdue": doc.due_on < today and doc.state in ("open", "drafted", "signed")}


@router.get("/school-requests", response=Page[RequestOut], summary="List outstanding documentation requests")
@requires("schools.view")
def list_requests(request: HttpRequest, params: Query[Paging]) -> dict[str, Any]:
    """Open, drafted and signed requests, by due date."""
    practice = request.auth.practice
    page = paginate(queries.outstanding_requests(practice), params)
    today = practice.local_now().date()
    page["items"] = [_request_out(doc, today) for doc in page["items"]]
    audit(request, "list", object_type="schools.documentrequest")
    return page


@router.post("/school-requests", response={201: RequestOut}, summary="Record a documentation request")
@requires("schools.work")
def create_request(request: HttpRequest, payload: RequestIn):
    patient = related_or_invalid(request, Patient.objects.all(), payload.patient_id, "patient_id")
    assignee = related_or_invalid(request, StaffMember.objects.all(), payload.assignee_id, "assignee_id")
    contact = (related_or_invalid(request, SchoolContact.objects.all(), payload.contact_id, "contact_id")
               if payload.contact_id else None)
    doc = actions.create_request(actor=request.auth, patient=patient, requester=payload.requester,
                                 kind=payload.kind, due_on=payload.due_on, assignee=assignee,
                                 requested_by=payload.requested_by, contact=contact, note=payload.note,
                                 request=request)
    return Status(201, _request_out(doc, request.auth.practice.local_now().date()))


@router.get("/school-requests/{request_id}", response=RequestOut, summary="Get a documentation request")
@requires("schools.view")
def get_request(request: HttpRequest, request_id: int) -> dict[str, Any]:
    doc = get_or_404(request, DocumentRequest.objects.all(), request_id)
    audit(request, "view", doc)
    return _request_out(doc, request.auth.practice.local_now().date())


@router.post("/school-requests/{request_id}/close", response=RequestOut, summary="Close a documentation request")
@requires("schools.work")
def close_request(request: HttpRequest, request_id: int) -> dict[str, Any]:
    doc = get_or_404(request, DocumentRequest.objects.all(), request_id)
    actions.close_request(actor=request.auth, doc=doc, request=request)
    return _request_out(doc, request.auth.practice.local_now().date())


@router.post("/schools/summaries", response={201: SummaryOut}, summary="Start a school summary, pre-filled")
@requires("schools.work")
def create_summary(request: HttpRequest, payload: SummaryIn):
    """Pre-filled from the records (demographics, diagnoses, goals, attendance, home-program
    adherence); its therapist writes progress and recommendations and signs it."""
    patient = related_or_invalid(request, Patient.objects.all(), payload.patient_id, "patient_id")
    therapist = related_or_invalid(request, StaffMember.objects.all(), payload.therapist_id, "therapist_id")
    doc = (related_or_invalid(request, DocumentRequest.objects.filter(patient=patient), payload.request_id,
                              "request_id") if payload.request_id else None)
    meeting = (related_or_invalid(request, Meeting.objects.filter(patient=patient), payload.meeting_id,
                                  "meeting_id") if payload.meeting_id else None)
    summary = actions.create_summary(actor=request.auth, patient=patient, therapist=therapist,
                                     period_from=payload.period_from, period_to=payload.period_to, doc=doc,
                                     meeting=meeting, request=request)
    return Status(201, summary)


@router.put("/schools/summaries/{summary_id}", response=SummaryOut,
            summary="Save the therapist's sections of a draft summary")
@requires("schools.work")
def save_summary(request: HttpRequest, summary_id: int, payload: SummaryTextIn) -> Summary:
    """Only the summary's therapist, and only while it is a draft (422 otherwise)."""
    summary = get_or_404(request, Summary.objects.all(), summary_id)
    return actions.save_summary(actor=request.auth, summary=summary, progress=payload.progress,
                                recommendations=payload.recommendations, request=request)


@router.post("/schools/summaries/{summary_id}/sign", response=SummaryOut, summary="Sign a summary (its therapist)")
@requires("schools.work")
def sign_summary(request: HttpRequest, summary_id: int, payload: SummarySignIn) -> Summary:
    """The signed PDF is made now, and is what is sent."""
    summary = get_or_404(request, Summary.objects.all(), summary_id)
    return actions.sign_summary(actor=request.auth, summary=summary, typed_name=payload.typed_name, request=request)


@router.get("/schools/summaries/{summary_id}", response=SummaryOut, summary="Get a school summary")
@requires("schools.view")
def get_summary(request: HttpRequest, summary_id: int) -> Summary:
    summary = get_or_404(request, Summary.objects.all(), summary_id)
    audit(request, "view", summary)
    return summary


@router.post("/schools/summaries/{summary_id}/send", response={202: DisclosureOut},
             summary="Send a signed summary to a school contact")
@requires("schools.send")
def send_summary(request: HttpRequest, summary_id: int, payload: SendIn):
    """Queues a signed, expiring link (202). When the family's authorization does not
    cover this recipient, address, kind of record or delivery, answers 409 with code
    ``consent_required``, what is missing in ``fields.missing``, and nothing is queued;
    ``POST /patients/{id}/school-signature-request`` then asks the family to sign."""
    summary = get_or_404(request, Summary.objects.select_related("patient"), summary_id)
    contact = related_or_invalid(request, SchoolContact.objects.all(), payload.contact_id, "contact_id")
    try:
        disclosure = actions.send_summary(actor=request.auth, summary=summary, contact=contact,
                                          address=payload.address, attach=payload.attach, request=request)
    except actions.GateRefused as refused:
        return JsonResponse({"code": "consent_required", "message": "Not sent: " + refused.result.reason,
                             "fields": {"missing": refused.result.missing}}, status=409)
    return Status(202, _disclosure_out(disclosure))


@router.post("/patients/{patient_id}/school-signature-request", response={202: DisclosureAuthorizationOut},
             summary="Ask the family to sign an authorization")
@requires("schools.send")
def request_signature(request: HttpRequest, patient_id: int, contact_id: int | None = None,
                      category: str = "progress_summaries"):
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    contact = related_or_invalid(request, SchoolContact.objects.all(), contact_id, "contact_id") if contact_id else None
    draft, _messages = actions.request_family_signature(actor=request.auth, patient=patient, contact=contact,
                                                        category=category, request=request)
    return Status(202, _authorization_out(draft))


def _disclosure_out(disclosure: Disclosure) -> dict[str, Any]:
    return {**{f: getattr(disclosure, f) for f in DisclosureOut.model_fields if f != "status"},
            "status": disclosure.status_label(disclosure.practice.zone)}


@router.get("/patients/{patient_id}/disclosures", response=list[DisclosureOut],
            summary="A child's record of disclosures")
@requires("schools.view")
def list_disclosures(request: HttpRequest, patient_id: int) -> list[dict]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    audit(request, "list", object_type="schools.disclosure", patient_id=patient.pk)
    return [_disclosure_out(d) for d in queries.disclosures_of(patient)]


# --- Meetings ---------------------------------------------------------------------------------

def _meeting_out(meeting: Meeting) -> dict[str, Any]:
    return {**{f: getattr(meeting, f) for f in MeetingOut.model_fields if f != "uid"}, "uid": str(meeting.uid)}


@router.post("/school-meetings", response={201: MeetingOut}, summary="Schedule an IEP or 504 meeting")
@requires("schools.work")
def create_meeting(request: HttpRequest, payload: MeetingIn):
    """Cancels the therapist's conflicting sessions (openings, makeups), holds the time
    and sends iCalendar invitations to the therapist and to the authorized invitees."""
    patient = related_or_invalid(request, Patient.objects.all(), payload.patient_id, "patient_id")
    therapist = related_or_invalid(request, StaffMember.objects.all(), payload.therapist_id, "therapist_id")
    invitees = list(SchoolContact.objects.filter(practice=request.auth.practice_id, pk__in=payload.invitee_ids))
    if len(invitees) != len(set(payload.invitee_ids)):
        raise actions.SchoolError({"invitee_ids": ["Choose contacts of this practice's schools."]})
    start = payload.start_at if payload.start_at.tzinfo else payload.start_at.replace(tzinfo=patient.practice.zone)
    end = payload.end_at if payload.end_at.tzinfo else payload.end_at.replace(tzinfo=patient.practice.zone)
    meeting = actions.schedule_meeting(
        actor=request.auth, patient=patient, therapist=therapist, start_at=start, end_at=end, kind=payload.kind,
        location=payload.location, video_link=payload.video_link, attendee_roles=payload.attendee_roles,
        invitees=invitees, summary_due_days=payload.summary_due_days, request=request)
    return Status(201, _meeting_out(meeting))


@router.get("/patients/{patient_id}/school-meetings", response=list[MeetingOut],
            summary="List a child's IEP/504 meetings")
@requires("schools.view")
def list_meetings(request: HttpRequest, patient_id: int) -> list[dict]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    audit(request, "list", object_type="schools.meeting", patient_id=patient.pk)
    return [_meeting_out(m) for m in patient.school_meetings.order_by("start_at", "pk")]


@router.get("/school-meetings/{meeting_id}", response=MeetingOut, summary="Get a meeting")
@requires("schools.view")
def get_meeting(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    meeting = get_or_404(request, Meeting.objects.all(), meeting_id)
    audit(request, "view", meeting)
    return _meeting_out(meeting)


@router.post("/school-meetings/{meeting_id}/reschedule", response=MeetingOut, summary="Move a meeting")
@requires("schools.work")
def reschedule_meeting(request: HttpRequest, meeting_id: int, payload: MeetingRescheduleIn) -> dict[str, Any]:
    """Same UID, SEQUENCE + 1: everyone invited gets the update; new clashes are cancelled
    by the clinic. Times without an offset are the practice's local time."""
    meeting = get_or_404(request, Meeting.objects.select_related("practice"), meeting_id)
    zone = meeting.practice.zone
    start = payload.start_at if payload.start_at.tzinfo else payload.start_at.replace(tzinfo=zone)
    end = payload.end_at if payload.end_at.tzinfo else payload.end_at.replace(tzinfo=zone)
    return _meeting_out(actions.reschedule_meeting(actor=request.auth, meeting=meeting, start_at=start, end_at=end,
                                                   location=payload.location, request=request))


@router.post("/school-meetings/{meeting_id}/cancel", response=MeetingOut, summary="Cancel a meeting")
@requires("schools.work")
def cancel_meeting(request: HttpRequest, meeting_id: int):
    meeting = get_or_404(request, Meeting.objects.all(), meeting_id)
    return _meeting_out(actions.cancel_meeting(actor=request.auth, meeting=meeting, request=request))



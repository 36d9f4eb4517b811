import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from pedsdesk.audit.actions import record_event
from pedsdesk.files.responses import document_response, file_response
from pedsdesk.people.models import Patient
from pedsdesk.practices.models import Role
from pedsdesk.practices.permissions import has_permission
from pedsdesk.practices.web import (
    StaffCreateView,
    StaffDetailView,
    StaffListView,
    StaffUpdateView,
    practice_object,
    requires,
)
from pedsdesk.schools import actions, documents, queries
from pedsdesk.schools.consent_text import TEMPLATES
from pedsdesk.schools.forms import (
    AuthorizationForm,
    ExpiryEventForm,
    FerpaForm,
    MeetingForm,
    RequestForm,
    ScanForm,
    SchoolContactForm,
    SchoolDayForm,
    SchoolForm,
    StudentPlanForm,
    apply_errors,
)
from pedsdesk.schools.models import (
    DisclosureAuthorization,
    DocumentRequest,
    FerpaConsent,
    FerpaRecord,
    InfoCategory,
    Meeting,
    School,
    SchoolContact,
    SchoolDay,
    StudentPlan,
    Summary,
)


class SchoolList(StaffListView):
    model = School
    permission = "schools.view"
    audit_reads = False
    title = "Schools"
    columns = [("Name", "name"), ("District", "district"), ("Starts", "start_time"), ("Dismissal", "dismissal_time")]
    search_fields = ["name", "district"]
    create_url_name = "school_create"
    create_permission = "schools.edit"


class SchoolDetail(StaffDetailView):
    model = School
    permission = "schools.view"
    audit_reads = False
    template_name = "schools/school_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = self.request.user.practice.local_now().date()
        context.update(
            upcoming=self.object.calendar.filter(date__gte=today)[:30],
            contacts=self.object.contacts.order_by("-is_active", "name"),
            student_count=self.object.students.filter(is_active=True).count(),
            day_form=SchoolDayForm(practice=self.request.user.practice, school=self.object),
        )
        return context


class SchoolCreate(StaffCreateView):
    model = School
    form_class = SchoolForm
    permission = "schools.edit"


class SchoolUpdate(StaffUpdateView):
    model = School
    form_class = SchoolForm
    permission = "schools.edit"


@requires("schools.edit")
def school_day_create(request, pk: int):
    school = get_object_or_404(School, pk=pk, practice=request.user.practice)
    form = SchoolDayForm(request.POST or None, practice=request.user.practice, school=school)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            day = form.save()
            record_event(actor=request.user, action="create", obj=day, practice_id=school.practice_id,
                         request=request)
        messages.success(request, f"Added {day.date} ({day.get_kind_display().lower()}).")
        return redirect(school)
    return render(request, "records/form.html", {"form": form, "title": f"Calendar day for {school}",
                                                 "cancel_url": school.get_absolute_url()})


@require_POST
@requires("schools.edit")
def school_day_delete(request, pk: int):
    day = get_object_or_404(SchoolDay, pk=pk, school__practice=request.user.practice)
    with transaction.atomic():
        record_event(actor=request.user, action="delete", obj=day, practice_id=day.school.practice_id,
                     detail={"date": str(day.date)}, request=request)
        day.delete()
    return redirect(day.school)


# --- School team, a child's school page ------------------------------------------------

class ContactCreate(StaffCreateView):
    model = SchoolContact
    form_class = SchoolContactForm
    permission = "schools.edit"
    title = "New school contact"

    def get_initial(self):
        school = School.objects.filter(pk=self.request.GET.get("school") or 0,
                                       practice=self.request.user.practice).first()
        return {"school": school}


class ContactUpdate(StaffUpdateView):
    model = SchoolContact
    form_class = SchoolContactForm
    permission = "schools.edit"


@requires("schools.view")
def school_patient(request, pk: int):
    """A child's school coordination: plan status, consents, requests, summaries,
    meetings and the record of disclosures."""
    patient = practice_object(request, Patient.objects.select_related("school", "practice"), pk)
    record_event(actor=request.user, action="view", obj=patient, request=request, detail={"page": "school"})
    plan = StudentPlan.objects.filter(patient=patient).select_related("case_manager").first()
    context = {
        "patient": patient, "plan": plan, **queries.consents_of(patient),
        "requests": list(patient.document_requests.select_related("assignee").order_by("due_on")),
        "summaries": list(patient.school_summaries.select_related("therapist").order_by("-created_at")),
        "meetings": list(patient.school_meetings.select_related("school", "therapist", "practice")
                         .order_by("-start_at")),
        "disclosures": queries.disclosures_of(patient), "zone": patient.practice.zone,
        "contacts": list(SchoolContact.objects.filter(practice=patient.practice, is_active=True)
                         .select_related("school")),
    }
    return render(request, "schools/patient.html", context)


@requires("schools.edit")
def student_plan_edit(request, pk: int):
    patient = practice_object(request, Patient, pk)
    plan = StudentPlan.objects.filter(patient=patient).first() or StudentPlan(patient=patient)
    form = StudentPlanForm(request.POST or None, instance=plan, practice=request.user.practice)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            plan = form.save(commit=False)
            plan.updated_at = timezone.now()
            plan.save()
            record_event(actor=request.user, action="update", obj=plan, request=request,
                         detail={"fields": list(form.changed_data)})
        return redirect("school_patient", pk=patient.pk)
    return render(request, "records/form.html", {"form": form, "title": f"IEP/504 status of {patient}",
                                                 "cancel_url": reverse("school_patient", args=[patient.pk])})


# --- Consents ---------------------------------------------------------------------------

@requires("schools.consents")
def authorization_create(request, pk: int):
    patient = practice_object(request, Patient.objects.select_related("school"), pk)
    initial = {"recipient_school": patient.school, "categories": [InfoCategory.PROGRESS_SUMMARIES,
                                                                  InfoCategory.MEETINGS],
               "purpose": "Coordinating school services (IEP/504) at the family's request",
               "expires_on": request.user.practice.local_now().date() + dt.timedelta(days=365)}
    form = AuthorizationForm(request.POST or None, practice=request.user.practice, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            authorization = actions.create_authorization(
                actor=request.user, patient=patient, categories=data["categories"], purpose=data["purpose"],
                recipient_school=data["recipient_school"], recipient_district=data["recipient_district"],
                recipient_contacts=list(data["recipient_contacts"]), expires_on=data["expires_on"],
                expiry_event=data["expiry_event"], records_from=data["records_from"],
                records_to=data["records_to"], template=data["template"], delivery=data["delivery"],
                request=request)
        except actions.SchoolError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Draft saved. Send the family the link to sign it, or upload a signed paper "
                                      "form.")
            return redirect(authorization)
    return render(request, "records/form.html", {"form": form, "title": f"Authorization to disclose for {patient}",
                                                 "cancel_url": reverse("school_patient", args=[patient.pk])},
                  status=400 if form.errors else 200)


def _authorization(request, pk: int) -> DisclosureAuthorization:
    return practice_object(request, DisclosureAuthorization.objects.select_related(
        "patient", "recipient_school", "signer", "practice").prefetch_related("recipient_contacts"), pk)


@requires("schools.view")
def authorization_detail(request, pk: int):
    authorization = _authorization(request, pk)
    if request.GET.get("document"):
        return _document(request, authorization)
    record_event(actor=request.user, action="view", obj=authorization, request=request)
    return render(request, "schools/authorization_detail.html", {
        "object": authorization, "template": TEMPLATES[authorization.template],
        "sensitive": [(label, authorization.sensitive_initials.get(key, ""))
                      for key, label in TEMPLATES[authorization.template].sensitive],
        "categories": [InfoCategory(c).label for c in authorization.categories],
        "scan_form": ScanForm(patient=authorization.patient),
        "end_form": ExpiryEventForm(initial={"happened_on": request.user.practice.local_now().date()}),
        "disclosures": queries.with_status(authorization.disclosures.select_related("contact__school", "message",
                                                                                   "practice")),
        "zone": authorization.practice.zone})


def _document(request, consent):
    if not consent.document_id:
        raise Http404("No signed document yet.")
    return file_response(request, consent.document, actor=request.user, inline=True)


@require_POST
@requires("schools.consents")
def authorization_revoke(request, pk: int):
    authorization = _authorization(request, pk)
    reason = request.POST.get("reason", "").strip()
    try:
        revoked = actions.revoke_authorization(actor=request.user, authorization=authorization,
                                               reason=reason or "Revoked by the family (told the office)",
                                               request=request)
    except actions.SchoolError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if revoked:
            messages.success(request, "Revoked. Nothing more goes out under it, and its links stop opening.")
    return redirect(authorization)


@require_POST
@requires("schools.consents")
def authorization_end(request, pk: int):
    """Staff record that the event the authorization ends with has happened."""
    authorization = _authorization(request, pk)
    form = ExpiryEventForm(request.POST)
    if form.is_valid():
        try:
            actions.record_expiry_event(actor=request.user, authorization=authorization,
                                        happened_on=form.cleaned_data["happened_on"], request=request)
        except actions.SchoolError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Ended: {authorization.expiry_event}. Nothing more goes out under it, and its "
                                      "links stop opening.")
            return redirect(authorization)
    messages.error(request, "Not recorded: " + " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(authorization)


@require_POST
@requires("schools.consents")
def authorization_scan(request, pk: int):
    authorization = _authorization(request, pk)
    form = ScanForm(request.POST, request.FILES, patient=authorization.patient)
    if form.is_valid():
        try:
            actions.record_paper_authorization(
                actor=request.user, authorization=authorization, guardian=form.cleaned_data["guardian"],
                signed_on=form.cleaned_data["signed_on"], scan=form.cleaned_data["scan"], request=request)
        except actions.SchoolError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "The signed paper form is on file.")
            return redirect(authorization)
    messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return redirect(authorization)


@requires("schools.consents")
def ferpa_create(request, pk: int):
    patient = practice_object(request, Patient.objects.select_related("school"), pk)
    form = FerpaForm(request.POST or None, practice=request.user.practice,
                     initial={"school": patient.school, "records": [FerpaRecord.IEP, FerpaRecord.EVALUATIONS]})
    if request.method == "POST" and form.is_valid():
        try:
            actions.create_ferpa_consent(actor=request.user, patient=patient, request=request, **form.cleaned_data)
        except actions.SchoolError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Draft saved; the family signs it on their family link.")
            return redirect("school_patient", pk=patient.pk)
    return render(request, "records/form.html", {"form": form, "title": f"School records consent (FERPA) for "
                                                                        f"{patient}",
                                                 "cancel_url": reverse("school_patient", args=[patient.pk])},
                  status=400 if form.errors else 200)


@requires("schools.view")
def ferpa_detail(request, pk: int):
    consent = practice_object(request, FerpaConsent.objects.select_related("patient", "school", "practice"), pk)
    if request.GET.get("document"):
        return _document(request, consent)
    record_event(actor=request.user, action="view", obj=consent, request=request)
    return render(request, "schools/ferpa_detail.html", {
        "object": consent, "records": [FerpaRecord(r).label for r in consent.records]})


@require_POST
@requires("schools.consents")
def ferpa_revoke(request, pk: int):
    consent = practice_object(request, FerpaConsent, pk)
    if actions.revoke_ferpa_consent(actor=request.user, consent=consent, reason=request.POST.get("reason", ""),
                                    request=request):
        messages.success(request, "Revoked.")
    return redirect(consent)


@require_POST
@requires("schools.send")
def request_signature(request, pk: int):
    """The one click from a refusal: ask the family to sign."""
    patient = practice_object(request, Patient, pk)
    contact = SchoolContact.objects.filter(pk=request.POST.get("contact") or 0, practice=patient.practice).first()
    category = request.POST.get("category") or InfoCategory.PROGRESS_SUMMARIES
    if category not in InfoCategory.values:
        category = InfoCategory.PROGRESS_SUMMARIES
    try:
        _draft, sent = actions.request_family_signature(actor=request.user, patient=patient, contact=contact,
                                                        category=category, request=request)
    except actions.SchoolError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if sent:
            messages.success(request, f"Asked the family to sign ({len(sent)} message{'s' if len(sent) > 1 else ''} "
                                      "queued).")
        else:
            messages.error(request, "The draft is ready, but no guardian can be reached by text or email; call the "
                                    "family.")
    return redirect(request.POST.get("next") or reverse("school_patient", args=[patient.pk]))


# --- Requests, summaries, sends -----------------------------------------------------------

@requires("schools.view")
def request_board(request):
    """Everything outstanding, by due date."""
    today = request.user.practice.local_now().date()
    rows = list(queries.outstanding_requests(request.user.practice))
    return render(request, "schools/request_board.html", {"rows": rows, "today": today, "title": "School requests"})


@requires("schools.work")
def request_create(request, pk: int):
    patient = practice_object(request, Patient, pk)
    form = RequestForm(request.POST or None, practice=request.user.practice)
    if request.method == "POST" and form.is_valid():
        try:
            doc = actions.create_request(actor=request.user, patient=patient, request=request, **form.cleaned_data)
        except actions.SchoolError as exc:
            apply_errors(form, exc)
        else:
            return redirect(doc)
    return render(request, "records/form.html", {"form": form, "title": f"Document request for {patient}",
                                                 "cancel_url": reverse("school_patient", args=[patient.pk])},
                  status=400 if form.errors else 200)


@requires("schools.view")
def request_detail(request, pk: int):
    doc = practice_object(request, DocumentRequest.objects.select_related("patient", "assignee", "contact"), pk)
    if request.method == "POST":
        if not has_permission(request.user, "schools.work"):
            raise PermissionDenied
        if request.POST.get("action") == "close":
            actions.close_request(actor=request.user, doc=doc, request=request)
        elif request.POST.get("action") == "summary":
            today = request.user.practice.local_now().date()
            therapist = doc.assignee if doc.assignee.role == Role.THERAPIST else None
            try:
                summary = actions.create_summary(actor=request.user, patient=doc.patient,
                                                 therapist=therapist or request.user, doc=doc,
                                                 period_from=today - dt.timedelta(days=90), period_to=today,
                                                 request=request)
            except actions.SchoolError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                return redirect(summary)
        return redirect(doc)
    record_event(actor=request.user, action="view", obj=doc, request=request)
    return render(request, "schools/request_detail.html", {"object": doc, "summaries": doc.summaries.all()})


def _summary(request, pk: int) -> Summary:
    return practice_object(request, Summary.objects.select_related("patient__school", "therapist", "request",
                                                                   "practice"), pk)


@requires("schools.view")
def summary_detail(request, pk: int):
    summary = _summary(request, pk)
    if request.GET.get("pdf"):
        if not summary.pdf_id:
            raise Http404("Not signed yet.")
        return file_response(request, summary.pdf, actor=request.user, inline=True)
    errors: list[str] = []
    if request.method == "POST":
        if not has_permission(request.user, "schools.work"):
            raise PermissionDenied
        try:
            summary = actions.save_summary(actor=request.user, summary=summary,
                                           progress=request.POST.get("progress", ""),
                                           recommendations=request.POST.get("recommendations", ""), request=request)
            if request.POST.get("action") == "sign":
                summary = actions.sign_summary(actor=request.user, summary=summary,
                                               typed_name=request.POST.get("typed_name", ""), request=request)
                messages.success(request, "Signed. The PDF is ready to send.")
            else:
                messages.success(request, "Draft saved.")
            return redirect(summary)
        except actions.SchoolError as exc:
            errors = exc.messages
            summary.progress = request.POST.get("progress", "")
            summary.recommendations = request.POST.get("recommendations", "")
    else:
        record_event(actor=request.user, action="view", obj=summary, request=request)
    contacts = list(SchoolContact.objects.filter(practice=summary.practice, is_active=True).select_related("school"))
    refusal = request.session.pop(f"school-refusal-{summary.pk}", None)
    return render(request, "schools/summary_detail.html", {
        "object": summary, "data": summary.prefilled, "errors": errors, "contacts": contacts, "refusal": refusal,
        "disclosures": queries.with_status(summary.disclosures.select_related("contact__school", "message",
                                                                             "practice")),
        "zone": summary.practice.zone, "may_write": request.user.pk == summary.therapist_id},
        status=400 if errors else 200)


@require_POST
@requires("schools.send")
def summary_send(request, pk: int):
    summary = _summary(request, pk)
    contact = SchoolContact.objects.filter(pk=request.POST.get("contact") or 0, practice=summary.practice).first()
    if contact is None:
        messages.error(request, "Choose the school contact to send it to.")
        return redirect(summary)
    try:
        actions.send_summary(actor=request.user, summary=summary, contact=contact,
                             attach=request.POST.get("attach") == "yes", request=request)
    except actions.GateRefused as exc:
        request.session[f"school-refusal-{summary.pk}"] = {
            "missing": exc.result.missing, "contact": contact.pk, "contact_name": contact.name,
            "category": exc.category}
        messages.error(request, f"Not sent to {contact.name}: the family's authorization is missing.")
    except actions.SchoolError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Queued: {contact.name} gets a secure link to the signed summary.")
    return redirect(summary)


@requires("schools.view")
def disclosures(request, pk: int):
    """A child's record of disclosures, on screen or as a PDF."""
    patient = practice_object(request, Patient.objects.select_related("practice"), pk)
    rows = queries.disclosures_of(patient)
    record_event(actor=request.user, action="view", obj=patient, request=request,
                 detail={"page": "record of disclosures", "pdf": bool(request.GET.get("pdf"))})
    if request.GET.get("pdf"):
        pdf = documents.disclosure_record_pdf(patient, rows, today=request.user.practice.local_now().date())
        return document_response(request, pdf, actor=request.user, obj=patient,
                                 download_name=f"record-of-disclosures-{patient.pk}")
    return render(request, "schools/disclosures.html", {"patient": patient, "rows": rows,
                                                        "zone": patient.practice.zone})


# --- Meetings -------------------------------------------------------------------------------

def _meeting_times(practice, data) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(data["date"], data["start"], tzinfo=practice.zone)
    return start, start + dt.timedelta(minutes=data["minutes"])


@requires("schools.work")
def meeting_create(request, pk: int):
    patient = practice_object(request, Patient.objects.select_related("school", "practice"), pk)
    form = MeetingForm(request.POST or None, practice=request.user.practice)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        start, end = _meeting_times(request.user.practice, data)
        try:
            meeting = actions.schedule_meeting(
                actor=request.user, patient=patient, therapist=data["therapist"], start_at=start, end_at=end,
                kind=data["kind"], location=data["location"], video_link=data["video_link"],
                attendee_roles=data["attendee_roles"], invitees=list(data["invitees"]),
                summary_due_days=data["summary_due_days"], request=request)
        except actions.SchoolError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Meeting scheduled; invitations queued.")
            return redirect(meeting)
    return render(request, "records/form.html", {"form": form, "title": f"School meeting for {patient}",
                                                 "cancel_url": reverse("school_patient", args=[patient.pk])},
                  status=400 if form.errors else 200)


@requires("schools.view")
def meeting_detail(request, pk: int):
    meeting = practice_object(request, Meeting.objects.select_related("patient", "school", "therapist", "practice",
                                                                      "block"), pk)
    if request.method == "POST":
        if not has_permission(request.user, "schools.work"):
            raise PermissionDenied
        try:
            if request.POST.get("action") == "cancel":
                actions.cancel_meeting(actor=request.user, meeting=meeting, request=request)
                messages.success(request, "Cancelled; everyone invited gets the cancellation.")
            else:
                day = dt.date.fromisoformat(request.POST.get("date", ""))
                start = dt.datetime.combine(day, dt.time.fromisoformat(request.POST.get("start", "")),
                                            tzinfo=meeting.practice.zone)
                actions.reschedule_meeting(actor=request.user, meeting=meeting, start_at=start,
                                           end_at=start + (meeting.end_at - meeting.start_at), request=request)
                messages.success(request, "Moved; everyone invited gets the update.")
        except ValueError:
            messages.error(request, "Give the new date and start time.")
        except actions.SchoolError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(meeting)
    record_event(actor=request.user, action="view", obj=meeting, request=request)
    return render(request, "schools/meeting_detail.html", {
        "object": meeting, "invitees": meeting.invitees.select_related("school"),
        "local_start": meeting.start_at.astimezone(meeting.practice.zone),
        "local_end": meeting.end_at.astimezone(meeting.practice.zone),
        "disclosures": queries.with_status(meeting.disclosures.select_related("contact__school", "message",
                                                                             "practice"))})


# --- The school contact's download link -------------------------------------------------------

@never_cache
@require_safe
def download(request, token: str):
    """The signed, expiring link a school contact opens: the gate a third time."""
    disclosure = actions.disclosure_for_token(token)
    if disclosure is None or disclosure.summary is None or not disclosure.summary.pdf_id:
        response = render(request, "schools/download_refused.html", {"reason": "This link is not valid."},
                          status=404)
    else:
        result = actions.open_download(disclosure=disclosure, request=request)
        if result.ok:
            response = file_response(request, disclosure.summary.pdf, inline=True,
                                     actor=f"school contact #{disclosure.contact_id}",
                                     detail={"disclosure_id": disclosure.pk})
        else:
            response = render(request, "schools/download_refused.html", {
                "reason": "This document is no longer available: the family's authorization has ended or was "
                          "withdrawn, or the link has expired.", "practice": disclosure.practice}, status=410)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response

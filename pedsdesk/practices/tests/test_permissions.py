"""Every staff URL, every role, plus an outsider and an anonymous visitor, against
the permission table in pedsdesk/practices/permissions.py."""

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import ROLES, make_authorization, make_guardian, make_patient, signed_in
from pedsdesk.authorizations.models import Authorization
from pedsdesk.people.models import Diagnosis, GuardianOf
from pedsdesk.portal.models import FamilyLink
from pedsdesk.practices.actions import create_api_token
from pedsdesk.practices.permissions import PERMISSIONS, has_permission
from pedsdesk.scheduling.models import (
    Appointment,
    CalendarFeed,
    Closure,
    GapListEntry,
    Opening,
    WaitlistEntry,
    WorkingHours,
)
from pedsdesk.schools.models import SchoolDay
from pedsdesk.workqueue.actions import TaskSpec, open_task

# Reachable without signing in; each has its own tests.
PUBLIC = {"family_offer", "family_offer_choice", "login", "logout", "second_factor", "healthz", "family_portal",
          "calendar_feed", "visit_ics", "twilio_inbound", "twilio_status", "family_visit_confirm",
          "family_visit_cancel", "family_visit_reschedule", "private_file", "metrics",
          "hep_family_feedback", "hep_family_reminders", "hep_family_pdf", "school_download", "school_family_forms",
          "school_family_revoke"}
# Changes state: walked with POST, expecting a redirect when allowed.
POST_ONLY = {"diagnosis_delete", "school_day_delete", "api_token_revoke", "family_link_create", "family_link_revoke",
             "task_claim", "task_complete", "task_snooze", "task_reassign", "visit_call",
             "schedule_book", "appointment_move", "appointment_cancel", "appointment_status",
             "calendar_feed_create", "calendar_feed_revoke", "opening_offer_again", "plan_discharge",
             "plan_series_create", "availability_delete", "closure_delete", "channel_failure_clear",
             "renewal_start", "renewal_pending", "renewal_document",
             "hep_review_log", "hep_activity_copy", "hep_delivery_resend", "hep_question_answered",
             "hep_template_archive", "hep_item_photo_upload",
             "import_run_apply", "school_authorization_end", "school_authorization_revoke", "school_authorization_scan",
             "school_ferpa_revoke",
             "school_request_signature", "school_summary_send"}


def _named_patterns(resolver=None, namespace: str = "") -> dict[str, URLPattern]:
    found = {}
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in ("admin", "api"):
                continue  # the admin and the API have their own tests
            found.update(_named_patterns(entry, entry.namespace or namespace))
        elif entry.name:
            found[entry.name] = entry
    return found


@pytest.fixture
def records(practice, staff, patient):
    """One record of each kind in the practice, keyed by what the URLs need."""
    guardian = patient.guardians.first()
    plan = patient.plans_of_care.first()
    coverage = patient.coverages.first()
    school = patient.school
    day = SchoolDay.objects.create(school=school, date=dt.date(2026, 12, 21), kind="no_school", note="Winter break")
    diagnosis = Diagnosis.objects.create(patient=patient, code="F82", description="Developmental coordination")
    create_api_token(staff_member=staff["owner"], name="walk")
    link = FamilyLink.objects.create(practice=practice, guardian=guardian, patient=patient,
                                     expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    appointment = Appointment.objects.create(
        practice=practice, patient=patient, therapist=staff["therapist"], plan_of_care=plan,
        start_at=dt.datetime(2030, 1, 8, 22, tzinfo=dt.UTC), end_at=dt.datetime(2030, 1, 8, 23, tzinfo=dt.UTC))
    return {
        "patient": patient.pk, "guardian": guardian.pk, "plan": plan.pk, "coverage": coverage.pk,
        "payer": coverage.payer_id, "school": school.pk, "day": day.pk, "diagnosis": diagnosis.pk,
        "staff": staff["therapist"].pk, "guardian_link": GuardianOf.objects.get(guardian=guardian).pk,
        "family_link": link.pk,
        "task": open_task(practice=practice, kind="walk", spec=TaskSpec(
            dedupe_key="walk", title=f"Call {guardian}", subject=guardian, role="front_desk",
            links=[{"label": str(guardian), "url": guardian.get_absolute_url()}]))[0].pk,
        "token": staff["owner"].api_tokens.get().pk,
        **_authorization_records(patient),
        **_hep_records(practice, staff["therapist"], patient),
        **_school_records(patient, staff),
        "closure": Closure.objects.create(practice=practice, date=dt.date(2030, 7, 4), name="Holiday").pk,
        "hours": WorkingHours.objects.create(therapist=staff["therapist"], weekday=0, start=dt.time(8),
                                             end=dt.time(12)).pk,
        "opening": Opening.objects.create(
            practice=practice, therapist=staff["therapist"], start_at=dt.datetime(2030, 1, 9, 22, tzinfo=dt.UTC),
            end_at=dt.datetime(2030, 1, 9, 23, tzinfo=dt.UTC)).pk,
        "waitlist_entry": WaitlistEntry.objects.create(practice=practice, patient=patient, discipline="OT",
                                                       referral_date=dt.date(2026, 10, 1)).pk,
        "gap_entry": GapListEntry.objects.create(practice=practice, patient=patient, plan_of_care=plan).pk,
        "calendar_feed": CalendarFeed.objects.create(therapist=staff["therapist"], token_hash="0" * 64).pk,
        "appointment": appointment.pk,
        "visit_task": open_task(practice=practice, kind="visit_unconfirmed", spec=TaskSpec(
            dedupe_key="walk-visit", title="Confirm the visit", subject=appointment, role="front_desk"))[0].pk,
        **_import_records(practice),
    }


def _import_records(practice) -> dict:
    from pedsdesk.interop.mapping import presets
    from pedsdesk.interop.models import ImportRun, SavedMapping

    run = ImportRun.objects.create(practice=practice, mapping_name="WebPT", source="webpt", record_type="patients",
                                   file_name="walk.csv", file_sha256="0" * 64, status=ImportRun.Status.CLEAN)
    saved = SavedMapping.objects.create(practice=practice, name="Our WebPT patients",
                                        spec=presets()["webpt-patients"].to_dict())
    return {"import_run": run.pk, "saved_mapping": saved.name}


def _authorization_records(patient) -> dict:
    """An authorization and, for the renewal pages, a second one with its renewal open."""
    from pedsdesk.authorizations.actions import open_renewal

    authorization = Authorization.objects.get(coverage__patient=patient)
    renewed = make_authorization(authorization.coverage, number="PA-WALK", start_date=dt.date(2027, 3, 1),
                                 end_date=dt.date(2027, 8, 31))
    renewed.coverage.payer.renewal_documents = ["progress_report"]
    renewed.coverage.payer.save()
    renewal, _ = open_renewal(authorization=renewed, today=dt.date(2027, 8, 1))
    return {"authorization": authorization.pk, "renewal": renewal.pk, "renewal_item": renewal.items.get().pk}


def _hep_records(practice, therapist, patient) -> dict:
    """A practice-owned activity, a sent program and a family's answer with a question."""
    import io

    from PIL import Image

    from pedsdesk.files.actions import IMAGE, check_upload, store_file
    from pedsdesk.hep.actions import ItemInput, attach_item_photo, update_and_send
    from pedsdesk.hep.models import Activity, Feedback, ProgramTemplate

    png = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(png, "PNG")
    picture = store_file(practice=practice, purpose="activity_picture", actor=therapist, download_name="walk",
                         checked=check_upload(png.getvalue(), accept={IMAGE}))
    activity = Activity.objects.create(practice=practice, discipline="OT", title_en="Walk", title_es="Walk",
                                       steps_en="a", steps_es="a", picture=picture)
    version, (delivery,) = update_and_send(actor=therapist, patient=patient, items=[ItemInput(activity.pk)],
                                           note="", guardians=[patient.guardians.first()])
    feedback = Feedback.objects.create(practice=practice, version=version, guardian=delivery.guardian,
                                       patient=patient, form_id="walk", days_practised=1, days_prescribed=2,
                                       window_start=version.created_at, question="When?")
    template = ProgramTemplate.objects.create(practice=practice, name="Walk", created_by=therapist)
    item = attach_item_photo(actor=therapist, item=version.items.get(),
                             photo=check_upload(png.getvalue(), accept={IMAGE}))
    return {"hep_activity": activity.pk, "hep_delivery": delivery.pk, "hep_feedback": feedback.pk,
            "hep_template": template.pk, "hep_item": item.pk}


def _school_records(patient, staff) -> dict:
    """A school contact, a signed authorization, a FERPA draft, a request, a summary and a meeting."""
    from pedsdesk.schools import actions
    from pedsdesk.schools.models import SchoolContact

    contact = SchoolContact.objects.create(practice=patient.practice, school=patient.school, name="Dana Whitfield",
                                           role="case_manager", email="dana@maple.k12.example")
    authorization = actions.create_authorization(
        actor=staff["owner"], patient=patient, categories=["progress_summaries", "meetings"], purpose="IEP",
        recipient_school=patient.school, expires_on=dt.date(2030, 1, 1))
    ferpa = actions.create_ferpa_consent(actor=staff["owner"], patient=patient, school=patient.school,
                                         records=["iep"], purpose="Coordination")
    doc = actions.create_request(actor=staff["owner"], patient=patient, requester="school", kind="progress_summary",
                                 due_on=dt.date(2030, 1, 1), assignee=staff["therapist"])
    summary = actions.create_summary(actor=staff["owner"], patient=patient, therapist=staff["therapist"],
                                     period_from=dt.date(2026, 9, 1), period_to=dt.date(2026, 11, 1), doc=doc)
    meeting = actions.schedule_meeting(actor=staff["owner"], patient=patient, therapist=staff["therapist"],
                                       start_at=dt.datetime(2030, 1, 10, 15, tzinfo=dt.UTC),
                                       end_at=dt.datetime(2030, 1, 10, 16, tzinfo=dt.UTC), location="Room 4")
    return {"school_contact": contact.pk, "school_authorization": authorization.pk, "ferpa": ferpa.pk,
            "school_request": doc.pk, "summary": summary.pk, "meeting": meeting.pk}


# URL name -> which record its <pk> is (None: no arguments).
URL_ARGS = {
    "schedule_week": None, "schedule_day": None, "schedule_slot": None, "schedule_book": None,
    "appointment_detail": "appointment", "appointment_move": "appointment", "appointment_cancel": "appointment",
    "appointment_status": "appointment",
    "calendar_feed_settings": None, "calendar_feed_create": None, "calendar_feed_revoke": "calendar_feed",
    "messaging_outbox": None, "channel_failure_clear": "guardian", "sweep_status": None,
    "plan_discharge": "plan", "plan_series_create": "plan", "availability": None, "closures": None,
    "scheduling_settings": None,
    "closure_delete": "closure", "availability_delete": "hours",
    "opening_list": None, "opening_detail": "opening", "opening_offer_again": "opening", "waitlist": None,
    "waitlist_create": None, "waitlist_edit": "waitlist_entry", "gap_list": None, "gap_create": None,
    "gap_edit": "gap_entry",
    "authorization_board": None, "authorization_detail": "authorization", "authorization_edit": "authorization",
    "authorization_create": "patient", "renewal_start": "authorization", "renewal_list": None,
    "renewal_detail": "renewal", "renewal_edit": "renewal", "renewal_submit": "renewal", "renewal_pending": "renewal",
    "renewal_decide": "renewal", "renewal_packet": "renewal", "renewal_document": "renewal_item",
    "dashboard": None, "account": None, "staff_list": None, "staff_create": None, "practice_edit": None,
    "staff_detail": "staff", "staff_edit": "staff",
    "patient_list": None, "patient_create": None, "patient_detail": "patient", "patient_edit": "patient",
    "diagnosis_create": "patient", "diagnosis_delete": "diagnosis", "guardian_create": "patient",
    "plan_of_care_create": "patient", "guardian_list": None, "guardian_detail": "guardian",
    "guardian_edit": "guardian", "guardian_link_edit": "guardian_link", "plan_of_care_detail": "plan",
    "plan_of_care_edit": "plan", "payer_list": None, "payer_create": None, "payer_detail": "payer",
    "payer_edit": "payer", "coverage_create": "patient", "coverage_edit": "coverage",
    "school_list": None, "school_create": None, "school_detail": "school", "school_edit": "school",
    "school_day_create": "school", "school_day_delete": "day", "audit_search": None,
    "family_link_create": "patient", "family_link_revoke": "family_link",
    "api_token_revoke": "token",  # each role revokes its own token in the role walk
    "my_tasks": None, "team_tasks": None, "task_detail": "task", "task_claim": "task", "task_complete": "task",
    "task_snooze": "task", "task_reassign": "task", "visit_call": "visit_task", "patient_pick": None,
    "hep_program": "patient", "hep_versions": "patient", "hep_review_log": "patient", "hep_caseload": None,
    "hep_settings": None, "hep_template_archive": "hep_template",
    "hep_library": None, "hep_activity_create": None, "hep_activity_edit": "hep_activity",
    "hep_activity_copy": "hep_activity", "hep_activity_picture": "hep_activity", "hep_delivery_resend": "hep_delivery",
    "hep_question_answered": "hep_feedback", "hep_item_photo": "hep_item", "hep_item_photo_upload": "hep_item",
    "imports": None, "import_run": "import_run", "import_run_apply": "import_run", "import_mapping": "saved_mapping",

    "school_contact_create": None, "school_contact_edit": "school_contact", "school_patient": "patient",
    "school_student_plan": "patient", "school_authorization_create": "patient", "school_ferpa_create": "patient",
    "school_request_signature": "patient", "school_request_create": "patient", "school_meeting_create": "patient",
    "school_disclosures": "patient", "school_authorization_detail": "school_authorization",
    "school_authorization_end": "school_authorization", "school_authorization_revoke": "school_authorization",
    "school_authorization_scan": "school_authorization",
    "school_ferpa_detail": "ferpa", "school_ferpa_revoke": "ferpa", "school_requests": None,
    "school_request_detail": "school_request", "school_summary_detail": "summary", "school_summary_send": "summary",
    "school_meeting_detail": "meeting",
}


def test_every_staff_url_is_in_the_walk():
    names = set(_named_patterns())
    assert names - PUBLIC == set(URL_ARGS), "add new URLs to URL_ARGS (and the permission table)"


def test_every_staff_view_names_a_known_permission():
    for name, pattern in _named_patterns().items():
        if name in PUBLIC:
            continue
        permission = getattr(pattern.callback, "permission", None)
        assert permission in PERMISSIONS, f"{name} must name a permission from the table, not {permission!r}"


def _url(name: str, records: dict) -> str:
    key = URL_ARGS[name]
    if name == "availability_delete":
        return reverse(name, args=["hours", records[key]])
    if name in ("hep_item_photo", "hep_item_photo_upload"):  # the child, then the item of their program
        return reverse(name, args=[records["patient"], records[key]])
    return reverse(name, args=[records[key]] if key else [])


def _request(client, name: str, url: str):
    if name in POST_ONLY:
        return client.post(url, {"guardian": "0"})
    return client.get(url)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(URL_ARGS))
def test_role_gets_what_the_table_grants(name, role, staff, records):
    user = staff[role]
    if name == "api_token_revoke" and role != "owner":
        records = {**records, "token": user.api_tokens.get_or_create(name="own", prefix="x", token_hash=role)[0].pk}
    permission = _named_patterns()[name].callback.permission
    response = _request(signed_in(user), name, _url(name, records))
    if has_permission(user, permission):
        # A form posted empty may be answered 400 with what to fix: reached, not refused.
        allowed = (200, 302, 400) if name in POST_ONLY else (200, 302)
        assert response.status_code in allowed, f"{role} should reach {name}"
        if response.status_code == 302:
            assert "/login/" not in response["Location"]
    else:
        assert response.status_code == 403, f"{role} must not reach {name}"


@pytest.mark.parametrize("name", sorted(n for n, key in URL_ARGS.items() if key))
def test_outsider_gets_404_for_this_practices_records(name, outsider, records):
    response = _request(signed_in(outsider), name, _url(name, records))
    assert response.status_code == 404, f"outsider reached {name}"


@pytest.mark.parametrize("name", sorted(n for n, key in URL_ARGS.items() if not key))
def test_outsider_lists_show_none_of_this_practices_data(name, outsider, records, patient):
    response = _request(signed_in(outsider), name, _url(name, records))
    assert patient.last_name.encode() not in response.content


@pytest.mark.parametrize("name", sorted(URL_ARGS))
def test_anonymous_visitor_is_sent_to_sign_in(name, client, records):
    response = _request(client, name, _url(name, records))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_admin_is_for_owners_only(staff, records, outsider):
    assert signed_in(staff["owner"]).get("/admin/").status_code == 200
    for role in ROLES[1:]:
        assert signed_in(staff[role]).get("/admin/").status_code == 302  # to the sign-in page
    other = make_patient(outsider.practice, "Zed", "Outside")
    make_guardian(other)
    listing = signed_in(staff["owner"]).get("/admin/people/patient/")
    assert b"Lopez" in listing.content and b"Outside" not in listing.content
    assert signed_in(staff["owner"]).get(f"/admin/people/patient/{other.pk}/change/").status_code == 302
    own = signed_in(staff["owner"]).get(f"/admin/people/patient/{records['patient']}/change/")
    assert own.status_code == 200
    from pedsdesk.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="view", patient_id=records["patient"], detail__via="admin").exists()

"""Summaries pre-filled from the records and signed by their therapist; documentation
requests through their states; the API, whose send answers 409 consent_required when
the gate refuses; and the school-requests report."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from conftest import make_staff
from pedsdesk.messaging.models import Message
from pedsdesk.practices.actions import create_api_token
from pedsdesk.scheduling.models import Appointment
from pedsdesk.schools import actions, queries
from pedsdesk.schools.models import Disclosure, DisclosureAuthorization, RequestState, SummaryState

# The personas' practice keeps Chicago's calendar; UTC's date runs ahead of it every evening.
PRACTICE_ZONE = ZoneInfo("America/Chicago")


def practice_today() -> dt.date:
    return timezone.localdate(timezone=PRACTICE_ZONE)


pytestmark = pytest.mark.django_db


def api_as(user) -> Client:
    return Client(headers={"authorization": f"Bearer {create_api_token(staff_member=user, name='tests')}"})


def _visits(patient, therapist, statuses):
    start = timezone.now() - dt.timedelta(days=20)
    for number, status in enumerate(statuses):
        at = start + dt.timedelta(days=number)
        Appointment.objects.create(practice=patient.practice, patient=patient, therapist=therapist, status=status,
                                   start_at=at, end_at=at + dt.timedelta(minutes=45))


def test_the_summary_is_prefilled_and_only_its_therapist_completes_and_signs_it(patient, therapist, front_desk,
                                                                               monkeypatch):
    patient.diagnoses.create(code="F82", description="Developmental coordination disorder")
    _visits(patient, therapist, ["completed", "completed", "cancelled", "no_show", "late_cancel"])
    monkeypatch.setattr(queries, "ADHERENCE_SOURCES",
                        [lambda p, start, end: [{"label": "Days practised", "value": "9 of 14"}]])
    doc = actions.create_request(actor=front_desk, patient=patient, requester="school", kind="progress_summary",
                                 due_on=practice_today() + dt.timedelta(days=3), assignee=therapist)
    today = practice_today()
    summary = actions.create_summary(actor=front_desk, patient=patient, therapist=therapist, doc=doc,
                                     period_from=today - dt.timedelta(days=60), period_to=today)
    data = summary.prefilled
    assert data["demographics"]["name"] == "Ava Lopez" and data["demographics"]["school"] == "Maple Elementary"
    assert data["diagnoses"] == ["F82 Developmental coordination disorder"]
    assert data["attendance"] == {"attended": 2, "cancelled": 2, "no_show": 1, "scheduled": 0}
    assert data["plans"][0]["goals"] and data["adherence"] == [{"label": "Days practised", "value": "9 of 14"}]

    with pytest.raises(actions.SchoolError, match="Only the summary's therapist"):
        actions.save_summary(actor=front_desk, summary=summary, progress="x", recommendations="y")
    with pytest.raises(actions.SchoolError) as refused:
        actions.sign_summary(actor=therapist, summary=summary, typed_name="Theo Tester")
    assert set(refused.value.message_dict) == {"progress", "recommendations"}
    actions.save_summary(actor=therapist, summary=summary, progress="Buttons her coat.", recommendations="Slant board.")
    doc.refresh_from_db()
    assert doc.state == RequestState.DRAFTED
    signed = actions.sign_summary(actor=therapist, summary=summary, typed_name="Theo Tester")
    assert signed.state == SummaryState.SIGNED and signed.pdf.content_type == "application/pdf"
    doc.refresh_from_db()
    assert doc.state == RequestState.SIGNED
    with pytest.raises(actions.SchoolError, match="signed"):
        actions.save_summary(actor=therapist, summary=signed, progress="changed", recommendations="changed")


def test_api_send_answers_409_consent_required_and_queues_nothing(patient, draft, signed_summary, contact,
                                                                  front_desk):
    client = api_as(front_desk)
    response = client.post(f"/api/v1/schools/summaries/{signed_summary.pk}/send",
                           {"contact_id": contact.pk}, content_type="application/json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "consent_required" and body["fields"]["missing"]
    assert not Message.objects.exists() and not Disclosure.objects.exists()

    asked = client.post(f"/api/v1/patients/{patient.pk}/school-signature-request?contact_id={contact.pk}")
    assert asked.status_code == 202 and asked.json()["state"] == "draft"
    actions.sign_authorization(authorization=DisclosureAuthorization.objects.get(pk=asked.json()["id"]),
                               guardian=patient.guardians.get(), typed_name="Rosa Lopez", agreed=True)
    sent = client.post(f"/api/v1/schools/summaries/{signed_summary.pk}/send", {"contact_id": contact.pk},
                       content_type="application/json")
    assert sent.status_code == 202 and sent.json()["status"] == "Queued"
    [row] = client.get(f"/api/v1/patients/{patient.pk}/disclosures").json()
    assert row["contact_id"] == contact.pk and row["to_address"] == contact.email


def test_api_refuses_bad_authorizations_with_what_to_fix(patient, front_desk, contact, outsider):
    client = api_as(front_desk)
    response = client.post("/api/v1/school-authorizations", {
        "patient_id": patient.pk, "categories": ["progress_summaries"], "purpose": ""},
        content_type="application/json")
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"purpose", "expires_on", "recipient_school"}
    assert not DisclosureAuthorization.objects.exists()
    created = client.post("/api/v1/school-authorizations", {
        "patient_id": patient.pk, "categories": ["progress_summaries"], "purpose": "IEP",
        "recipient_contact_ids": [contact.pk], "expires_on": "2030-01-01"}, content_type="application/json")
    assert created.status_code == 201 and created.json()["recipient_contact_ids"] == [contact.pk]
    other = api_as(outsider).get(f"/api/v1/patients/{patient.pk}/school-authorizations")
    assert other.status_code == 404


def test_school_requests_report(patient, therapist, front_desk, capsys):
    today = practice_today()
    actions.create_request(actor=front_desk, patient=patient, requester="school", kind="progress_summary",
                           due_on=today - dt.timedelta(days=2), assignee=therapist, requested_by="Dana Whitfield")
    late = actions.create_request(actor=front_desk, patient=patient, requester="payer", kind="plan_of_care",
                                  due_on=today + dt.timedelta(days=9), assignee=front_desk)
    actions.close_request(actor=front_desk, doc=late)
    call_command("report", "school-requests", "--format", "json")
    [row] = json.loads(capsys.readouterr().out)
    assert row == {"patient": "Ava Lopez", "requester": "School (Dana Whitfield)", "kind": "Progress summary for the "
                   "school team", "due": (today - dt.timedelta(days=2)).isoformat(), "state": "open",
                   "assignee": therapist.get_full_name(), "overdue": True}
    call_command("report", "school-requests", "--format", "csv")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "patient,requester,kind,due,state,assignee,overdue" and len(lines) == 2
    call_command("report", "school-requests", "--format", "table")
    assert "Ava Lopez" in capsys.readouterr().out


def test_overdue_requests_become_tasks_that_escalate_to_the_office_manager(patient, therapist, front_desk,
                                                                            office_manager):
    from pedsdesk.workqueue.actions import escalate_overdue_tasks
    from pedsdesk.workqueue.models import Task
    from pedsdesk.workqueue.rules import run_rules

    doc = actions.create_request(actor=front_desk, patient=patient, requester="school", kind="progress_summary",
                                 due_on=practice_today() - dt.timedelta(days=3), assignee=therapist)
    run_rules(practice=patient.practice)
    task = Task.objects.get(kind="school_request_due")
    assert task.assignee == therapist and "It is overdue." in task.reason
    assert escalate_overdue_tasks(practice=patient.practice) == 1
    actions.close_request(actor=front_desk, doc=doc)
    run_rules(practice=patient.practice)
    task.refresh_from_db()
    assert not task.is_open


def test_a_therapist_of_another_practice_cannot_be_assigned(patient, front_desk, outsider):
    stranger = make_staff(outsider.practice, "zed", "therapist")
    with pytest.raises(actions.SchoolError, match="active staff member of this practice"):
        actions.create_request(actor=front_desk, patient=patient, requester="school", kind="progress_summary",
                               due_on=practice_today(), assignee=stranger)


def test_the_requests_board_reads_in_a_fixed_number_of_queries(patient, therapist, front_desk, office_manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from conftest import signed_in

    def add(count):
        for number in range(count):
            actions.create_request(actor=front_desk, patient=patient, requester="school", kind="progress_summary",
                                   due_on=practice_today() + dt.timedelta(days=number), assignee=therapist)

    client = signed_in(office_manager)
    add(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/school-requests/").status_code == 200
    add(6)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/school-requests/")
    assert response.content.decode().count("Progress summary for the school team") == 8
    assert len(many) == len(few)


def test_the_home_program_app_fills_in_adherence(patient, therapist, front_desk):
    """hep registers its figures with the summary (schools never imports hep)."""
    from pedsdesk.hep.actions import ItemInput, update_and_send
    from pedsdesk.hep.models import Activity, Feedback

    version, (delivery,) = update_and_send(actor=therapist, patient=patient,
                                           items=[ItemInput(Activity.objects.filter(practice=None).first().pk)],
                                           note="", guardians=[patient.guardians.first()])
    for number, (practised, prescribed) in enumerate([(4, 5), (5, 9)]):
        Feedback.objects.create(practice=patient.practice, version=version, guardian=delivery.guardian,
                                patient=patient, form_id=f"f{number}", days_practised=practised,
                                days_prescribed=prescribed, window_start=version.created_at)
    today = practice_today()
    summary = actions.create_summary(actor=front_desk, patient=patient, therapist=therapist,
                                     period_from=today - dt.timedelta(days=30), period_to=today)
    assert summary.prefilled["adherence"] == [{
        "label": "Home program, as the family reported",
        "value": "practised 9 of 14 prescribed days (64%), 2 check-ins answered"}]

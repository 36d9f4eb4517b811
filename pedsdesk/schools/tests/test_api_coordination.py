"""The rest of school coordination in the API: a child's IEP/504 status, FERPA consents,
documentation requests, summaries written and signed by their therapist, and meetings
listed and moved. Each as the role that uses it; bad input is a 422 saying what to fix."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from conftest import next_weekday
from pedsdesk.audit.models import AuditEvent
from pedsdesk.messaging.models import Message
from pedsdesk.practices.actions import create_api_token
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.schools.models import FerpaConsent, StudentPlan
from pedsdesk.schools.tests.conftest import practice_today

pytestmark = pytest.mark.django_db


def api_as(user) -> Client:
    return Client(headers={"authorization": f"Bearer {create_api_token(staff_member=user, name='tests')}"})


def _json(client, method: str, url: str, body=None):
    return getattr(client, method)(url, body or {}, content_type="application/json")


def test_the_office_sets_a_childs_iep_status_and_bad_dates_are_refused(patient, front_desk, therapist, contact):
    url = f"/api/v1/patients/{patient.pk}/school-plan"
    assert api_as(front_desk).get(url).json()["plan_type"] == "none"
    review = (practice_today() + dt.timedelta(days=200)).isoformat()
    refused = _json(api_as(front_desk), "put", url, {"plan_type": "none", "annual_review_on": review})
    assert refused.status_code == 422 and "Review dates need an IEP or 504 plan" in refused.content.decode()
    assert not StudentPlan.objects.exists()
    assert _json(api_as(therapist), "put", url, {"plan_type": "iep"}).status_code == 403

    done = _json(api_as(front_desk), "put", url, {"plan_type": "iep", "case_manager_id": contact.pk,
                                                 "annual_review_on": review})
    assert done.status_code == 200, done.content
    assert done.json() == {"patient_id": patient.pk, "plan_type": "iep", "case_manager_id": contact.pk,
                           "annual_review_on": review, "reevaluation_on": None}
    assert api_as(therapist).get(url).json()["plan_type"] == "iep"
    assert AuditEvent.objects.filter(action="update", patient_id=patient.pk).exists()


def test_ferpa_consents_are_drafted_listed_and_revoked(patient, front_desk, billing, outsider):
    client = api_as(front_desk)
    bad = _json(client, "post", "/api/v1/ferpa-consents", {"patient_id": patient.pk, "school_id": patient.school_id,
                                                           "records": [], "purpose": ""})
    assert bad.status_code == 422 and set(bad.json()["fields"]) >= {"records", "purpose"}
    assert _json(api_as(billing), "post", "/api/v1/ferpa-consents", {
        "patient_id": patient.pk, "school_id": patient.school_id, "records": ["iep"]}).status_code == 403

    made = _json(client, "post", "/api/v1/ferpa-consents", {
        "patient_id": patient.pk, "school_id": patient.school_id, "records": ["iep", "evaluations"],
        "purpose": "Coordinate therapy with the IEP"})
    assert made.status_code == 201 and made.json()["state"] == "draft"
    listed = client.get(f"/api/v1/patients/{patient.pk}/ferpa-consents").json()
    assert [c["id"] for c in listed] == [made.json()["id"]]
    assert api_as(outsider).get(f"/api/v1/patients/{patient.pk}/ferpa-consents").status_code == 404

    FerpaConsent.objects.filter(pk=made.json()["id"]).update(state="signed", signed_at=timezone.now())
    revoked = _json(client, "post", f"/api/v1/ferpa-consents/{made.json()['id']}/revoke", {"reason": "letter"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"


def test_a_request_is_answered_by_a_summary_its_therapist_writes_and_signs(patient, front_desk, therapist,
                                                                          office_manager):
    today = practice_today()
    office = api_as(front_desk)
    doc = _json(office, "post", "/api/v1/school-requests", {
        "patient_id": patient.pk, "requester": "school", "kind": "progress_summary",
        "due_on": (today + dt.timedelta(days=5)).isoformat(), "assignee_id": therapist.pk}).json()
    assert office.get(f"/api/v1/school-requests/{doc['id']}").json()["state"] == "open"

    future = _json(office, "post", "/api/v1/schools/summaries", {
        "patient_id": patient.pk, "therapist_id": therapist.pk, "request_id": doc["id"],
        "period_from": (today - dt.timedelta(days=30)).isoformat(),
        "period_to": (today + dt.timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and "cannot end in the future" in future.content.decode()
    made = _json(office, "post", "/api/v1/schools/summaries", {
        "patient_id": patient.pk, "therapist_id": therapist.pk, "request_id": doc["id"],
        "period_from": (today - dt.timedelta(days=30)).isoformat(), "period_to": today.isoformat()})
    assert made.status_code == 201 and made.json()["prefilled"]["demographics"]["name"] == "Ava Lopez"
    url = f"/api/v1/schools/summaries/{made.json()['id']}"

    text = {"progress": "Ava buttons her coat.", "recommendations": "A slant board for writing."}
    assert _json(api_as(office_manager), "put", url, text).status_code == 422  # not her summary
    mine = api_as(therapist)
    unsigned = _json(mine, "post", f"{url}/sign", {"typed_name": "Theo Tester"})
    assert unsigned.status_code == 422 and "Write the progress section" in unsigned.content.decode()
    assert _json(mine, "put", url, text).json()["progress"] == "Ava buttons her coat."
    signed = _json(mine, "post", f"{url}/sign", {"typed_name": "Theo Tester"})
    assert signed.status_code == 200 and signed.json()["state"] == "signed"
    assert _json(mine, "put", url, text).status_code == 422  # signed: it no longer changes
    assert office.get(f"/api/v1/school-requests/{doc['id']}").json()["state"] == "signed"

    closed = _json(office, "post", f"/api/v1/school-requests/{doc['id']}/close")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"


def test_meetings_are_listed_and_moved_with_the_same_uid(patient, front_desk, therapist, working_week):
    day = next_weekday(2)
    start = local_to_utc(day, dt.time(13), patient.practice.zone)
    client = api_as(front_desk)
    made = _json(client, "post", "/api/v1/school-meetings", {
        "patient_id": patient.pk, "therapist_id": therapist.pk, "start_at": start.isoformat(),
        "end_at": (start + dt.timedelta(hours=1)).isoformat(), "location": "Maple, room 12"}).json()
    assert [m["id"] for m in client.get(f"/api/v1/patients/{patient.pk}/school-meetings").json()] == [made["id"]]

    past = _json(client, "post", f"/api/v1/school-meetings/{made['id']}/reschedule", {
        "start_at": "2020-01-06T10:00", "end_at": "2020-01-06T11:00"})
    assert past.status_code == 422 and "That time has passed" in past.content.decode()
    moved = _json(client, "post", f"/api/v1/school-meetings/{made['id']}/reschedule", {
        "start_at": f"{day.isoformat()}T15:00", "end_at": f"{day.isoformat()}T16:00"})
    assert moved.status_code == 200, moved.content
    assert moved.json()["uid"] == made["uid"] and moved.json()["sequence"] == 1
    shown = client.get(f"/api/v1/school-meetings/{made['id']}").json()["start_at"]
    assert dt.datetime.fromisoformat(shown) == local_to_utc(day, dt.time(15), patient.practice.zone)
    update = Message.objects.filter(kind="school_meeting_staff").order_by("-pk").first()
    ics = Calendar.from_ical(bytes(update.attachments.filter(alternative=False).get().content))
    [event] = list(ics.walk("VEVENT"))
    assert made["uid"] in str(event["UID"]) and int(event["SEQUENCE"]) == 1

"""API of authorizations (with their figures), renewals and benefit-bucket usage."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_authorization, make_coverage, make_patient, make_payer, next_weekday
from pedsdesk.audit.models import AuditEvent
from pedsdesk.authorizations.models import Authorization, Renewal, ServiceLine
from pedsdesk.authorizations.tests.test_api import api_as, assert_invalid, send
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db


def new_authorization(coverage, **overrides) -> dict:
    return {"coverage_id": coverage.pk, "discipline": "OT", "number": "PA-2027-001", "start_date": "2027-03-01",
            "end_date": "2027-08-31",
            "lines": [{"cpt_codes": ["97530", "97110"], "unit_type": "units", "quantity": 96, "per_week_cap": 8}],
            **overrides}


def test_create_get_list_and_update_an_authorization(billing, patient):
    client = api_as(billing)
    coverage = patient.coverages.get()
    response = send(client, "post", "/api/v1/authorizations", new_authorization(coverage))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["status"], body["unit"], body["authorized"], body["remaining"]) == (
        "PA-2027-001", "approved", "units", 96, 96)
    assert body["patient"] == {"id": patient.pk, "name": "Ava Lopez"}
    assert body["payer"]["name"] == "Lone Star Medicaid" and body["therapist"]["name"] == "Theo Tester"
    assert body["lines"][0]["cpt_codes"] == ["97530", "97110"] and body["lines"][0]["per_week_cap"] == 8
    # Nothing booked yet, but it ends months away: no "units unused" flag until its last weeks.
    assert body["denials"] == [] and "unused_units" not in body["flags"]
    assert AuditEvent.objects.filter(action="create", object_type="authorizations.authorization",
                                     patient_id=patient.pk).exists()

    assert client.get(f"/api/v1/authorizations/{body['id']}").json() == body
    listing = client.get("/api/v1/authorizations?sort=-days_left").json()
    assert listing["count"] == 2 and listing["items"][0]["id"] == body["id"]

    response = send(client, "patch", f"/api/v1/authorizations/{body['id']}",
                    {"lines": [{"cpt_codes": ["97530"], "unit_type": "visits", "quantity": 24}]})
    assert response.status_code == 200, response.content
    assert response.json()["unit"] == "visits" and response.json()["authorized"] == 24
    assert ServiceLine.objects.filter(authorization_id=body["id"]).count() == 1
    response = send(client, "patch", f"/api/v1/authorizations/{body['id']}", {"status": "pending"})
    assert response.json()["status"] == "pending" and response.json()["authorized"] == 24


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"end_date": "2027-02-01"}, "end_date", "cannot end before it starts"),
    ({"lines": [{"cpt_codes": ["97530"], "quantity": 0}]}, "lines.0.quantity", "at least 1"),
    ({"lines": [{"cpt_codes": ["97530"], "quantity": -4}]}, "lines.0.quantity", "greater than or equal to 0"),
    ({"lines": [{"cpt_codes": ["92507"], "quantity": 20}]}, "lines.0.cpt_codes", "billed by SLP, not OT"),
    ({"lines": [{"cpt_codes": ["97530"], "quantity": 20}, {"cpt_codes": ["97530", "97110"], "quantity": 10}]},
     "lines.1.cpt_codes", "97530 is already on line 1"),
    ({"lines": [{"cpt_codes": ["97530"], "quantity": 20}, {"cpt_codes": ["97110"], "unit_type": "units",
                                                           "quantity": 10}]}, "lines.1.unit_type", "same unit"),
    ({"lines": []}, "lines", "at least one service line"),
    ({"number": "  "}, "number", "not only spaces"),
])
def test_bad_authorizations_are_refused_and_nothing_is_written(billing, patient, overrides, field, words):
    before = (Authorization.objects.count(), ServiceLine.objects.count())
    response = send(api_as(billing), "post", "/api/v1/authorizations",
                    new_authorization(patient.coverages.get(), **overrides))
    assert_invalid(response, field, words)
    assert (Authorization.objects.count(), ServiceLine.objects.count()) == before


def test_the_same_number_twice_for_overlapping_dates_is_refused(billing, patient):
    existing = Authorization.objects.get(coverage__patient=patient)
    response = send(api_as(billing), "post", "/api/v1/authorizations", new_authorization(
        patient.coverages.get(), number=existing.number, start_date="2027-01-01"))
    assert_invalid(response, "number", "already recorded for overlapping dates")
    response = send(api_as(billing), "post", "/api/v1/authorizations", new_authorization(
        patient.coverages.get(), number=existing.number))  # from March: no overlap
    assert response.status_code == 201


def test_another_practices_coverage_and_records_are_not_there(billing, outsider, patient):
    theirs = make_coverage(make_patient(outsider.practice, "Zed"), make_payer(outsider.practice, "Other"))
    their_authorization = make_authorization(theirs)
    client = api_as(billing)
    response = send(client, "post", "/api/v1/authorizations", new_authorization(theirs))
    assert_invalid(response, "coverage_id", "No coverage with id")
    assert client.get(f"/api/v1/authorizations/{their_authorization.pk}").status_code == 404
    assert client.get(f"/api/v1/coverages/{theirs.pk}/benefit-usage").status_code == 404
    assert send(client, "post", f"/api/v1/authorizations/{their_authorization.pk}/renewal", {}).status_code == 404
    assert their_authorization.pk not in [a["id"] for a in client.get("/api/v1/authorizations?show=all")
                                          .json()["items"]]


def test_roles(patient, staff):
    authorization = Authorization.objects.get(coverage__patient=patient)
    for role in ("owner", "office_manager", "front_desk", "therapist", "billing"):
        assert api_as(staff[role]).get(f"/api/v1/authorizations/{authorization.pk}").status_code == 200
    response = send(api_as(staff["therapist"]), "patch", f"/api/v1/authorizations/{authorization.pk}",
                    {"status": "denied"})
    assert response.status_code == 403
    response = send(api_as(staff["therapist"]), "post", f"/api/v1/authorizations/{authorization.pk}/renewal", {})
    assert response.status_code == 403


def test_renewal_through_the_api_with_a_partial_approval(front_desk, billing, therapist, patient):
    today = patient.practice.local_now().date()
    authorization = Authorization.objects.get(coverage__patient=patient)
    authorization.end_date = today + dt.timedelta(days=20)
    authorization.save()
    payer = authorization.coverage.payer
    payer.renewal_documents = ["progress_report"]
    payer.save()
    response = send(api_as(front_desk), "post", f"/api/v1/authorizations/{authorization.pk}/renewal", {})
    assert response.status_code == 201, response.content
    renewal = response.json()
    assert renewal["state"] == "waiting_on_therapist" and renewal["items"] == [
        {"document": "progress_report", "received_on": None}]
    assert renewal["therapist"]["name"] == "Theo Tester"
    url = f"/api/v1/renewals/{renewal['id']}"
    response = send(api_as(front_desk), "post", f"{url}/submit",
                    {"submitted_on": str(today), "channel": "fax"})
    assert_invalid(response, "state", "Still missing from the checklist: progress report")
    response = send(api_as(therapist), "post", f"{url}/documents", {"document": "progress_report"})
    assert response.json()["state"] == "ready"
    response = send(api_as(therapist), "post", f"{url}/submit",
                    {"submitted_on": str(today), "channel": "fax"})
    assert response.status_code == 403
    response = send(api_as(front_desk), "post", f"{url}/submit",
                    {"submitted_on": str(today), "channel": "portal", "payer_reference": "LS-1"})
    assert response.json()["state"] == "submitted" and response.json()["decision_due"]
    line = response.json()["lines"][0]
    decision = {"decision": "approved", "decided_on": str(today), "number": "PA-NEXT-1",
                "lines": [{"id": line["id"], "approved_quantity": 30}]}
    assert send(api_as(front_desk), "post", f"{url}/decision", decision).status_code == 403
    response = send(api_as(billing), "post", f"{url}/decision", decision)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "partially_approved" and body["lines"][0]["approved_quantity"] == 30
    following = api_as(billing).get(f"/api/v1/authorizations/{body['next_authorization_id']}").json()
    assert following["status"] == "partially_approved" and following["previous_id"] == authorization.pk
    assert following["lines"][0]["authorized"] == 30 and following["lines"][0]["requested_quantity"] == 48
    assert api_as(billing).get("/api/v1/renewals?state=partially_approved").json()["count"] == 1
    assert api_as(billing).get("/api/v1/renewals").json()["count"] == 0  # none open


def test_benefit_usage_counts_the_plan_year(front_desk, patient, working_week):
    practice = patient.practice
    for weeks in (1, 2):
        book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                         start_at=local_to_utc(next_weekday(1, weeks), dt.time(16), practice.zone), minutes=45,
                         plan_of_care=patient.plans_of_care.get())
    coverage = patient.coverages.get()
    day = next_weekday(1)
    usage = api_as(front_desk).get(f"/api/v1/coverages/{coverage.pk}/benefit-usage?date={day}").json()
    assert len(usage) == 1
    bucket = usage[0]
    assert (bucket["name"], bucket["limit"], bucket["used"], bucket["scheduled"], bucket["remaining"]) == (
        "PT/OT combined", 60, 0, sum(1 for w in (1, 2) if next_weekday(1, w).year == day.year),
        60 - sum(1 for w in (1, 2) if next_weekday(1, w).year == day.year))
    assert bucket["period_start"] == f"{day.year}-01-01" and bucket["projected_exhaustion"] is None


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def test_authorization_lists_take_the_same_queries_for_few_and_many(billing, patient, working_week, front_desk):
    from pedsdesk.authorizations.actions import open_renewal

    client = api_as(billing)
    open_renewal(authorization=Authorization.objects.get(), today=dt.date(2027, 2, 1))
    urls = ["/api/v1/authorizations?show=all", "/api/v1/renewals?state=all"]
    few = [_count(client, url) for url in urls]
    payer = patient.coverages.get().payer

    for i in range(8):
        child = make_patient(billing.practice, first=f"Kid{i}")
        authorization = make_authorization(make_coverage(child, payer), end_date=dt.date(2027, 1, 15 + i))
        open_renewal(authorization=authorization, today=dt.date(2026, 12, 20))
    assert Renewal.objects.count() == 9
    assert [_count(client, url) for url in urls] == few

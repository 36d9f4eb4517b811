"""API of payers and of coverages with benefit buckets."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import make_coverage, make_patient, make_payer
from pedsdesk.audit.models import AuditEvent
from pedsdesk.authorizations.models import BenefitBucket, Coverage, Payer
from pedsdesk.practices.actions import create_api_token

pytestmark = pytest.mark.django_db


def api_as(user) -> Client:
    return Client(headers={"authorization": f"Bearer {create_api_token(staff_member=user, name='tests')}"})


def send(client: Client, method: str, url: str, data: dict):
    return getattr(client, method)(url, data, content_type="application/json")


def assert_invalid(response, field: str, *words: str) -> dict:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"], body
    for word in words:
        assert word in " ".join(body["fields"][field])
        assert word in body["message"]
    return body


# Payers

NEW_PAYER = {"name": "Blue Horizon PPO", "payer_type": "commercial", "payer_id": "BH123", "unit_type": "units",
             "renewal_documents": ["plan_of_care", "progress_report"], "booking_rule": "block"}


def test_create_list_get_and_update_a_payer(billing):
    client = api_as(billing)
    response = send(client, "post", "/api/v1/payers", NEW_PAYER)
    assert response.status_code == 201, response.content
    payer = response.json()
    assert payer["payer_type"] == "commercial" and payer["renewal_documents"] == ["plan_of_care", "progress_report"]
    assert payer["renewal_earliest_days"] == 30 and payer["rounding_rule"] == "cms_8_minute"
    assert Payer.objects.get(pk=payer["id"]).practice == billing.practice
    assert AuditEvent.objects.filter(action="create", object_type="authorizations.payer").exists()

    assert client.get("/api/v1/payers?q=horizon").json()["items"] == [payer]
    assert client.get("/api/v1/payers?q=bh123").json()["count"] == 1
    assert client.get(f"/api/v1/payers/{payer['id']}").json() == payer

    response = send(client, "patch", f"/api/v1/payers/{payer['id']}", {"renewal_recommended_days": 14})
    assert response.status_code == 200
    assert response.json()["renewal_recommended_days"] == 14

    response = send(client, "put", f"/api/v1/payers/{payer['id']}", {"name": "Blue Horizon", "payer_type": "chip"})
    assert response.status_code == 200
    assert response.json()["unit_type"] == "visits" and response.json()["renewal_documents"] == []


def test_unknown_payer_type_is_422(billing):
    response = send(api_as(billing), "post", "/api/v1/payers", {**NEW_PAYER, "payer_type": "medicare"})
    assert_invalid(response, "payer_type", "'commercial'", "'medicaid_mco'")
    assert not Payer.objects.exists()


def test_unknown_renewal_document_is_422(billing):
    response = send(api_as(billing), "post", "/api/v1/payers", {**NEW_PAYER, "renewal_documents": ["fax_cover"]})
    assert_invalid(response, "renewal_documents.0", "'plan_of_care'")


def test_recommended_lead_longer_than_earliest_is_422(billing):
    response = send(api_as(billing), "post", "/api/v1/payers",
                    {**NEW_PAYER, "renewal_earliest_days": 30, "renewal_recommended_days": 45})
    assert_invalid(response, "renewal_recommended_days", "cannot be longer")


def test_payer_name_used_twice_is_409_conflict(billing):
    make_payer(billing.practice, "Blue Horizon PPO")
    response = send(api_as(billing), "post", "/api/v1/payers", NEW_PAYER)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "already exists" in response.json()["message"]


def test_front_desk_sees_payers_but_cannot_edit_them(front_desk, patient):
    client = api_as(front_desk)
    payer = Payer.objects.get()
    assert client.get(f"/api/v1/payers/{payer.pk}").status_code == 200
    response = send(client, "patch", f"/api/v1/payers/{payer.pk}", {"name": "Renamed"})
    assert response.status_code == 403
    payer.refresh_from_db()
    assert payer.name == "Lone Star Medicaid"


# Coverages

def new_coverage(payer, **overrides) -> dict:
    return {"payer_id": payer.pk, "priority": 2, "member_id": "XJ55501", "start_date": "2026-07-01",
            "plan_year_start_month": 7,
            "benefit_buckets": [
                {"name": "PT/OT combined", "disciplines": ["PT", "OT"], "limit": 60},
                {"name": "Speech", "disciplines": ["SLP"], "limit": 30, "unit_type": "units", "reset": "plan_year"},
            ], **overrides}


def test_create_list_get_and_update_a_coverage(front_desk, patient):
    client = api_as(front_desk)
    payer = make_payer(front_desk.practice, "Blue Horizon PPO", payer_type="commercial")
    response = send(client, "post", f"/api/v1/patients/{patient.pk}/coverages", new_coverage(payer))
    assert response.status_code == 201, response.content
    coverage = response.json()
    assert coverage["payer"] == {"id": payer.pk, "name": "Blue Horizon PPO", "payer_type": "commercial"}
    assert [(b["name"], b["disciplines"], b["reset"]) for b in coverage["benefit_buckets"]] == [
        ("PT/OT combined", ["PT", "OT"], "calendar_year"), ("Speech", ["SLP"], "plan_year")]
    assert AuditEvent.objects.filter(action="create", object_type="authorizations.coverage",
                                     patient_id=patient.pk).exists()

    listing = client.get(f"/api/v1/patients/{patient.pk}/coverages").json()
    assert [c["priority"] for c in listing["items"]] == [1, 2]
    assert client.get(f"/api/v1/coverages/{coverage['id']}").json() == coverage
    assert AuditEvent.objects.filter(action="view", patient_id=patient.pk).exists()

    response = send(client, "patch", f"/api/v1/coverages/{coverage['id']}", {"member_id": "XJ55502"})
    assert response.status_code == 200
    assert response.json()["member_id"] == "XJ55502" and len(response.json()["benefit_buckets"]) == 2

    response = send(client, "patch", f"/api/v1/coverages/{coverage['id']}",
                    {"benefit_buckets": [{"name": "All therapy", "disciplines": ["PT", "OT", "SLP"], "limit": 40}]})
    assert response.status_code == 200, response.content
    assert [b["name"] for b in response.json()["benefit_buckets"]] == ["All therapy"]
    assert BenefitBucket.objects.filter(coverage_id=coverage["id"]).count() == 1


def test_coverage_with_one_bad_bucket_creates_nothing(front_desk, patient):
    payer = Payer.objects.get()
    coverages, buckets = Coverage.objects.count(), BenefitBucket.objects.count()
    bad = new_coverage(payer)
    bad["benefit_buckets"][1]["limit"] = 0
    response = send(api_as(front_desk), "post", f"/api/v1/patients/{patient.pk}/coverages", bad)
    assert_invalid(response, "benefit_buckets.1.limit", "at least 1")
    assert (Coverage.objects.count(), BenefitBucket.objects.count()) == (coverages, buckets)


def test_discipline_counted_by_two_buckets_is_422(front_desk, patient):
    buckets = [{"name": "PT/OT", "disciplines": ["PT", "OT"], "limit": 60},
               {"name": "OT extra", "disciplines": ["OT"], "limit": 10}]
    response = send(api_as(front_desk), "post", f"/api/v1/patients/{patient.pk}/coverages",
                    new_coverage(Payer.objects.get(), benefit_buckets=buckets))
    assert_invalid(response, "benefit_buckets.1.disciplines", "OT is already counted")


def test_coverage_ending_before_it_starts_is_422(front_desk, patient):
    response = send(api_as(front_desk), "post", f"/api/v1/patients/{patient.pk}/coverages",
                    new_coverage(Payer.objects.get(), end_date="2026-01-01"))
    assert_invalid(response, "end_date", "cannot end before it starts")


def test_payer_of_another_practice_is_422(front_desk, outsider, patient):
    theirs = make_payer(outsider.practice, "Their Payer")
    response = send(api_as(front_desk), "post", f"/api/v1/patients/{patient.pk}/coverages", new_coverage(theirs))
    assert_invalid(response, "payer_id", "No payer with id")
    assert "Their Payer" not in response.content.decode()


def test_therapist_cannot_edit_coverages(therapist, patient):
    coverage = Coverage.objects.get()
    response = send(api_as(therapist), "patch", f"/api/v1/coverages/{coverage.pk}", {"member_id": "Z"})
    assert response.status_code == 403


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def test_list_endpoints_take_the_same_queries_for_few_and_many_rows(billing, patient):
    client = api_as(billing)
    urls = ["/api/v1/payers", f"/api/v1/patients/{patient.pk}/coverages"]
    few = [_queries(client, url) for url in urls]
    for i in range(12):
        payer = make_payer(billing.practice, f"Payer {i}")
        make_coverage(patient, payer, priority=2)
        make_coverage(make_patient(billing.practice, first=f"Kid{i}"), payer)
    assert [_queries(client, url) for url in urls] == few

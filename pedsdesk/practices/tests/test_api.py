"""The JSON API's plumbing: tokens, permissions, practice scoping, errors, spec and docs."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import ROLES, make_staff
from pedsdesk.authorizations.models import Coverage, Payer
from pedsdesk.people.models import Diagnosis, Guardian, PlanOfCare
from pedsdesk.practices.actions import create_api_token, revoke_api_token
from pedsdesk.practices.models import ApiToken, Role, StaffMember
from pedsdesk.practices.permissions import PERMISSIONS, has_permission
from pedsdesk.schools.models import School
from pedsdesk.workqueue.actions import TaskSpec, open_task

pytestmark = pytest.mark.django_db


def api_as(user) -> Client:
    return Client(headers={"authorization": f"Bearer {create_api_token(staff_member=user, name='tests')}"})


def test_openapi_spec_needs_no_token_and_lists_every_resource():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "pedsdesk"
    assert spec["info"]["version"] == "1"
    paths = set(spec["paths"])
    for path in [
        "/api/v1/patients", "/api/v1/patients/{patient_id}", "/api/v1/patients/{patient_id}/diagnoses",
        "/api/v1/patients/{patient_id}/diagnoses/{diagnosis_id}", "/api/v1/patients/{patient_id}/guardians",
        "/api/v1/guardians", "/api/v1/guardians/{guardian_id}", "/api/v1/patients/{patient_id}/plans-of-care",
        "/api/v1/plans-of-care/{plan_id}", "/api/v1/payers", "/api/v1/payers/{payer_id}",
        "/api/v1/patients/{patient_id}/coverages", "/api/v1/coverages/{coverage_id}", "/api/v1/schools",
        "/api/v1/schools/{school_id}", "/api/v1/staff", "/api/v1/staff/me",
    ]:
        assert path in paths, path
    assert spec["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    assert "ErrorOut" in spec["components"]["schemas"]


def test_every_operation_names_a_known_permission_and_documents_errors():
    spec = Client().get("/api/v1/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("x-permission") in PERMISSIONS, f"{method} {path}"
            assert {"401", "403", "422"} <= set(operation["responses"]), f"{method} {path}"
            assert operation["security"] == [{"BearerToken": []}]


def test_no_token_is_401_json_saying_how_to_authenticate(patient):
    response = Client().get("/api/v1/patients")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert "Authorization: Bearer" in body["message"]


@pytest.mark.parametrize("header", ["Bearer pd_not-a-real-token", "Bearer ", "Basic Zm9vOmJhcg==", "pd_token"])
def test_bad_token_is_401(patient, header):
    response = Client(headers={"authorization": header}).get(f"/api/v1/patients/{patient.pk}")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "Ava" not in response.content.decode()


def test_revoked_token_is_401(front_desk, patient):
    token = create_api_token(staff_member=front_desk, name="school sync")
    client = Client(headers={"authorization": f"Bearer {token}"})
    assert client.get("/api/v1/patients").status_code == 200
    revoke_api_token(staff_member=front_desk, token=ApiToken.objects.get(staff_member=front_desk))
    response = client.get("/api/v1/patients")
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "That API token is unknown or revoked; create a new one on your account page.",
    }


def test_token_of_deactivated_staff_member_is_401(front_desk, patient):
    client = api_as(front_desk)
    front_desk.is_active = False
    front_desk.save()
    assert client.get("/api/v1/patients").status_code == 401


def test_token_use_is_recorded(front_desk):
    client = api_as(front_desk)
    client.get("/api/v1/staff/me")
    assert ApiToken.objects.get(staff_member=front_desk).last_used_at is not None


def test_role_lacking_the_permission_gets_403_before_its_input_is_read(billing, patient):
    plan = patient.plans_of_care.get()
    response = api_as(billing).patch(f"/api/v1/plans-of-care/{plan.pk}", {"minutes": "not a number"},
                                     content_type="application/json")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "permission_denied"
    assert "Billing" in body["message"] and "plans_of_care.edit" in body["message"]


def _ids(patient) -> dict[str, int]:
    return {
        "patient_id": patient.pk,
        "guardian_id": Guardian.objects.get(patients=patient).pk,
        "plan_id": PlanOfCare.objects.get(patient=patient).pk,
        "payer_id": Payer.objects.get(practice=patient.practice).pk,
        "coverage_id": Coverage.objects.get(patient=patient).pk,
        "school_id": School.objects.get(practice=patient.practice).pk,
        "diagnosis_id": Diagnosis.objects.get(patient=patient).pk,
        # No role: any role that may work tasks may work this one.
        "task_id": open_task(practice=patient.practice, kind="walk", spec=TaskSpec(
            dedupe_key="walk", title="Call the family", subject=patient))[0].pk,
        **_authorization_ids(patient),
        **_hep_ids(patient),
        **_school_ids(patient),
    }


def _hep_ids(patient) -> dict[str, int]:
    from pedsdesk.hep.actions import ItemInput, update_and_send
    from pedsdesk.hep.models import Activity

    activity = Activity.objects.create(practice=patient.practice, discipline="OT", title_en="Walk", title_es="Walk",
                                       steps_en="a", steps_es="a")
    version, (delivery,) = update_and_send(actor=patient.plans_of_care.first().therapist, patient=patient,
                                           items=[ItemInput(activity.pk)], note="",
                                           guardians=[patient.guardians.first()])
    return {"version_id": version.pk, "delivery_id": delivery.pk}


def _school_ids(patient) -> dict[str, int]:
    """A signed authorization to disclose and FERPA consent, a draft school summary, a
    documentation request and a school meeting."""
    import datetime as dt

    from pedsdesk.practices.models import StaffMember
    from pedsdesk.schools.models import (
        DisclosureAuthorization,
        DocumentRequest,
        FerpaConsent,
        Meeting,
        SchoolContact,
        Summary,
    )

    therapist = StaffMember.objects.get(practice=patient.practice, role="therapist")
    authorization = DisclosureAuthorization.objects.create(
        practice=patient.practice, patient=patient, categories=["meetings"], purpose="IEP", state="signed",
        recipient_school=patient.school, expires_on=dt.date(2030, 1, 1))
    summary = Summary.objects.create(practice=patient.practice, patient=patient, therapist=therapist,
                                     period_from=dt.date(2026, 9, 1), period_to=dt.date(2026, 11, 1))
    meeting = Meeting.objects.create(practice=patient.practice, patient=patient, school=patient.school,
                                     therapist=therapist, start_at=dt.datetime(2030, 1, 10, 15, tzinfo=dt.UTC),
                                     end_at=dt.datetime(2030, 1, 10, 16, tzinfo=dt.UTC), location="Room 4")
    ferpa = FerpaConsent.objects.create(practice=patient.practice, patient=patient, school=patient.school,
                                        records=["iep"], purpose="IEP", state="signed")
    doc = DocumentRequest.objects.create(practice=patient.practice, patient=patient, requester="school",
                                         kind="progress_summary", due_on=dt.date(2030, 1, 1), assignee=therapist)
    contact = SchoolContact.objects.create(practice=patient.practice, school=patient.school, name="Dana Whitfield",
                                           role="case_manager", email="dana@walk.k12.example")
    return {"school_authorization_id": authorization.pk, "summary_id": summary.pk, "meeting_id": meeting.pk,
            "ferpa_consent_id": ferpa.pk, "request_id": doc.pk, "contact_id": contact.pk}


def _authorization_ids(patient) -> dict[str, int]:
    from pedsdesk.authorizations.actions import open_renewal
    from pedsdesk.authorizations.models import Authorization

    authorization = Authorization.objects.get(coverage__patient=patient)
    renewal, _ = open_renewal(authorization=authorization, today=authorization.end_date)
    return {"authorization_id": authorization.pk, "renewal_id": renewal.pk}


def _operations():
    spec = Client().get("/api/v1/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation["x-permission"]


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_allows_exactly_the_roles_of_its_permission(staff, patient, role):
    """The URL walk: each role against each endpoint, checked against the permission table."""
    Diagnosis.objects.create(patient=patient, code="F82")
    ids = _ids(patient)
    client = api_as(staff[role])
    for method, path, permission in _operations():
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        response = getattr(client, method)(url, {}, content_type="application/json") if method != "get" else (
            client.get(url))
        if has_permission(staff[role], permission):
            assert response.status_code not in (401, 403, 404, 500), (method, path, response.content)
        else:
            assert response.status_code == 403, (method, path, response.content)
            assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("path", [
    "/api/v1/patients/{patient_id}", "/api/v1/patients/{patient_id}/diagnoses",
    "/api/v1/patients/{patient_id}/guardians", "/api/v1/patients/{patient_id}/plans-of-care",
    "/api/v1/patients/{patient_id}/coverages", "/api/v1/guardians/{guardian_id}", "/api/v1/plans-of-care/{plan_id}",
    "/api/v1/coverages/{coverage_id}", "/api/v1/payers/{payer_id}", "/api/v1/schools/{school_id}",
    "/api/v1/authorizations/{authorization_id}", "/api/v1/renewals/{renewal_id}",
    "/api/v1/coverages/{coverage_id}/benefit-usage",
])
def test_another_practices_ids_are_404_never_the_record(outsider, patient, path):
    Diagnosis.objects.create(patient=patient, code="F82")
    url = re.sub(r"\{(\w+)\}", lambda m: str(_ids(patient)[m.group(1)]), path)
    response = api_as(outsider).get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    body = response.content.decode()
    assert "Lopez" not in body and "Maple" not in body and "Medicaid" not in body


def test_another_practices_records_cannot_be_changed_or_deleted(outsider, patient):
    diagnosis = Diagnosis.objects.create(patient=patient, code="F82")
    client = api_as(outsider)
    response = client.patch(f"/api/v1/patients/{patient.pk}", {"first_name": "Mallory"},
                            content_type="application/json")
    assert response.status_code == 404
    response = client.delete(f"/api/v1/patients/{patient.pk}/diagnoses/{diagnosis.pk}")
    assert response.status_code == 404
    response = client.post(f"/api/v1/patients/{patient.pk}/guardians",
                           {"first_name": "Eve", "last_name": "X", "phone": "5125550199", "relationship": "other"},
                           content_type="application/json")
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.first_name == "Ava"
    assert Diagnosis.objects.filter(pk=diagnosis.pk).exists()
    assert not Guardian.objects.filter(first_name="Eve").exists()


def test_lists_show_only_the_token_users_practice(outsider, patient):
    client = api_as(outsider)
    for url in ["/api/v1/patients", "/api/v1/guardians", "/api/v1/payers", "/api/v1/schools"]:
        assert client.get(url).json()["count"] == 0, url
    staff = client.get("/api/v1/staff").json()
    assert [s["username"] for s in staff["items"]] == ["otto"]


def test_staff_member_of_no_practice_is_refused(db):
    admin = StaffMember.objects.create_user(username="root", password="x" * 12, role=Role.OWNER)
    response = api_as(admin).get("/api/v1/staff/me")
    assert response.status_code == 403
    assert "no practice" in response.json()["message"]


def test_unknown_api_path_is_json_404(front_desk):
    response = api_as(front_desk).get("/api/v1/appointments")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_root_points_to_spec_and_docs():
    assert Client().get("/api/v1/").json() == {
        "title": "pedsdesk", "version": "1", "openapi": "/api/v1/openapi.json", "docs": "/api/v1/docs",
    }


def test_body_that_is_not_json_is_a_400_that_says_so(front_desk):
    response = api_as(front_desk).post("/api/v1/patients", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert "not valid JSON" in response.json()["message"]


def test_unknown_fields_and_bad_query_parameters_are_422_with_fields(front_desk):
    client = api_as(front_desk)
    response = client.post("/api/v1/patients", {"first_name": "Ava", "last_name": "Lopez", "dob": "2019-01-01"},
                           content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"]["dob"] == ["Extra inputs are not permitted"]
    assert body["fields"]["date_of_birth"] == ["Field required"]
    assert "date_of_birth" in body["message"]
    response = client.get("/api/v1/patients?limit=1000")
    assert response.status_code == 422
    assert "limit" in response.json()["fields"]


def test_unexpected_error_is_a_logged_json_500(front_desk, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("pedsdesk.schools.api.search", broken)
    response = api_as(front_desk).get("/api/v1/schools")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "boom" not in response.content.decode()
    assert "boom" in caplog.text


def test_docs_page_is_served_from_this_origin_under_the_csp():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert "cdn" not in html.lower()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    for attrs, content in scripts:
        # Executable scripts are files; the only inline block is JSON data.
        assert "src=" in attrs or 'type="application/json"' in attrs
        assert 'src="/api/v1/docs/assets/' in attrs or not content.strip().startswith(("var", "const", "function"))
    for src in re.findall(r'(?:src|href)="(/api/v1/docs/assets/[^"]+)"', html):
        asset = Client().get(src)
        assert asset.status_code == 200, src
        b"".join(asset.streaming_content)
    assert Client().get("/api/v1/docs/assets/settings.py").status_code == 404


def test_staff_list_and_me(staff, therapist):
    client = api_as(therapist)
    listing = client.get("/api/v1/staff?q=theo").json()
    assert listing["count"] == 1
    assert listing["items"][0]["therapist"] == {"discipline": "OT", "credentials": "OTR/L", "npi": "1234567893"}
    me = client.get("/api/v1/staff/me").json()
    assert me["username"] == "theo" and me["role"] == "therapist"
    assert me["practice"]["name"] == "Sunny Steps Pediatric Therapy"
    assert me["permissions"] == sorted(p for p, roles in PERMISSIONS.items() if "therapist" in roles)
    assert "plans_of_care.edit" in me["permissions"] and "payers.view" not in me["permissions"]


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def test_staff_list_takes_the_same_queries_for_few_and_many_rows(practice, staff):
    client = api_as(staff["owner"])
    few = _queries(client, "/api/v1/staff")
    for i in range(12):
        make_staff(practice, f"t{i}", Role.THERAPIST, discipline="PT")
    assert _queries(client, "/api/v1/staff") == few


def test_a_misspelt_query_parameter_is_refused_not_ignored(owner):
    token = create_api_token(staff_member=owner, name="typo")
    response = Client().get("/api/v1/patients", {"serach": "Ava", "limit": 5}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and "Unknown query parameter" in str(body["fields"])
    assert body["fields"] == {"serach": ["Unknown query parameter; this endpoint takes is_active, limit, offset, q."]}

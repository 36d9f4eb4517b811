"""API of patients, diagnoses, guardians and plans of care."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_coverage, make_guardian, make_patient, make_payer, make_plan_of_care, make_school, make_staff
from pedsdesk.audit.models import AuditEvent
from pedsdesk.people.models import Diagnosis, Guardian, GuardianOf, Patient, PlanOfCare, PlanOfCareService
from pedsdesk.practices.actions import create_api_token

pytestmark = pytest.mark.django_db


def api_as(user) -> Client:
    return Client(headers={"authorization": f"Bearer {create_api_token(staff_member=user, name='tests')}"})


def send(client: Client, method: str, url: str, data: dict):
    return getattr(client, method)(url, data, content_type="application/json")


def assert_invalid(response, field: str, *words: str) -> dict:
    """A 422 whose ``fields`` and ``message`` both name the field and the problem."""
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"], body
    text = " ".join(body["fields"][field])
    for word in words:
        assert word in text, text
        assert word in body["message"], body["message"]
    assert field in body["message"]
    return body


def events(action: str, **kwargs) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **kwargs))


# Patients

NEW_PATIENT = {"first_name": "Noah", "last_name": "Kim", "date_of_birth": "2019-06-02", "grade": "k"}


def test_create_get_replace_and_patch_a_patient(front_desk, patient):
    client = api_as(front_desk)
    school = patient.school
    response = send(client, "post", "/api/v1/patients", {**NEW_PATIENT, "school_id": school.pk})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["grade"] == "K"  # normalised by the model
    assert created["school"] == {"id": school.pk, "name": "Maple Elementary"}
    pk = created["id"]
    assert Patient.objects.get(pk=pk).practice == front_desk.practice
    assert events("create", patient_id=pk)[0].detail["fields"]

    got = client.get(f"/api/v1/patients/{pk}").json()
    assert got == created

    response = send(client, "put", f"/api/v1/patients/{pk}", {**NEW_PATIENT, "preferred_name": "No"})
    assert response.status_code == 200, response.content
    assert response.json()["school"] is None and response.json()["preferred_name"] == "No"

    response = send(client, "patch", f"/api/v1/patients/{pk}", {"grade": "1"})
    assert response.status_code == 200
    assert response.json()["grade"] == "1" and response.json()["preferred_name"] == "No"
    assert events("update", patient_id=pk)[0].detail == {"fields": ["grade"]}


def test_reading_a_patient_writes_an_audit_event(front_desk, patient):
    api_as(front_desk).get(f"/api/v1/patients/{patient.pk}", REMOTE_ADDR="10.0.0.7")
    event = AuditEvent.objects.get(action="view", patient_id=patient.pk)
    assert event.actor_id == front_desk.pk
    assert event.object_type == "people.patient"
    assert event.ip == "10.0.0.7"


def test_listing_patients_is_audited_with_the_ids_shown(front_desk, patient):
    api_as(front_desk).get("/api/v1/patients?q=lopez")
    event = AuditEvent.objects.get(action="list", object_type="people.patient")
    assert event.detail == {"search": "lopez", "patient_ids": [patient.pk]}


def test_patient_search_and_paging(front_desk, patient):
    practice = front_desk.practice
    for i in range(5):
        make_patient(practice, first=f"Kid{i}", last="Zed")
    make_patient(practice, first="Old", last="Zed", is_active=False)
    client = api_as(front_desk)
    page = client.get("/api/v1/patients?q=zed&limit=2&offset=2&is_active=true").json()
    assert page["count"] == 5 and page["limit"] == 2 and page["offset"] == 2
    assert [p["first_name"] for p in page["items"]] == ["Kid2", "Kid3"]
    # Guardians' phone numbers find the child.
    assert [p["id"] for p in client.get("/api/v1/patients?q=5550142").json()["items"]] == [patient.pk]
    assert client.get("/api/v1/patients?q=ava+lopez").json()["count"] == 1


def test_date_of_birth_in_the_future_is_422(front_desk):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = send(api_as(front_desk), "post", "/api/v1/patients", {**NEW_PATIENT, "date_of_birth": tomorrow})
    assert_invalid(response, "date_of_birth", "future")
    assert not Patient.objects.filter(first_name="Noah").exists()


def test_malformed_date_is_422(front_desk):
    response = send(api_as(front_desk), "post", "/api/v1/patients", {**NEW_PATIENT, "date_of_birth": "June 2"})
    assert_invalid(response, "date_of_birth", "date")


def test_bad_grade_and_blank_name_are_reported_together(front_desk, patient):
    response = send(api_as(front_desk), "patch", f"/api/v1/patients/{patient.pk}", {"grade": "13", "last_name": ""})
    body = assert_invalid(response, "grade", "PK, K or 1 to 12")
    assert "last_name" in body["fields"]
    patient.refresh_from_db()
    assert patient.grade == "2" and patient.last_name == "Lopez"


def test_school_of_another_practice_is_422_without_revealing_it(front_desk, outsider):
    other_school = make_school(outsider.practice, "Faraway Elementary")
    response = send(api_as(front_desk), "post", "/api/v1/patients", {**NEW_PATIENT, "school_id": other_school.pk})
    body = assert_invalid(response, "school_id", f"No school with id {other_school.pk} in your practice")
    assert "Faraway" not in str(body)


# Diagnoses


def test_add_list_and_delete_diagnoses(front_desk, patient):
    client = api_as(front_desk)
    response = send(client, "post", f"/api/v1/patients/{patient.pk}/diagnoses", {"code": "f802", "is_primary": True})
    assert response.status_code == 201, response.content
    diagnosis = response.json()
    assert diagnosis["code"] == "F80.2"
    assert diagnosis["description"] == "Mixed receptive-expressive language disorder"
    listing = client.get(f"/api/v1/patients/{patient.pk}/diagnoses").json()
    assert [d["code"] for d in listing["items"]] == ["F80.2"]
    assert events("list", object_type="people.diagnosis", patient_id=patient.pk)

    response = client.delete(f"/api/v1/patients/{patient.pk}/diagnoses/{diagnosis['id']}")
    assert response.status_code == 204
    assert not Diagnosis.objects.filter(pk=diagnosis["id"]).exists()
    assert events("delete", patient_id=patient.pk)[0].detail == {"code": "F80.2"}
    assert client.delete(f"/api/v1/patients/{patient.pk}/diagnoses/{diagnosis['id']}").status_code == 404


def test_bad_icd10_code_is_422(front_desk, patient):
    response = send(api_as(front_desk), "post", f"/api/v1/patients/{patient.pk}/diagnoses", {"code": "U07.1X"})
    assert_invalid(response, "code", "not an ICD-10-CM code")
    assert not patient.diagnoses.exists()


def test_same_diagnosis_twice_is_409_conflict(front_desk, patient):
    client = api_as(front_desk)
    assert send(client, "post", f"/api/v1/patients/{patient.pk}/diagnoses", {"code": "F82"}).status_code == 201
    response = send(client, "post", f"/api/v1/patients/{patient.pk}/diagnoses", {"code": "f82"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict" and "already exists" in body["message"]
    assert patient.diagnoses.count() == 1


def test_duplicate_caught_only_by_the_database_is_409_and_writes_nothing(front_desk, patient, monkeypatch):
    """Two requests racing past validation: the unique constraint decides, the loser gets 409."""
    Diagnosis.objects.create(patient=patient, code="F82")
    monkeypatch.setattr(Diagnosis, "validate_constraints", lambda self, exclude=None: None)
    audit = AuditEvent.objects.count()
    response = send(api_as(front_desk), "post", f"/api/v1/patients/{patient.pk}/diagnoses", {"code": "F82"})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert patient.diagnoses.count() == 1
    assert AuditEvent.objects.count() == audit + 1  # only the token's creation


def test_diagnosis_of_another_patient_cannot_be_deleted_through_this_one(front_desk, patient):
    sibling = make_patient(front_desk.practice, first="Leo")
    diagnosis = Diagnosis.objects.create(patient=sibling, code="F82")
    response = api_as(front_desk).delete(f"/api/v1/patients/{patient.pk}/diagnoses/{diagnosis.pk}")
    assert response.status_code == 404
    assert Diagnosis.objects.filter(pk=diagnosis.pk).exists()


# Guardians

NEW_GUARDIAN = {"first_name": "Luis", "last_name": "Lopez", "phone": "(512) 555-0177", "email": "luis@example.org",
                "language": "es", "relationship": "father", "sms_consent": True}


def test_create_guardian_linked_to_a_patient(front_desk, patient):
    client = api_as(front_desk)
    response = send(client, "post", f"/api/v1/patients/{patient.pk}/guardians", NEW_GUARDIAN)
    assert response.status_code == 201, response.content
    guardian = response.json()
    assert guardian["phone"] == "+15125550177"
    assert guardian["relationship"] == "father" and guardian["legal_authority"] is True
    assert guardian["sms_consent"] is True and guardian["can_text"] is True
    link = GuardianOf.objects.get(guardian_id=guardian["id"])
    assert link.patient == patient
    assert events("create", patient_id=patient.pk, object_type="people.guardian")

    listing = client.get(f"/api/v1/patients/{patient.pk}/guardians").json()
    assert {(g["first_name"], g["relationship"]) for g in listing["items"]} == {("Rosa", "mother"),
                                                                               ("Luis", "father")}


def test_guardian_list_get_and_update(front_desk, patient):
    client = api_as(front_desk)
    rosa = Guardian.objects.get(first_name="Rosa")
    sibling = make_patient(front_desk.practice, first="Leo")
    GuardianOf.objects.create(guardian=rosa, patient=sibling, relationship="mother")

    assert client.get("/api/v1/guardians?q=rosa").json()["count"] == 1
    detail = client.get(f"/api/v1/guardians/{rosa.pk}").json()
    assert {c["patient_name"] for c in detail["children"]} == {"Ava Lopez", "Leo Lopez"}
    assert events("view", object_type="people.guardian")[0].detail == {"patient_ids": sorted([patient.pk,
                                                                                              sibling.pk])}

    response = send(client, "patch", f"/api/v1/guardians/{rosa.pk}",
                    {"preferred_channel": "email", "sms_consent": False})
    assert response.status_code == 200, response.content
    assert response.json()["preferred_channel"] == "email" and response.json()["can_text"] is False
    rosa.refresh_from_db()
    assert rosa.sms_consent_at is None
    assert events("update", object_type="people.guardian")[0].detail == {"fields": ["preferred_channel",
                                                                                   "sms_consent"]}

    response = send(client, "put", f"/api/v1/guardians/{rosa.pk}",
                    {"first_name": "Rosa", "last_name": "Lopez-Diaz", "phone": "+1 512 555 0142"})
    assert response.status_code == 200, response.content
    assert response.json()["last_name"] == "Lopez-Diaz" and response.json()["preferred_channel"] == "sms"


@pytest.mark.parametrize("phone", ["555-01", "not a phone", "(123) 456-7890"])
def test_bad_phone_is_422_and_creates_nothing(front_desk, patient, phone):
    response = send(api_as(front_desk), "post", f"/api/v1/patients/{patient.pk}/guardians",
                    {**NEW_GUARDIAN, "phone": phone})
    assert_invalid(response, "phone", "phone number")
    assert not Guardian.objects.filter(first_name="Luis").exists()
    assert not events("create", object_type="people.guardian")


def test_unknown_relationship_is_422(front_desk, patient):
    response = send(api_as(front_desk), "post", f"/api/v1/patients/{patient.pk}/guardians",
                    {**NEW_GUARDIAN, "relationship": "uncle"})
    assert_invalid(response, "relationship", "father")


def test_email_preferred_without_email_is_422(front_desk, patient):
    rosa = Guardian.objects.get(first_name="Rosa")
    response = send(api_as(front_desk), "patch", f"/api/v1/guardians/{rosa.pk}",
                    {"preferred_channel": "email", "email": ""})
    assert_invalid(response, "email", "email address is needed")


def test_therapist_cannot_edit_guardians(therapist, patient):
    rosa = Guardian.objects.get(first_name="Rosa")
    client = api_as(therapist)
    assert client.get(f"/api/v1/guardians/{rosa.pk}").status_code == 200
    response = send(client, "patch", f"/api/v1/guardians/{rosa.pk}", {"first_name": "R"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


# Plans of care

def new_plan(therapist, **overrides) -> dict:
    return {"discipline": "OT", "therapist_id": therapist.pk, "frequency_per_week": 2, "minutes": 60,
            "start_date": "2027-03-01", "end_date": "2027-08-31",
            "goals": ["Buttons shirt independently", "Copies a triangle"],
            "services": [{"cpt_code": "97530", "units": 2}, {"cpt_code": "97533", "units": 2}], **overrides}


def test_create_get_and_update_a_plan_of_care(therapist, patient):
    client = api_as(therapist)
    response = send(client, "post", f"/api/v1/patients/{patient.pk}/plans-of-care", new_plan(therapist))
    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["therapist"] == {"id": therapist.pk, "name": "Theo Tester"}
    assert plan["goals"] == ["Buttons shirt independently", "Copies a triangle"]
    assert [(s["cpt_code"], s["units"]) for s in plan["services"]] == [("97530", 2), ("97533", 2)]
    assert events("create", object_type="people.planofcare", patient_id=patient.pk)

    assert client.get(f"/api/v1/plans-of-care/{plan['id']}").json() == plan
    assert events("view", object_type="people.planofcare", patient_id=patient.pk)
    listing = client.get(f"/api/v1/patients/{patient.pk}/plans-of-care").json()
    assert listing["count"] == 2 and listing["items"][0]["id"] == plan["id"]  # newest first

    response = send(client, "patch", f"/api/v1/plans-of-care/{plan['id']}", {"minutes": 45})
    assert response.status_code == 200
    assert response.json()["minutes"] == 45 and len(response.json()["services"]) == 2

    response = send(client, "patch", f"/api/v1/plans-of-care/{plan['id']}",
                    {"services": [{"cpt_code": "97110", "modifier": "GO", "units": 3}]})
    assert response.status_code == 200, response.content
    assert [(s["cpt_code"], s["modifier"]) for s in response.json()["services"]] == [("97110", "GO")]
    assert events("update", object_type="people.planofcare")[0].detail == {"fields": ["services"]}

    response = send(client, "put", f"/api/v1/plans-of-care/{plan['id']}", new_plan(therapist, frequency_per_week=1))
    assert response.status_code == 200, response.content
    assert response.json()["frequency_per_week"] == 1 and len(response.json()["services"]) == 2


def test_plan_ending_before_it_starts_is_422(therapist, patient):
    response = send(api_as(therapist), "post", f"/api/v1/patients/{patient.pk}/plans-of-care",
                    new_plan(therapist, end_date="2027-02-01"))
    assert_invalid(response, "end_date", "cannot end before it starts")


def test_cpt_code_of_another_discipline_is_422(therapist, patient):
    services = [{"cpt_code": "97530", "units": 2}, {"cpt_code": "92507", "units": 1}]
    response = send(api_as(therapist), "post", f"/api/v1/patients/{patient.pk}/plans-of-care",
                    new_plan(therapist, services=services))
    assert_invalid(response, "services.1.cpt_code", "92507", "not OT")


def test_plan_with_one_bad_service_line_creates_nothing(therapist, patient):
    plans, lines, audit = PlanOfCare.objects.count(), PlanOfCareService.objects.count(), AuditEvent.objects.count()
    services = [{"cpt_code": "97530", "units": 2}, {"cpt_code": "97533", "units": 40}]
    response = send(api_as(therapist), "post", f"/api/v1/patients/{patient.pk}/plans-of-care",
                    new_plan(therapist, services=services))
    assert_invalid(response, "services.1.units", "1 to 12")
    assert (PlanOfCare.objects.count(), PlanOfCareService.objects.count()) == (plans, lines)
    assert AuditEvent.objects.count() == audit + 1  # only the token's creation


def test_update_with_a_bad_service_line_keeps_the_old_lines(therapist, patient):
    plan = patient.plans_of_care.get()
    response = send(api_as(therapist), "patch", f"/api/v1/plans-of-care/{plan.pk}",
                    {"minutes": 30, "services": [{"cpt_code": "97110"}, {"cpt_code": "97110"}]})
    assert_invalid(response, "services.1.cpt_code", "listed twice")
    plan.refresh_from_db()
    assert plan.minutes == 45
    assert [s.cpt_code for s in plan.services.all()] == ["97530"]


def test_changing_discipline_rechecks_the_existing_codes(staff, patient):
    slp = make_staff(staff["owner"].practice, "sally", "therapist", discipline="SLP")
    plan = patient.plans_of_care.get()
    response = send(api_as(staff["owner"]), "patch", f"/api/v1/plans-of-care/{plan.pk}",
                    {"discipline": "SLP", "therapist_id": slp.pk})
    assert_invalid(response, "services.0.cpt_code", "not SLP")
    response = send(api_as(staff["owner"]), "patch", f"/api/v1/plans-of-care/{plan.pk}",
                    {"discipline": "SLP", "therapist_id": slp.pk, "services": [{"cpt_code": "92507"}]})
    assert response.status_code == 200, response.content
    assert response.json()["therapist"]["id"] == slp.pk
    assert AuditEvent.objects.filter(action="update").first().detail == {
        "fields": ["discipline", "services", "therapist_id"]}


def test_therapist_of_another_discipline_is_422(therapist, patient):
    response = send(api_as(therapist), "post", f"/api/v1/patients/{patient.pk}/plans-of-care",
                    new_plan(therapist, discipline="PT", services=[{"cpt_code": "97110"}]))
    assert_invalid(response, "therapist_id", "not PT")


def test_plan_needs_a_service_line(therapist, patient):
    response = send(api_as(therapist), "post", f"/api/v1/patients/{patient.pk}/plans-of-care",
                    new_plan(therapist, services=[]))
    assert_invalid(response, "services", "at least 1")
    plan = patient.plans_of_care.get()
    response = send(api_as(therapist), "patch", f"/api/v1/plans-of-care/{plan.pk}", {"services": []})
    assert_invalid(response, "services", "at least one service line")


def test_billing_cannot_create_or_edit_a_plan_of_care(billing, therapist, patient):
    client = api_as(billing)
    plan = patient.plans_of_care.get()
    assert client.get(f"/api/v1/plans-of-care/{plan.pk}").status_code == 200
    response = send(client, "patch", f"/api/v1/plans-of-care/{plan.pk}", {"minutes": 30})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    response = send(client, "post", f"/api/v1/patients/{patient.pk}/plans-of-care", new_plan(therapist))
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.minutes == 45 and PlanOfCare.objects.count() == 1


# Query counts


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def test_list_endpoints_take_the_same_queries_for_few_and_many_rows(front_desk, therapist, patient):
    practice = front_desk.practice
    client = api_as(front_desk)
    urls = ["/api/v1/patients", "/api/v1/patients?q=lopez", "/api/v1/guardians",
            f"/api/v1/patients/{patient.pk}/guardians", f"/api/v1/patients/{patient.pk}/plans-of-care",
            f"/api/v1/patients/{patient.pk}/diagnoses"]
    few = [_queries(client, url) for url in urls]
    payer = make_payer(practice, "Blue Plan")
    school = make_school(practice, "Oak Middle")
    for i in range(12):
        child = make_patient(practice, first=f"Kid{i}", last="Lopez", school=school)
        make_guardian(child, first=f"Parent{i}")
        make_coverage(child, payer)
        make_plan_of_care(child, therapist)
        make_plan_of_care(patient, therapist, start_date=dt.date(2025, 1, 1) + dt.timedelta(days=i))
        Diagnosis.objects.create(patient=patient, code=f"F8{i % 10}.{i}")
        GuardianOf.objects.create(guardian=Guardian.objects.get(first_name=f"Parent{i}"), patient=patient,
                                  relationship="other")
    assert [_queries(client, url) for url in urls] == few

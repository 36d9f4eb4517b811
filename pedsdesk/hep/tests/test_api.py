"""Programs, versions, deliveries and feedback in the API, with the pages' checks."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pedsdesk.hep.models import Activity, Feedback, HomeProgram
from pedsdesk.hep.tests.conftest import starter
from pedsdesk.messaging.models import Message
from pedsdesk.practices.actions import create_api_token

pytestmark = pytest.mark.django_db


def api_as(user) -> Client:
    return Client(headers={"authorization": f"Bearer {create_api_token(staff_member=user, name='tests')}"})


def test_the_spec_lists_the_home_program_endpoints(therapist):
    paths = api_as(therapist).get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/patients/{patient_id}/home-program", "/api/v1/patients/{patient_id}/home-program/versions",
                 "/api/v1/home-programs/deliveries", "/api/v1/home-programs/feedback"):
        assert path in paths


def test_a_version_is_saved_and_sent_through_the_api(therapist, patient, any_hour):
    rosa = patient.guardians.get()
    body = {"items": [{"activity_id": starter("pt-bridges").pk, "repetitions": 10, "days_per_week": 4}],
            "note": "Before dinner", "send_to": [rosa.pk]}
    response = api_as(therapist).post(f"/api/v1/patients/{patient.pk}/home-program/versions", body,
                                      content_type="application/json")
    assert response.status_code == 201, response.json()
    version = response.json()
    assert version["number"] == 1 and version["items"][0]["title"] == "Bridges"
    assert Message.objects.filter(kind="hep_program", guardian=rosa).exists()
    program = api_as(therapist).get(f"/api/v1/patients/{patient.pk}/home-program").json()
    assert program["current_version"]["id"] == version["id"] and program["version_numbers"] == [1]
    deliveries = api_as(therapist).get(f"/api/v1/home-programs/deliveries?patient_id={patient.pk}").json()
    assert deliveries["count"] == 1 and deliveries["items"][0]["state"] == "queued"


@pytest.mark.parametrize(("items", "field"), [
    ([], "items"),
    ([{"activity_id": 1, "days_per_week": 9}], "items"),
])
def test_bad_input_is_422_and_nothing_is_saved(therapist, patient, items, field):
    response = api_as(therapist).post(f"/api/v1/patients/{patient.pk}/home-program/versions", {"items": items},
                                      content_type="application/json")
    assert response.status_code == 422 and response.json()["code"] == "invalid"
    assert not HomeProgram.objects.exists()


def test_another_practices_activity_is_refused_with_what_to_fix(therapist, patient, other_practice):
    theirs = Activity.objects.create(practice=other_practice, discipline="OT", title_en="X", title_es="X",
                                     steps_en="a", steps_es="a")
    response = api_as(therapist).post(f"/api/v1/patients/{patient.pk}/home-program/versions",
                                      {"items": [{"activity_id": theirs.pk}]}, content_type="application/json")
    assert response.status_code == 422 and "no longer in the library" in response.json()["message"]


def test_an_outsider_gets_404(outsider, patient):
    assert api_as(outsider).get(f"/api/v1/patients/{patient.pk}/home-program").status_code == 404


def test_billing_may_not_read_programs(billing, patient):
    assert api_as(billing).get(f"/api/v1/patients/{patient.pk}/home-program").status_code == 403


def test_feedback_list_takes_a_fixed_number_of_queries(send_program, therapist, patient, any_hour):
    version, (delivery,) = send_program()
    for n in range(5):
        feedback = Feedback.objects.create(practice=patient.practice, version=version, guardian=delivery.guardian,
                                           patient=patient, form_id=f"q{n}", days_practised=1, days_prescribed=2,
                                           window_start=version.created_at)
        for item in version.items.all():
            feedback.items.create(item=item, rating="easy")
    client = api_as(therapist)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/api/v1/home-programs/feedback").json()
    assert page["count"] == 5 and len(page["items"][0]["items"]) == 2
    assert len(queries) <= 12

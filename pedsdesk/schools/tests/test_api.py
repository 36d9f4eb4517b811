"""API of schools and their calendars."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import make_school
from pedsdesk.practices.actions import create_api_token
from pedsdesk.schools.models import SchoolDay

pytestmark = pytest.mark.django_db


def api_as(user) -> Client:
    return Client(headers={"authorization": f"Bearer {create_api_token(staff_member=user, name='tests')}"})


def test_list_search_and_get_a_school_with_its_calendar(therapist, practice):
    school = make_school(practice, district="Austin ISD", early_release_time=dt.time(12, 30))
    make_school(practice, "Cedar Preschool", is_preschool=True)
    SchoolDay.objects.create(school=school, date=dt.date(2026, 11, 26), kind="no_school", note="Thanksgiving")
    SchoolDay.objects.create(school=school, date=dt.date(2026, 12, 18), kind="early_release")
    client = api_as(therapist)

    listing = client.get("/api/v1/schools").json()
    assert [s["name"] for s in listing["items"]] == ["Cedar Preschool", "Maple Elementary"]
    assert client.get("/api/v1/schools?q=austin").json()["count"] == 1

    detail = client.get(f"/api/v1/schools/{school.pk}").json()
    assert detail["dismissal_time"] == "15:05:00" and detail["early_release_time"] == "12:30:00"
    assert detail["calendar"] == [
        {"date": "2026-11-26", "kind": "no_school", "note": "Thanksgiving"},
        {"date": "2026-12-18", "kind": "early_release", "note": ""},
    ]
    december = client.get(f"/api/v1/schools/{school.pk}?calendar_from=2026-12-01&calendar_to=2026-12-31").json()
    assert [d["date"] for d in december["calendar"]] == ["2026-12-18"]


def test_another_practices_school_is_404(outsider, practice):
    school = make_school(practice)
    response = api_as(outsider).get(f"/api/v1/schools/{school.pk}")
    assert response.status_code == 404
    assert "Maple" not in response.content.decode()


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def test_school_list_and_calendar_take_the_same_queries_for_few_and_many_rows(front_desk, practice):
    client = api_as(front_desk)
    school = make_school(practice)
    urls = ["/api/v1/schools", f"/api/v1/schools/{school.pk}"]
    few = [_queries(client, url) for url in urls]
    for i in range(12):
        make_school(practice, f"School {i}")
        SchoolDay.objects.create(school=school, date=dt.date(2026, 10, 1) + dt.timedelta(days=i), kind="no_school")
    assert [_queries(client, url) for url in urls] == few


def test_a_contact_is_read_and_replaced_through_the_api_audited_and_kept_to_its_practice(front_desk, therapist,
                                                                                        practice, outsider):
    from pedsdesk.audit.models import AuditEvent
    from pedsdesk.schools.models import SchoolContact

    school = make_school(practice)
    client = api_as(front_desk)
    body = {"school_id": school.pk, "name": "Dana Whitfield", "role": "case_manager",
            "email": "dana@maple.k12.example"}
    created = client.post("/api/v1/school-contacts", body, content_type="application/json")
    assert created.status_code == 201, created.content
    contact_id = created.json()["id"]
    assert api_as(therapist).get(f"/api/v1/school-contacts/{contact_id}").json()["email"] == body["email"]
    # She moved on: the new case manager's address, and she is no longer active.
    replaced = client.put(f"/api/v1/school-contacts/{contact_id}", {**body, "email": "dana.w@maple.k12.example",
                                                                      "is_active": False},
                          content_type="application/json")
    assert replaced.status_code == 200 and replaced.json()["is_active"] is False
    assert SchoolContact.objects.get(pk=contact_id).email == "dana.w@maple.k12.example"
    assert AuditEvent.objects.filter(action="update", object_id=str(contact_id)).exists()
    refused = client.put(f"/api/v1/school-contacts/{contact_id}", {**body, "email": "not an address"},
                         content_type="application/json")
    assert refused.status_code == 422 and "email" in refused.json()["fields"]
    assert SchoolContact.objects.get(pk=contact_id).email == "dana.w@maple.k12.example"
    assert api_as(therapist).put(f"/api/v1/school-contacts/{contact_id}", body,
                                 content_type="application/json").status_code == 403
    assert api_as(outsider).get(f"/api/v1/school-contacts/{contact_id}").status_code == 404

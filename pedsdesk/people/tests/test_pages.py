"""Staff pages for patients, guardians and plans of care, as the front desk and a
therapist use them, including the mistakes people make when typing."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import make_guardian, make_patient, signed_in
from pedsdesk.people.models import Guardian, PlanOfCare, PlanOfCareService

pytestmark = pytest.mark.django_db


def _guardian_data(**overrides):
    data = {"first_name": "Rosa", "last_name": "Lopez", "phone": "(512) 555-0142", "email": "rosa@example.org",
            "language": "en", "preferred_channel": "sms", "sms_consent": "on",
            "link-relationship": "mother", "link-legal_authority": "on"}
    return {**data, **overrides}


def test_search_finds_a_child_by_name_or_guardian_phone(front_desk, patient):
    client = signed_in(front_desk)
    assert b"Ava Lopez" in client.get(reverse("patient_list"), {"q": "lop"}).content
    assert b"Ava Lopez" in client.get(reverse("patient_list"), {"q": "555014"}).content
    assert b"Ava Lopez" not in client.get(reverse("patient_list"), {"q": "Nguyen"}).content


def test_patient_list_queries_do_not_grow_with_patients(front_desk, patient, django_assert_num_queries):
    client = signed_in(front_desk)
    client.get(reverse("patient_list"))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("patient_list"))
    for i in range(30):
        make_patient(front_desk.practice, f"Kid{i}", f"Family{i}", school=patient.school)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("patient_list"))
    assert response.content.count(b"Family") >= 30
    assert len(many) == len(few)


def test_chart_queries_are_fixed(front_desk, patient, therapist):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(front_desk)
    client.get(reverse("patient_detail", args=[patient.pk]))
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("patient_detail", args=[patient.pk]))
    for name in ("Luis", "Marta", "Ana"):
        make_guardian(patient, first=name)
    with CaptureQueriesContext(connection) as after:
        client.get(reverse("patient_detail", args=[patient.pk]))
    assert len(after) == len(before)


def test_new_guardian_phone_is_normalised(front_desk, patient):
    response = signed_in(front_desk).post(reverse("guardian_create", args=[patient.pk]),
                                          _guardian_data(first_name="Mateo", phone="512.555.0199"))
    assert response.status_code == 302
    assert Guardian.objects.get(first_name="Mateo").phone == "+15125550199"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"phone": "555-01"}, b"not a valid phone number"),
        ({"phone": "call me"}, b"is not a phone number"),
        ({"phone": "", "preferred_channel": "sms"}, b"a mobile number is needed"),
        ({"email": "", "preferred_channel": "email"}, b"an email address is needed"),
        ({"language": "fr"}, b"Select a valid choice"),
    ],
)
def test_bad_guardian_input_says_what_to_fix_and_writes_nothing(front_desk, patient, overrides, message):
    before = Guardian.objects.count()
    response = signed_in(front_desk).post(reverse("guardian_create", args=[patient.pk]), _guardian_data(**overrides))
    assert response.status_code == 200 and message in response.content
    assert Guardian.objects.count() == before


def test_editing_a_guardian_with_a_bad_phone_keeps_the_old_number(front_desk, patient):
    guardian = patient.guardians.get()
    data = _guardian_data(phone="12345")
    response = signed_in(front_desk).post(reverse("guardian_edit", args=[guardian.pk]), data)
    assert b"not a valid phone number" in response.content
    guardian.refresh_from_db()
    assert guardian.phone == "+15125550142"


def test_date_of_birth_in_the_future_is_refused(front_desk, practice):
    tomorrow = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = signed_in(front_desk).post(reverse("patient_create"), {
        "first_name": "Noah", "last_name": "Kim", "date_of_birth": tomorrow, "is_active": "on"})
    assert b"Date of birth cannot be in the future" in response.content


def test_grade_must_be_a_school_grade(front_desk, practice):
    response = signed_in(front_desk).post(reverse("patient_create"), {
        "first_name": "Noah", "last_name": "Kim", "date_of_birth": "2017-03-01", "grade": "14", "is_active": "on"})
    assert b"Grade must be PK, K or 1 to 12" in response.content


def _plan_data(therapist, **overrides):
    data = {
        "discipline": "OT", "therapist": therapist.pk, "frequency_per_week": "2", "minutes": "45",
        "start_date": "2026-12-01", "end_date": "2027-05-31", "goals": "Buttons shirt\nCuts on a line",
        "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-cpt_code": "97530", "lines-0-units": "2", "lines-0-modifier": "GO",
        "lines-1-cpt_code": "97533", "lines-1-units": "1", "lines-1-modifier": "GO",
    }
    return {**data, **overrides}


def test_therapist_writes_a_plan_of_care_with_codes(therapist, patient):
    response = signed_in(therapist).post(reverse("plan_of_care_create", args=[patient.pk]), _plan_data(therapist))
    assert response.status_code == 302
    plan = PlanOfCare.objects.get(start_date="2026-12-01")
    assert sorted(s.cpt_code for s in plan.services.all()) == ["97530", "97533"]
    assert plan.goal_list == ["Buttons shirt", "Cuts on a line"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_date": "2026-11-01"}, b"cannot end before it starts"),
        ({"lines-1-cpt_code": "92507"}, b"is billed by SLP, not OT"),
        ({"lines-1-cpt_code": "12345"}, b"is not one pedsdesk knows"),
        ({"frequency_per_week": "9"}, b"Frequency is 1 to 7 visits a week"),
        ({"discipline": "PT"}, b"is OT, not PT"),
    ],
)
def test_bad_plan_of_care_is_refused_whole(therapist, patient, overrides, message):
    plans, services = PlanOfCare.objects.count(), PlanOfCareService.objects.count()
    response = signed_in(therapist).post(reverse("plan_of_care_create", args=[patient.pk]),
                                         _plan_data(therapist, **overrides))
    assert response.status_code == 200 and message in response.content
    assert (PlanOfCare.objects.count(), PlanOfCareService.objects.count()) == (plans, services)


def test_diagnosis_code_is_normalised_and_checked(front_desk, patient):
    client = signed_in(front_desk)
    assert client.post(reverse("diagnosis_create", args=[patient.pk]), {"code": "f802"}).status_code == 302
    diagnosis = patient.diagnoses.get()
    assert diagnosis.code == "F80.2" and "receptive-expressive" in diagnosis.description
    bad = client.post(reverse("diagnosis_create", args=[patient.pk]), {"code": "speech delay"})
    assert b"is not an ICD-10-CM code" in bad.content


def test_a_failing_channel_shows_on_the_guardian_and_can_be_cleared(front_desk, patient):
    from pedsdesk.messaging.models import ChannelFailure

    guardian = patient.guardians.get()
    ChannelFailure.objects.create(practice=guardian.practice, guardian=guardian, channel="sms",
                                  address=guardian.phone, reason="Twilio 21614: not a mobile number")
    client = signed_in(front_desk)
    page = client.get(reverse("guardian_detail", args=[guardian.pk]))
    assert b"Messages are not reaching this guardian" in page.content and b"21614" in page.content
    client.post(reverse("channel_failure_clear", args=[guardian.pk]), {"channel": "sms"})
    assert b"Messages are not reaching" not in client.get(reverse("guardian_detail", args=[guardian.pk])).content


def test_today_says_how_many_children_lack_a_plan_when_it_lists_only_some(office_manager, patient):
    for i in range(12):
        make_patient(office_manager.practice, f"Kid{i}", f"Family{i:02}")
    page = signed_in(office_manager).get(reverse("dashboard")).content.decode()
    section = page.split("<h2>Without a current plan of care</h2>", 1)[1].split("</section>", 1)[0]
    assert section.count("<li>") == 10
    assert "The first 10 of 12, by last name." in section

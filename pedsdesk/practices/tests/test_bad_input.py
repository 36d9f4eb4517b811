"""Bad input an outside test sent (issue 13, items 6 and 7): every one gets a 4xx that says
what to fix, nothing is stored, on SQLite and PostgreSQL alike."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse

from conftest import make_payer, make_school, next_weekday, signed_in
from pedsdesk.authorizations.models import Payer
from pedsdesk.fields import DATE_WINDOW, TEXT_LIMITS, FieldRules
from pedsdesk.people.models import Diagnosis, Guardian, Patient, PlanOfCare
from pedsdesk.practices.actions import create_api_token
from pedsdesk.scheduling.models import Appointment
from pedsdesk.schools.models import School

pytestmark = pytest.mark.django_db

HUGE = 2**63
PATIENT = {"first_name": "Mia", "last_name": "Chen", "date_of_birth": "2019-03-02"}


def api_as(user) -> Client:
    return Client(headers={"authorization": f"Bearer {create_api_token(staff_member=user, name='tests')}"})


def post_raw(client: Client, url: str, text: str, method: str = "post"):
    return getattr(client, method)(url, text.encode(), content_type="application/json")


def assert_error(response, status: int = 422, code: str = "invalid", *words: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"], body
    for word in words:
        assert word in body["message"], body
    return body


# Item 6: server errors on bad input


def test_a_duplicate_payer_name_on_the_staff_form_is_a_message(billing, practice):
    make_payer(practice, "Lone Star Medicaid")
    response = signed_in(billing).post(reverse("payer_create"), {
        "name": "Lone Star Medicaid", "payer_type": "medicaid_mco", "unit_type": "visits",
        "rounding_rule": "cms_8_minute", "booking_rule": "warn", "renewal_earliest_days": 30,
        "renewal_recommended_days": 21, "decision_turnaround_days": 7, "expedited_turnaround_hours": 72})
    assert response.status_code == 200
    assert "already exists for this practice" in response.content.decode()
    assert Payer.objects.filter(name="Lone Star Medicaid").count() == 1


def test_a_duplicate_school_name_on_the_staff_form_is_a_message(office_manager, practice):
    make_school(practice, "Maple Elementary")
    response = signed_in(office_manager).post(reverse("school_create"), {
        "name": "Maple Elementary", "start_time": "07:45", "dismissal_time": "15:05"})
    assert response.status_code == 200
    assert "already exists for this practice" in response.content.decode()
    assert School.objects.filter(name="Maple Elementary").count() == 1


def test_a_diagnosis_the_child_already_has_is_a_message(front_desk, patient):
    Diagnosis.objects.create(patient=patient, code="F82", description="Developmental coordination disorder")
    response = signed_in(front_desk).post(reverse("diagnosis_create", args=[patient.pk]), {"code": "F82"})
    assert response.status_code in (200, 400)
    assert "already exists for this patient" in response.content.decode()
    assert patient.diagnoses.count() == 1


def test_a_lone_surrogate_in_any_json_string_is_refused(front_desk, practice):
    client = api_as(front_desk)
    body = assert_error(post_raw(client, "/api/v1/patients", '{"first_name": "Mi\\ud800a", "last_name": "Chen", '
                                 '"date_of_birth": "2019-03-02"}'))
    assert "first_name" in body["fields"] and "surrogate" in body["message"]
    # Nested strings and keys too, on any endpoint that reads a body.
    payer = make_payer(practice)
    assert_error(post_raw(api_as(practice.staff.get(role="billing")), f"/api/v1/payers/{payer.pk}",
                          '{"renewal_documents": ["plan_of_care\\udfff"]}', "patch"))
    assert not Patient.objects.exists()


def test_nul_bytes_through_the_api_and_in_a_search_are_refused(front_desk, practice):
    client = api_as(front_desk)
    body = assert_error(client.post("/api/v1/patients", {**PATIENT, "first_name": "Mi\x00a"},
                                    content_type="application/json"))
    assert body["fields"] == {"first_name": [body["fields"]["first_name"][0]]}
    assert "NUL" in body["message"]
    assert not Patient.objects.exists()
    assert_error(client.get("/api/v1/patients?q=%00"), 422, "invalid", "NUL")
    assert_error(client.get("/api/v1/patients?q=ab%00cd"), 422, "invalid", "q")


def test_nul_in_a_staff_page_search_is_a_bad_request(front_desk, practice):
    response = signed_in(front_desk).get(reverse("patient_list"), {"q": "\x00"})
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/patients", "/api/v1/payers", "/api/v1/tasks", "/api/v1/authorizations",
                                 "/api/v1/renewals"])
def test_an_offset_past_any_database_integer_is_refused(owner, url):
    body = assert_error(api_as(owner).get(f"{url}?offset={HUGE}"))
    assert "offset" in body["fields"]


@pytest.mark.parametrize("url", [f"/api/v1/authorizations?payer_id={HUGE}", f"/api/v1/tasks?assignee_id={HUGE}",
                                 f"/api/v1/tasks?patient_id={HUGE * 1000}",
                                 f"/api/v1/authorizations?therapist_id={HUGE}"])
def test_huge_ids_in_filters_are_refused(owner, url):
    assert_error(api_as(owner).get(url))


def test_huge_ids_in_paths_and_bodies_are_not_server_errors(owner, patient):
    client = api_as(owner)
    response = client.get(f"/api/v1/patients/{HUGE}")
    assert response.status_code in (404, 422), response.content
    assert response.json()["code"] in ("not_found", "invalid")
    body = assert_error(client.post(f"/api/v1/patients/{patient.pk}/coverages",
                                    {"payer_id": HUGE, "member_id": "M1", "start_date": "2026-01-01"},
                                    content_type="application/json"))
    assert "payer_id" in body["fields"]


def test_patching_a_payer_with_null_says_a_value_is_needed(billing, practice):
    payer = make_payer(practice, renewal_recommended_days=21)
    body = assert_error(api_as(billing).patch(f"/api/v1/payers/{payer.pk}", {"renewal_recommended_days": None},
                                              content_type="application/json"))
    assert "cannot be null" in body["fields"]["renewal_recommended_days"][0]
    payer.refresh_from_db()
    assert payer.renewal_recommended_days == 21


def test_a_booking_on_the_last_day_of_year_9999_is_refused(front_desk, working_week, patient):
    response = signed_in(front_desk).post(reverse("schedule_book"), {
        "therapist": working_week.pk, "patient": patient.pk, "kind": "treatment",
        "date": "9999-12-31", "time": "23:30", "minutes": 45})
    assert response.status_code == 400
    assert DATE_WINDOW in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_move_to_year_9999_is_refused(front_desk, working_week, patient):
    from pedsdesk.scheduling import actions
    from pedsdesk.scheduling.timeslots import local_to_utc

    day = next_weekday(1)
    visit = actions.book_appointment(
        actor=front_desk, practice=patient.practice, therapist=working_week, patient=patient,
        start_at=local_to_utc(day, dt.time(10), patient.practice.zone), minutes=45, kind="treatment",
        plan_of_care=patient.plans_of_care.first(), override_reason="test")
    response = signed_in(front_desk).post(reverse("appointment_move", args=[visit.pk]),
                                          {"date": "9999-12-31", "time": "23:30"})
    assert response.status_code == 400
    visit.refresh_from_db()
    assert visit.start_at.date() <= day


# Item 7: one set of field rules, forms and API alike


def test_every_model_applies_the_field_rules():
    from django.apps import apps

    missing = [m.__name__ for m in apps.get_models()
               if m.__module__.startswith("pedsdesk.") and not issubclass(m, FieldRules)]
    assert missing == []


@pytest.mark.parametrize("name, word", [("   ", "only spaces"), ("Mi\x07a", "U+0007"), ("Mi\x1ba", "U+001B")])
def test_names_of_only_spaces_or_with_control_characters_are_refused_by_api_and_form(front_desk, practice, name,
                                                                                      word):
    body = assert_error(api_as(front_desk).post("/api/v1/patients", {**PATIENT, "last_name": name},
                                                content_type="application/json"))
    assert word in " ".join(body["fields"]["last_name"])
    response = signed_in(front_desk).post(reverse("patient_create"), {**PATIENT, "last_name": name,
                                                                      "is_active": "on"})
    assert response.status_code == 200
    if name.strip():  # a form strips spaces, so "   " is simply missing there
        assert word in response.content.decode()
    assert not Patient.objects.exists()


@pytest.mark.parametrize("phone", ["512\x07555\x1b0142", "(512) 555-0142\x07"])
def test_control_characters_in_a_phone_are_refused(front_desk, patient, phone):
    guardian = patient.guardians.get()
    body = assert_error(api_as(front_desk).patch(f"/api/v1/guardians/{guardian.pk}", {"phone": phone},
                                                 content_type="application/json"))
    assert "control character" in " ".join(body["fields"]["phone"])
    response = signed_in(front_desk).post(reverse("guardian_edit", args=[guardian.pk]), {
        "first_name": "Rosa", "last_name": "Lopez", "phone": phone, "email": "rosa@example.org",
        "language": "en", "preferred_channel": "sms"})
    assert "control character" in response.content.decode()
    assert Guardian.objects.get().phone == "+15125550142"


@pytest.mark.parametrize("start, end", [("0001-01-01", "2027-01-01"), ("2026-09-01", "9999-12-31")])
def test_dates_outside_the_window_are_refused_and_the_message_names_it(therapist, patient, start, end):
    plan = {"discipline": "OT", "therapist_id": therapist.pk, "frequency_per_week": 2, "minutes": 45,
            "start_date": start, "end_date": end, "goals": ["Zips coat"], "services": [{"cpt_code": "97530"}]}
    body = assert_error(api_as(therapist).post(f"/api/v1/patients/{patient.pk}/plans-of-care", plan,
                                               content_type="application/json"))
    assert DATE_WINDOW in body["message"]
    response = signed_in(therapist).post(reverse("plan_of_care_create", args=[patient.pk]), {
        "discipline": "OT", "therapist": therapist.pk, "frequency_per_week": 2, "minutes": 45,
        "start_date": start, "end_date": end, "goals": "Zips coat",
        "lines-TOTAL_FORMS": 1, "lines-INITIAL_FORMS": 0, "lines-MIN_NUM_FORMS": 1,
        "lines-MAX_NUM_FORMS": 1000, "lines-0-cpt_code": "97530", "lines-0-units": 1})
    assert DATE_WINDOW in response.content.decode()
    assert PlanOfCare.objects.count() == 1  # the fixture's own


def test_a_megabyte_of_goals_or_notes_is_refused_with_the_limit(therapist, billing, patient):
    megabyte = "x" * 1_000_000
    response = signed_in(therapist).post(reverse("plan_of_care_create", args=[patient.pk]), {
        "discipline": "OT", "therapist": therapist.pk, "frequency_per_week": 2, "minutes": 45,
        "start_date": "2026-09-01", "end_date": "2027-01-01", "goals": megabyte,
        "lines-TOTAL_FORMS": 1, "lines-INITIAL_FORMS": 0, "lines-MIN_NUM_FORMS": 1,
        "lines-MAX_NUM_FORMS": 1000, "lines-0-cpt_code": "97530", "lines-0-units": 1})
    assert f"{TEXT_LIMITS['goals']:,} characters" in response.content.decode()
    plan = {"discipline": "OT", "therapist_id": therapist.pk, "frequency_per_week": 2, "minutes": 45,
            "start_date": "2026-09-01", "end_date": "2027-01-01", "goals": [megabyte],
            "services": [{"cpt_code": "97530"}]}
    assert_error(api_as(therapist).post(f"/api/v1/patients/{patient.pk}/plans-of-care", plan,
                                        content_type="application/json"), 422, "invalid", "goals")
    authorization = patient.coverages.get().authorizations.get()
    body = assert_error(api_as(billing).patch(f"/api/v1/authorizations/{authorization.pk}", {"notes": megabyte},
                                              content_type="application/json"))
    assert "4000" in json.dumps(body) or "4,000" in json.dumps(body)
    assert PlanOfCare.objects.count() == 1
    authorization.refresh_from_db()
    assert authorization.notes == ""


# Item 8: the API answers in JSON everywhere


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "get"])
def test_any_method_to_an_unknown_api_path_answers_json(owner, method):
    client = Client(enforce_csrf_checks=True, headers={
        "authorization": f"Bearer {create_api_token(staff_member=owner, name='tests')}"})
    if method == "get":
        response = client.get("/api/v1/no-such-thing")
    else:
        response = getattr(client, method)("/api/v1/no-such-thing", "{}", content_type="application/json")
    body = assert_error(response, 404, "not_found")
    assert "/api/v1/docs" in body["message"]


def test_school_times_match_their_declared_openapi_format(owner, practice):
    import jsonschema

    school = make_school(practice, "Maple Elementary")
    spec = Client().get("/api/v1/openapi.json").json()
    declared = spec["components"]["schemas"]["SchoolOut"]["properties"]
    body = api_as(owner).get(f"/api/v1/schools/{school.pk}").json()
    assert body["start_time"] == "07:45:00" and body["dismissal_time"] == "15:05:00"
    for name in ("start_time", "dismissal_time"):
        assert declared[name].get("format") != "time"  # RFC 3339 time needs an offset a bell time lacks
        jsonschema.validate(body[name], declared[name], format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("value", ["0.0", "0", "1700000000", "2026-13-01", "2026-09-01T10:00"])
def test_a_query_date_must_be_a_calendar_date(billing, patient, value):
    coverage = patient.coverages.get()
    body = assert_error(api_as(billing).get(f"/api/v1/coverages/{coverage.pk}/benefit-usage?date={value}"))
    assert "date" in body["fields"]
    assert api_as(billing).get(f"/api/v1/coverages/{coverage.pk}/benefit-usage?date=2026-10-01").status_code == 200


# Issue 12, item 12: validation that was missing


SETTINGS = {"policy-school_travel_minutes": 30, "policy-daytime_start": "08:00", "policy-daytime_end": "18:00",
            "policy-evening_end": "19:00", "policy-treatment_week_days": 6, "policy-late_cancel_hours": 24,
            "policy-minimum_notice_hours": "2", "policy-series_weeks_ahead": 6, "policy-offer_makeups": "on",
            "policy-offer_policy": "sequential", "policy-offer_batch_size": 3, "policy-offer_expiry_minutes": 20,
            "reminders-reminder_hours": "24, 72", "reminders-unconfirmed_task_hours": 24,
            "reminders-misses_in_a_row": 3, "reminders-attendance_floor_percent": 80,
            "reminders-attendance_window_days": 60, "reminders-attendance_minimum_visits": 5}


def test_an_offer_expiry_of_zero_minutes_is_refused(office_manager, practice):
    from pedsdesk.scheduling.models import SchedulingPolicy

    response = signed_in(office_manager).post(reverse("scheduling_settings"),
                                              {**SETTINGS, "policy-offer_expiry_minutes": 0})
    assert response.status_code == 400
    assert "5 to 1,440 minutes" in response.content.decode()
    assert SchedulingPolicy.for_practice(practice).offer_expiry_minutes == 30


@pytest.mark.parametrize("phone", ["call the office", "---", "ext"])
def test_a_school_phone_with_no_digits_is_refused(office_manager, phone):
    response = signed_in(office_manager).post(reverse("school_create"), {
        "name": "Oak Hill Elementary", "start_time": "07:45", "dismissal_time": "15:05", "phone": phone})
    assert response.status_code == 200
    assert "A phone number needs its digits" in response.content.decode()
    assert not School.objects.filter(name="Oak Hill Elementary").exists()


def test_an_authorization_with_several_bad_codes_reports_every_one(billing, patient):
    coverage = patient.coverages.get()
    body = assert_error(api_as(billing).post("/api/v1/authorizations", {
        "coverage_id": coverage.pk, "discipline": "OT", "number": "PA-2", "start_date": "2026-09-01",
        "end_date": "2027-02-28", "lines": [{"cpt_codes": ["97530", "99999", "92507", "12345"], "quantity": 12}]},
        content_type="application/json"))
    messages = " ".join(body["fields"]["lines.0.cpt_codes"])
    for code in ("99999", "92507", "12345"):
        assert code in messages, messages
    authorization = patient.coverages.get().authorizations.get()
    response = signed_in(billing).post(reverse("authorization_edit", args=[authorization.pk]), {
        "number": authorization.number, "discipline": "OT", "status": "approved", "start_date": "2026-09-01",
        "end_date": "2027-02-28", "notes": "", "lines-TOTAL_FORMS": 1, "lines-INITIAL_FORMS": 1,
        "lines-MIN_NUM_FORMS": 1, "lines-MAX_NUM_FORMS": 1000, "lines-0-id": authorization.lines.get().pk,
        "lines-0-cpt_codes": "99999, 12345", "lines-0-unit_type": "visits", "lines-0-quantity": 48})
    for code in ("99999", "12345"):
        assert code in response.content.decode()


def test_a_plan_of_care_with_several_bad_codes_reports_every_one(therapist, patient):
    plan = {"discipline": "OT", "therapist_id": therapist.pk, "frequency_per_week": 2, "minutes": 45,
            "start_date": "2026-09-01", "end_date": "2027-01-01", "goals": ["Zips coat"],
            "services": [{"cpt_code": "99999"}, {"cpt_code": "92507"}, {"cpt_code": "97530"}]}
    body = assert_error(api_as(therapist).post(f"/api/v1/patients/{patient.pk}/plans-of-care", plan,
                                               content_type="application/json"))
    assert {"services.0.cpt_code", "services.1.cpt_code"} <= set(body["fields"])
    response = signed_in(therapist).post(reverse("plan_of_care_create", args=[patient.pk]), {
        "discipline": "OT", "therapist": therapist.pk, "frequency_per_week": 2, "minutes": 45,
        "start_date": "2026-09-01", "end_date": "2027-01-01", "goals": "Zips coat",
        "lines-TOTAL_FORMS": 2, "lines-INITIAL_FORMS": 0, "lines-MIN_NUM_FORMS": 1,
        "lines-MAX_NUM_FORMS": 1000, "lines-0-cpt_code": "99999", "lines-0-units": 1,
        "lines-1-cpt_code": "12345", "lines-1-units": 1})
    for code in ("99999", "12345"):
        assert code in response.content.decode()


def test_a_birth_date_of_today_is_refused_for_a_child_being_referred(front_desk, practice):
    from conftest import make_patient
    from pedsdesk.scheduling.models import WaitlistEntry

    today = practice.local_now().date()
    newborn = make_patient(practice, "Noa", "New", date_of_birth=today)
    response = signed_in(front_desk).post(reverse("waitlist_create"), {
        "patient": newborn.pk, "discipline": "SLP", "referral_date": today.isoformat(), "priority": 2,
        "windows": "Tue 15:30-18:00"})
    assert response.status_code == 400
    assert "not before the referral date" in response.content.decode()
    assert not WaitlistEntry.objects.exists()

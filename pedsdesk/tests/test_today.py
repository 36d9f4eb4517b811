"""Today shows today for each role: the therapist's visits, billing's denials and
authorizations running out, the owner's and office manager's next 14 days. Each section
says so when it has nothing, and costs the same queries for one record or many."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_authorization, make_coverage, make_guardian, make_patient, make_payer, signed_in
from pedsdesk.authorizations.actions import open_renewal
from pedsdesk.authorizations.models import Authorization
from pedsdesk.scheduling.models import Appointment, AppointmentStatus, Opening
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db


def today(practice) -> dt.date:
    return timezone.now().astimezone(practice.zone).date()


def visit(practice, patient, therapist, day, hour, **kwargs):
    start = local_to_utc(day, dt.time(hour), practice.zone)
    return Appointment.objects.create(practice=practice, patient=patient, therapist=therapist, start_at=start,
                                      end_at=start + dt.timedelta(minutes=45),
                                      plan_of_care=patient.plans_of_care.first(), **kwargs)


def current_authorization(patient, day, quantity=48):
    authorization = Authorization.objects.get(coverage__patient=patient)
    authorization.start_date, authorization.end_date = day - dt.timedelta(days=60), day + dt.timedelta(days=90)
    authorization.save()
    line = authorization.lines.get()
    line.quantity = quantity
    line.save()
    return authorization


def queries(client) -> tuple[int, str]:
    client.get("/")  # once first: the session and the audit chain settle
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_a_therapist_sees_todays_visits_confirmed_and_covered(practice, patient, therapist):
    day = today(practice)
    authorization = current_authorization(patient, day)
    plan = patient.plans_of_care.get()
    plan.start_date, plan.end_date = day - dt.timedelta(days=60), day + dt.timedelta(days=90)
    plan.save()
    self_pay = make_patient(practice, "Noa", "Ruiz")
    booked = visit(practice, patient, therapist, day, 8)
    confirmed = visit(practice, self_pay, therapist, day, 9, status=AppointmentStatus.CONFIRMED)
    visit(practice, patient, therapist, day + dt.timedelta(days=1), 8)  # tomorrow: not today
    body = signed_in(therapist).get("/").content.decode()
    section = body[body.index('id="today-visits"'):body.index("</section>", body.index('id="today-visits"'))]
    assert "8:00 AM" in section and "9:00 AM" in section and section.count("<tr>") == 3
    assert "Ava L." in section and "Noa R." in section
    assert "Not confirmed" in section and "Confirmed" in section
    assert f"Covered, #{authorization.number}" in section and "No coverage on file (self-pay)" in section
    assert booked.get_absolute_url() in section and confirmed.get_absolute_url() in section


def test_a_visit_over_the_authorization_shows_not_covered(practice, patient, therapist):
    day = today(practice)
    current_authorization(patient, day, quantity=1)
    visit(practice, patient, therapist, day - dt.timedelta(days=7), 8, status=AppointmentStatus.COMPLETED)
    visit(practice, patient, therapist, day, 8)
    body = signed_in(therapist).get("/").content.decode()
    assert "Not covered: " in body


def test_a_therapist_with_no_visits_today_is_told_so(practice, therapist):
    assert "No visits on your schedule today." in signed_in(therapist).get("/").content.decode()


def test_the_therapists_visits_cost_the_same_queries_for_one_or_ten(practice, patient, therapist):
    day = today(practice)
    current_authorization(patient, day)
    client = signed_in(therapist)
    visit(practice, patient, therapist, day, 7)
    few, _ = queries(client)
    for hour in range(8, 17):
        child = make_patient(practice, f"Kid{hour}", "Many")
        make_guardian(child, first=f"Mom{hour}")
        make_authorization(make_coverage(child, make_payer(practice, name=f"Payer {hour}")),
                           start_date=day - dt.timedelta(days=10), end_date=day + dt.timedelta(days=30))
        visit(practice, child, therapist, day, hour)
    many, body = queries(client)
    assert many == few and body.count("Kid") >= 9


def test_billing_sees_visits_that_would_be_denied_and_authorizations_running_out(practice, patient, billing,
                                                                                therapist):
    day = today(practice)
    authorization = current_authorization(patient, day, quantity=2)
    for week in range(1, 5):
        visit(practice, patient, therapist, day + dt.timedelta(weeks=week), 10)
    body = signed_in(billing).get("/").content.decode()
    denied = body[body.index('id="billing-risk"'):]
    assert "Visits that would be denied" in denied and f"#{authorization.number}" in denied
    assert "uses more than the units left" in denied
    assert "Authorizations running out early" in denied


def test_billing_with_nothing_at_risk_is_told_so(practice, billing):
    body = signed_in(billing).get("/").content.decode()
    assert "No visit on the schedule would be denied." in body
    assert "No authorization runs out before it ends." in body


def test_billing_costs_the_same_queries_for_one_or_many_authorizations(practice, patient, billing, therapist):
    day = today(practice)
    current_authorization(patient, day, quantity=1)
    client = signed_in(billing)
    visit(practice, patient, therapist, day + dt.timedelta(days=7), 10)
    few, _ = queries(client)
    for i in range(6):
        child = make_patient(practice, f"Kid{i}", "Many")
        make_authorization(make_coverage(child, make_payer(practice, name=f"Payer {i}")), quantity=1,
                           start_date=day - dt.timedelta(days=10), end_date=day + dt.timedelta(days=30))
        visit(practice, child, therapist, day + dt.timedelta(days=7), 11 + i)
    many, _ = queries(client)
    assert many == few


@pytest.mark.parametrize("role", ["owner", "office_manager"])
def test_managers_see_what_lapses_in_14_days_renewals_due_and_unfilled_openings(practice, patient, staff, role):
    day = today(practice)
    authorization = current_authorization(patient, day)
    authorization.end_date = day + dt.timedelta(days=10)
    authorization.save()
    open_renewal(authorization=authorization, actor=staff["office_manager"])
    start = timezone.now() + dt.timedelta(days=2)
    Opening.objects.create(practice=practice, therapist=staff["therapist"], start_at=start,
                           end_at=start + dt.timedelta(minutes=45))
    body = signed_in(staff[role]).get("/").content.decode()
    lapsing = body[body.index('id="next-14-days"'):]
    assert f"#{authorization.number}" in lapsing and "Ends " in lapsing
    assert "Renewals due in the next 14 days" in lapsing and "No renewal is due" not in lapsing
    assert "Unfilled openings, next 14 days" in body and "Theo Tester" in body[body.index('id="unfilled-openings"'):]


def test_managers_with_nothing_ahead_are_told_so(practice, owner):
    body = signed_in(owner).get("/").content.decode()
    assert "Nothing runs out or lapses in the next 14 days without a renewal." in body
    assert "No renewal is due in the next 14 days." in body
    assert "Every opening in the next 14 days is filled." in body


def test_managers_today_costs_the_same_queries_for_one_or_many(practice, patient, staff):
    day = today(practice)
    client = signed_in(staff["office_manager"])

    def add(i):
        child = make_patient(practice, f"Kid{i}", "Many")
        authorization = make_authorization(make_coverage(child, make_payer(practice, name=f"Payer {i}")),
                                           start_date=day - dt.timedelta(days=60), end_date=day + dt.timedelta(days=9))
        open_renewal(authorization=authorization, actor=staff["office_manager"])
        start = timezone.now() + dt.timedelta(days=1, hours=i)
        Opening.objects.create(practice=practice, therapist=staff["therapist"], start_at=start,
                               end_at=start + dt.timedelta(minutes=45))

    add(0)
    few, _ = queries(client)
    for i in range(1, 7):
        add(i)
    many, _ = queries(client)
    assert many == few


def test_each_role_sees_only_its_own_sections(practice, staff):
    sections = {role: signed_in(staff[role]).get("/").content.decode() for role in staff}
    assert 'id="today-visits"' in sections["therapist"] and 'id="today-visits"' not in sections["billing"]
    assert 'id="billing-risk"' in sections["billing"] and 'id="billing-risk"' not in sections["front_desk"]
    assert 'id="next-14-days"' in sections["owner"] and 'id="next-14-days"' not in sections["therapist"]

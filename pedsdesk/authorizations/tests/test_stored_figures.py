"""The board's stored figures stay equal to a fresh projection through every kind of change
the front desk, the therapists and billing make, and the board pages in SQL: page 2 costs
what page 1 costs."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import (
    make_authorization,
    make_coverage,
    make_patient,
    make_payer,
    make_plan_of_care,
    next_weekday,
    signed_in,
)
from pedsdesk.authorizations.actions import refresh_statuses, save_authorization
from pedsdesk.authorizations.figures import refresh_practice
from pedsdesk.authorizations.models import Authorization, AuthorizationFigures, AuthorizationStatus, RoundingRule
from pedsdesk.authorizations.queries import project_authorizations
from pedsdesk.people.models import PlanOfCareService
from pedsdesk.scheduling.actions import book_appointment, cancel_appointment, move_appointment, set_status
from pedsdesk.scheduling.models import AppointmentStatus, Closure
from pedsdesk.scheduling.series import create_series, extend_series
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db


def _stored_equal_fresh(practice) -> None:
    fresh = project_authorizations(practice)
    stored = {f.authorization_id: f for f in AuthorizationFigures.objects.filter(
        authorization__coverage__patient__practice=practice)}
    assert set(stored) == set(Authorization.objects.filter(
        coverage__patient__practice=practice).values_list("pk", flat=True))
    for pk, figures in stored.items():
        p = fresh.get(pk)
        if p is None:
            assert not figures.projected and figures.used == figures.scheduled == 0
            continue
        assert (figures.projected, figures.authorized, figures.used, figures.scheduled, figures.remaining,
                figures.exhausted_on, figures.runs_out, figures.denials) == (
            True, p.authorized, p.used, p.scheduled, p.remaining, p.exhausted_on, p.runs_out_before_end,
            len(p.denials)), f"authorization {pk}"


def test_stored_figures_follow_every_kind_of_change(front_desk, billing, patient, working_week, practice,
                                                     django_capture_on_commit_callbacks):
    def change(step) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            step()
        _stored_equal_fresh(practice)

    authorization = Authorization.objects.get(coverage__patient=patient)
    refresh_practice(practice)
    _stored_equal_fresh(practice)
    plan = patient.plans_of_care.get()
    zone = practice.zone
    visits = []

    def book(day: dt.date) -> None:
        visits.append(book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                                       start_at=local_to_utc(day, dt.time(16), zone), minutes=45,
                                       plan_of_care=plan))

    change(lambda: book(next_weekday(1)))
    change(lambda: book(next_weekday(3)))
    change(lambda: move_appointment(actor=front_desk, appointment=visits[1],
                                    start_at=local_to_utc(next_weekday(2), dt.time(16), zone)))
    change(lambda: cancel_appointment(actor=front_desk, appointment=visits[1], by="family", reason="Sick"))
    change(lambda: set_status(actor=front_desk, appointment=visits[0], status=AppointmentStatus.CHECKED_IN))
    change(lambda: set_status(actor=front_desk, appointment=visits[0], status=AppointmentStatus.COMPLETED))
    series = []
    change(lambda: series.append(create_series(actor=front_desk, plan_of_care=plan, weekday=3,
                                               start_time=dt.time(15), start_date=next_weekday(0, 2))))
    change(lambda: extend_series(series=series[0], through=next_weekday(3, 3)))
    change(lambda: Closure.objects.create(practice=practice, date=next_weekday(3, 5), name="Staff day"))
    change(lambda: PlanOfCareService.objects.create(plan_of_care=plan, cpt_code="97110", units=2))
    # Billing shortens it to 6 visits.
    change(lambda: save_authorization(actor=billing, coverage=authorization.coverage, authorization=authorization,
                                      data={"end_date": next_weekday(4, 8)},
                                      lines=[{"cpt_codes": ["97530", "97110"], "unit_type": "visits",
                                              "quantity": 6}]))
    assert AuthorizationFigures.objects.get(authorization=authorization).authorized == 6
    payer = authorization.coverage.payer
    payer.rounding_rule = RoundingRule.PER_SESSION
    change(payer.save)
    later = make_authorization(authorization.coverage, quantity=4, start_date=next_weekday(0, 9),
                               end_date=next_weekday(4, 20), number="PA-LATER")
    change(lambda: later.save())
    change(lambda: refresh_statuses(practice=practice, today=authorization.end_date + dt.timedelta(days=1)))
    assert Authorization.objects.get(pk=authorization.pk).status == AuthorizationStatus.EXPIRED
    change(lambda: Authorization.objects.get(pk=later.pk).delete())


def test_board_pages_in_sql(billing, practice, therapist):
    payer = make_payer(practice, "Big Payer")
    for i in range(55):
        child = make_patient(practice, first=f"Kid{i}", last=f"Family{i:02}")
        make_authorization(make_coverage(child, payer), quantity=10 + i, end_date=dt.date(2027, 1, 1)
                           + dt.timedelta(days=i))
        make_plan_of_care(child, therapist)
    client = signed_in(billing)
    url = reverse("authorization_board")
    first = client.get(url, {"sort": "units_left"}).content.decode()  # fills the figures once
    with CaptureQueriesContext(connection) as one:
        first = client.get(url, {"sort": "units_left"}).content.decode()
    with CaptureQueriesContext(connection) as two:
        second = client.get(url, {"sort": "units_left", "page": 2}).content.decode()
    ids = [int(pk) for pk in re.findall(r'<tr id="authorization-(\d+)"', first + second)]
    expected = list(Authorization.objects.order_by("lines__quantity", "end_date", "pk").values_list("pk", flat=True))
    assert ids == expected and len(ids) == 55
    assert "Page 2 of 2" in second
    assert len(two) == len(one)

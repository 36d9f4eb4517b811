"""Projection from the real schedule: holidays, cancellations and makeups, benefit buckets
across a plan-year boundary (January 1 and a mid-year plan start)."""

import datetime as dt

import pytest

from conftest import make_authorization, make_coverage, make_payer, make_plan_of_care, next_weekday
from pedsdesk.authorizations.models import Authorization, BenefitBucket
from pedsdesk.authorizations.queries import buckets_for, project_authorizations
from pedsdesk.scheduling.actions import book_appointment, cancel_appointment
from pedsdesk.scheduling.models import Appointment, AppointmentKind, AppointmentStatus, Closure
from pedsdesk.scheduling.series import create_series, extend_series
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db
D = dt.date


def _book(front_desk, patient, therapist, day, **kwargs):
    return book_appointment(actor=front_desk, practice=patient.practice, therapist=therapist, patient=patient,
                            start_at=local_to_utc(day, dt.time(16), patient.practice.zone), minutes=45,
                            plan_of_care=patient.plans_of_care.first(), **kwargs)


def test_future_series_occurrences_skip_the_practices_closures(front_desk, patient, working_week, practice):
    authorization = Authorization.objects.get(coverage__patient=patient)
    authorization.end_date = next_weekday(4, weeks_ahead=6)
    authorization.save()
    series = create_series(actor=front_desk, plan_of_care=patient.plans_of_care.get(), weekday=1,
                           start_time=dt.time(16), start_date=next_weekday(0))
    extend_series(series=series, through=next_weekday(1))  # one week booked; the rest are projected
    before = project_authorizations(practice)[authorization.pk].scheduled
    assert before == 6  # Tuesdays of weeks 1 to 6
    Closure.objects.create(practice=practice, date=next_weekday(1, weeks_ahead=3), name="Thanksgiving week")
    Closure.objects.create(practice=practice, date=next_weekday(2, weeks_ahead=4), name="Not a Tuesday")
    projection = project_authorizations(practice)[authorization.pk]
    assert projection.scheduled == 5 and projection.remaining == 48 - 5


def test_a_cancellation_gives_its_unit_back_and_a_makeup_in_the_same_week_takes_one(front_desk, patient,
                                                                                  working_week, practice):
    authorization = Authorization.objects.get(coverage__patient=patient)
    authorization.lines.update(quantity=3)
    visits = [_book(front_desk, patient, working_week, next_weekday(1, weeks)) for weeks in (1, 2, 3)]
    projection = project_authorizations(practice)[authorization.pk]
    assert (projection.scheduled, projection.remaining, projection.exhausted_on) == (3, 0, next_weekday(1, 3))

    cancel_appointment(actor=front_desk, appointment=visits[1], by="family", reason="Sick (fever)")
    projection = project_authorizations(practice)[authorization.pk]
    assert (projection.scheduled, projection.remaining, projection.exhausted_on) == (2, 1, None)

    _book(front_desk, patient, working_week, next_weekday(3, 2), kind=AppointmentKind.MAKEUP,
          makeup_for=visits[1])
    projection = project_authorizations(practice)[authorization.pk]
    assert (projection.scheduled, projection.remaining) == (3, 0)
    assert projection.exhausted_on == next_weekday(1, 3)

    # A fourth visit would be the one the payer denies; booking it takes a reason (the payer warns).
    _book(front_desk, patient, working_week, next_weekday(1, 4), override_reason="renewal on its way")
    projection = project_authorizations(practice)[authorization.pk]
    assert [(d.visit.day, d.reason) for d in projection.denials] == [(next_weekday(1, 4), "beyond_units")]
    assert projection.flags == ["runs_out", "denials"]


def _visit(patient, therapist, day: dt.date, status=AppointmentStatus.COMPLETED) -> Appointment:
    """A visit row as the schedule would hold it (dated freely: the buckets read rows)."""
    start = local_to_utc(day, dt.time(16), patient.practice.zone)
    return Appointment.objects.create(practice=patient.practice, patient=patient, therapist=therapist,
                                      plan_of_care=patient.plans_of_care.first(), status=status, start_at=start,
                                      end_at=start + dt.timedelta(minutes=45))


@pytest.fixture
def child_2030(practice, staff):
    """Noah, OT in 2030–2031, with a 4-visit PT/OT limit per calendar year."""
    from conftest import make_patient

    child = make_patient(practice, "Noah", "Kim")
    coverage = make_coverage(child, make_payer(practice, "Bluebonnet"), start_date=D(2029, 1, 1))
    BenefitBucket.objects.filter(coverage=coverage).update(limit=4)
    make_authorization(coverage, start_date=D(2030, 9, 1), end_date=D(2031, 8, 31))
    make_plan_of_care(child, staff["therapist"], start_date=D(2030, 9, 1), end_date=D(2031, 8, 31))
    return child


def test_the_calendar_year_limit_resets_on_january_first(child_2030, therapist):
    december = [D(2030, 12, 3), D(2030, 12, 10), D(2030, 12, 17)]
    january = [D(2031, 1, 7), D(2031, 1, 14)]
    for day in december:
        _visit(child_2030, therapist, day)
    for day in january:
        _visit(child_2030, therapist, day, status=AppointmentStatus.BOOKED)
    coverage = child_2030.coverages.get()
    (_, dec), = buckets_for(coverage, D(2030, 12, 20))
    assert (dec.period, dec.used, dec.scheduled, dec.remaining) == ((D(2030, 1, 1), D(2030, 12, 31)), 3, 0, 1)
    (_, jan), = buckets_for(coverage, D(2031, 1, 2))
    assert (jan.period, jan.used, jan.scheduled, jan.remaining) == ((D(2031, 1, 1), D(2031, 12, 31)), 0, 2, 2)
    _visit(child_2030, therapist, D(2030, 12, 23))
    _visit(child_2030, therapist, D(2030, 12, 30), status=AppointmentStatus.BOOKED)
    (_, dec), = buckets_for(coverage, D(2030, 12, 20))
    assert dec.exhausted_on == D(2030, 12, 23) and [v.day for v in dec.over_limit] == [D(2030, 12, 30)]
    (_, jan), = buckets_for(coverage, D(2031, 1, 2))
    assert jan.over_limit == [] and jan.remaining == 2


def test_a_plan_year_limit_resets_on_the_coverages_plan_start(child_2030, therapist):
    coverage = child_2030.coverages.get()
    coverage.plan_year_start_month, coverage.plan_year_start_day = 7, 1
    coverage.save()
    BenefitBucket.objects.filter(coverage=coverage).update(reset=BenefitBucket.Reset.PLAN_YEAR, limit=3)
    Authorization.objects.filter(coverage=coverage).update(start_date=D(2031, 1, 1))
    child_2030.plans_of_care.update(start_date=D(2031, 1, 1))
    for day in (D(2031, 6, 10), D(2031, 6, 17), D(2031, 6, 24)):
        _visit(child_2030, therapist, day)
    for day in (D(2031, 7, 1), D(2031, 7, 8)):
        _visit(child_2030, therapist, day, status=AppointmentStatus.BOOKED)
    (_, june), = buckets_for(coverage, D(2031, 6, 30))
    assert (june.period, june.used, june.scheduled, june.remaining) == ((D(2030, 7, 1), D(2031, 6, 30)), 3, 0, 0)
    assert june.exhausted_on == D(2031, 6, 24)
    (_, july), = buckets_for(coverage, D(2031, 7, 1))
    assert (july.period, july.used, july.scheduled, july.remaining) == ((D(2031, 7, 1), D(2032, 6, 30)), 0, 2, 1)
    # The same visits counted by calendar year: one year, five visits, two over a limit of three.
    BenefitBucket.objects.filter(coverage=coverage).update(reset=BenefitBucket.Reset.CALENDAR_YEAR)
    (_, calendar), = buckets_for(coverage, D(2031, 7, 1))
    assert calendar.used == 3 and len(calendar.over_limit) == 2

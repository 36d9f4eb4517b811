"""The daily sweep books many children's series together: a few dozen children a
transaction, under their therapists' and their own locks, each visit checked against
what was read once for all of them. It must refuse what a booking by hand would, and
see the visits it books itself."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import (
    make_authorization,
    make_coverage,
    make_patient,
    make_payer,
    make_plan_of_care,
    make_staff,
    next_weekday,
)
from pedsdesk.audit.models import AuditEvent
from pedsdesk.authorizations.figures import refresh_practice
from pedsdesk.authorizations.models import AuthorizationFigures
from pedsdesk.authorizations.queries import project_authorizations
from pedsdesk.practices.models import Role
from pedsdesk.scheduling.actions import book_appointment, check_booking
from pedsdesk.scheduling.models import (
    Appointment,
    FamilyAvailability,
    SeriesSkip,
    TimeOff,
    WorkingHours,
)
from pedsdesk.scheduling.series import create_series
from pedsdesk.scheduling.tasks import series_extend
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.workqueue.models import Task


def _child_with_series(practice, front_desk, therapist, first: str, day: dt.date, hour: int):
    child = make_patient(practice, first=first, last="Test")
    plan = make_plan_of_care(child, therapist)
    series = create_series(actor=front_desk, plan_of_care=plan, weekday=day.weekday(), start_time=dt.time(hour),
                           start_date=day)
    return child, series


def _at(practice, day: dt.date, hour: int) -> dt.datetime:
    return local_to_utc(day, dt.time(hour), practice.zone)


def test_the_sweep_refuses_what_a_booking_by_hand_would_and_sees_its_own_bookings(
        practice, staff, working_week, front_desk):
    day = next_weekday(2, weeks_ahead=3)  # a Wednesday: each series' first visit
    tara = make_staff(practice, "tara", Role.THERAPIST)
    WorkingHours.objects.create(therapist=tara, weekday=2, start=dt.time(8), end=dt.time(18))
    kids = {name: _child_with_series(practice, front_desk, working_week, name, day, hour)
            for name, hour in (("Ana", 9), ("Ben", 10), ("Cai", 11), ("Dev", 12), ("Eli", 13), ("Fay", 13),
                               ("Gus", 14), ("Hal", 15))}
    TimeOff.objects.create(therapist=working_week, start_at=_at(practice, day, 10), end_at=_at(practice, day, 11),
                           reason="Dentist")
    book_appointment(actor=front_desk, practice=practice, therapist=tara, patient=kids["Cai"][0],
                     start_at=_at(practice, day, 11), minutes=45)  # Cai is with Tara then
    other = make_patient(practice, first="Ivy", last="Test")
    book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=other,
                     start_at=_at(practice, day, 12), minutes=45)  # Theo is busy then
    FamilyAvailability.objects.create(patient=kids["Gus"][0], weekday=2, start=dt.time(13, 30), end=dt.time(15),
                                      kind=FamilyAvailability.Kind.UNAVAILABLE)

    assert series_extend(practice=practice) == {"booked": 3, "skipped": 5}

    skips = {s.series.plan_of_care.patient.first_name: s.code for s in SeriesSkip.objects.select_related(
        "series__plan_of_care__patient")}
    assert skips == {"Ben": "time_off", "Cai": "child_busy", "Dev": "therapist_busy",
                     "Fay": "therapist_busy", "Gus": "outside_child_windows"}
    booked = set(Appointment.objects.filter(series__isnull=False).values_list(
        "patient__first_name", flat=True))
    assert booked == {"Ana", "Eli", "Hal"}  # Eli and Fay wanted Theo at one time: the first got it
    # Each refusal is the one a booking by hand gets now.
    for name, code in skips.items():
        child, series = kids[name]
        start_at = _at(practice, day, series.start_time.hour)
        check = check_booking(practice=practice, therapist=working_week, patient=child, start_at=start_at,
                              end_at=start_at + dt.timedelta(minutes=series.minutes),
                              plan_of_care=series.plan_of_care, series=series)
        assert (check.blocks or check.warnings)[0].code == code, name
    assert Task.objects.filter(kind="series_occurrence_skipped", status="open").count() == 5


def _sweep_queries(practice, front_desk, therapist, names: list[str], day: dt.date) -> tuple[int, int]:
    for i, name in enumerate(names):
        _child_with_series(practice, front_desk, therapist, name, day, 8 + i)
    with CaptureQueriesContext(connection) as queries:
        result = series_extend(practice=practice)
    return result["booked"], len(queries)


def test_the_sweeps_queries_grow_by_a_few_a_visit_not_by_the_checks(practice, working_week, front_desk):
    three = _sweep_queries(practice, front_desk, working_week, ["Ana", "Ben", "Cai"], next_weekday(2, 3))
    nine = _sweep_queries(practice, front_desk, working_week, [f"Kid{i}" for i in range(9)], next_weekday(3, 3))
    assert (three[0], nine[0]) == (3, 9 + 3)  # and the first three's next week
    # Each visit is one insert: its audit event joins the run's, written together, and
    # everything its checks read is read once for all.
    assert (nine[1] - three[1]) / (nine[0] - three[0]) <= 2, (three, nine)



def test_visits_the_sweep_cannot_book_are_recorded_together_each_with_its_task_and_the_figures_follow(
        practice, working_week, front_desk, django_capture_on_commit_callbacks):
    payer = make_payer(practice)
    wednesday, thursday = next_weekday(2, weeks_ahead=3), next_weekday(3, weeks_ahead=3)
    for day in (wednesday, thursday, wednesday + dt.timedelta(weeks=1)):  # Theo is away: nothing can be booked
        TimeOff.objects.create(therapist=working_week, start_at=_at(practice, day, 7), end_at=_at(practice, day, 19),
                               reason="Conference")

    def sweep(names: list[str], day: dt.date) -> tuple[dict, int]:
        for i, name in enumerate(names):
            child, _ = _child_with_series(practice, front_desk, working_week, name, day, 9 + i)
            make_authorization(make_coverage(child, payer))
        refresh_practice(practice)
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
            result = series_extend(practice=practice)
        return result, len(queries)

    one, one_queries = sweep(["Ana"], wednesday)
    six, six_queries = sweep(["Ben", "Cai", "Dev", "Eli", "Fay"], thursday)  # and Ana's next Wednesday
    assert (one, six) == ({"booked": 0, "skipped": 1}, {"booked": 0, "skipped": 6})
    # The refusals are written together: a few queries for the batch, not a handful each.
    assert six_queries - one_queries <= 6, (one_queries, six_queries)

    tasks = Task.objects.filter(kind="series_occurrence_skipped", status="open").order_by("pk")
    next_wednesday = wednesday + dt.timedelta(weeks=1)
    assert [t.title for t in tasks][:2] == [f"Ana T.'s {wednesday:%a %b %-d} visit was not booked",
                                            f"Ana T.'s {next_wednesday:%a %b %-d} visit was not booked"]
    assert {t.role for t in tasks} == {"front_desk"} and all("off then (Conference)" in t.reason for t in tasks)
    assert {t.subject_id for t in tasks} == set(SeriesSkip.objects.values_list("pk", flat=True))
    assert set(AuditEvent.objects.filter(action="task_opened").values_list("object_id", flat=True)) == {
        str(t.pk) for t in tasks}
    # A skipped visit no longer counts as scheduled: the board's stored figures follow.
    fresh = project_authorizations(practice)
    for figures in AuthorizationFigures.objects.all():
        assert figures.scheduled == fresh[figures.authorization_id].scheduled, figures.authorization_id


def test_a_sweep_that_dies_mid_transaction_leaves_nothing_half_booked_and_the_next_run_books_once(
        practice, working_week, front_desk, monkeypatch):
    from pedsdesk.scheduling import series as series_module

    day = next_weekday(2, weeks_ahead=3)
    kids = [_child_with_series(practice, front_desk, working_week, name, day, 9 + i)
            for i, name in enumerate(["Ana", "Ben", "Cai"])]
    real = series_module.book_appointment
    calls = []

    def dies_on_the_third(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise SystemExit("worker killed")  # not an error the sweep handles
        return real(**kwargs)

    monkeypatch.setattr(series_module, "book_appointment", dies_on_the_third)
    with pytest.raises(SystemExit):
        series_extend(practice=practice)
    assert not Appointment.objects.filter(series__isnull=False).exists()  # the first two rolled back with it
    assert all(s.generated_through is None for s in
               type(kids[0][1]).objects.filter(pk__in=[s.pk for _, s in kids]))
    monkeypatch.setattr(series_module, "book_appointment", real)
    assert series_extend(practice=practice) == {"booked": 3, "skipped": 0}
    assert set(Appointment.objects.filter(series__isnull=False).values_list("start_at", flat=True)) == {
        _at(practice, day, 9 + i) for i in range(3)}
    series_extend(practice=practice)  # and again: the next week, never a date twice
    booked = list(Appointment.objects.filter(series__isnull=False).values_list("series_id", "start_at"))
    assert len(booked) == len(set(booked)) == 6

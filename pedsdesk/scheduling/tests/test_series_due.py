"""The daily sweep extends only the series with an occurrence newly within reach."""

import datetime as dt

from django.utils import timezone

from pedsdesk.scheduling.models import Appointment, SchedulingPolicy
from pedsdesk.scheduling.series import create_series, due_series, extend_series
from pedsdesk.scheduling.tasks import series_extend


def test_a_series_is_extended_once_a_week_not_every_day(front_desk, patient, working_week, practice, monkeypatch):
    policy = SchedulingPolicy.for_practice(practice)
    monday = dt.datetime(2026, 10, 5, 14, tzinfo=dt.UTC)  # 09:00 in Chicago
    monkeypatch.setattr(timezone, "now", lambda: monday)
    series = create_series(actor=front_desk, plan_of_care=patient.plans_of_care.get(), weekday=2,
                           start_time=dt.time(16), start_date=dt.date(2026, 10, 5))
    assert extend_series(series=series) == (policy.series_weeks_ahead, 0)  # as the front desk does
    series.refresh_from_db()
    horizon = dt.date(2026, 10, 5) + dt.timedelta(weeks=policy.series_weeks_ahead)
    # Handled through the day before the next Wednesday beyond the horizon.
    assert series.generated_through.weekday() == 1 and series.generated_through >= horizon
    passed_by = []
    for day in range(1, 8):
        monkeypatch.setattr(timezone, "now", lambda day=day: monday + dt.timedelta(days=day))
        today = monday.date() + dt.timedelta(days=day)
        due = due_series(practice, today=today).exists()
        passed_by.append(not due)
        series_extend(practice=practice)
    # Due on one day of the week only: the day the next Wednesday comes within reach.
    assert passed_by.count(False) == 1
    assert Appointment.objects.filter(series=series).count() == policy.series_weeks_ahead + 1


def test_a_series_far_behind_catches_up_a_week_a_day(front_desk, patient, working_week, practice, monkeypatch):
    """A series booked only two weeks ahead (a first sweep after seeding or an import) is
    not booked eight weeks ahead in one night: a week more each day, until its horizon."""
    policy = SchedulingPolicy.for_practice(practice)
    monday = dt.datetime(2026, 10, 5, 14, tzinfo=dt.UTC)  # 09:00 in Chicago
    monkeypatch.setattr(timezone, "now", lambda: monday)
    series = create_series(actor=front_desk, plan_of_care=patient.plans_of_care.get(), weekday=2,
                           start_time=dt.time(16), start_date=dt.date(2026, 10, 5))
    extend_series(series=series, through=dt.date(2026, 10, 5) + dt.timedelta(weeks=2))
    booked_each_day = []
    for day in range(0, 8):
        monkeypatch.setattr(timezone, "now", lambda day=day: monday + dt.timedelta(days=day))
        booked_each_day.append(series_extend(practice=practice)["booked"])
    assert booked_each_day[:policy.series_weeks_ahead - 2] == [1] * (policy.series_weeks_ahead - 2)
    # Caught up: booked to the last Wednesday within eight weeks of Monday Oct 12, as at once.
    assert Appointment.objects.filter(series=series).order_by("-start_at").first().local_start.date() == \
        dt.date(2026, 12, 2)
    assert sum(booked_each_day) + 2 == Appointment.objects.filter(series=series).count()

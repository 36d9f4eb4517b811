import datetime as dt
from zoneinfo import ZoneInfo

from pedsdesk.scheduling.timeslots import contains, local_day_bounds, local_to_utc, subtract, treatment_week

CHICAGO = ZoneInfo("America/Chicago")
UTC = dt.UTC


def test_ten_oclock_stays_ten_oclock_across_fall_back():
    # 2026-11-01: clocks go back from 02:00 CDT to 01:00 CST.
    saturday = local_to_utc(dt.date(2026, 10, 31), dt.time(10), CHICAGO)
    monday = local_to_utc(dt.date(2026, 11, 2), dt.time(10), CHICAGO)
    assert saturday == dt.datetime(2026, 10, 31, 15, tzinfo=UTC)
    assert monday == dt.datetime(2026, 11, 2, 16, tzinfo=UTC)


def test_skipped_and_repeated_wall_clock_times():
    # Spring forward 2027-03-14: 02:30 does not exist and lands at 03:30 CDT.
    assert local_to_utc(dt.date(2027, 3, 14), dt.time(2, 30), CHICAGO) == dt.datetime(2027, 3, 14, 8, 30, tzinfo=UTC)
    # Fall back 2026-11-01: 01:30 happens twice; the first one (CDT) is meant.
    assert local_to_utc(dt.date(2026, 11, 1), dt.time(1, 30), CHICAGO) == dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_dst_days_are_23_and_25_hours_long():
    start, end = local_day_bounds(dt.date(2027, 3, 14), CHICAGO)
    assert end - start == dt.timedelta(hours=23)
    start, end = local_day_bounds(dt.date(2026, 11, 1), CHICAGO)
    assert end - start == dt.timedelta(hours=25)


def test_treatment_week_is_monday_to_saturday():
    assert treatment_week(dt.date(2026, 11, 27)) == (dt.date(2026, 11, 23), dt.date(2026, 11, 28))
    assert treatment_week(dt.date(2026, 11, 29)) == (dt.date(2026, 11, 23), dt.date(2026, 11, 28))


def test_subtract_and_contains():
    day = dt.datetime(2026, 12, 1, tzinfo=UTC)
    h = dt.timedelta(hours=1)
    free = subtract([(day + 8 * h, day + 18 * h)], [(day + 9 * h, day + 10 * h), (day + 12 * h, day + 13 * h)])
    assert free == [(day + 8 * h, day + 9 * h), (day + 10 * h, day + 12 * h), (day + 13 * h, day + 18 * h)]
    assert contains(free, (day + 10 * h, day + 11 * h))
    assert not contains(free, (day + 11 * h, day + 13 * h))

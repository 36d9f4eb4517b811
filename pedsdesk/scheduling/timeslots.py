"""Local-time arithmetic for the schedule, without Django.

Every instant is stored in UTC; every rule ("after dismissal", "Monday to Saturday",
"09:00") is a wall-clock rule in the practice's zone. These helpers turn one into the
other correctly across daylight-saving changes.
"""

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

Interval = tuple[dt.datetime, dt.datetime]


def local_to_utc(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of wall-clock ``time`` on ``day``.

    A time skipped by spring-forward (02:30 that Sunday) lands an hour later, as a wall
    clock does; a time that happens twice at fall-back is the first of the two.
    """
    return dt.datetime.combine(day, time).replace(tzinfo=zone, fold=0).astimezone(dt.UTC)


def local_day_bounds(day: dt.date, zone: ZoneInfo) -> Interval:
    """[start, end) in UTC of the local calendar day (23 or 25 hours around DST changes)."""
    return local_to_utc(day, dt.time.min, zone), local_to_utc(day + dt.timedelta(days=1), dt.time.min, zone)


def week_start(day: dt.date, first_weekday: int = 0) -> dt.date:
    """The first day of the week containing ``day`` (Monday by default)."""
    return day - dt.timedelta(days=(day.weekday() - first_weekday) % 7)


def treatment_week(day: dt.date, days: int = 6) -> tuple[dt.date, dt.date]:
    """Monday and the last treatment day (Saturday by default) of ``day``'s week."""
    start = week_start(day)
    return start, start + dt.timedelta(days=days - 1)


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def subtract(windows: Iterable[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """The parts of ``windows`` not covered by any ``busy`` interval, in order."""
    result: list[Interval] = []
    busy_sorted = sorted(busy)
    for start, end in sorted(windows):
        cursor = start
        for b_start, b_end in busy_sorted:
            if b_end <= cursor or b_start >= end:
                continue
            if b_start > cursor:
                result.append((cursor, b_start))
            cursor = max(cursor, b_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """Pairwise intersection of two sets of intervals."""
    result = []
    for a_start, a_end in sorted(a):
        for b_start, b_end in sorted(b):
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                result.append((start, end))
    return sorted(result)


def contains(windows: Iterable[Interval], slot: Interval) -> bool:
    return any(start <= slot[0] and slot[1] <= end for start, end in windows)

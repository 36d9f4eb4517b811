"""Adherence arithmetic, without Django: what share of prescribed practice days the
family reported, and the counts a remote-monitoring claim would need."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


def days_prescribed(days_per_week: int, start: dt.datetime, end: dt.datetime) -> int:
    """Practice days the program asked for between ``start`` and ``end``: whole days of the
    window times the weekly days, at most one a day, at least one if the window is open."""
    if days_per_week <= 0 or end <= start:
        return 0
    days = max(1, round((end - start) / dt.timedelta(days=1)))
    return min(days, max(1, round(days * days_per_week / 7)))


def share(practised: int, prescribed: int) -> float | None:
    """Reported over prescribed, in [0, 1]; None when nothing was prescribed."""
    if prescribed <= 0:
        return None
    return round(min(1.0, max(0, practised) / prescribed), 3)


@dataclass(frozen=True)
class Answer:
    submitted_at: dt.datetime
    days_practised: int
    days_prescribed: int


@dataclass(frozen=True)
class Figures:
    days_practised: int
    days_prescribed: int
    adherence: float | None
    forms_sent: int
    forms_answered: int
    delivered: int
    opened: int


def figures(answers: Iterable[Answer], *, forms_sent: int, delivered: int, opened: int) -> Figures:
    answers = list(answers)
    practised = sum(a.days_practised for a in answers)
    prescribed = sum(a.days_prescribed for a in answers)
    return Figures(practised, prescribed, share(practised, prescribed), forms_sent, len(answers), delivered, opened)


@dataclass(frozen=True)
class MonitoringWindow:
    """One 30-day window of a child's reported data (counts only; no billing built on it)."""

    start: dt.date
    end: dt.date
    days_with_data: int
    review_minutes: int
    real_time_interaction: bool


def monitoring_windows(*, first_day: dt.date, last_day: dt.date, report_days: Iterable[dt.date],
                       reviews: Iterable[tuple[dt.date, int, bool]]) -> list[MonitoringWindow]:
    """30-day windows from ``first_day`` through ``last_day``: distinct local days with
    family-reported data, staff review minutes, and whether anyone spoke with the family."""
    days = set(report_days)
    reviews = list(reviews)
    windows = []
    start = first_day
    while start <= last_day:
        end = start + dt.timedelta(days=29)
        inside = [r for r in reviews if start <= r[0] <= end]
        windows.append(MonitoringWindow(start, end, sum(start <= d <= end for d in days),
                                        sum(r[1] for r in inside), any(r[2] for r in inside)))
        start = end + dt.timedelta(days=1)
    return windows

"""Attendance patterns the office manager should hear about (issue 5, item 6).

A child who missed several visits in a row, or came to too few of them lately, gets one
task for the office manager; it closes by itself once the child is back on track.

What counts: a visit the child came to (checked in or completed) is attended; a family
cancellation, a late cancel or a no-show is missed. Clinic cancellations count neither
way (not the family's doing), nor do visits whose outcome nobody recorded yet.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from pedsdesk.people.models import Patient
from pedsdesk.practices.models import Practice, Role
from pedsdesk.scheduling.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    CancelledBy,
    ConfirmationPolicy,
)
from pedsdesk.sweeps import counted
from pedsdesk.workqueue.actions import TaskSpec
from pedsdesk.workqueue.rules import task_rule

ATTENDED = (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
MISSED = (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL, AppointmentStatus.NO_SHOW)
#: How far back a run of misses is looked for, whatever the attendance window.
STREAK_DAYS = 120


@dataclass(frozen=True)
class Attendance:
    attended: int
    missed: int
    streak: int  # misses since the last attended visit

    @property
    def counted(self) -> int:
        return self.attended + self.missed

    @property
    def percent(self) -> int | None:
        return round(100 * self.attended / self.counted) if self.counted else None


def outcome(status: str, cancelled_by: str) -> str | None:
    """'attended', 'missed' or None (not the family's record either way)."""
    if status in ATTENDED:
        return "attended"
    if status == AppointmentStatus.CANCELLED and cancelled_by != CancelledBy.FAMILY:
        return None
    if status in MISSED:
        return "missed"
    return None


def _history(now: dt.datetime, window_days: int):
    """The visits an attendance pattern is read from: the last ``window_days`` (a run of
    misses looks further back)."""
    return (Appointment.objects.filter(patient__isnull=False, patient__is_active=True, start_at__lt=now,
                                       start_at__gte=now - dt.timedelta(days=max(STREAK_DAYS, window_days)))
            .exclude(kind=AppointmentKind.MEETING))


def attendance_by_child(practice: Practice, now: dt.datetime, window_days: int) -> dict[int, Attendance]:
    """Per child: attended and missed in the last ``window_days``, and the current run of misses."""
    since = now - dt.timedelta(days=window_days)
    rows = (_history(now, window_days).filter(practice=practice)
            .order_by("patient_id", "start_at").values_list("patient_id", "start_at", "status", "cancelled_by"))
    history: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for patient_id, start_at, status, cancelled_by in rows:
        result = outcome(status, cancelled_by)
        if result:
            history[patient_id].append((start_at, result))
    found = {}
    for patient_id, visits in history.items():
        recent = [result for start_at, result in visits if start_at >= since]
        streak = 0
        for _, result in reversed(visits):
            if result != "missed":
                break
            streak += 1
        found[patient_id] = Attendance(recent.count("attended"), recent.count("missed"), streak)
    return found


def _attendance_marks(now: dt.datetime) -> dict[int, tuple]:
    """Every practice's visit history (the longest window any practice looks back over)."""
    longest = max(ConfirmationPolicy.objects.values_list("attendance_window_days", flat=True), default=0)
    default = ConfirmationPolicy._meta.get_field("attendance_window_days").default
    return counted(_history(now, max(longest, default)), changed="updated_at")


@task_rule("attendance_pattern", kind="attendance_pattern", label="Attendance pattern", listed_in="attendance",
           due=_attendance_marks)
def attendance_patterns(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Office manager: a run of misses, or attendance under the practice's floor over its
    window (with enough visits to mean something)."""
    policy = ConfirmationPolicy.for_practice(practice)
    numbers = attendance_by_child(practice, now, policy.attendance_window_days)
    flagged = {}
    for patient_id, seen in numbers.items():
        streak = seen.streak >= policy.misses_in_a_row
        low = (seen.counted >= policy.attendance_minimum_visits and seen.percent is not None
               and seen.percent < policy.attendance_floor_percent)
        if streak or low:
            flagged[patient_id] = (seen, streak, low)
    if not flagged:
        return
    for patient in Patient.objects.filter(pk__in=flagged).order_by("last_name", "first_name"):
        seen, streak, low = flagged[patient.pk]
        name = f"{patient.first_name} {patient.last_name[:1]}."
        findings = []
        if streak:
            findings.append(f"missed the last {seen.streak} visits in a row")
        if low:
            findings.append(f"came to {seen.attended} of {seen.counted} visits ({seen.percent} %) in the last "
                            f"{policy.attendance_window_days} days")
        yield TaskSpec(
            dedupe_key=f"attendance:{patient.pk}",
            title=f"Attendance: {name} {findings[0]}",
            reason=(f"{patient.first_name} {' and '.join(findings)} (cancellations by the family, late cancels and "
                    f"no-shows count as missed). Talk with the family about what gets in the way, and whether "
                    f"the times or the plan of care should change."),
            subject=patient, patient_id=patient.pk, role=Role.OFFICE_MANAGER, due_in=dt.timedelta(days=3),
            links=[{"label": str(patient), "url": patient.get_absolute_url()}],
        )

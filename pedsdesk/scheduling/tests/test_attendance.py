"""Attendance patterns become one office-manager task per child, closed when they clear."""

import datetime as dt

import pytest
from django.utils import timezone

from conftest import make_patient
from pedsdesk.scheduling.attendance import attendance_by_child
from pedsdesk.scheduling.models import Appointment, AppointmentStatus, ConfirmationPolicy
from pedsdesk.workqueue.models import OPEN_STATUSES, Task
from pedsdesk.workqueue.rules import registered_rules, run_rule

pytestmark = pytest.mark.django_db

ATTENDED, NO_SHOW, LATE = AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.LATE_CANCEL


def visit(patient, therapist, days_ago: float, status: str, cancelled_by: str = ""):
    start = timezone.now() - dt.timedelta(days=days_ago)
    return Appointment.objects.create(practice=patient.practice, patient=patient, therapist=therapist,
                                      start_at=start, end_at=start + dt.timedelta(minutes=45), status=status,
                                      cancelled_by=cancelled_by)


def history(patient, therapist, *statuses, every: int = 3):
    """Visits ``every`` days apart, the last one yesterday; "family"/"clinic" are cancellations."""
    for i, status in enumerate(reversed(statuses)):
        by = status if status in ("family", "clinic") else ""
        visit(patient, therapist, 1 + i * every, AppointmentStatus.CANCELLED if by else status, by)


def run(practice):
    rule = next(r for r in registered_rules() if r.name == "attendance_pattern")
    return run_rule(rule, practice, timezone.now())


def open_tasks():
    return list(Task.objects.filter(kind="attendance_pattern", status__in=OPEN_STATUSES))


def test_three_misses_in_a_row_reach_the_office_manager_until_the_child_comes_again(patient, therapist, practice):
    history(patient, therapist, *[ATTENDED] * 12, "family", LATE, NO_SHOW)
    assert run(practice) == (1, 0)
    (task,) = open_tasks()
    assert task.role == "office_manager" and task.subject == patient and task.patient_id == patient.pk
    assert task.title == "Attendance: Ava L. missed the last 3 visits in a row"
    assert "no-shows count as missed" in task.reason
    assert run(practice) == (0, 0)  # one task, not one per run
    visit(patient, therapist, 0.1, ATTENDED)  # 13 of 16 (81 %): fine again
    assert run(practice) == (0, 1) and not open_tasks()


def test_clinic_cancellations_are_not_the_familys_misses(patient, therapist, practice):
    history(patient, therapist, ATTENDED, ATTENDED, ATTENDED, ATTENDED, ATTENDED, NO_SHOW, "clinic", "clinic")
    assert run(practice) == (0, 0)
    # Two misses, a clinic cancellation between, then a third: still three in a row.
    history(patient, therapist, NO_SHOW, "clinic", "family", every=1)
    assert attendance_by_child(practice, timezone.now(), 60)[patient.pk].streak == 3
    assert run(practice) == (1, 0)


def test_attendance_under_80_percent_over_60_days(patient, therapist, practice):
    history(patient, therapist, ATTENDED, NO_SHOW, ATTENDED, "family", ATTENDED, every=7)
    assert run(practice) == (1, 0)
    (task,) = open_tasks()
    assert "came to 3 of 5 visits (60 %) in the last 60 days" in task.reason
    assert task.title == "Attendance: Ava L. came to 3 of 5 visits (60 %) in the last 60 days"
    # Three more visits attended: 6 of 8 is 75 %, still low; a ninth makes 78 %; a tenth 80 %.
    for days in (0.3, 0.2, 0.1):
        visit(patient, therapist, days, ATTENDED)
    assert run(practice) == (0, 0)
    visit(patient, therapist, 0.05, ATTENDED)
    visit(patient, therapist, 0.04, ATTENDED)
    assert run(practice) == (0, 1)


def test_too_few_visits_or_old_ones_say_nothing(patient, therapist, practice):
    history(patient, therapist, ATTENDED, NO_SHOW, ATTENDED, NO_SHOW, every=7)  # 4 visits, 50 %
    for days in (70, 75, 80, 85):  # misses outside the window, and broken up by attended visits since
        visit(patient, therapist, days, NO_SHOW)
    assert run(practice) == (0, 0)


def test_the_thresholds_are_the_practices(patient, therapist, practice):
    ConfirmationPolicy.objects.update_or_create(practice=practice, defaults={
        "reminder_hours": [48, 2], "misses_in_a_row": 2, "attendance_floor_percent": 50,
        "attendance_minimum_visits": 3})
    history(patient, therapist, ATTENDED, ATTENDED, NO_SHOW, "family")
    assert run(practice) == (1, 0)
    assert open_tasks()[0].title == "Attendance: Ava L. missed the last 2 visits in a row"


def test_each_child_gets_their_own_task(patient, therapist, practice):
    leo = make_patient(practice, "Leo", "Park")
    history(patient, therapist, NO_SHOW, NO_SHOW, NO_SHOW)
    history(leo, therapist, NO_SHOW, LATE, "family")
    assert run(practice) == (2, 0)
    assert {t.patient_id for t in open_tasks()} == {patient.pk, leo.pk}
    # A visit still to come, or not yet marked, changes nothing.
    visit(patient, therapist, -1, AppointmentStatus.BOOKED)
    visit(patient, therapist, 0.5, AppointmentStatus.BOOKED)
    assert run(practice) == (0, 0)

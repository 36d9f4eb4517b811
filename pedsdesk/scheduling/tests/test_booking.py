"""Booking visits as the front desk does, and the mistakes the schedule must catch."""

import datetime as dt
import threading

import pytest
from django.db import connection

from conftest import make_patient, make_staff, next_weekday
from pedsdesk.scheduling.actions import (
    BookingRefused,
    book_appointment,
    cancel_appointment,
    load_federal_holidays,
    move_appointment,
    set_status,
)
from pedsdesk.scheduling.models import Appointment, AppointmentStatus, Closure, FamilyAvailability, TimeOff
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db


def at(practice, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return local_to_utc(day, dt.time(hour, minute), practice.zone)


def book(front_desk, patient, therapist, start, minutes=45, **kwargs):
    return book_appointment(actor=front_desk, practice=patient.practice, therapist=therapist, patient=patient,
                            start_at=start, minutes=minutes, plan_of_care=patient.plans_of_care.first(), **kwargs)


def codes(exc: BookingRefused) -> set[str]:
    return {p.code for p in exc.check.blocks + exc.check.warnings}


def test_after_school_visit_books_cleanly(front_desk, patient, working_week, practice):
    visit = book(front_desk, patient, working_week, at(practice, next_weekday(1), 16))
    assert visit.status == AppointmentStatus.BOOKED and visit.minutes == 45
    assert visit.local_start.hour == 16


def test_nobody_is_double_booked(front_desk, patient, working_week, practice):
    start = at(practice, next_weekday(1), 16)
    book(front_desk, patient, working_week, start)
    sibling = make_patient(practice, "Leo", "Lopez", school=patient.school, grade="K")
    with pytest.raises(BookingRefused) as therapist_busy:
        book(front_desk, sibling, working_week, start + dt.timedelta(minutes=30))
    assert codes(therapist_busy.value) == {"therapist_busy"}
    other_therapist = make_staff(practice, "pat", "therapist", discipline="OT")
    with pytest.raises(BookingRefused) as child_busy:
        book(front_desk, patient, other_therapist, start + dt.timedelta(minutes=15), override_reason="x")
    assert "child_busy" in codes(child_busy.value)
    assert "Ava is already booked with Theo Tester" in str(child_busy.value)


def test_cancelled_time_can_be_booked_again(front_desk, patient, working_week, practice):
    start = at(practice, next_weekday(1), 16)
    visit = book(front_desk, patient, working_week, start)
    cancel_appointment(actor=front_desk, appointment=visit, by="family", reason="Sick")
    assert book(front_desk, patient, working_week, start).pk != visit.pk


def test_in_the_past_and_over_a_closure_are_refused(front_desk, patient, working_week, practice):
    with pytest.raises(BookingRefused, match="has already passed"):
        book(front_desk, patient, working_week, at(practice, dt.date(2026, 1, 6), 16))
    day = next_weekday(2)
    Closure.objects.create(practice=practice, date=day, name="Staff training")
    with pytest.raises(BookingRefused, match=r"closed on .* \(Staff training\)"):
        book(front_desk, patient, working_week, at(practice, day, 16), override_reason="family asked")


def test_time_off_blocks(front_desk, patient, working_week, practice):
    day = next_weekday(3)
    TimeOff.objects.create(therapist=working_week, start_at=at(practice, day, 12), end_at=at(practice, day, 18),
                           reason="conference")
    with pytest.raises(BookingRefused, match=r"off then \(conference\)"):
        book(front_desk, patient, working_week, at(practice, day, 16), override_reason="urgent")


def test_time_off_earlier_in_the_day_leaves_the_afternoon_bookable(front_desk, patient, working_week, practice):
    """The day's time off is read once: it cuts the working hours it covers and no others."""
    from django.test.utils import CaptureQueriesContext

    from pedsdesk.scheduling.actions import check_booking

    day = next_weekday(3)
    TimeOff.objects.create(therapist=working_week, start_at=at(practice, day, 8), end_at=at(practice, day, 12),
                           reason="dentist")
    TimeOff.objects.create(therapist=working_week, start_at=at(practice, day, 17, 30), end_at=at(practice, day, 20))
    afternoon = dict(practice=practice, therapist=working_week, patient=patient, start_at=at(practice, day, 16),
                     end_at=at(practice, day, 16, 45), plan_of_care=patient.plans_of_care.first())
    with CaptureQueriesContext(connection) as context:
        check = check_booking(**afternoon)
    assert not check.blocks and not check.warnings
    assert sum('"scheduling_timeoff"' in q["sql"] for q in context.captured_queries) == 1
    into_the_evening = {**afternoon, "start_at": at(practice, day, 17), "end_at": at(practice, day, 17, 45)}
    assert [p.code for p in check_booking(**into_the_evening).blocks] == ["time_off"]

def test_outside_hours_or_child_windows_warn_and_need_a_reason(front_desk, patient, working_week, practice):
    school_time = at(practice, next_weekday(1), 10)  # Ava is in second grade at 10:00 on a Tuesday
    with pytest.raises(BookingRefused) as warned:
        book(front_desk, patient, working_week, school_time)
    assert codes(warned.value) == {"outside_child_windows"}
    assert not warned.value.check.blocks
    visit = book(front_desk, patient, working_week, school_time, override_reason="School lets her out for OT")
    assert visit.override_reason == "School lets her out for OT"
    evening = at(practice, next_weekday(1), 18, 30)
    with pytest.raises(BookingRefused) as late:
        book(front_desk, patient, working_week, evening)
    assert "outside_hours" in codes(late.value)


def test_family_windows_widen_and_narrow(front_desk, patient, working_week, practice):
    tuesday = next_weekday(1)
    FamilyAvailability.objects.create(patient=patient, weekday=1, start=dt.time(15), end=dt.time(19),
                                      kind="unavailable", note="Soccer on Tuesdays")
    with pytest.raises(BookingRefused) as warned:
        book(front_desk, patient, working_week, at(practice, tuesday, 16))
    assert codes(warned.value) == {"outside_child_windows"}
    FamilyAvailability.objects.create(patient=patient, weekday=3, start=dt.time(9), end=dt.time(11),
                                      kind="available", note="Homeschool morning on Thursdays")
    assert book(front_desk, patient, working_week, at(practice, next_weekday(3), 9, 30))


def test_non_school_day_has_daytime_availability(front_desk, patient, working_week, practice):
    from pedsdesk.schools.models import SchoolDay

    day = next_weekday(4)
    SchoolDay.objects.create(school=patient.school, date=day, kind="no_school", note="Teacher work day")
    assert book(front_desk, patient, working_week, at(practice, day, 10))


def test_moving_bumps_the_sequence_and_rechecks(front_desk, patient, working_week, practice):
    visit = book(front_desk, patient, working_week, at(practice, next_weekday(1), 16))
    other = book(front_desk, make_patient(practice, "Mia", "Chen", school=patient.school, grade="3"),
                 working_week, at(practice, next_weekday(2), 16))
    with pytest.raises(BookingRefused, match="already has a visit"):
        move_appointment(actor=front_desk, appointment=visit, start_at=other.start_at)
    moved = move_appointment(actor=front_desk, appointment=visit, start_at=at(practice, next_weekday(2), 17))
    assert moved.sequence == 1 and moved.local_start.hour == 17


def test_cancellation_records_notice_and_late_cancels(front_desk, patient, working_week, practice):
    start = at(practice, next_weekday(1), 16)
    visit = book(front_desk, patient, working_week, start)
    with pytest.raises(ValueError, match="Give the reason"):
        cancel_appointment(actor=front_desk, appointment=visit, by="family", reason=" ")
    late = cancel_appointment(actor=front_desk, appointment=visit, by="family", reason="Fever",
                              now=start - dt.timedelta(hours=5))
    assert late.status == AppointmentStatus.LATE_CANCEL and late.notice_hours == 5
    again = book(front_desk, patient, working_week, start)
    clinic = cancel_appointment(actor=front_desk, appointment=again, by="clinic", reason="Therapist ill",
                                now=start - dt.timedelta(hours=2))
    assert clinic.status == AppointmentStatus.CANCELLED
    with pytest.raises(ValueError, match="already cancelled"):
        cancel_appointment(actor=front_desk, appointment=clinic, by="clinic", reason="twice")


def test_visit_steps_follow_the_day(front_desk, patient, working_week, practice):
    visit = book(front_desk, patient, working_week, at(practice, next_weekday(1), 16))
    with pytest.raises(ValueError, match="cannot become completed"):
        set_status(actor=front_desk, appointment=set_status(actor=front_desk, appointment=visit, status="no_show"),
                   status="completed")


def test_federal_holidays_preload_as_closures(practice):
    assert load_federal_holidays(practice=practice, years=[2026]) >= 10
    assert Closure.objects.get(practice=practice, date=dt.date(2026, 11, 26)).name == "Thanksgiving Day"
    assert load_federal_holidays(practice=practice, years=[2026]) == 0


@pytest.mark.django_db(transaction=True)
def test_two_people_booking_one_slot_at_once_book_it_once(practice, staff, patient, working_week):
    """Two front-desk people press Book for the same therapist and time at the same moment."""
    # Two self-pay children, so only the clash itself can refuse one of them.
    sibling = make_patient(practice, "Leo", "Lopez", school=patient.school, grade="K")
    neighbour = make_patient(practice, "Mia", "Chen", school=patient.school, grade="2")
    start = at(practice, next_weekday(1), 16)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def attempt(child, actor):
        try:
            barrier.wait(timeout=10)
            book_appointment(actor=actor, practice=practice, therapist=working_week, patient=child,
                             start_at=start, minutes=45)
            results.append("booked")
        except BookingRefused as exc:
            results.append(",".join(sorted(codes(exc))))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(neighbour, staff["front_desk"])),
               threading.Thread(target=attempt, args=(sibling, staff["office_manager"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["booked", "therapist_busy"]
    assert Appointment.objects.filter(therapist=working_week, start_at=start).count() == 1

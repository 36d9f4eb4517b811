"""The schedule screens as the front desk uses them, with and without htmx."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_patient, next_weekday, signed_in
from pedsdesk.people.models import GuardianOf
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.models import Appointment, AppointmentStatus
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def _booking(therapist, child, day, time="16:00", **extra):
    return {"therapist": therapist.pk, "patient": child.pk, "kind": "treatment", "date": day.isoformat(),
            "time": time, "minutes": 45, **extra}


def test_week_grid_shows_visits_in_local_time(front_desk, patient, working_week, practice):
    day = next_weekday(1)
    book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                     start_at=local_to_utc(day, dt.time(16), practice.zone), minutes=45,
                     plan_of_care=patient.plans_of_care.first())
    page = signed_in(front_desk).get(reverse("schedule_week"), {"therapist": working_week.pk, "date": day})
    assert page.status_code == 200
    body = page.content.decode()
    assert "4:00 Ava L." in body and 'rowspan="3"' in body
    assert f"start={day.isoformat()}T16:45" in body  # the next free slot is bookable


def test_week_grid_queries_do_not_grow_with_visits(front_desk, patient, working_week, practice):
    client = signed_in(front_desk)
    day = next_weekday(1)
    # One visit to start with: a week showing any child also writes its (one) audit event.
    book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=make_patient(practice),
                     start_at=local_to_utc(next_weekday(4), dt.time(16), practice.zone), minutes=45)
    client.get(reverse("schedule_week"), {"therapist": working_week.pk, "date": day})
    with CaptureQueriesContext(connection) as empty:
        client.get(reverse("schedule_week"), {"therapist": working_week.pk, "date": day})
    for i, hour in enumerate((8, 9, 10, 11, 13)):
        child = make_patient(practice, f"Kid{i}", "Home")
        book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=child,
                         start_at=local_to_utc(next_weekday(i), dt.time(hour), practice.zone), minutes=45)
    with CaptureQueriesContext(connection) as busy:
        page = client.get(reverse("schedule_week"), {"therapist": working_week.pk, "date": day})
    assert b"Kid4 H." in page.content
    assert len(busy) == len(empty)


def test_book_from_an_empty_slot_with_htmx_returns_the_new_grid(front_desk, patient, working_week):
    client = signed_in(front_desk)
    day = next_weekday(1)
    panel = client.get(reverse("schedule_slot"), {"therapist": working_week.pk, "start": f"{day}T16:00"}, **HX)
    assert b"Book a visit" in panel.content and b'value="16:00' in panel.content
    response = client.post(reverse("schedule_book"), _booking(working_week, patient, day), **HX)
    assert response.status_code == 200 and b"4:00 Ava L." in response.content
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_a_clash_comes_back_into_the_panel_with_its_reason(front_desk, patient, working_week, practice):
    client = signed_in(front_desk)
    day = next_weekday(1)
    client.post(reverse("schedule_book"), _booking(working_week, patient, day), **HX)
    sibling = make_patient(practice, "Leo", "Lopez", school=patient.school, grade="K")
    response = client.post(reverse("schedule_book"), _booking(working_week, sibling, day, "16:15"), **HX)
    assert response["HX-Retarget"] == "#panel"
    assert b"already has a visit" in response.content
    assert Appointment.objects.count() == 1


def test_a_warning_needs_a_reason_then_books(front_desk, patient, working_week):
    client = signed_in(front_desk)
    day = next_weekday(1)
    warned = client.post(reverse("schedule_book"), _booking(working_week, patient, day, "10:00"))
    assert warned.status_code == 400 and b"To book anyway, give a reason" in warned.content
    done = client.post(reverse("schedule_book"),
                       _booking(working_week, patient, day, "10:00", override_reason="School releases her"))
    assert done.status_code == 302
    assert Appointment.objects.get().override_reason == "School releases her"


def test_bad_booking_input_says_what_to_fix(front_desk, patient, working_week):
    response = signed_in(front_desk).post(reverse("schedule_book"), _booking(
        working_week, patient, next_weekday(1), "4pm", minutes=0))
    assert response.status_code == 400
    for text in (b"Enter a valid time", b"greater than or equal to 5"):
        assert text in response.content


def test_move_and_cancel_from_the_panel(front_desk, patient, working_week, practice):
    client = signed_in(front_desk)
    day = next_weekday(1)
    client.post(reverse("schedule_book"), _booking(working_week, patient, day), **HX)
    visit = Appointment.objects.get()
    panel = client.get(reverse("appointment_detail", args=[visit.pk]), **HX)
    assert b"Cancel this visit" in panel.content
    moved = client.post(reverse("appointment_move", args=[visit.pk]),
                        {"date": next_weekday(3).isoformat(), "time": "16:30"}, **HX)
    assert b"4:30 Ava L." in moved.content
    refused = client.post(reverse("appointment_cancel", args=[visit.pk]), {"by": "family", "reason": ""}, **HX)
    assert b"Say who cancelled and why" in refused.content
    client.post(reverse("appointment_cancel", args=[visit.pk]), {"by": "family", "reason": "Sick"}, **HX)
    visit.refresh_from_db()
    assert visit.status in (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL)
    assert visit.cancel_reason == "Sick"


def test_day_view_lists_visits_and_density(front_desk, patient, working_week, practice):
    day = next_weekday(1)
    book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                     start_at=local_to_utc(day, dt.time(16), practice.zone), minutes=45,
                     plan_of_care=patient.plans_of_care.first())
    page = signed_in(front_desk).get(reverse("schedule_day"), {"date": day})
    body = page.content.decode()
    assert "Ava Lopez" in body and "(512) 555-0142" in body
    assert "45 min" in body and "3240 min" in body  # 5 x 10 h + 4 h working


def test_billing_sees_the_schedule_but_cannot_book(billing, patient, working_week):
    client = signed_in(billing)
    assert client.get(reverse("schedule_week")).status_code == 200
    assert client.post(reverse("schedule_book"), _booking(working_week, patient, next_weekday(1))).status_code == 403


def test_the_fall_back_week_keeps_wall_clock_times(front_desk, patient, working_week, practice, monkeypatch):
    """The week of 2026-11-01 (clocks back an hour on Sunday): a series at 16:00 stays at
    16:00 local on both sides, and the grid shows it there."""
    import datetime as dt

    from django.utils import timezone

    from pedsdesk.scheduling.series import create_series, extend_series

    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC))
    series = create_series(actor=front_desk, plan_of_care=patient.plans_of_care.get(), weekday=4,
                           start_time=dt.time(16), start_date=dt.date(2026, 10, 26))
    extend_series(series=series, through=dt.date(2026, 11, 8), now=dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC))
    visits = list(Appointment.objects.filter(series=series).order_by("start_at"))
    assert [v.start_at.hour for v in visits] == [21, 22]  # 16:00 CDT, then 16:00 CST
    assert {v.local_start.time() for v in visits} == {dt.time(16)}
    page = signed_in(front_desk).get(reverse("schedule_week"), {"therapist": working_week.pk, "date": "2026-11-06"})
    assert b"4:00 Ava L." in page.content


def test_day_view_queries_do_not_grow_with_visits_or_therapists(front_desk, patient, working_week, practice):
    from conftest import make_guardian, make_staff
    from pedsdesk.scheduling.models import WorkingHours

    client = signed_in(front_desk)
    day = next_weekday(2)

    def add_therapist(t: int) -> None:
        colleague = make_staff(practice, f"colleague{t}", "therapist")
        WorkingHours.objects.create(therapist=colleague, weekday=day.weekday(), start=dt.time(8), end=dt.time(18))
        for i, hour in enumerate((8, 9, 10, 14)):
            child = make_patient(practice, f"Kid{t}{i}", "Busy")
            make_guardian(child, first=f"Parent{t}{i}", phone=f"+15125550{t}{i}9")
            book_appointment(actor=front_desk, practice=practice, therapist=colleague, patient=child,
                             start_at=local_to_utc(day, dt.time(hour), practice.zone), minutes=45)

    add_therapist(0)
    client.get(reverse("schedule_day"), {"date": day})
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("schedule_day"), {"date": day})
    for t in range(1, 4):
        add_therapist(t)
    with CaptureQueriesContext(connection) as four:
        page = client.get(reverse("schedule_day"), {"date": day})
    assert page.status_code == 200 and b"Kid33 B." in page.content
    assert len(four) == len(one)


def test_day_view_never_lists_the_days_children_in_a_query(front_desk, working_week, practice):
    """A big practice's day has thousands of children: a query naming each of them grows past
    what SQLite takes (a 10,000-child practice's day page was a 500). Every query of the page
    keeps its size however many children come, and the desk still sees each primary contact."""
    from conftest import make_guardian

    client = signed_in(front_desk)
    day = next_weekday(2)

    def add_children(first: int, count: int) -> None:
        for i in range(first, first + count):
            child = make_patient(practice, f"Kid{i}", "Busy")
            make_guardian(child, first=f"Parent{i}", phone=f"+1512555{i:04d}")
            book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=child,
                             start_at=local_to_utc(day, dt.time(8), practice.zone) + dt.timedelta(minutes=30 * i),
                             minutes=30)

    def parameters() -> tuple[list[int], bytes]:
        sizes: list[int] = []

        def measure(execute, sql, params, many, context):
            sizes.append(len(params or ()))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(measure):
            page = client.get(reverse("schedule_day"), {"date": day})
        assert page.status_code == 200
        return sizes, page.content

    add_children(0, 1)
    client.get(reverse("schedule_day"), {"date": day})
    one, _ = parameters()
    add_children(1, 8)
    nine, body = parameters()
    assert nine == one  # query by query, as many parameters
    assert b"(512) 555-0008" in body and b"Kid8 B." in body
    from pedsdesk.audit.models import AuditEvent

    listed = AuditEvent.objects.filter(action="list", object_type="scheduling.appointment").latest("seq")
    shown = set(GuardianOf.objects.filter(patient__first_name__startswith="Kid").values_list("guardian_id", flat=True))
    assert set(listed.detail["guardian_ids"]) == shown  # whose numbers the desk read


def test_a_meeting_block_shows_its_title_on_the_day_and_the_week(front_desk, patient, working_week, practice):
    day = next_weekday(1)
    book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=None, title="Team huddle",
                     kind="meeting", start_at=local_to_utc(day, dt.time(9), practice.zone), minutes=30)
    book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                     start_at=local_to_utc(day, dt.time(16), practice.zone), minutes=45,
                     plan_of_care=patient.plans_of_care.first())
    client = signed_in(front_desk)
    body = client.get(reverse("schedule_day"), {"date": day}).content.decode()
    assert body.count("Team huddle") == 3  # the list, the grid and the phone's agenda
    assert f'href="{patient.get_absolute_url()}">Ava Lopez</a>' in body and "4:00 Ava L." in body
    week = client.get(reverse("schedule_week"), {"therapist": working_week.pk, "date": day}).content.decode()
    assert "9:00 Team huddle" in week and "4:00 Ava L." in week

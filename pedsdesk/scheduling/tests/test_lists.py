"""The waitlist, the fill-the-gap list and the openings pages."""

import datetime as dt

import pytest
from django.urls import reverse

from conftest import make_patient, next_weekday, signed_in
from pedsdesk.scheduling.models import GapListEntry, Opening, WaitlistEntry
from pedsdesk.scheduling.queries import refill_measures
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.scheduling.windows import WindowError, format_windows, parse_windows

pytestmark = pytest.mark.django_db


def test_windows_read_the_way_people_type_them():
    windows = parse_windows("Mon 15:30-18:00; wednesday 9:00 - 11:30")
    assert windows == [{"weekday": 0, "start": "15:30", "end": "18:00"},
                       {"weekday": 2, "start": "09:00", "end": "11:30"}]
    assert format_windows(windows) == "Mon 15:30-18:00; Wed 09:00-11:30"
    for bad, message in (("Monday afternoons", "is not a window"), ("Mon 18:00-15:30", "ends before it starts"),
                         ("Mon 25:00-26:00", "not a time of day")):
        with pytest.raises(WindowError, match=message):
            parse_windows(bad)


def test_front_desk_adds_a_referral_to_the_waitlist(front_desk, practice):
    child = make_patient(practice, "Eli", "New")
    client = signed_in(front_desk)
    response = client.post(reverse("waitlist_create"), {
        "patient": child.pk, "discipline": "SLP", "referral_date": "2026-10-01", "priority": 2,
        "windows": "Tue 15:30-18:00", "intake_complete": "on"})
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert entry.windows == [{"weekday": 1, "start": "15:30", "end": "18:00"}]
    page = client.get(reverse("waitlist"))
    assert b"Eli New" in page.content and b"SLP" in page.content
    # How long, in words ("2 months"): the column is not a count of days.
    assert b"Waiting since referral" in page.content and b"Days waiting" not in page.content


def test_bad_waitlist_input_says_what_to_fix(front_desk, practice, therapist):
    child = make_patient(practice, "Eli", "New")
    future = (practice.local_now().date() + dt.timedelta(days=3)).isoformat()
    response = signed_in(front_desk).post(reverse("waitlist_create"), {
        "patient": child.pk, "discipline": "SLP", "referral_date": future, "priority": 7,
        "windows": "after school", "preferred_therapist": therapist.pk})
    assert response.status_code == 400
    for text in (b"cannot be in the future", b"Priority is 1", b"is not a window", b"is OT, not SLP"):
        assert text in response.content
    assert not WaitlistEntry.objects.exists()


def test_gap_list_needs_a_current_plan_and_times(front_desk, patient):
    client = signed_in(front_desk)
    bad = client.post(reverse("gap_create"), {"plan_of_care": patient.plans_of_care.get().pk, "reason": "earlier",
                                              "windows": "", "active": "on"})
    assert b"Give at least one time" in bad.content
    good = client.post(reverse("gap_create"), {"plan_of_care": patient.plans_of_care.get().pk, "reason": "earlier",
                                               "windows": "Mon 15:30-17:00", "active": "on"})
    assert good.status_code == 302 and GapListEntry.objects.get().patient == patient
    assert b"Mon 15:30-17:00" in client.get(reverse("gap_list")).content


def test_openings_page_shows_the_weeks_measures(front_desk, practice, working_week, patient):
    day = next_weekday(1)
    start = local_to_utc(day, dt.time(16), practice.zone)
    filled = Opening.objects.create(practice=practice, therapist=working_week, start_at=start,
                                    end_at=start + dt.timedelta(minutes=45), status=Opening.Status.FILLED)
    Opening.objects.filter(pk=filled.pk).update(filled_at=filled.created_at + dt.timedelta(minutes=12))
    Opening.objects.create(practice=practice, therapist=working_week, start_at=start + dt.timedelta(hours=1),
                           end_at=start + dt.timedelta(hours=2))
    measures = refill_measures(practice, day)
    assert (measures["openings"], measures["filled"], measures["fill_rate"]) == (2, 1, 50)
    assert measures["median_minutes_to_fill"] == 12
    page = signed_in(front_desk).get(reverse("opening_list"), {"date": day})
    assert b"50%" in page.content and b"12 min" in page.content
    detail = signed_in(front_desk).get(reverse("opening_detail", args=[filled.pk]))
    assert detail.status_code == 200


def test_the_dashboard_shows_the_weeks_refill_measures(office_manager, working_week, practice):
    page = signed_in(office_manager).get(reverse("dashboard"))
    assert b"Openings this week" in page.content and b"Schedule density this week" in page.content


def test_a_plan_gets_a_weekly_time_and_the_chart_shows_the_visits(front_desk, patient, working_week):
    from pedsdesk.scheduling.models import Appointment, Series

    plan = patient.plans_of_care.get()
    client = signed_in(front_desk)
    response = client.post(reverse("plan_series_create", args=[plan.pk]), {"weekday": "1", "time": "16:00"})
    assert response.status_code == 302
    series = Series.objects.get(plan_of_care=plan)
    assert series.weekday == 1 and Appointment.objects.filter(series=series).count() >= 4
    bad = client.post(reverse("plan_series_create", args=[plan.pk]), {"weekday": "1", "time": "4pm"}, follow=True)
    assert b"Choose a weekday and a time" in bad.content
    chart = client.get(reverse("patient_detail", args=[patient.pk]))
    assert b"Upcoming visits" in chart.content and b"4:00 PM" in chart.content
    plan_page = client.get(reverse("plan_of_care_detail", args=[plan.pk]))
    assert b"Tuesdays at 4:00 PM" in plan_page.content


def test_holidays_are_preloaded_once_and_stay_removed(practice):
    from pedsdesk.scheduling.models import Closure
    from pedsdesk.scheduling.tasks import federal_holidays

    assert federal_holidays(practice=practice) >= 20
    Closure.objects.filter(practice=practice, name__startswith="Columbus").delete()
    assert federal_holidays(practice=practice) == 0
    assert not Closure.objects.filter(practice=practice, name__startswith="Columbus").exists()


def test_working_hours_and_time_off_are_kept_from_their_page(front_desk, working_week, practice):
    from pedsdesk.scheduling.models import TimeOff, WorkingHours

    client = signed_in(front_desk)
    url = reverse("availability") + f"?therapist={working_week.pk}"
    overlap = client.post(url, {"therapist": working_week.pk, "hours-weekday": 0, "hours-start": "17:00",
                                "hours-end": "19:00"})
    assert overlap.status_code == 400 and b"overlap hours already set for Monday" in overlap.content
    backwards = client.post(url, {"therapist": working_week.pk, "hours-weekday": 6, "hours-start": "12:00",
                                  "hours-end": "09:00"})
    assert b"must end after they start" in backwards.content
    assert client.post(url, {"therapist": working_week.pk, "hours-weekday": 6, "hours-start": "09:00",
                             "hours-end": "12:00"}).status_code == 302
    assert WorkingHours.objects.filter(therapist=working_week, weekday=6).exists()
    day = next_weekday(2)
    bad_off = client.post(url, {"therapist": working_week.pk, "off-start_date": day.isoformat(),
                                "off-end_date": (day - dt.timedelta(days=1)).isoformat()})
    assert b"cannot end before it starts" in bad_off.content
    client.post(url, {"therapist": working_week.pk, "off-start_date": day.isoformat(),
                      "off-end_date": day.isoformat(), "off-reason": "Conference"})
    off = TimeOff.objects.get()
    assert off.end_at - off.start_at == dt.timedelta(days=1)


def test_a_therapist_keeps_only_their_own_hours(therapist, practice):
    from conftest import make_staff

    colleague = make_staff(practice, "pam", "therapist", discipline="PT")
    client = signed_in(therapist)
    url = reverse("availability") + f"?therapist={colleague.pk}"
    assert client.get(url).status_code == 200
    assert client.post(url, {"therapist": colleague.pk, "hours-weekday": 0, "hours-start": "09:00",
                             "hours-end": "12:00"}).status_code == 403


def test_closures_are_added_once_and_can_be_reopened(office_manager, front_desk, practice):
    from pedsdesk.scheduling.models import Closure

    client = signed_in(office_manager)
    day = next_weekday(4, weeks_ahead=3)
    assert client.post(reverse("closures"), {"closure-date": day.isoformat(), "closure-name": "Staff training"}
                       ).status_code == 302
    again = client.post(reverse("closures"), {"closure-date": day.isoformat(), "closure-name": "Twice"})
    assert b"already closed on" in again.content
    assert signed_in(front_desk).post(reverse("closures"), {"closure-date": day.isoformat(),
                                                            "closure-name": "x"}).status_code == 403
    client.post(reverse("closure_delete", args=[Closure.objects.get().pk]))
    assert not Closure.objects.exists()


def test_the_office_manager_sets_how_the_practice_schedules(office_manager, front_desk, practice):
    from pedsdesk.scheduling.models import ConfirmationPolicy, SchedulingPolicy

    client = signed_in(office_manager)
    page = client.get(reverse("scheduling_settings"))
    assert page.status_code == 200 and b"Reminders, hours before the visit" in page.content
    data = {"policy-school_travel_minutes": 30, "policy-daytime_start": "08:00", "policy-daytime_end": "18:00",
            "policy-evening_end": "19:00", "policy-treatment_week_days": 6, "policy-late_cancel_hours": 24,
            "policy-minimum_notice_hours": "2", "policy-series_weeks_ahead": 6, "policy-offer_makeups": "on",
            "policy-offer_policy": "sequential", "policy-offer_batch_size": 3, "policy-offer_expiry_minutes": 20,
            "reminders-reminder_hours": "24, 72", "reminders-unconfirmed_task_hours": 24,
            "reminders-misses_in_a_row": 3, "reminders-attendance_floor_percent": 80,
            "reminders-attendance_window_days": 60, "reminders-attendance_minimum_visits": 5}
    bad = client.post(reverse("scheduling_settings"), {**data, "reminders-reminder_hours": "two days",
                                                       "policy-treatment_week_days": 9})
    assert bad.status_code == 400
    assert b"Write whole hours" in bad.content and b"5, 6 or 7 days" in bad.content
    assert client.post(reverse("scheduling_settings"), data).status_code == 302
    assert SchedulingPolicy.for_practice(practice).offer_policy == "sequential"
    assert ConfirmationPolicy.for_practice(practice).reminder_hours == [72, 24]
    assert signed_in(front_desk).get(reverse("scheduling_settings")).status_code == 403

"""The week grid reads at a glance: back-to-back visits are separate blocks on a linear
time axis, what has begun offers no "+", today stands out; the visit panel says whom to
call and whether the payer covers the visit, with buttons that say what they do."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import next_weekday, signed_in
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.queries import build_grid, therapist_week
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db


def _book(front_desk, practice, therapist, patient, day, time, minutes=45):
    return book_appointment(actor=front_desk, practice=practice, therapist=therapist, patient=patient,
                            start_at=local_to_utc(day, time, practice.zone), minutes=minutes,
                            plan_of_care=patient.plans_of_care.first(), override_reason="test")


def test_back_to_back_visits_are_two_blocks_each_as_tall_as_its_time(front_desk, patient, working_week, practice):
    day = next_weekday(1)
    _book(front_desk, practice, working_week, patient, day, dt.time(9))
    _book(front_desk, practice, working_week, patient, day, dt.time(9, 45), minutes=30)
    body = signed_in(front_desk).get(reverse("schedule_week"), {"therapist": working_week.pk, "date": day}).content
    blocks = re.findall(r'rowspan="(\d)" class="visit[^"]*">\s*<a [^>]*class="block span-(\d)', body.decode())
    assert blocks == [("3", "3"), ("2", "2")]
    # one row per 15 minutes from 8:00 to 19:00, every row the same height in the stylesheet
    assert body.decode().count('<th scope="row" class="time">') == 44


def test_slots_that_have_begun_offer_no_plus(practice, working_week):
    zone = practice.zone
    day = next_weekday(1)
    now = local_to_utc(day, dt.time(12, 5), zone)
    grid = build_grid(practice, [("Tue", day, working_week)], now=now)
    kinds = {row.time: row.cells[0].kind for row in grid.rows}
    assert kinds[dt.time(11, 45)] == "past" and kinds[dt.time(12, 0)] == "past"
    assert kinds[dt.time(12, 15)] == "free" and kinds[dt.time(8)] == "past"


def test_the_page_offers_no_plus_before_now_and_marks_today(front_desk, working_week, practice):
    now = timezone.now()
    today = now.astimezone(practice.zone).date()
    body = signed_in(front_desk).get(reverse("schedule_week"), {"therapist": working_week.pk,
                                                                "date": today}).content.decode()
    starts = [dt.datetime.fromisoformat(s).replace(tzinfo=practice.zone)
              for s in re.findall(r'start=(\d{4}-\d\d-\d\dT\d\d:\d\d)" class="slot"', body)]
    assert all(start + dt.timedelta(minutes=15) > now for start in starts)
    if today.weekday() < 6:  # the grid shows Monday to Saturday
        assert 'class="today" aria-current="date"' in body and "(today)" in body
    grid = therapist_week(practice, working_week, today)
    assert grid.today == today


def test_the_visit_panel_has_the_guardians_phone_and_the_authorization(front_desk, patient, working_week,
                                                                        practice):
    visit = _book(front_desk, practice, working_week, patient, next_weekday(1), dt.time(16))
    body = signed_in(front_desk).get(visit.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert '<a href="tel:+15125550142">(512) 555-0142</a>' in body and "primary contact" in body
    authorization = patient.coverages.get().authorizations.get()
    assert "Covered" in body and f"#{authorization.number}" in body and "left" in body
    for action in ("Confirm", "Check in", "Mark completed", "Mark no-show"):
        assert f">{action}</button>" in body
    assert ">Checked in</button>" not in body and ">No-show</button>" not in body


def test_a_visit_after_the_authorization_ends_says_it_is_not_covered(front_desk, patient, working_week, practice):
    authorization = patient.coverages.get().authorizations.get()
    authorization.end_date = next_weekday(1) - dt.timedelta(days=1)
    authorization.save()
    visit = _book(front_desk, practice, working_week, patient, next_weekday(1), dt.time(16))
    body = signed_in(front_desk).get(visit.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "Not covered" in body and "after the authorization ends" in body


def test_a_child_without_coverage_says_so_on_the_panel(front_desk, patient, working_week, practice):
    patient.coverages.update(end_date=next_weekday(1) - dt.timedelta(days=1))
    visit = _book(front_desk, practice, working_week, patient, next_weekday(1), dt.time(16))
    body = signed_in(front_desk).get(visit.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "No coverage" in body and "Not covered" not in body

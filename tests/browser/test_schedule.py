"""The front desk books, moves and cancels in the week grid without a page reload, and a
family takes an offered time from the link in their text."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, make_coverage, make_guardian, make_patient, make_payer, next_weekday
from pedsdesk.people.models import PlanOfCare, PlanOfCareService
from pedsdesk.portal.models import FamilyLink
from pedsdesk.portal.tokens import make_token
from pedsdesk.scheduling.actions import book_appointment, cancel_appointment
from pedsdesk.scheduling.models import Appointment, AppointmentStatus, Offer
from pedsdesk.scheduling.timeslots import local_to_utc
from tests.browser.conftest import assert_accessible, sign_in_without_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, user) -> None:
    sign_in_without_second_factor(page, user, PASSWORD)


def test_book_move_and_cancel_in_the_week_grid(page, front_desk, patient, working_week):
    tuesday = next_weekday(1)
    _sign_in(page, front_desk)
    page.goto(f"/schedule/?therapist={working_week.pk}&date={tuesday.isoformat()}")
    assert_accessible(page)
    page.get_by_label(f"Book {tuesday:%a %b} {tuesday.day}, 4:00 PM").click()
    form = page.locator("#panel form")
    # The child picker is a search box: a guardian's phone in any format finds the child.
    form.get_by_label("Child", exact=True).fill("(512) 555-0142")
    form.get_by_label("Ava Lopez").check()
    url_before = page.url
    form.get_by_role("button", name="Book").click()
    grid = page.get_by_test_id("schedule-grid")
    expect(grid.get_by_role("link", name="4:00 Ava L.")).to_be_visible()
    assert page.url == url_before  # no page load
    visit = Appointment.objects.get(patient=patient)

    grid.get_by_role("link", name="4:00 Ava L.").click()
    panel = page.locator("#panel")
    expect(panel.get_by_text("Tue")).to_be_visible()
    panel.locator("summary", has_text="Move").click()
    panel.get_by_label("Time").fill("16:30")
    panel.get_by_role("button", name="Move").click()
    expect(grid.get_by_role("link", name="4:30 Ava L.")).to_be_visible()
    visit.refresh_from_db()
    assert visit.local_start.time() == dt.time(16, 30) and visit.sequence == 1

    grid.get_by_role("link", name="4:30 Ava L.").click()
    panel.get_by_text("Cancel this visit").click()
    panel.get_by_label("Family").check()
    panel.get_by_label("Reason", exact=True).fill("Fever")
    panel.get_by_role("button", name="Cancel visit").click()
    expect(grid.get_by_role("link", name="4:30 Ava L.")).to_have_count(0)
    visit.refresh_from_db()
    assert visit.status in (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL)


def test_a_family_takes_an_offered_time_from_the_link(page, front_desk, patient, working_week, practice):
    tuesday = next_weekday(1)
    visit = book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                             start_at=local_to_utc(tuesday, dt.time(16), practice.zone), minutes=45,
                             plan_of_care=patient.plans_of_care.get())
    ben = make_patient(practice, "Ben", "Ortiz", school=patient.school, grade="3")
    make_guardian(ben, first="Marta", phone="+15125550111")
    make_coverage(ben, make_payer(practice, name="Ben's plan", requires_authorization=False))
    plan = PlanOfCare.objects.create(patient=ben, discipline="OT", therapist=working_week, frequency_per_week=1,
                                     minutes=45, start_date=dt.date(2026, 9, 1), end_date=dt.date(2027, 2, 28),
                                     goals="Buttons")
    PlanOfCareService.objects.create(plan_of_care=plan, cpt_code="97530", units=3)
    cancel_appointment(actor=front_desk, appointment=visit, by="family", reason="Sick")
    offer = Offer.objects.get(patient=ben)
    token = make_token(FamilyLink.objects.get(guardian=offer.guardian, purpose="offer"))

    page.goto(f"/f/{token}/offers/{offer.pk}/")
    expect(page.get_by_role("heading", name="A visit time for Ben")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, book it").click()
    expect(page.get_by_text("Booked! See you then.")).to_be_visible()
    assert Appointment.objects.get(patient=ben).local_start.time() == dt.time(16)

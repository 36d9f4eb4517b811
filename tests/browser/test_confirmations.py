"""A guardian opens the link from their reminder text and confirms, or cancels, a visit."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from pedsdesk.messaging.models import Message
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.models import Appointment, AppointmentStatus
from pedsdesk.scheduling.timeslots import local_to_utc
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reminded(settings, tmp_path, front_desk, patient, working_week, practice):
    """A visit three to five days ahead, booked for real, and the path of the link its reminder carries."""
    settings.DATA_DIR = tmp_path
    settings.PEDSDESK_MESSAGING_KICK = False
    day = practice.local_now().date() + dt.timedelta(days=3)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    visit = book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                             start_at=local_to_utc(day, dt.time(16), practice.zone), minutes=45,
                             plan_of_care=patient.plans_of_care.get(), override_reason="test")
    body = Message.objects.filter(kind="visit_reminder", about_id=visit.pk).first().body
    return visit, urlsplit(re.search(r"(http://\S+/f/\S+/)", body).group(1)).path


def test_a_guardian_confirms_a_visit_from_the_reminder_link(page, reminded):
    visit, path = reminded
    page.goto(path)
    visits = page.get_by_role("region", name="Upcoming visits")
    expect(visits).to_be_visible()
    card = visits.get_by_test_id(f"visit-{visit.pk}")
    expect(card.get_by_text("Not confirmed yet")).to_be_visible()
    assert_accessible(page)
    card.get_by_role("button", name="Confirm this visit").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.get_by_text("is confirmed.")).to_be_visible()
    assert_accessible(page)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    page.get_by_role("link", name="Back to Ava’s page").click()
    card = page.get_by_test_id(f"visit-{visit.pk}")
    expect(card.get_by_text("Confirmed", exact=True)).to_be_visible()
    expect(card.get_by_role("button", name="Confirm this visit")).to_have_count(0)


def test_a_guardian_cancels_with_a_reason(page, reminded, patient):
    visit, path = reminded
    patient.guardians.update(language="es")
    page.goto(path)
    card = page.get_by_test_id(f"visit-{visit.pk}")
    card.get_by_text("Cancelar esta cita").click()
    card.get_by_label("¿Por qué cancela?").select_option("sick")
    card.get_by_label("¿Algo más que debamos saber? (opcional)").fill("fiebre")
    assert_accessible(page)
    card.get_by_role("button", name="Cancelar la cita").click()
    expect(page.get_by_role("heading", name="Cita cancelada")).to_be_visible()
    visit = Appointment.objects.get(pk=visit.pk)
    assert visit.status == AppointmentStatus.CANCELLED and visit.cancel_reason == "Child is sick: fiebre"

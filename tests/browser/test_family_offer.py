"""A Spanish-speaking family opens an offer on a phone: the practice's hour, Spanish words,
a deadline with its day; a broken family link and a missing staff page look like the site."""

import datetime as dt
import os

import pytest
from playwright.sync_api import expect

from pedsdesk.portal.actions import create_family_link
from pedsdesk.portal.tests.helpers import path_of
from pedsdesk.scheduling.models import Offer, Opening
from pedsdesk.scheduling.timeslots import local_to_utc
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("PEDSDESK_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.fixture
def phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    return page


def test_a_spanish_offer_on_a_phone_shows_the_practice_hour(phone, settings, tmp_path, patient, working_week,
                                                           practice, owner):
    settings.DATA_DIR = tmp_path
    guardian = patient.guardians.get()
    guardian.language = "es"
    guardian.save()
    day = practice.local_now().date() + dt.timedelta(days=8)
    while day.weekday() != 0:
        day += dt.timedelta(days=1)
    start = local_to_utc(day, dt.time(8), practice.zone)
    opening = Opening.objects.create(practice=practice, therapist=working_week, start_at=start,
                                     end_at=start + dt.timedelta(minutes=45), status=Opening.Status.OFFERING)
    deadline = local_to_utc(day - dt.timedelta(days=3), dt.time(15, 55), practice.zone)
    offer = Offer.objects.create(opening=opening, patient=patient, guardian=guardian, candidate_kind="makeup",
                                 rank=1, status=Offer.Status.SENT, sent_at=start - dt.timedelta(days=5),
                                 expires_at=deadline)
    _, url = create_family_link(actor=owner, guardian=guardian, patient=patient, purpose="offer")
    phone.goto(f"{path_of(url)}offers/{offer.pk}/")
    # 8:00 in Chicago, never the UTC 14:00
    expect(phone.get_by_text("08:00 – 08:45")).to_be_visible()
    expect(phone.get_by_text("hasta el viernes")).to_be_visible()
    assert "14:00" not in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(phone)
    _shot(phone, "offer-es-390")
    phone.get_by_role("button", name="Sí, reservarla").click()
    expect(phone.get_by_text("¡Reservada! Nos vemos entonces.")).to_be_visible()
    expect(phone.get_by_text("08:00 – 08:45")).to_be_visible()
    _shot(phone, "offer-es-booked-390")


def test_a_broken_family_link_and_a_missing_page_look_like_the_site(phone, practice):
    phone.goto("/f/nothing/offers/1/")
    expect(phone.get_by_role("heading", name="This link does not work")).to_be_visible()
    expect(phone.get_by_role("heading", name="Este enlace no funciona")).to_be_visible()
    assert_accessible(phone)
    _shot(phone, "family-404-390")
    phone.goto("/no/such/page/")
    expect(phone.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_accessible(phone)
    _shot(phone, "staff-404-390")

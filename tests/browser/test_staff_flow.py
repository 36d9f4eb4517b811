"""A front-desk person's morning, in a real browser: sign in with the authenticator
code, open the dashboard, find a child, open the chart, and fix a guardian's phone."""

import pyotp
import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_front_desk_signs_in_finds_a_child_and_sees_a_phone_error(page, front_desk, patient):
    page.goto("/login/")
    assert_accessible(page)
    page.get_by_label("Username").fill("fran")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # First sign-in: enrol the authenticator from the key shown beside the QR code.
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_alt_text("QR code for your authenticator app")).to_be_visible()
    assert_accessible(page)
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Find a patient").fill("Lopez")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Ava Lopez", exact=True).click()

    expect(page.get_by_role("heading", name="Ava Lopez")).to_be_visible()
    expect(page.locator("#coverages").get_by_text("Lone Star Medicaid")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Rosa Lopez", exact=True).click()
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Phone").fill("555-12")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("is not a valid phone number")).to_be_visible()
    assert_accessible(page)
    patient.guardians.get().refresh_from_db()
    assert patient.guardians.get().phone == "+15125550142"


def test_wrong_authenticator_code_keeps_the_door_shut(page, front_desk):
    page.goto("/login/")
    page.get_by_label("Username").fill("fran")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("6-digit code").fill("123456")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    page.goto("/patients/")
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()

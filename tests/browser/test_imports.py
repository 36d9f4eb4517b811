"""The office manager checks and applies a WebPT export on the Imports page in a real
browser, on a desk and on a phone: the dry-run table, the unknown therapist mapped, apply."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pedsdesk.demo.generator import seed_demo
from pedsdesk.people.models import Patient
from pedsdesk.scheduling.models import Appointment
from tests.browser.conftest import assert_accessible
from tests.browser.test_call_list import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLES = Path(__file__).resolve().parents[2] / "pedsdesk" / "interop" / "samples"
SHOTS = os.environ.get("PEDSDESK_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_the_office_manager_imports_a_webpt_export(page):
    practice = seed_demo(size="small", simulate_week=False).practice
    before = Patient.objects.filter(practice=practice).count()
    sign_in(page, "manager")
    page.get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Imports", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("What the file is").select_option("webpt-patients")
    page.get_by_label("Export file").set_input_files(str(SAMPLES / "webpt-patients.csv"))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("status")).to_contain_text("Dry run, nothing rejected.")
    expect(page.get_by_role("status")).to_contain_text("3 rows: 3 new")
    assert Patient.objects.filter(practice=practice).count() == before
    assert_accessible(page)
    shot(page, "imports-dry-run")
    page.get_by_role("button", name="Apply this import").click()
    expect(page.get_by_role("status")).to_contain_text("Applied.")
    assert Patient.objects.filter(practice=practice).count() == before + 3

    page.goto("/imports/")
    page.get_by_label("What the file is").select_option("webpt-extract-appointments")
    page.get_by_label("Export file").set_input_files(str(SAMPLES / "webpt-extract-appointments.csv"))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("status")).to_contain_text("Rejected, nothing changed.")
    expect(page.get_by_role("cell", name='"T17" is not one of this practice\'s therapists: map it to an '
                                          "existing one or create it.").first).to_be_visible()
    assert_accessible(page)
    shot(page, "imports-rejected")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "imports-rejected-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Therapist “T17” (rows 2, 3, 4, 5)").select_option(index=1)
    page.get_by_role("button", name="Check again").click()
    expect(page.get_by_role("status")).to_contain_text("Dry run, nothing rejected.")
    page.get_by_role("button", name="Apply this import").click()
    expect(page.get_by_role("status")).to_contain_text("Applied.")
    assert Appointment.objects.filter(practice=practice, patient__last_name="Muñoz").count() == 2
    page.goto("/imports/")
    shot(page, "imports-history")

"""Home programs' other screens, in the browser as the role that uses each: the
therapist's Today and saved templates, the office manager's thresholds, the front
desk's count on Today, and the family's printout link on a phone in Spanish."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, make_guardian, make_patient, make_plan_of_care
from pedsdesk.hep.actions import ItemInput, update_and_send
from pedsdesk.hep.models import HepPolicy, ProgramTemplate
from pedsdesk.hep.tests.conftest import starter
from pedsdesk.portal.actions import create_family_link
from pedsdesk.scheduling.models import Appointment
from tests.browser.conftest import assert_accessible, sign_in_without_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def today(settings, tmp_path, practice, therapist, patient):
    """Ava (a program her mother has not opened) and Leo (no program) see Theo today."""
    settings.DATA_DIR = tmp_path
    settings.PEDSDESK_MESSAGING_KICK = False
    update_and_send(actor=therapist, patient=patient, note="", guardians=list(patient.guardians.all()),
                    items=[ItemInput(activity_id=starter(k).pk) for k in ("ot-playdough-pinch", "ot-zipper-coat")])
    leo = make_patient(practice, "Leo", "Ng")
    make_guardian(leo, "Mai")
    make_plan_of_care(leo, therapist)
    day = practice.local_now().date()
    for n, child in enumerate((patient, leo)):
        start = dt.datetime.combine(day, dt.time(8 + n), tzinfo=practice.zone)
        Appointment.objects.create(practice=practice, patient=child, therapist=therapist,
                                   plan_of_care=child.plans_of_care.first(), start_at=start,
                                   end_at=start + dt.timedelta(minutes=45))
    return leo


def test_the_therapist_acts_from_today_and_starts_a_program_from_a_saved_template(page, today, therapist):
    sign_in_without_second_factor(page, therapist, PASSWORD)
    page.goto("/")
    section = page.locator("#today-home-programs")
    expect(section.get_by_test_id("today-hep-row")).to_have_count(2)
    expect(section).to_contain_text("Family has not opened it")
    assert_accessible(page)
    section.get_by_role("link", name="Open program").click()
    page.get_by_label("Template name").fill("Fine motor starter")
    page.get_by_role("button", name="Save as template").click()
    expect(page.get_by_text("Saved as the practice's template “Fine motor starter”.")).to_be_visible()
    assert_accessible(page)
    page.goto("/")
    page.locator("#today-home-programs").get_by_role("link", name="Start one").click()
    page.get_by_label("Start from").select_option(label="Template: Fine motor starter (2 activities)")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_test_id("hep-row")).to_have_count(2)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Version 1 sent to Mai Ng.")).to_be_visible()
    assert ProgramTemplate.objects.get().items.count() == 2
    assert today.home_program.current_version.items.count() == 2


def test_the_office_manager_sets_the_thresholds_and_is_told_what_to_fix(page, today, office_manager, practice):
    sign_in_without_second_factor(page, office_manager, PASSWORD)
    page.goto("/home-programs/")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label(re.compile("Low practice below")).fill("1.5")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Use a number from 0.05 to 1.00; 1.5 is outside that range.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label(re.compile("Low practice below")).fill("0.4")
    page.get_by_label(re.compile("Follow up an unopened program")).fill("24")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Home program settings saved.")).to_be_visible()
    policy = HepPolicy.objects.get(practice=practice)
    assert (float(policy.low_adherence), policy.open_within_hours) == (0.4, 24)


def test_the_front_desk_sees_a_count_and_the_family_prints_on_a_phone(page, browser, live_server, today, front_desk,
                                                                      patient):
    sign_in_without_second_factor(page, front_desk, PASSWORD)
    page.goto("/")
    section = page.locator("#today-home-programs")
    expect(section).to_contain_text("of the 2 families coming today has not opened")
    assert_accessible(page)
    section.get_by_role("link", name="See who").click()
    expect(page.get_by_test_id("caseload-row")).to_have_count(1)

    patient.guardians.update(language="es")
    _, url = create_family_link(actor=front_desk, guardian=patient.guardians.get(), patient=patient)
    phone = browser.new_context(base_url=live_server.url, bypass_csp=True, viewport={"width": 390, "height": 844},
                                locale="es-US", accept_downloads=True)
    family = phone.new_page()
    family.goto(re.sub(r"^https?://[^/]+", "", url))
    printable = family.get_by_role("link", name=re.compile("Imprimir|PDF", re.I))
    expect(printable).to_be_visible()
    assert family.evaluate("document.documentElement.scrollWidth") <= 390
    with family.expect_download() as download:
        printable.click()
    assert download.value.suggested_filename == "home-practice.pdf"
    phone.close()

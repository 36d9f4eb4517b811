"""Issue 9's "Done when": from the visit's panel a therapist updates the home program by
one activity and sends it in at most 8 steps; the guardian opens the link in Spanish on
a phone and answers; the therapist sees the answer on the next visit's panel."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, next_weekday
from pedsdesk.hep.actions import ItemInput, update_and_send
from pedsdesk.hep.models import Feedback, HomeProgram
from pedsdesk.hep.tests.conftest import starter
from pedsdesk.messaging.models import Message
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.timeslots import local_to_utc
from tests.browser.conftest import assert_accessible, sign_in_without_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def week(settings, tmp_path, front_desk, therapist, patient, working_week, practice):
    """Ava (Spanish-speaking mother Rosa) has a program of two activities; her visits are
    on Tuesday and Thursday of next week at 4 pm."""
    settings.DATA_DIR = tmp_path
    settings.PEDSDESK_MESSAGING_KICK = False
    patient.guardians.update(language="es")
    keys = ["ot-playdough-pinch", "ot-zipper-coat"]
    update_and_send(actor=therapist, patient=patient, note="",
                    items=[ItemInput(activity_id=starter(k).pk) for k in keys],
                    guardians=list(patient.guardians.all()))
    visits = [book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                               start_at=local_to_utc(day, dt.time(16), practice.zone), minutes=45,
                               plan_of_care=patient.plans_of_care.get(), override_reason="test")
              for day in (next_weekday(1), next_weekday(3))]
    return visits


def _sign_in(page, user) -> None:
    sign_in_without_second_factor(page, user, PASSWORD)


class Steps:
    """Counts what the therapist does: each click or each field filled is one step."""

    def __init__(self) -> None:
        self.count = 0

    def click(self, locator) -> None:
        self.count += 1
        locator.click()

    def fill(self, locator, value: str) -> None:
        self.count += 1
        locator.fill(value)


def _open_panel(page, therapist, visit):
    page.goto(f"/schedule/?therapist={therapist.pk}&date={visit.local_start.date().isoformat()}")
    page.get_by_test_id("schedule-grid").locator(f"a[href='{visit.get_absolute_url()}']").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Home program")).to_be_visible()
    return panel


def test_update_send_answer_in_spanish_and_see_it_on_the_next_visit(page, browser, live_server, week, therapist,
                                                                    patient):
    session, next_visit = week
    _sign_in(page, therapist)
    panel = _open_panel(page, therapist, session)
    assert_accessible(page)

    steps = Steps()
    steps.click(panel.get_by_role("link", name="Update home program"))
    expect(page.get_by_test_id("hep-row")).to_have_count(2)  # starts from the current program
    steps.fill(page.get_by_label("Search"), "bubbles")
    steps.click(page.get_by_role("button", name="Search"))
    steps.click(page.get_by_role("button", name="Add Blow bubbles"))
    expect(page.get_by_test_id("hep-row")).to_have_count(3)
    assert_accessible(page)
    steps.click(page.get_by_role("button", name="Send", exact=True))
    expect(page.get_by_text("Version 2 sent to Rosa Lopez.")).to_be_visible()
    assert steps.count <= 8, f"{steps.count} steps"

    version = HomeProgram.objects.get(patient=patient).current_version
    assert version.number == 2 and version.items.count() == 3
    body = Message.objects.filter(kind="hep_program").order_by("-pk").first().body
    assert "Blow bubbles" not in body and "Soplar" not in body
    path = urlsplit(re.search(r"(http://\S+/f/\S+/)", body).group(1)).path

    phone = browser.new_context(base_url=live_server.url, bypass_csp=True, viewport={"width": 390, "height": 844},
                                locale="es-US")
    family = phone.new_page()
    family.goto(path)
    section = family.get_by_role("region", name="Práctica en casa")
    expect(section.get_by_role("heading", name="3. Soplar burbujas")).to_be_visible()
    assert_accessible(family)
    form = family.locator("#home-program-feedback")
    form.get_by_label(re.compile("¿Cuántos días practicaron")).select_option("1")
    for title, answer in (("Pellizcar y rodar plastilina", "Fácil"), ("Subir el cierre del abrigo", "Difícil"),
                          ("Soplar burbujas", "No lo intentamos")):
        form.get_by_role("group", name=title).get_by_label(answer).check()
    form.get_by_label("¿Una pregunta para nosotros? (opcional)").fill("¿Puede usar un popote en vez de burbujas?")
    form.get_by_role("button", name="Enviar mis respuestas").click()
    expect(family.get_by_role("heading", name="¡Gracias!")).to_be_visible()
    phone.close()
    assert Feedback.objects.get(version=version).days_practised == 1

    panel = _open_panel(page, therapist, next_visit)
    feedback = panel.get_by_test_id("hep-last-feedback")
    expect(feedback).to_contain_text("practised 1 of")
    expect(feedback).to_contain_text("Zip the coat: hard")
    expect(panel.get_by_test_id("hep-question")).to_contain_text("¿Puede usar un popote en vez de burbujas?")

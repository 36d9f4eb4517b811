"""Home program pages and texts in the family time-and-language test (see
pedsdesk/portal/tests/family_surfaces.py)."""

from pedsdesk.hep import messages
from pedsdesk.hep.actions import ItemInput, update_and_send
from pedsdesk.hep.models import HomeProgram
from pedsdesk.hep.tests.conftest import starter
from pedsdesk.portal.tests.family_surfaces import FamilyWorld, Shown, family_page, text_of, timeless_kinds

# The texts carry no time: the child's first name, the practice and the link.
timeless_kinds(*messages.KINDS)


def _program(world: FamilyWorld):
    program = HomeProgram.objects.filter(patient=world.patient).first()
    if program is not None:
        return program.current_version
    keys = ["ot-playdough-pinch", "slp-bubble-blow"]
    items = [ItemInput(activity_id=starter(key).pk) for key in keys]
    version, _ = update_and_send(actor=world.therapist, patient=world.patient, items=items, note="",
                                 guardians=[world.guardian])
    return version


@family_page("home program", "family_portal")
def _portal_with_program(world: FamilyWorld) -> Shown:
    _program(world)
    response = world.client.get(world.family_url())
    assert "home-program/feedback/" in response.content.decode(), "the program section is missing"
    return Shown(text_of(response), [])


@family_page("home program feedback", "hep_family_feedback")
def _feedback(world: FamilyWorld) -> Shown:
    version = _program(world)
    data = {"form_id": "family-time", "version": version.number, "days_practised": "0",
            **{f"rating-{item.pk}": "easy" for item in version.items.all()}}
    response = world.client.post(world.family_url("home-program/feedback/"), data)
    assert response.status_code == 200, response.content.decode()
    return Shown(text_of(response), [])


@family_page("home program reminders", "hep_family_reminders")
def _reminders(world: FamilyWorld) -> Shown:
    _program(world)
    response = world.client.post(world.family_url("home-program/reminders/"),
                                 {"reminders": "on", "reminder_time": "18:30"})
    assert response.status_code == 200
    return Shown(text_of(response), [])


@family_page("home program printout", "hep_family_pdf")
def _printout(world: FamilyWorld) -> Shown:
    _program(world)
    response = world.client.get(world.family_url("home-program.pdf"))
    assert response["Content-Type"] == "application/pdf"
    return Shown(text_of(response), [])

"""The portal's pages in the family time-and-language test (see family_surfaces.py)."""

from pedsdesk.portal.tests.family_surfaces import FamilyWorld, Shown, family_page, text_of
from pedsdesk.scheduling.actions import book_appointment


@family_page("portal", "family_portal")
def _portal(world: FamilyWorld) -> Shown:
    visits = [book_appointment(actor=world.front_desk, practice=world.practice, therapist=world.therapist,
                               patient=world.patient, start_at=start, minutes=45,
                               plan_of_care=world.patient.plans_of_care.get())
              for start in (world.before, world.after)]
    response = world.client.get(world.family_url())
    assert response.status_code == 200
    return Shown(text_of(response), [visit.start_at for visit in visits])

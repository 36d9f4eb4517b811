"""School coordination's family pages and messages in the family time-and-language test
(see pedsdesk/portal/tests/family_surfaces.py)."""

import datetime as dt

from conftest import make_school
from pedsdesk.portal.tests.family_surfaces import (
    Example,
    FamilyWorld,
    Shown,
    family_page,
    message_context,
    text_of,
)
from pedsdesk.schools import actions
from pedsdesk.schools.models import ConsentState, DisclosureAuthorization


def _forms(world: FamilyWorld) -> DisclosureAuthorization:
    school = make_school(world.practice)
    world.patient.school = school
    world.patient.save()
    authorization = actions.create_authorization(
        actor=world.front_desk, patient=world.patient, categories=["progress_summaries", "meetings"],
        purpose="IEP", recipient_school=school, expires_on=world.after.date() + dt.timedelta(days=200),
        template="new_york")
    actions.create_ferpa_consent(actor=world.front_desk, patient=world.patient, school=school, records=["iep"],
                                 purpose="IEP")
    return authorization


@family_page("school forms", "school_family_forms")
def _school_forms(world: FamilyWorld) -> Shown:
    authorization = _forms(world)
    response = world.client.post(world.family_url("school-consents/"), {
        "authorization": authorization.pk, "typed_name": "Rosa Lopez", "agreed": "yes"}, follow=True)
    authorization.refresh_from_db()
    assert authorization.state == ConsentState.SIGNED, "the guardian should have signed"
    return Shown(text_of(response), [authorization.signed_at])


@family_page("school form revoked", "school_family_revoke")
def _school_form_revoked(world: FamilyWorld) -> Shown:
    authorization = _forms(world)
    actions.sign_authorization(authorization=authorization, guardian=world.guardian, typed_name="Rosa Lopez",
                               agreed=True)
    response = world.client.post(world.family_url(f"school-consents/authorization/{authorization.pk}/revoke/"),
                                 follow=True)
    authorization.refresh_from_db()
    assert authorization.state == ConsentState.REVOKED, "the guardian should have revoked it"
    return Shown(text_of(response), [])


@message_context("school_consent_request")
def _consent_request(world: FamilyWorld) -> Example:
    return Example({"url": world.family_url("school-consents/"), "child_first_name": "Ava"}, [])


@message_context("school_document")
def _document(world: FamilyWorld) -> Example:
    return Example({"url": "https://pedsdesk.example/s/x/", "child": "Ava L.", "expires": world.after}, [world.after])


def _meeting(world: FamilyWorld, method: str) -> Example:
    return Example({"meeting_id": 1, "method": method, "title": "IEP meeting: Ava L.", "school": "Maple Elementary",
                    "start_at": world.before, "end_at": world.before + dt.timedelta(hours=1),
                    "location": "Room 4", "video_link": ""}, [world.before])


@message_context("school_meeting_invite")
def _invite(world: FamilyWorld) -> Example:
    return _meeting(world, "REQUEST")


@message_context("school_meeting_staff")
def _invite_staff(world: FamilyWorld) -> Example:
    return _meeting(world, "CANCEL")

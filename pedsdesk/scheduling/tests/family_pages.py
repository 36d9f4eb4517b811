"""The schedule's family pages and texts in the family time-and-language test (see
pedsdesk/portal/tests/family_surfaces.py)."""

import datetime as dt
from urllib.parse import urlsplit

from icalendar import Calendar

from pedsdesk.portal.tests.family_surfaces import (
    Example,
    FamilyWorld,
    Shown,
    family_page,
    message_context,
    text_of,
)
from pedsdesk.scheduling import visit_messages
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.calendar import visit_ics_url
from pedsdesk.scheduling.models import Offer, Opening


def _visit(world: FamilyWorld, start: dt.datetime):
    return book_appointment(actor=world.front_desk, practice=world.practice, therapist=world.therapist,
                            patient=world.patient, start_at=start, minutes=45,
                            plan_of_care=world.patient.plans_of_care.get())


def _offer(world: FamilyWorld) -> Offer:
    """An opening at ``after``, offered until 15:55 on the Friday before ``before`` (the deadline
    falls on another day than the visit, and on the other side of the change)."""
    opening = Opening.objects.create(practice=world.practice, therapist=world.therapist, start_at=world.after,
                                     end_at=world.after + dt.timedelta(minutes=45),
                                     status=Opening.Status.OFFERING)
    deadline = (world.before - dt.timedelta(days=1)).replace(hour=15, minute=55)
    return Offer.objects.create(opening=opening, patient=world.patient, guardian=world.guardian,
                                plan_of_care=world.patient.plans_of_care.get(), candidate_kind="below_frequency",
                                rank=1, status=Offer.Status.SENT, sent_at=dt.datetime.now(dt.UTC),
                                expires_at=deadline)


@family_page("offer", "family_offer")
def _offer_page(world: FamilyWorld) -> Shown:
    offer = _offer(world)
    response = world.client.get(world.family_url(f"offers/{offer.pk}/"))
    assert response.status_code == 200 and f"offers/{offer.pk}/accept/" in response.content.decode(), "offer closed"
    return Shown(text_of(response), [offer.opening.start_at, offer.expires_at])


@family_page("offer taken up", "family_offer_choice")
def _offer_accepted(world: FamilyWorld) -> Shown:
    offer = _offer(world)
    response = world.client.post(world.family_url(f"offers/{offer.pk}/accept/"))
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED, "the offer should book"
    return Shown(text_of(response), [offer.opening.start_at])


@family_page("offer declined", "family_offer_choice")
def _offer_declined(world: FamilyWorld) -> Shown:
    offer = _offer(world)
    response = world.client.post(world.family_url(f"offers/{offer.pk}/decline/"))
    assert response.status_code == 200
    return Shown(text_of(response), [offer.opening.start_at])


def _answer(world: FamilyWorld, what: str, data: dict) -> Shown:
    visit = _visit(world, world.before)
    response = world.client.post(world.family_url(f"visits/{visit.pk}/{what}/"),
                                 {"sequence": visit.sequence, **data})
    assert response.status_code == 200, response.content.decode()[:500]
    return Shown(text_of(response), [visit.start_at])


@family_page("visit confirmed", "family_visit_confirm")
def _confirmed(world: FamilyWorld) -> Shown:
    return _answer(world, "confirm", {})


@family_page("visit cancelled", "family_visit_cancel")
def _cancelled(world: FamilyWorld) -> Shown:
    return _answer(world, "cancel", {"reason": "sick"})


@family_page("another time asked", "family_visit_reschedule")
def _reschedule(world: FamilyWorld) -> Shown:
    return _answer(world, "reschedule", {"note": "Martes"})


@family_page("visit calendar file", "visit_ics")
def _calendar_file(world: FamilyWorld) -> Shown:
    visit = _visit(world, world.after)
    response = world.client.get(urlsplit(visit_ics_url(visit, world.guardian)).path)
    event = next(iter(Calendar.from_ical(response.content).walk("VEVENT")))
    # The file carries the instant (UTC); the family's calendar shows it on their clock.
    assert event.decoded("dtstart") == visit.start_at and event.decoded("dtend") == visit.end_at
    return Shown(text_of(response), [])


def _visit_context(world: FamilyWorld, **extra) -> Example:
    return Example({"child_first_name": "Ava", "start_at": world.before, "url": world.family_url(),
                    "ics_url": "https://example.org/calendar/visit/x.ics", **extra}, [world.before])


for _kind in (visit_messages.REMINDER, visit_messages.CANCELLED):
    message_context(_kind)(_visit_context)


@message_context(visit_messages.ANSWER)
def _answer_context(world: FamilyWorld) -> Example:
    return _visit_context(world, outcome=visit_messages.RESCHEDULE)


@message_context("opening_offer")
def _offer_context(world: FamilyWorld) -> Example:
    deadline = (world.before - dt.timedelta(days=1)).replace(hour=15, minute=55)
    return Example({"child": "Ava", "start": world.after, "expires": deadline, "url": world.family_url()},
                   [world.after, deadline])


@message_context("offer_booked")
@message_context("offer_taken")
def _told_context(world: FamilyWorld) -> Example:
    return Example({"child": "Ava", "start": world.after}, [world.after])

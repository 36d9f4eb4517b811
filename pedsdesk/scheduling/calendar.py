"""Calendar files (RFC 5545, with RFC 5546 methods for families).

Two kinds:

- a therapist's private feed (``/calendar/<token>.ics``): their visits from a month back
  to half a year ahead, cancelled ones marked STATUS:CANCELLED so subscribed calendars
  drop them. The token is random; only its SHA-256 is stored; revoking turns it off.
- a family's file for one visit (``/calendar/visit/<signed>.ics``), linked from reminder
  and cancellation emails (the outbox sends no attachments): METHOD:REQUEST while the
  visit is on, METHOD:CANCEL once it is cancelled. The URL is signed and always serves
  the visit as it is now, so an old email still gives the current time.

Every event has the visit's stable UID and its SEQUENCE (bumped on every move and
cancellation). Nothing clinical goes in: the child's first name and last initial, the
practice, the time. No discipline, no therapist credential, no diagnosis, no goals.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vDuration, vText

from pedsdesk.audit.actions import record_event
from pedsdesk.people.models import Guardian
from pedsdesk.practices.models import Role, StaffMember
from pedsdesk.scheduling.models import Appointment, AppointmentStatus, CalendarFeed

PRODID = "-//pedsdesk//pedsdesk visits//EN"
FEED_PAST = dt.timedelta(days=30)
FEED_AHEAD = dt.timedelta(days=180)
VISIT_FILE_SALT = "pedsdesk.scheduling.visit-ics"
VISIT_FILE_MAX_AGE = dt.timedelta(days=120)
CANCELLED_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL)


def _uid(appointment: Appointment) -> str:
    return f"{appointment.uid}@pedsdesk"


def child_label(appointment: Appointment) -> str:
    """'Ava L.': all a calendar ever says about the child."""
    if appointment.patient_id is None:
        return appointment.title or "Meeting"
    patient = appointment.patient
    return f"{patient.preferred_name or patient.first_name} {patient.last_name[:1]}."


def _status(appointment: Appointment) -> str:
    if appointment.status in CANCELLED_STATUSES:
        return "CANCELLED"
    if appointment.status == AppointmentStatus.BOOKED:
        return "TENTATIVE"  # not yet confirmed by the family
    return "CONFIRMED"


def _calendar(method: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def _event(appointment: Appointment, *, summary: str, stamp: dt.datetime) -> Event:
    event = Event()
    event.add("uid", _uid(appointment))
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("sequence", appointment.sequence)
    event.add("dtstart", appointment.start_at.astimezone(dt.UTC))
    event.add("dtend", appointment.end_at.astimezone(dt.UTC))
    event.add("summary", summary)
    event.add("status", _status(appointment))
    event.add("transp", "TRANSPARENT" if appointment.status in CANCELLED_STATUSES else "OPAQUE")
    return event


# A therapist's feed


def visits_calendar(visits: Iterable[Appointment], *, name: str) -> Calendar:
    """Visits as a calendar named ``name``, in the feed's words (the child's first name and
    last initial), cancelled ones STATUS:CANCELLED; the therapist feed and interop's export."""
    calendar = _calendar()
    calendar.add("x-wr-calname", name)
    for visit in visits:
        # Without METHOD, DTSTAMP is when the visit last changed (RFC 5545 3.8.7.2).
        calendar.add_component(_event(visit, summary=child_label(visit), stamp=visit.updated_at))
    return calendar


def feed_ics(therapist: StaffMember, *, now: dt.datetime | None = None) -> bytes:
    now = now or timezone.now()
    visits = (Appointment.objects.filter(therapist=therapist, start_at__gte=now - FEED_PAST,
                                         start_at__lt=now + FEED_AHEAD)
              .select_related("patient").order_by("start_at"))
    calendar = visits_calendar(visits, name=f"{therapist.practice.name} visits")
    calendar.add("x-published-ttl", vDuration(dt.timedelta(minutes=15)))
    return calendar.to_ical()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    return settings.PEDSDESK_BASE_URL.rstrip("/") + reverse("calendar_feed", args=[token])


def create_feed(*, actor: StaffMember, therapist: StaffMember, request: HttpRequest | None = None
                ) -> tuple[CalendarFeed, str]:
    """A new feed for ``therapist`` (revoking the one before): returns it and its URL,
    shown once, since only the token's hash is kept."""
    if therapist.role != Role.THERAPIST or therapist.practice_id != actor.practice_id:
        raise ValueError("Calendar feeds are for this practice's therapists.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        StaffMember.objects.select_for_update().filter(pk=therapist.pk).first()
        for old in CalendarFeed.objects.filter(therapist=therapist, revoked_at__isnull=True):
            revoke_feed(actor=actor, feed=old, request=request)
        try:
            with transaction.atomic():
                feed = CalendarFeed.objects.create(therapist=therapist, token_hash=_hash(token), created_by=actor)
        except IntegrityError:
            raise ValueError("A calendar feed was just created for this therapist; reload the page.") from None
        record_event(actor=actor, action="calendar_feed_created", obj=feed, practice_id=therapist.practice_id,
                     request=request, detail={"therapist_id": therapist.pk})
    return feed, feed_url(token)


def revoke_feed(*, actor: StaffMember, feed: CalendarFeed, request: HttpRequest | None = None) -> bool:
    with transaction.atomic():
        changed = CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if changed:
            record_event(actor=actor, action="calendar_feed_revoked", obj=feed, practice_id=feed.practice_id,
                         request=request, detail={"therapist_id": feed.therapist_id})
    return bool(changed)


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed a token opens, or None (unknown, revoked, or the therapist left)."""
    if not token or len(token) > 100:
        return None
    return (CalendarFeed.objects.select_related("therapist__practice")
            .filter(token_hash=_hash(token), revoked_at__isnull=True, therapist__is_active=True).first())


def record_feed_read(*, feed: CalendarFeed, request: HttpRequest | None = None) -> None:
    """Each fetch is a read of patient names and times: audited like any list."""
    with transaction.atomic():
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
        record_event(actor=f"calendar feed #{feed.pk}", action="list", object_type="scheduling.appointment",
                     practice_id=feed.practice_id, request=request, detail={"therapist_id": feed.therapist_id})


# A family's file for one visit


def invitation_ics(appointment: Appointment, guardian: Guardian | None = None, *,
                   now: dt.datetime | None = None) -> bytes:
    """METHOD:REQUEST for a visit that is on, METHOD:CANCEL for a cancelled one."""
    practice = appointment.practice
    cancelled = appointment.status in CANCELLED_STATUSES
    calendar = _calendar("CANCEL" if cancelled else "REQUEST")
    event = _event(appointment, summary=f"{child_label(appointment)} · {practice.name}", stamp=now or timezone.now())
    address = ", ".join(part for part in (practice.street, practice.city,
                                          f"{practice.state} {practice.postal_code}".strip()) if part)
    if address:
        event.add("location", address)
    organizer = vCalAddress(f"mailto:{practice.email or settings.DEFAULT_FROM_EMAIL}")
    organizer.params["cn"] = vText(practice.name)
    event.add("organizer", organizer, encode=0)
    if guardian is not None and guardian.email:
        attendee = vCalAddress(f"mailto:{guardian.email}")
        attendee.params["cn"] = vText(guardian.first_name)  # no family name: it is the child's too
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText(
            "ACCEPTED" if appointment.status == AppointmentStatus.CONFIRMED else "NEEDS-ACTION")
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=VISIT_FILE_SALT)


def visit_ics_url(appointment: Appointment, guardian: Guardian) -> str:
    token = _signer().sign_object([appointment.pk, guardian.pk])
    return settings.PEDSDESK_BASE_URL.rstrip("/") + reverse("visit_ics", args=[token])


def visit_for_token(token: str) -> tuple[Appointment, Guardian] | None:
    """The visit and guardian a signed file URL names, if still theirs; else None."""
    try:
        value = _signer().unsign_object(token, max_age=VISIT_FILE_MAX_AGE)
    except (signing.BadSignature, ValueError):
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        return None
    appointment = Appointment.objects.select_related("patient", "practice").filter(pk=value[0]).first()
    if appointment is None or appointment.patient_id is None:
        return None
    # A guardian taken off the child's chart loses the file as they lose the family link.
    guardian = Guardian.objects.filter(pk=value[1], practice_id=appointment.practice_id,
                                       children__patient_id=appointment.patient_id).first()
    return (appointment, guardian) if guardian else None

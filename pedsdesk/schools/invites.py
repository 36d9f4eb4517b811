"""iCalendar invitations to IEP and 504 meetings (RFC 5545, iTIP RFC 5546, iMIP RFC 6047).

One UID per meeting for its whole life; SEQUENCE goes up on every change; a
cancellation is METHOD:CANCEL with STATUS:CANCELLED and the same UID, so calendar
clients update or remove the event instead of adding a second one. The practice is
the ORGANIZER and each person invited an ATTENDEE.

Nothing clinical goes in: the kind of meeting, the child's first name and last
initial, the school, the time and the place. No diagnosis, discipline or goal.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from pedsdesk.schools.models import Meeting, MeetingState

PRODID = "-//pedsdesk//pedsdesk school meetings//EN"


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.uid}@pedsdesk"


def meeting_title(meeting: Meeting) -> str:
    patient = meeting.patient
    return f"{meeting.get_kind_display()}: {patient.preferred_name or patient.first_name} {patient.last_name[:1]}."


def _address(email: str, name: str, *, organizer: bool = False) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    if not organizer:
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("TRUE")
    return address


def organizer_email(meeting: Meeting) -> str:
    return meeting.practice.email or settings.DEFAULT_FROM_EMAIL


def invitation_ics(meeting: Meeting, attendees: list[tuple[str, str]], *, now: dt.datetime | None = None) -> bytes:
    """The VCALENDAR for ``meeting`` as it is now: REQUEST while scheduled, CANCEL once
    cancelled. ``attendees`` are (name, email) pairs."""
    cancelled = meeting.state == MeetingState.CANCELLED
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", (now or timezone.now()).astimezone(dt.UTC))
    event.add("sequence", meeting.sequence)
    event.add("dtstart", meeting.start_at.astimezone(dt.UTC))
    event.add("dtend", meeting.end_at.astimezone(dt.UTC))
    event.add("summary", f"{meeting_title(meeting)} at {meeting.school.name}")
    where = ", ".join(part for part in (meeting.location, meeting.video_link) if part)
    if where:
        event.add("location", where)
    if meeting.video_link:
        event.add("url", meeting.video_link)
    description = [f"{meeting.get_kind_display()} at {meeting.school.name}, organised through {meeting.practice.name}."]
    if meeting.attendee_roles:
        description.append(f"Attending: {meeting.attendee_roles}.")
    event.add("description", " ".join(description))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    event.add("organizer", _address(organizer_email(meeting), meeting.practice.name, organizer=True))
    for name, email in attendees:
        event.add("attendee", _address(email, name))
    calendar.add_component(event)
    return calendar.to_ical()

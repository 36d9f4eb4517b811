"""IEP and 504 meetings: the therapist's calendar is cleared through the schedule's
cancellation path, and iCalendar invitations go by email, read back from a real SMTP
server and parsed with the icalendar package."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from conftest import next_weekday
from pedsdesk.messaging.models import Message
from pedsdesk.messaging.tests.helpers import deliver
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.models import Appointment, AppointmentKind, AppointmentStatus, Opening
from pedsdesk.schools import actions
from pedsdesk.schools.models import Disclosure, Meeting, MeetingState
from pedsdesk.schools.tests.conftest import make_contact

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CHICAGO)


def _parts(email):
    """(the calendar part inside multipart/alternative, the attached .ics)."""
    assert email.get_content_type() == "multipart/mixed"
    alternative, *attached = email.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, calendar = alternative.iter_parts()
    assert text.get_content_type() == "text/plain" and calendar.get_content_type() == "text/calendar"
    [ics] = attached
    assert ics.get_filename() == "invite.ics"
    return calendar, ics


def _event(part):
    raw = part.get_content()
    parsed = Calendar.from_ical(raw if isinstance(raw, bytes) else raw.encode())
    [event] = parsed.walk("VEVENT")
    return parsed, event, raw if isinstance(raw, str) else raw.decode()


@pytest.fixture
def meeting_day():
    return next_weekday(2)  # a Wednesday ahead


def test_a_meeting_clears_the_time_invites_and_updates_the_same_event(
        smtp_sink, working_week, patient, front_desk, authorization, contact, meeting_day,
        django_capture_on_commit_callbacks):
    visit = book_appointment(actor=front_desk, practice=patient.practice, therapist=working_week, patient=patient,
                             start_at=_at(meeting_day, 14), minutes=45, plan_of_care=patient.plans_of_care.get(),
                             override_reason="school half day")
    with django_capture_on_commit_callbacks(execute=True):
        meeting = actions.schedule_meeting(
            actor=front_desk, patient=patient, therapist=working_week, start_at=_at(meeting_day, 14),
            end_at=_at(meeting_day, 15), location="Maple Elementary, room 4", attendee_roles="Case manager, parent",
            invitees=[contact])
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED and visit.cancelled_by == "clinic"
    assert Opening.objects.filter(freed_by=visit).exists()  # the scheduling path: an opening, a makeup search
    assert meeting.block.kind == AppointmentKind.MEETING and meeting.block.start_at == meeting.start_at

    deliver()
    # Only invitations carry a calendar (the freed time may also bring the family an offer).
    invitations = [m for m in smtp_sink.messages if m.get_content_type() == "multipart/mixed"]
    by_recipient = {m["To"]: m for m in invitations}
    assert set(by_recipient) == {working_week.email, contact.email}
    calendar, ics = _parts(by_recipient[contact.email])
    assert calendar.get_content_type() == "text/calendar" and calendar.get_param("method") == "REQUEST"
    parsed, event, raw = _event(calendar)
    assert parsed["METHOD"] == "REQUEST" and _event(ics)[1]["UID"] == event["UID"]
    uid = str(event["UID"])
    assert event["SEQUENCE"] == 0 and str(event["ORGANIZER"]).startswith("mailto:")
    attendees = {str(a) for a in event.get("ATTENDEE")}
    assert attendees == {f"mailto:{working_week.email}", f"mailto:{contact.email}"}
    assert event.decoded("DTSTART") == meeting.start_at
    assert "Ava L." in raw and "F82" not in raw and "coordination" not in raw.lower()
    assert not [d for d in patient.diagnoses.all() if d.description and d.description in raw]
    assert Disclosure.objects.get(meeting=meeting).contact == contact

    smtp_sink.messages.clear()
    moved = actions.reschedule_meeting(actor=front_desk, meeting=meeting, start_at=_at(meeting_day, 10),
                                       end_at=_at(meeting_day, 11))
    deliver()
    _, event, _ = _event(_parts(next(m for m in smtp_sink.messages if m["To"] == contact.email))[0])
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 1 == moved.sequence
    assert event.decoded("DTSTART") == _at(meeting_day, 10)
    assert Appointment.objects.filter(kind=AppointmentKind.MEETING, status=AppointmentStatus.BOOKED).count() == 1

    smtp_sink.messages.clear()
    actions.cancel_meeting(actor=front_desk, meeting=moved)
    deliver()
    calendar, _ = _parts(next(m for m in smtp_sink.messages if m["To"] == contact.email))
    parsed, event, _ = _event(calendar)
    assert calendar.get_param("method") == "CANCEL" and parsed["METHOD"] == "CANCEL"
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 2 and event["STATUS"] == "CANCELLED"
    assert not Appointment.objects.filter(kind=AppointmentKind.MEETING, status=AppointmentStatus.BOOKED).exists()


def _nothing_saved():
    assert not Meeting.objects.exists() and not Message.objects.exists()
    assert not Appointment.objects.filter(kind=AppointmentKind.MEETING).exists()


def test_a_meeting_in_the_past_is_refused(working_week, patient, front_desk):
    yesterday = dt.datetime.now(CHICAGO).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    with pytest.raises(actions.SchoolError) as refused:
        actions.schedule_meeting(actor=front_desk, patient=patient, therapist=working_week, start_at=yesterday,
                                 end_at=yesterday + dt.timedelta(hours=1), location="Room 4")
    assert refused.value.message_dict["start_at"] == ["That time has passed; a meeting is scheduled in the future."]
    _nothing_saved()


def test_a_meeting_overlapping_another_is_refused_and_the_sessions_stay(working_week, patient, front_desk,
                                                                       meeting_day):
    actions.schedule_meeting(actor=front_desk, patient=patient, therapist=working_week, start_at=_at(meeting_day, 9),
                             end_at=_at(meeting_day, 10), location="Room 4")
    visit = book_appointment(actor=front_desk, practice=patient.practice, therapist=working_week, patient=patient,
                             start_at=_at(meeting_day, 10), minutes=45, plan_of_care=patient.plans_of_care.get(),
                             override_reason="school half day")
    messages_before = Message.objects.count()
    with pytest.raises(actions.SchoolError) as refused:
        actions.schedule_meeting(actor=front_desk, patient=patient, therapist=working_week,
                                 start_at=_at(meeting_day, 9) + dt.timedelta(minutes=30),
                                 end_at=_at(meeting_day, 11), location="Room 4")
    assert "already has a school meeting then" in refused.value.message_dict["start_at"][0]
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED and Meeting.objects.count() == 1
    assert Message.objects.count() == messages_before


def test_school_contacts_are_invited_only_with_an_authorization(working_week, patient, front_desk, contact,
                                                                meeting_day):
    with pytest.raises(actions.SchoolError) as refused:
        actions.schedule_meeting(actor=front_desk, patient=patient, therapist=working_week,
                                 start_at=_at(meeting_day, 9), end_at=_at(meeting_day, 10), location="Room 4",
                                 invitees=[contact])
    assert refused.value.message_dict["invitees"][0].startswith("Not authorized by the family: Dana Whitfield")
    _nothing_saved()


def test_an_invitee_whose_authorization_was_revoked_gets_no_update(smtp_sink, working_week, patient, front_desk,
                                                                   authorization, contact, meeting_day):
    district = make_contact(patient.practice, patient.school, name="Sam Ortiz", role="school_slp")
    meeting = actions.schedule_meeting(actor=front_desk, patient=patient, therapist=working_week,
                                       start_at=_at(meeting_day, 9), end_at=_at(meeting_day, 10),
                                       location="Room 4", invitees=[contact, district])
    deliver()
    assert len(smtp_sink.messages) == 3
    smtp_sink.messages.clear()
    actions.revoke_authorization(actor=front_desk, authorization=authorization)
    actions.reschedule_meeting(actor=front_desk, meeting=meeting, start_at=_at(meeting_day, 11),
                               end_at=_at(meeting_day, 12))
    deliver()
    assert [m["To"] for m in smtp_sink.messages] == [working_week.email]
    assert meeting.state == MeetingState.SCHEDULED

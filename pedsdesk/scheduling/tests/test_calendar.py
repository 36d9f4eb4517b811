"""Calendar files, parsed back with the icalendar package: a therapist's private feed and a
family's file for one visit (METHOD REQUEST / CANCEL), UIDs stable across moves,
SEQUENCE bumped on every change, and nothing clinical in them."""

import datetime as dt
import hashlib
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from icalendar import Calendar

from conftest import make_staff, signed_in
from pedsdesk.audit.models import AuditEvent
from pedsdesk.messaging.models import Message
from pedsdesk.people.models import Diagnosis, GuardianOf
from pedsdesk.scheduling import calendar
from pedsdesk.scheduling.actions import book_appointment, cancel_appointment, move_appointment
from pedsdesk.scheduling.models import CalendarFeed
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db

CLINICAL = ["F82", "coordination", "Zips coat", "Writes first name", "Occupational", "OTR", "97530", "Lopez",
            "Theo", "diagnos", "goal"]


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.PEDSDESK_EMAIL_CHANNEL = settings.PEDSDESK_SMS_CHANNEL = "console"
    settings.PEDSDESK_MESSAGING_KICK = False
    settings.DATA_DIR = tmp_path


@pytest.fixture
def visit(patient, front_desk, working_week, django_capture_on_commit_callbacks):
    Diagnosis.objects.create(patient=patient, code="F82", description="Developmental coordination disorder")
    practice = patient.practice
    day = practice.local_now().date() + dt.timedelta(days=3)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        return book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                                start_at=local_to_utc(day, dt.time(16), practice.zone), minutes=45,
                                plan_of_care=patient.plans_of_care.first(), override_reason="test")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


def parse(body: bytes) -> Calendar:
    text = body.decode()
    for word in CLINICAL:
        assert word not in text, word
    assert not re.search(r"\b(OT|PT|SLP)\b", text)
    return Calendar.from_ical(body)


def events(cal: Calendar) -> dict:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def feed_path(url: str) -> str:
    return urlsplit(url).path


# A therapist's feed


def test_feed_follows_a_visit_through_a_move_and_a_cancellation(visit, therapist, front_desk, committed):
    feed, url = calendar.create_feed(actor=therapist, therapist=therapist)
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/calendar/[\w-]{43}\.ics", url)
    client = Client()
    response = client.get(feed_path(url))
    assert response.status_code == 200 and response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = parse(response.content)
    assert cal.get("METHOD") is None and str(cal["VERSION"]) == "2.0"
    uid = f"{visit.uid}@pedsdesk"
    event = events(cal)[uid]
    assert str(event["SUMMARY"]) == "Ava L." and str(event["STATUS"]) == "TENTATIVE"
    assert event.decoded("SEQUENCE") == 0 and "DTSTAMP" in event
    assert event.decoded("DTSTART") == visit.start_at and event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert event.decoded("DTEND") == visit.end_at
    assert b"DTSTART:" in response.content and re.search(rb"DTSTART:\d{8}T\d{6}Z", response.content)

    moved = committed(move_appointment, actor=front_desk, appointment=visit,
                      start_at=visit.start_at + dt.timedelta(days=1), override_reason="family asked")
    event = events(parse(client.get(feed_path(url)).content))[uid]  # the same UID: the calendar moves it
    assert event.decoded("SEQUENCE") == 1 and event.decoded("DTSTART") == moved.start_at

    committed(cancel_appointment, actor=front_desk, appointment=moved, by="clinic", reason="Therapist ill")
    event = events(parse(client.get(feed_path(url)).content))[uid]
    assert event.decoded("SEQUENCE") == 2 and str(event["STATUS"]) == "CANCELLED"
    assert AuditEvent.objects.filter(actor_label=f"calendar feed #{feed.pk}", action="list").count() == 3
    feed.refresh_from_db()
    assert feed.last_used_at is not None


def test_feed_shows_only_this_therapists_visits(visit, practice, therapist):
    other = make_staff(practice, "pat", "therapist")
    _, url = calendar.create_feed(actor=other, therapist=other)
    assert not events(parse(Client().get(feed_path(url)).content))


def test_only_a_hash_of_the_token_is_kept_and_revoking_turns_it_off(visit, therapist, owner):
    feed, url = calendar.create_feed(actor=therapist, therapist=therapist)
    token = feed_path(url).split("/")[-1].removesuffix(".ics")
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in feed.token_hash
    assert calendar.revoke_feed(actor=owner, feed=feed)
    assert not calendar.revoke_feed(actor=owner, feed=feed)
    assert Client().get(feed_path(url)).status_code == 404


def test_a_new_link_replaces_the_old_one(visit, therapist):
    _, first = calendar.create_feed(actor=therapist, therapist=therapist)
    _, second = calendar.create_feed(actor=therapist, therapist=therapist)
    assert Client().get(feed_path(first)).status_code == 404
    assert Client().get(feed_path(second)).status_code == 200
    assert CalendarFeed.objects.filter(therapist=therapist, revoked_at__isnull=True).count() == 1


def test_a_therapist_who_left_has_no_feed(visit, therapist):
    _, url = calendar.create_feed(actor=therapist, therapist=therapist)
    therapist.is_active = False
    therapist.save()
    assert Client().get(feed_path(url)).status_code == 404


def test_guessing_tokens_is_throttled(settings):
    settings.PEDSDESK_FAMILY_LINK_FAILURES = 3
    client = Client()
    assert [client.get(f"/calendar/guess{i}.ics").status_code for i in range(4)] == [404, 404, 404, 429]


def test_only_therapists_get_a_feed(owner, therapist):
    with pytest.raises(ValueError, match="therapists"):
        calendar.create_feed(actor=owner, therapist=owner)


def test_the_staff_page_shows_the_link_once_and_turns_it_off(therapist, owner, practice):
    client = signed_in(therapist)
    assert "Your feed is off." in client.get("/calendar/feed/").content.decode()
    page = client.post("/calendar/feed/new/", follow=True).content.decode()
    url = re.search(r'data-testid="feed-url">([^<]+)<', page).group(1)
    assert Client().get(feed_path(url)).status_code == 200
    again = client.get("/calendar/feed/").content.decode()
    assert url not in again and "On since" in again
    # The owner sees the therapist's feed and may turn it off; another therapist may not.
    feed = CalendarFeed.objects.get(therapist=therapist)
    colleague = make_staff(practice, "pat", "therapist")
    assert signed_in(colleague).post(f"/calendar/feed/{feed.pk}/revoke/").status_code == 403
    listing = signed_in(owner).get("/calendar/feed/").content.decode()
    assert "Theo Tester" in listing
    signed_in(owner).post(f"/calendar/feed/{feed.pk}/revoke/")
    assert Client().get(feed_path(url)).status_code == 404
    assert AuditEvent.objects.filter(action="calendar_feed_revoked", actor_id=owner.pk).exists()


# A family's file for one visit


def email_guardian(patient):
    guardian = patient.guardians.get()
    guardian.preferred_channel = "email"
    guardian.save()
    return guardian


def test_an_email_reminder_links_a_request_and_a_cancellation_links_a_cancel(patient, front_desk, working_week,
                                                                            django_capture_on_commit_callbacks,
                                                                            committed):
    rosa = email_guardian(patient)
    practice = patient.practice
    practice.email, practice.street, practice.city, practice.state = "office@sunny.example", "1 Main St", "Austin", "TX"
    practice.save()
    day = practice.local_now().date() + dt.timedelta(days=4)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        visit = book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                                 start_at=local_to_utc(day, dt.time(16), practice.zone), minutes=45,
                                 override_reason="test")
    reminder = Message.objects.filter(kind="visit_reminder", about_id=visit.pk).first()
    url = re.search(r"(http://\S+/calendar/visit/\S+\.ics)", reminder.body).group(1)
    response = Client().get(urlsplit(url).path)
    assert response.status_code == 200
    cal = parse(response.content)
    assert str(cal["METHOD"]) == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == f"{visit.uid}@pedsdesk" and event.decoded("SEQUENCE") == 0
    assert str(event["SUMMARY"]) == "Ava L. · Sunny Steps Pediatric Therapy"
    assert str(event["ORGANIZER"]) == "mailto:office@sunny.example"
    assert str(event["ATTENDEE"]) == f"mailto:{rosa.email}" and event["ATTENDEE"].params["PARTSTAT"] == "NEEDS-ACTION"
    assert "1 Main St" in str(event["LOCATION"])
    assert AuditEvent.objects.filter(actor_label=f"calendar file (guardian #{rosa.pk})", action="view").exists()

    committed(cancel_appointment, actor=front_desk, appointment=visit, by="clinic", reason="Therapist ill")
    notice = Message.objects.get(kind="visit_cancelled", about_id=visit.pk)
    assert notice.channel == "email" and "Remove it from your calendar:" in notice.body
    cancel_url = re.search(r"(http://\S+/calendar/visit/\S+\.ics)", notice.body).group(1)
    for link in (url, cancel_url):  # the old email's link now cancels too
        cal = parse(Client().get(urlsplit(link).path).content)
        (event,) = cal.walk("VEVENT")
        assert str(cal["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert str(event["UID"]) == f"{visit.uid}@pedsdesk" and event.decoded("SEQUENCE") == 1


def test_a_moved_visits_file_keeps_its_uid_and_bumps_the_sequence(visit, patient, front_desk, committed):
    rosa = patient.guardians.get()
    url = calendar.visit_ics_url(visit, rosa)
    before = Calendar.from_ical(Client().get(urlsplit(url).path).content).walk("VEVENT")[0]
    moved = committed(move_appointment, actor=front_desk, appointment=visit,
                      start_at=visit.start_at + dt.timedelta(hours=1), override_reason="x")
    cal = parse(Client().get(urlsplit(url).path).content)
    after = cal.walk("VEVENT")[0]
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(after["UID"]) == str(before["UID"])
    assert after.decoded("SEQUENCE") == before.decoded("SEQUENCE") + 1 == moved.sequence
    assert after.decoded("DTSTART") == moved.start_at


def test_a_tampered_or_orphaned_file_link_says_nothing(visit, patient):
    rosa = patient.guardians.get()
    path = urlsplit(calendar.visit_ics_url(visit, rosa)).path
    assert Client().get(path.replace(".ics", "x.ics")).status_code == 404
    GuardianOf.objects.filter(guardian=rosa).delete()
    response = Client().get(path)
    assert response.status_code == 404 and b"Ava" not in response.content

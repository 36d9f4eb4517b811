"""Visit confirmations: reminders that follow the visit, two-way text replies, the family
page's Confirm / Cancel / Ask for another time, and the front desk's unconfirmed task."""

import datetime as dt
import json
import logging
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_guardian, make_patient, make_staff
from pedsdesk.audit.models import AuditEvent
from pedsdesk.messaging.inbound import handle_inbound
from pedsdesk.messaging.models import InboundMessage, Message, MessageState, MessagingPolicy, ReplyWait
from pedsdesk.people.models import Diagnosis, GuardianOf
from pedsdesk.portal.actions import create_family_link, revoke_family_link
from pedsdesk.practices.models import Role
from pedsdesk.scheduling import confirmations
from pedsdesk.scheduling.actions import book_appointment, cancel_appointment, move_appointment, set_status
from pedsdesk.scheduling.models import Appointment, AppointmentStatus, ConfirmationPolicy
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.workqueue.models import OPEN_STATUSES, Task
from pedsdesk.workqueue.rules import registered_rules, run_rule

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
CLINICAL = [r"F82", "coordination", "Zips coat", "Writes first name", "Occupational", r"\bOT\b", "OTR/L",
            "therapist", "Theo", "Tester", "diagnos"]


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.PEDSDESK_EMAIL_CHANNEL = "console"
    settings.PEDSDESK_SMS_CHANNEL = "console"
    settings.PEDSDESK_MESSAGING_KICK = False
    settings.DATA_DIR = tmp_path
    return tmp_path / "outbox"


@pytest.fixture(autouse=True)
def _no_quiet_hours(practice):
    """Texts may go at any hour here, so the tests pass at any time of day (one test puts them back)."""
    MessagingPolicy.objects.update_or_create(practice=practice, defaults={"quiet_start": dt.time(0),
                                                                          "quiet_end": dt.time(0)})


@pytest.fixture(autouse=True)
def _hooks_must_not_fail(caplog):
    """The hooks run robustly after commit (a failure is only logged): here it fails the test."""
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.fixture
def no_refill(monkeypatch):
    """No makeup offer after a cancellation: its text would take the family's next reply."""
    monkeypatch.setattr("pedsdesk.scheduling.actions.AFTER_CANCELLATION", [])


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a block and then its on-commit hooks, as a real request would."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def soon(practice, hour: int = 16, minute: int = 0, days: int = 3) -> dt.datetime:
    """A weekday at ``hour`` three to five days ahead: both default reminders lie ahead."""
    day = practice.local_now().date() + dt.timedelta(days=days)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    return local_to_utc(day, dt.time(hour, minute), practice.zone)


@pytest.fixture
def book(committed, front_desk, patient, working_week):
    def make(start_at=None, **kwargs):
        return committed(book_appointment, actor=front_desk, practice=patient.practice, therapist=working_week,
                         patient=patient, start_at=start_at or soon(patient.practice), minutes=45,
                         plan_of_care=patient.plans_of_care.first(), override_reason="test", **kwargs)

    return make


def reminders(visit, **filters):
    return Message.objects.filter(about_id=visit.pk, kind="visit_reminder", **filters).order_by("not_before")


def rosa(patient):
    return patient.guardians.get(first_name="Rosa")


def text(body: str, provider_id: str = "SM1", phone: str = "+15125550142"):
    return handle_inbound(provider_id=provider_id, from_number=phone, to_number="+15125550100", body=body)


def send_due(visit):
    """The reminders' time comes: make them due and run every sweep."""
    Message.objects.filter(state=MessageState.QUEUED).update(not_before=timezone.now() - dt.timedelta(minutes=1),
                                                              next_attempt_at=timezone.now() - dt.timedelta(minutes=1))
    call_command("sweep")


def sent_lines(outbox) -> list[dict]:
    lines = []
    for name in ("sms.log", "email.log"):
        path = outbox / name
        if path.exists():
            lines += [json.loads(line) for line in path.read_text().splitlines()]
    return lines


# Reminders


def test_booking_queues_a_reminder_48_and_2_hours_before(book, patient, practice):
    Diagnosis.objects.create(patient=patient, code="F82", description="Developmental coordination disorder")
    visit = book()
    queued = list(reminders(visit))
    assert [m.not_before for m in queued] == [visit.start_at - dt.timedelta(hours=48),
                                              visit.start_at - dt.timedelta(hours=2)]
    for message in queued:
        assert message.state == MessageState.QUEUED and message.guardian == rosa(patient)
        assert message.about == visit and message.channel == "sms"
        assert message.idempotency_key.startswith(f"visit-reminder:{visit.pk}:0:")
        body = message.body
        when = visit.local_start
        assert body.startswith(f"{practice.name}: reminder of Ava's visit on {when:%A, %B} {when.day} at 4:00 PM.")
        assert "Reply YES to confirm or NO to cancel." in body
        assert re.search(r"http://127\.0\.0\.1:8000/f/\S+/", body)
        assert "CANCEL" not in body  # a carrier opt-out keyword: never the reply word
        for pattern in CLINICAL:
            assert not re.search(pattern, body.replace(practice.name, "")), (pattern, body)
    # One family link serves every reminder of the visits ahead.
    assert patient.family_links.filter(purpose="visits").count() == 1


def test_the_link_in_a_reminder_opens_the_family_page_with_the_visit(book, patient):
    visit = book()
    url = re.search(r"(http://\S+/f/\S+/)", reminders(visit).first().body).group(1)
    page = Client().get(urlsplit(url).path)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Upcoming visits" in body and f'data-testid="visit-{visit.pk}"' in body
    assert "With Theo" in body and "Not confirmed yet" in body and "Confirm this visit" in body


def test_reminder_goes_to_the_primary_contact_else_a_guardian_with_legal_authority(book, patient):
    GuardianOf.objects.filter(patient=patient).update(is_primary_contact=False, legal_authority=False)
    grandma = make_guardian(patient, first="Gloria", phone="+15125550177")
    GuardianOf.objects.filter(guardian=grandma).update(is_primary_contact=False, legal_authority=True)
    assert confirmations.recipient_for(patient) == grandma
    GuardianOf.objects.filter(guardian=rosa(patient)).update(is_primary_contact=True)
    assert confirmations.recipient_for(patient) == rosa(patient)
    GuardianOf.objects.filter(patient=patient).update(is_primary_contact=False, legal_authority=False)
    assert confirmations.recipient_for(patient) is None
    assert not reminders(book()).exists()  # nobody to remind: nothing queued, nothing fails


def test_offsets_are_a_practice_setting(book, practice):
    ConfirmationPolicy.objects.update_or_create(practice=practice, defaults={"reminder_hours": [24, "x", 0, 24]})
    visit = book()
    assert [m.not_before for m in reminders(visit)] == [visit.start_at - dt.timedelta(days=1)]


def test_a_moved_visit_gets_fresh_reminders_and_the_old_ones_never_go_out(book, committed, front_desk, patient,
                                                                        _outbox):
    visit = book()
    old = list(reminders(visit))
    moved = committed(move_appointment, actor=front_desk, appointment=visit,
                      start_at=visit.start_at + dt.timedelta(days=1, hours=-1), override_reason="family asked")
    assert moved.sequence == 1
    for message in old:
        message.refresh_from_db()
        assert message.state == MessageState.CANCELLED and message.status_reason == "the visit was moved"
    fresh = list(reminders(visit, state=MessageState.QUEUED))
    assert len(fresh) == 2 and all(m.idempotency_key.startswith(f"visit-reminder:{visit.pk}:1:") for m in fresh)
    assert fresh[1].not_before == moved.start_at - dt.timedelta(hours=2)
    send_due(visit)
    sent = sent_lines(_outbox)
    new_time = f"{moved.local_start:%A, %B} {moved.local_start.day} at 3:00 PM"
    assert len(sent) == 2 and all(new_time in line["body"] for line in sent)
    old_time = f"{visit.local_start:%A, %B} {visit.local_start.day} at 4:00 PM"
    assert not any(old_time in line["body"] for line in sent)
    assert set(reminders(visit).values_list("state", flat=True)) == {MessageState.CANCELLED, MessageState.SENT}


def test_a_cancelled_visit_withdraws_its_reminders_and_tells_the_family(book, committed, front_desk, patient,
                                                                       _outbox):
    visit = book()
    committed(cancel_appointment, actor=front_desk, appointment=visit, by="clinic", reason="Therapist ill")
    assert set(reminders(visit).values_list("state", flat=True)) == {MessageState.CANCELLED}
    notice = Message.objects.get(kind="visit_cancelled", about_id=visit.pk)
    assert "Ava's visit" in notice.body and "is cancelled" in notice.body
    send_due(visit)
    kinds = [line["kind"] for line in sent_lines(_outbox)]
    assert "visit_cancelled" in kinds and "visit_reminder" not in kinds
    assert not ReplyWait.objects.filter(handler="visit_confirmation", resolved_at__isnull=True).exists()


def test_confirming_replaces_the_reminders_wording(book, committed, front_desk, patient):
    visit = book()
    committed(set_status, actor=front_desk, appointment=visit, status=AppointmentStatus.CONFIRMED)
    pending = list(reminders(visit, state=MessageState.QUEUED))
    assert len(pending) == 2 and all(m.idempotency_key.endswith(":confirmed") for m in pending)
    assert all("see you" in m.body and "Reply YES" not in m.body for m in pending)
    assert reminders(visit, state=MessageState.CANCELLED).count() == 2


def test_a_visit_checked_in_gets_no_more_reminders(book, committed, front_desk):
    visit = book()
    committed(set_status, actor=front_desk, appointment=visit, status=AppointmentStatus.CHECKED_IN)
    assert not reminders(visit, state=MessageState.QUEUED).exists()


def test_spanish_guardian_gets_the_reminder_in_spanish(book, patient):
    rosa(patient).__class__.objects.filter(pk=rosa(patient).pk).update(language="es")
    visit = book()
    body = reminders(visit).first().body
    weekday = ["lunes", "martes", "miércoles", "jueves", "viernes"][visit.local_start.weekday()]
    assert f"la cita de Ava el {weekday} {visit.local_start.day} de " in body and "a las 16:00." in body
    assert "Responda SÍ para confirmar o NO para cancelar" in body and "CANCEL" not in body


def test_an_email_reminder_links_a_calendar_file(book, patient):
    rosa(patient).__class__.objects.filter(pk=rosa(patient).pk).update(preferred_channel="email")
    visit = book()
    message = reminders(visit).first()
    assert message.channel == "email" and message.subject.startswith("Ava's visit on ")
    assert re.search(r"http://127\.0\.0\.1:8000/calendar/visit/\S+\.ics", message.body)
    assert "Add the visit to your calendar:" in message.body


# Time: daylight saving and quiet hours


def test_48_hours_before_a_visit_after_the_fall_back_keeps_the_clock_time(practice):
    """Monday 2026-11-02 4 pm CST; clocks fell back on Sunday. The 48 h reminder comes on
    Saturday at 4 pm CDT (21:00 UTC), not 3 pm; the 2 h one at 2 pm CST."""
    start = dt.datetime(2026, 11, 2, 16, tzinfo=CHICAGO)
    assert start.utcoffset() == dt.timedelta(hours=-6)
    two_days = confirmations.reminder_time(start, 48, practice)
    assert two_days == dt.datetime(2026, 10, 31, 21, tzinfo=dt.UTC)
    assert two_days.astimezone(CHICAGO).strftime("%a %H:%M %Z") == "Sat 16:00 CDT"
    assert confirmations.reminder_time(start, 2, practice).astimezone(CHICAGO).hour == 14
    # Spring forward (Sunday 2027-03-14): Monday 9 am CDT, reminder Saturday 9 am CST.
    spring = dt.datetime(2027, 3, 15, 9, tzinfo=CHICAGO)
    assert confirmations.reminder_time(spring, 48, practice) == dt.datetime(2027, 3, 13, 15, tzinfo=dt.UTC)


def test_the_dst_reminder_is_queued_and_worded_in_local_time(patient, working_week, practice):
    start = dt.datetime(2026, 11, 2, 16, tzinfo=CHICAGO)
    visit = Appointment.objects.create(practice=practice, patient=patient, therapist=working_week,
                                       start_at=start, end_at=start + dt.timedelta(minutes=45))
    queued, _ = confirmations.sync_reminders(appointment=visit, now=dt.datetime(2026, 10, 28, 12, tzinfo=dt.UTC))
    assert queued == 2
    first, second = reminders(visit)
    assert first.not_before == dt.datetime(2026, 10, 31, 21, tzinfo=dt.UTC)
    assert first.not_before.astimezone(CHICAGO).strftime("%a %H:%M %Z") == "Sat 16:00 CDT"
    assert second.not_before.astimezone(CHICAGO).strftime("%a %H:%M %Z") == "Mon 14:00 CST"
    assert "Monday, November 2 at 4:00 PM" in first.body


def test_next_years_fall_back_too(practice, patient, working_week):
    year = practice.local_now().year + 1
    sunday = min(dt.date(year, 11, d) for d in range(1, 8) if dt.date(year, 11, d).weekday() == 6)
    start = local_to_utc(sunday + dt.timedelta(days=1), dt.time(16), practice.zone)
    visit = Appointment.objects.create(practice=practice, patient=patient, therapist=working_week, start_at=start,
                                       end_at=start + dt.timedelta(minutes=45))
    confirmations.sync_reminders(appointment=visit, now=start - dt.timedelta(days=5))
    local = [m.not_before.astimezone(practice.zone) for m in reminders(visit)]
    assert [(t.date(), t.hour) for t in local] == [(sunday - dt.timedelta(days=1), 16),
                                                   (sunday + dt.timedelta(days=1), 14)]


def test_reminders_stay_out_of_quiet_hours(practice, patient, working_week):
    MessagingPolicy.objects.filter(practice=practice).update(quiet_start=dt.time(20), quiet_end=dt.time(8))
    def times(hour):
        start = local_to_utc(dt.date(2027, 2, 3), dt.time(hour), practice.zone)  # a Wednesday
        visit = Appointment(practice=practice, patient=patient, therapist=working_week, start_at=start,
                            end_at=start + dt.timedelta(minutes=45))
        policy = ConfirmationPolicy.for_practice(practice)
        return [t.astimezone(practice.zone).strftime("%a %H:%M")
                for _, t in confirmations.reminder_schedule(visit, policy)]

    # 2 h before 10:00 is 08:00, when quiet hours end.
    assert times(10) == ["Mon 10:00", "Wed 08:00"]
    # 2 h before 08:30 would be 06:30; 08:00 is too late, so the evening before, before 20:00.
    assert times(8) == ["Mon 08:00", "Tue 19:45"]


# Text replies


def arm(visit):
    """The 48 h reminder goes out (and a wait for the reply is armed)."""
    first = reminders(visit).first()
    Message.objects.filter(pk=first.pk).update(not_before=timezone.now() - dt.timedelta(minutes=1),
                                               next_attempt_at=timezone.now() - dt.timedelta(minutes=1))
    call_command("sweep", schedule="minute")
    first.refresh_from_db()
    assert first.state == MessageState.SENT
    assert ReplyWait.objects.filter(about_id=visit.pk, handler="visit_confirmation", resolved_at__isnull=True).exists()
    return first


def answers():
    return list(Message.objects.filter(kind="visit_reply_answer").order_by("pk"))


def test_waits_are_armed_when_a_reminder_goes_out_not_when_it_is_queued(book):
    visit = book()
    assert not ReplyWait.objects.exists()
    call_command("sweep", schedule="minute")
    assert not ReplyWait.objects.exists()
    arm(visit)
    call_command("sweep", schedule="minute")
    assert ReplyWait.objects.count() == 1


def test_yes_confirms_the_visit(book, patient, django_capture_on_commit_callbacks):
    visit = book()
    arm(visit)
    with django_capture_on_commit_callbacks(execute=True):
        inbound = text("Yes!")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    assert inbound.outcome == "handled by visit_confirmation"
    (answer,) = answers()
    assert answer.urgent and answer.channel == "sms" and "is confirmed" in answer.body
    assert AuditEvent.objects.filter(actor_label=f"text reply from guardian #{rosa(patient).pk}",
                                     object_id=str(visit.pk), detail__status="confirmed").exists()
    # The reminders still to come say "see you" rather than asking again.
    pending = list(reminders(visit, state=MessageState.QUEUED))
    assert pending and all(m.idempotency_key.endswith(":confirmed") for m in pending)


@pytest.mark.parametrize("word", ["si", "Sí", "OK", "ok 👍"])
def test_spanish_and_short_yeses_confirm(book, word):
    visit = book()
    arm(visit)
    text(word)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED


def test_no_cancels_as_a_family_cancellation(book, django_capture_on_commit_callbacks):
    visit = book()
    arm(visit)
    with django_capture_on_commit_callbacks(execute=True):
        text("no")
    visit.refresh_from_db()
    assert visit.status in (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL)
    assert visit.cancelled_by == "family" and visit.cancel_reason == "Cancelled by text reply"
    assert "is cancelled" in answers()[0].body
    # Their answer says it; no second "cancelled" notice, and no reminder left.
    assert not Message.objects.filter(kind="visit_cancelled").exists()
    assert not reminders(visit, state=MessageState.QUEUED).exists()


def test_asking_for_another_time_opens_a_front_desk_task(book, patient):
    visit = book()
    arm(visit)
    text("No, can we reschedule to Thursday?")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    task = Task.objects.get(kind="visit_reschedule_request")
    assert task.role == "front_desk" and task.subject == visit and "reschedule to Thursday" in task.reason
    assert "request for another time" in answers()[0].body
    text("otro horario por favor", provider_id="SM2")
    assert Task.objects.filter(kind="visit_reschedule_request").count() == 1


def test_other_texts_go_to_the_front_desk_untouched(book):
    visit = book()
    arm(visit)
    inbound = text("We are running 10 minutes late")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED and inbound.outcome == "front-desk task"
    assert Task.objects.filter(kind="sms_reply").exists() and not answers()


def test_a_duplicate_reply_changes_nothing_twice(book):
    visit = book()
    arm(visit)
    text("YES", provider_id="SM1")
    text("YES", provider_id="SM1")  # the webhook repeated: one inbound, one answer
    assert InboundMessage.objects.count() == 1 and len(answers()) == 1
    # The family texts YES again: a plain "already confirmed", nothing changes twice.
    inbound = text("yes", provider_id="SM2")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED and inbound.outcome == "handled by visit_confirmation"
    assert len(answers()) == 2 and "already confirmed" in answers()[-1].body
    assert AuditEvent.objects.filter(object_id=str(visit.pk), detail__status="confirmed").count() == 1


def test_yes_after_no_gets_a_clear_answer(book, django_capture_on_commit_callbacks, no_refill):
    visit = book()
    arm(visit)
    with django_capture_on_commit_callbacks(execute=True):
        text("no", provider_id="SM1")
    with django_capture_on_commit_callbacks(execute=True):
        text("Yes sorry, wrong button", provider_id="SM2")
    visit.refresh_from_db()
    assert visit.status in (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL)
    assert "no longer booked, so nothing changed" in answers()[-1].body


def test_yes_for_a_visit_already_cancelled_confirms_nothing(book, committed, front_desk, no_refill):
    visit = book()
    arm(visit)
    committed(cancel_appointment, actor=front_desk, appointment=visit, by="clinic", reason="Therapist ill")
    # The cancellation stopped listening: the text goes to the front desk as a text.
    inbound = text("YES")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED and inbound.outcome == "front-desk task"


def test_yes_racing_a_cancellation_gets_a_clear_answer(book):
    visit = book()
    arm(visit)
    # Cancelled at the very moment the text arrived: the wait was still open.
    Appointment.objects.filter(pk=visit.pk).update(status=AppointmentStatus.CANCELLED, sequence=1)
    text("YES")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    assert "no longer booked, so nothing changed" in answers()[0].body


def test_a_lost_hook_still_lets_no_stale_reminder_out(book, _outbox):
    visit = book()
    # Moved by something that skipped the hook (or the process died after commit).
    Appointment.objects.filter(pk=visit.pk).update(start_at=visit.start_at + dt.timedelta(hours=1),
                                                   end_at=visit.end_at + dt.timedelta(hours=1), sequence=1)
    # The minute before the reminders are due, the check sees them coming.
    Message.objects.filter(state=MessageState.QUEUED).update(next_attempt_at=timezone.now() + dt.timedelta(minutes=1))
    call_command("sweep", schedule="minute")
    send_due(visit)
    assert not [line for line in sent_lines(_outbox) if ":0:" in line.get("ref", "")]
    states = dict(reminders(visit).values_list("idempotency_key", "state"))
    assert all(state == MessageState.CANCELLED for key, state in states.items() if ":0:" in key)


def test_the_hourly_sweep_queues_reminders_for_visits_booked_in_bulk(patient, working_week, practice):
    start = soon(practice)
    visit = Appointment.objects.create(practice=practice, patient=patient, therapist=working_week, start_at=start,
                                       end_at=start + dt.timedelta(minutes=45))
    assert confirmations.queue_upcoming_reminders() == 2
    assert confirmations.queue_upcoming_reminders() == 0
    assert reminders(visit).count() == 2


# The front desk's task for unconfirmed visits


def run(name, practice, now=None):
    rule = next(r for r in registered_rules() if r.name == name)
    return run_rule(rule, practice, now or timezone.now())


def test_an_unconfirmed_visit_near_its_time_becomes_a_task_until_confirmed(patient, working_week, practice,
                                                                           front_desk, committed):
    start = timezone.now() + dt.timedelta(hours=20)
    visit = Appointment.objects.create(practice=practice, patient=patient, therapist=working_week, start_at=start,
                                       end_at=start + dt.timedelta(minutes=45))
    later = Appointment.objects.create(practice=practice, patient=patient, therapist=working_week,
                                       start_at=start + dt.timedelta(days=3),
                                       end_at=start + dt.timedelta(days=3, minutes=45))
    assert run("visit_unconfirmed", practice) == (1, 0)
    task = Task.objects.get(kind="visit_unconfirmed", status__in=OPEN_STATUSES)
    assert task.subject == visit and task.role == "front_desk" and "(512) 555-0142" in task.reason
    assert task.title.startswith("Confirm Ava L.'s visit")
    committed(set_status, actor=front_desk, appointment=visit, status=AppointmentStatus.CONFIRMED)
    assert run("visit_unconfirmed", practice) == (0, 1)
    assert later.status == AppointmentStatus.BOOKED


def test_a_cancelled_visit_closes_its_unconfirmed_task(patient, working_week, practice, front_desk, committed):
    start = timezone.now() + dt.timedelta(hours=5)
    visit = Appointment.objects.create(practice=practice, patient=patient, therapist=working_week, start_at=start,
                                       end_at=start + dt.timedelta(minutes=45))
    run("visit_unconfirmed", practice)
    committed(cancel_appointment, actor=front_desk, appointment=visit, by="family", reason="Sick")
    assert run("visit_unconfirmed", practice) == (0, 1)


# The family page


@pytest.fixture
def family(patient):
    """Rosa's family link: (test client, portal path)."""
    _, url = create_family_link(actor="test", guardian=rosa(patient), patient=patient)
    return Client(enforce_csrf_checks=True), urlsplit(url).path


def post(family, visit, action, **data):
    client, path = family
    client.get(path)
    token = client.cookies["csrftoken"].value
    return client.post(f"{path}visits/{visit.pk}/{action}/",
                       {"csrfmiddlewaretoken": token, "sequence": visit.sequence, **data})


def test_the_family_confirms_from_the_page(book, family, patient, django_capture_on_commit_callbacks):
    visit = book()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(family, visit, "confirm")
    assert response.status_code == 200
    assert "Ava’s visit on" in response.content.decode() and "is confirmed." in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    link = patient.family_links.exclude(purpose="visits").get()
    assert AuditEvent.objects.filter(actor_label=f"family link #{link.pk}", object_id=str(visit.pk),
                                     detail__status="confirmed").exists()
    page = family[0].get(family[1]).content.decode()
    assert "Confirmed" in page and "Confirm this visit" not in page
    again = post(family, visit, "confirm")
    assert again.status_code == 200 and "was already confirmed" in again.content.decode()


def test_the_family_cancels_with_a_reason(book, family, django_capture_on_commit_callbacks):
    visit = book()
    assert post(family, visit, "cancel").status_code == 400  # no reason: still booked
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    with django_capture_on_commit_callbacks(execute=True):
        response = post(family, visit, "cancel", reason="sick", details="fever since last night")
    assert response.status_code == 200 and "is cancelled" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED and visit.cancelled_by == "family"
    assert visit.cancel_reason == "Child is sick: fever since last night"
    assert not reminders(visit, state=MessageState.QUEUED).exists()
    assert Message.objects.filter(kind="visit_cancelled", about_id=visit.pk).exists()
    again = post(family, visit, "cancel", reason="sick")
    assert again.status_code == 409 and "no longer booked" in again.content.decode()


def test_the_family_asks_for_another_time(book, family, committed, front_desk):
    visit = book()
    response = post(family, visit, "reschedule", note="Thursdays after 4 work better")
    assert response.status_code == 200 and "We received your request" in response.content.decode()
    task = Task.objects.get(kind="visit_reschedule_request")
    assert "Thursdays after 4" in task.reason and "the family page" in task.reason
    assert task.role == "front_desk" and task.subject == visit
    page = family[0].get(family[1]).content.decode()
    assert "You asked for another time." in page
    # The front desk finds a new time: the request is done.
    committed(move_appointment, actor=front_desk, appointment=visit, start_at=visit.start_at + dt.timedelta(days=1),
              override_reason="family asked")
    task.refresh_from_db()
    assert task.status not in OPEN_STATUSES


def test_a_confirm_after_the_visit_moved_changes_nothing(book, family, committed, front_desk):
    visit = book()
    shown = Appointment.objects.get(pk=visit.pk)  # what the family's page showed
    moved = committed(move_appointment, actor=front_desk, appointment=visit,
                      start_at=visit.start_at + dt.timedelta(hours=1), override_reason="therapist asked")
    response = post(family, shown, "confirm")
    body = response.content.decode()
    assert response.status_code == 409 and "The visit was changed after you opened the page" in body
    assert f"{moved.local_start:%A, %B} {moved.local_start.day} at 5:00 PM" in body
    moved.refresh_from_db()
    assert moved.status == AppointmentStatus.BOOKED


def test_family_forms_need_csrf_and_their_own_childs_visit(book, family, patient, practice, working_week):
    visit = book()
    client, path = family
    assert client.post(f"{path}visits/{visit.pk}/confirm/", {"sequence": 0}).status_code == 403
    from conftest import make_patient

    other = make_patient(practice, "Leo", "Park")
    theirs = Appointment.objects.create(practice=practice, patient=other, therapist=working_week,
                                        start_at=visit.start_at + dt.timedelta(hours=2),
                                        end_at=visit.start_at + dt.timedelta(hours=3))
    response = post(family, theirs, "confirm")
    assert response.status_code == 404 and "Leo" not in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.status == AppointmentStatus.BOOKED
    assert Client().get(f"{path}visits/{visit.pk}/confirm/").status_code == 405


def test_a_revoked_link_cannot_change_a_visit(book, family, patient, owner):
    visit = book()
    client, path = family
    client.get(path)
    token = client.cookies["csrftoken"].value
    revoke_family_link(actor=owner, link=patient.family_links.exclude(purpose="visits").get())
    response = client.post(f"{path}visits/{visit.pk}/confirm/", {"csrfmiddlewaretoken": token, "sequence": 0})
    assert response.status_code == 410
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_the_spanish_family_page_and_answer(book, patient):
    rosa(patient).__class__.objects.filter(pk=rosa(patient).pk).update(language="es")
    visit = book()
    _, url = create_family_link(actor="test", guardian=rosa(patient), patient=patient)
    client, path = Client(), urlsplit(url).path
    body = client.get(path).content.decode()
    assert "Próximas citas" in body and "Confirmar esta cita" in body and "Con Theo" in body
    assert "Upcoming visits" not in body
    answer = client.post(f"{path}visits/{visit.pk}/confirm/", {"sequence": 0}).content.decode()
    assert "está confirmada" in answer and "is confirmed" not in answer


def test_after_a_big_import_each_practices_top_up_queues_the_soonest_reminders_first(
        patient, working_week, practice, other_practice, monkeypatch):
    """A seeding or an import leaves a week of visits without reminders: each practice's hourly
    top-up queues a bounded number of visits' reminders, those going out soonest first, and
    the rest in the following hours; another practice's visits wait for its own top-up."""
    later, sooner = soon(practice, days=6), soon(practice, days=3)
    visits = [Appointment.objects.create(practice=practice, patient=patient, therapist=working_week, start_at=start,
                                         end_at=start + dt.timedelta(minutes=45)) for start in (later, sooner)]
    elsewhere = make_patient(other_practice, "Noa", "Other")
    make_guardian(elsewhere, first="Lia", phone="+15125550177")
    theirs = make_staff(other_practice, "tess", Role.THERAPIST)
    their_visit = Appointment.objects.create(practice=other_practice, patient=elsewhere, therapist=theirs,
                                             start_at=sooner, end_at=sooner + dt.timedelta(minutes=45))

    monkeypatch.setattr(confirmations, "REMINDER_VISITS_PER_RUN", 1)  # a day's share of two visits
    assert confirmations.queue_upcoming_reminders(practice=practice, spread=True) == 2
    assert reminders(visits[1]).count() == 2 and not reminders(visits[0]).exists()
    assert not reminders(their_visit).exists()
    assert confirmations.queue_upcoming_reminders(practice=practice, spread=True) == 2
    assert reminders(visits[0]).count() == 2
    assert confirmations.queue_upcoming_reminders(practice=practice, spread=True) == 0
    call_command("sweep", schedule="hourly")  # every practice's top-up
    assert reminders(their_visit).count() == 2


def test_a_top_up_queues_any_number_of_visits_in_the_same_few_queries_and_one_that_fails_holds_up_none(
        patient, working_week, practice, monkeypatch, caplog):
    """An hour's top-up writes its reminders together: four visits cost the queries two
    do, and a visit whose reminder cannot be made is logged and left for the next hour
    while the others' go out."""
    today = practice.local_now().date()

    def visits(*times):
        starts = [local_to_utc(today + dt.timedelta(days=days), dt.time(hour), practice.zone) for days, hour in times]
        return [Appointment.objects.create(practice=practice, patient=patient, therapist=working_week,
                                           start_at=start, end_at=start + dt.timedelta(minutes=45))
                for start in starts]

    visits((3, 10))
    assert confirmations.queue_upcoming_reminders(practice=practice) == 2  # (and the family's visits link)
    counts = []
    for batch in ([(3, 14), (3, 18)], [(4, 10), (4, 14), (5, 10), (5, 14)]):
        made = visits(*batch)
        with CaptureQueriesContext(connection) as queries:
            assert confirmations.queue_upcoming_reminders(practice=practice) == 2 * len(made)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts

    broken, *fine = visits((6, 10), (6, 14))
    context = confirmations._context

    def failing(appointment, guardian, **extra):
        if appointment.pk == broken.pk:
            raise ValueError("a record that does not render")
        return context(appointment, guardian, **extra)

    monkeypatch.setattr(confirmations, "_context", failing)
    assert confirmations.queue_upcoming_reminders(practice=practice) == 2
    assert reminders(fine[0]).count() == 2 and not reminders(broken).exists()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        f"reminders for visit {broken.pk} failed"] * 2
    caplog.clear()
    monkeypatch.setattr(confirmations, "_context", context)
    assert confirmations.queue_upcoming_reminders(practice=practice) == 2  # the next hour
    assert reminders(broken).count() == 2


def test_a_series_booked_weeks_ahead_gets_the_reminders_due_within_the_week_at_once(
        committed, front_desk, patient, working_week, practice):
    from pedsdesk.scheduling.series import create_series, extend_series

    start = soon(practice)
    day = start.astimezone(practice.zone).date()
    series = create_series(actor=front_desk, plan_of_care=patient.plans_of_care.first(), weekday=day.weekday(),
                           start_time=dt.time(16), start_date=day)
    assert committed(extend_series, series=series)[0] > 1  # its weeks ahead, in one transaction
    first, *later = Appointment.objects.filter(series=series).order_by("start_at")
    assert first.start_at == start and reminders(first).count() == 2  # both go out within the week
    assert later and not any(reminders(v).exists() for v in later)  # the hourly top-up queues those nearer the time

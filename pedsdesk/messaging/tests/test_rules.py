"""Quiet hours and per-contact caps in the practice's time zone, across daylight saving."""

import datetime as dt

import pytest

from pedsdesk.messaging.actions import queue_message
from pedsdesk.messaging.delivery import deliver_due
from pedsdesk.messaging.models import Message, MessageState, MessagingPolicy
from pedsdesk.messaging.tests.conftest import sent_bodies
from pedsdesk.messaging.tests.helpers import local

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def _text(practice, guardian, key, **kwargs):
    message = queue_message(practice=practice, kind="notice", recipient=guardian, context={}, idempotency_key=key,
                            channel="sms", **kwargs)
    return message


def _queued_at(message, when):
    """Pretend the message was queued at ``when`` (the DST dates may lie before the real now)."""
    Message.objects.filter(pk=message.pk).update(created_at=when, not_before=when, next_attempt_at=when)


@pytest.mark.parametrize(("evening", "morning", "utc_morning"), [
    # Spring forward: the night of Saturday 2027-03-13 is 23 hours long; 08:00 CDT is 13:00 UTC.
    (local(2027, 3, 13, 19, 59), local(2027, 3, 14, 8, 0), dt.datetime(2027, 3, 14, 13, 0, tzinfo=UTC)),
    # Fall back: the night of Saturday 2026-10-31 is 25 hours long; 08:00 CST is 14:00 UTC.
    (local(2026, 10, 31, 19, 59), local(2026, 11, 1, 8, 0), dt.datetime(2026, 11, 1, 14, 0, tzinfo=UTC)),
])
def test_a_text_queued_at_1959_waits_for_0800_local_across_dst(console_outbox, practice, patient, evening, morning,
                                                                utc_morning):
    rosa = patient.guardians.get()
    message = _text(practice, rosa, "q:1")
    _queued_at(message, evening)
    # The sweep comes round a minute later: 20:00, quiet hours. The text waits, it is not dropped.
    stats = deliver_due(now=evening + dt.timedelta(minutes=1))
    assert stats.deferred == 1 and stats.sent == 0
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED and message.next_attempt_at == morning == utc_morning
    assert "quiet hours" in message.status_reason
    assert deliver_due(now=morning - dt.timedelta(minutes=1)).sent == 0  # 07:59: still quiet
    assert deliver_due(now=morning).sent == 1
    assert [t["kind"] for t in sent_bodies(console_outbox)] == ["notice"]


def test_a_text_sent_at_1959_is_on_time(console_outbox, practice, patient):
    message = _text(practice, patient.guardians.get(), "q:2")
    evening = local(2027, 3, 13, 19, 59)
    _queued_at(message, evening)
    assert deliver_due(now=evening).sent == 1


@pytest.mark.parametrize("saturday", [local(2027, 3, 13, 19, 0), local(2026, 10, 31, 19, 0)])
def test_daily_cap_across_dst_second_text_waits_for_the_next_local_morning(console_outbox, practice, patient,
                                                                         saturday):
    rosa = patient.guardians.get()
    first, second = _text(practice, rosa, "c:1"), _text(practice, rosa, "c:2")
    _queued_at(first, saturday)
    _queued_at(second, saturday)
    stats = deliver_due(now=saturday)
    assert (stats.sent, stats.deferred) == (1, 1)
    waiting = Message.objects.get(state=MessageState.QUEUED)
    sunday = saturday.date() + dt.timedelta(days=1)
    sunday_morning = local(sunday.year, sunday.month, sunday.day, 8, 0)
    assert waiting.next_attempt_at == sunday_morning
    assert "limit" in waiting.status_reason
    # An urgent text is not capped.
    urgent = _text(practice, rosa, "c:3", urgent=True)
    _queued_at(urgent, saturday)
    assert deliver_due(now=saturday + dt.timedelta(minutes=5)).sent == 1
    assert deliver_due(now=sunday_morning).sent == 1


def test_weekly_cap_counts_seven_local_days_straddling_spring_forward(console_outbox, practice, patient):
    MessagingPolicy.objects.create(practice=practice, sms_per_day=1, sms_per_week=3)
    rosa = patient.guardians.get()
    # Thursday 11, Friday 12, Saturday 13 March 2027 (CST): three texts, one a day.
    for day in (11, 12, 13):
        message = _text(practice, rosa, f"w:{day}")
        _queued_at(message, local(2027, 3, day, 10))
        assert deliver_due(now=local(2027, 3, day, 10)).sent == 1
    fourth = _text(practice, rosa, "w:14")
    _queued_at(fourth, local(2027, 3, 14, 10))  # Sunday, now CDT
    assert deliver_due(now=local(2027, 3, 14, 10)).deferred == 1
    fourth.refresh_from_db()
    # Seven local days from Thursday 11 end on Wednesday 17; the first day with room is Thursday 18.
    assert fourth.next_attempt_at == local(2027, 3, 18, 8, 0)
    assert deliver_due(now=local(2027, 3, 17, 23, 0)).sent == 0
    assert deliver_due(now=local(2027, 3, 18, 8, 0)).sent == 1


def test_custom_quiet_hours_and_email_is_not_held(console_outbox, practice, patient):
    MessagingPolicy.objects.create(practice=practice, quiet_start=dt.time(18, 0), quiet_end=dt.time(9, 0))
    rosa = patient.guardians.get()
    text = _text(practice, rosa, "h:1")
    email = queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="h:2",
                          channel="email")
    at = local(2027, 1, 5, 18, 30)
    _queued_at(text, at)
    _queued_at(email, at)
    stats = deliver_due(now=at)
    assert (stats.sent, stats.deferred) == (1, 1)
    text.refresh_from_db()
    assert text.next_attempt_at == local(2027, 1, 6, 9, 0)


def test_opting_out_after_queueing_suppresses_at_send_time(console_outbox, practice, patient):
    from django.utils import timezone

    rosa = patient.guardians.get()
    message = _text(practice, rosa, "o:1")
    rosa.sms_opted_out_at = timezone.now()
    rosa.save()
    at = local(2027, 1, 5, 12)
    _queued_at(message, at)
    assert deliver_due(now=at).suppressed == 1
    message.refresh_from_db()
    assert message.state == MessageState.SUPPRESSED and "opted out" in message.status_reason
    assert sent_bodies(console_outbox) == []

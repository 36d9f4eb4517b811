"""Real emails through a local aiosmtpd server, read back."""

import pytest
from django.urls import reverse

from pedsdesk.messaging.actions import queue_message
from pedsdesk.messaging.channels.base import message_id
from pedsdesk.messaging.models import AttemptOutcome, ChannelFailure, Message, MessageState
from pedsdesk.messaging.tests.helpers import daytime, deliver
from pedsdesk.workqueue.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def _email(practice, guardian, key="e:1", kind="contact_test"):
    return queue_message(practice=practice, kind=kind, recipient=guardian, context={}, channel="email",
                         idempotency_key=key)


def test_email_goes_through_smtp_with_a_message_id_from_the_idempotency_key(smtp_sink, practice, patient):
    rosa = patient.guardians.get()
    message = _email(practice, rosa)
    stats = deliver()
    assert stats.sent == 1
    [received] = smtp_sink.messages
    assert received["To"] == "rosa@example.org"
    assert received["Message-ID"] == message_id(message) == f"<{message.reference}@sunnysteps.example>"
    assert received["From"].addresses[0].display_name == "Sunny Steps Pediatric Therapy"
    assert received["Subject"] == "A test message from Sunny Steps Pediatric Therapy"
    assert "Hello Rosa," in received.get_content()
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.provider_id == received["Message-ID"]
    [attempt] = message.delivery_attempts.all()
    assert attempt.outcome == AttemptOutcome.SENT and attempt.duration_ms is not None and attempt.transport == "smtp"
    assert deliver().sent == 0  # nothing twice


def test_spanish_guardian_gets_spanish_email(smtp_sink, practice, patient):
    rosa = patient.guardians.get()
    rosa.language = "es"
    rosa.save()
    _email(practice, rosa)
    deliver()
    [received] = smtp_sink.messages
    assert received["Subject"] == "Un mensaje de prueba de Sunny Steps Pediatric Therapy"
    assert "Hola Rosa:" in received.get_content()


def test_one_connection_carries_many_emails(smtp_sink, practice, patient, staff):
    for i, member in enumerate(staff.values()):
        queue_message(practice=practice, kind="daily_digest", recipient=member, channel="email",
                      context={"tasks": [{"title": f"Task {i}", "due": "today", "priority": "High",
                                          "url": f"/tasks/{i}/", "escalated": False}]},
                      idempotency_key=f"digest:{member.pk}")
    assert deliver().sent == 5
    assert sorted(m["To"] for m in smtp_sink.messages) == sorted(m.email for m in staff.values())
    assert all("Task" in m.get_content() for m in smtp_sink.messages)


def test_refused_recipient_marks_the_channel_failing_and_opens_one_task(smtp_sink, practice, patient, client_for,
                                                                        front_desk):
    rosa = patient.guardians.get()
    smtp_sink.refuse["rosa@example.org"] = "550 5.1.1 <rosa@example.org>: mailbox unavailable"
    message = _email(practice, rosa)
    stats = deliver()
    assert stats.failed == 1 and smtp_sink.messages == []
    message.refresh_from_db()
    assert message.state == MessageState.FAILED and "550" in message.status_reason
    failure = ChannelFailure.objects.get()
    assert (failure.guardian, failure.channel, failure.address) == (rosa, "email", "rosa@example.org")
    task = Task.objects.get(kind="contact_channel_failing")
    assert task.role == "front_desk" and task.subject == rosa and task.status == TaskStatus.OPEN
    assert task.dedupe_key == f"channel-failing:guardian:{rosa.pk}:email"
    # Never again on that channel: an explicit email is refused at once, a queued one suppressed.
    assert _email(practice, rosa, key="e:2") is None
    smtp_sink.refuse.clear()
    Message.objects.create(practice=practice, guardian=rosa, to_address=rosa.email, channel="email",
                           kind="notice", body="x", idempotency_key="e:3", reference="r3")
    assert deliver().suppressed == 1 and smtp_sink.messages == []
    assert Task.objects.filter(kind="contact_channel_failing").count() == 1
    # The front desk fixes the address and clears the mark: email works again and the task closes.
    response = client_for(front_desk).post(reverse("channel_failure_clear", args=[rosa.pk]), {"channel": "email"})
    assert response.status_code == 302
    failure.refresh_from_db()
    assert failure.cleared_at is not None and failure.cleared_by == front_desk
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    _email(practice, rosa, key="e:4")
    assert deliver().sent == 1 and len(smtp_sink.messages) == 1


def test_temporary_refusal_retries_with_backoff_then_gives_up(smtp_sink, practice, patient, settings):
    settings.PEDSDESK_MESSAGE_MAX_ATTEMPTS = 3
    rosa = patient.guardians.get()
    smtp_sink.refuse["rosa@example.org"] = "451 4.3.0 try again later"
    message = _email(practice, rosa)
    now = daytime()
    assert deliver(now).retried == 1
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED and message.attempts == 1
    first_wait = message.next_attempt_at - now
    assert deliver(now).retried == 0  # not due yet
    now = message.next_attempt_at
    deliver(now)
    message.refresh_from_db()
    assert message.next_attempt_at - now == 2 * first_wait  # exponential
    deliver(message.next_attempt_at)
    message.refresh_from_db()
    assert message.state == MessageState.FAILED and message.attempts == 3
    assert "gave up" in message.status_reason
    assert [a.outcome for a in message.delivery_attempts.all()] == ["retry", "retry", "failed"]
    assert not ChannelFailure.objects.exists()  # a temporary problem says nothing about the address


def test_server_down_is_a_temporary_failure(settings, practice, patient):
    settings.PEDSDESK_EMAIL_CHANNEL = "smtp"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.PEDSDESK_SMTP_TIMEOUT = "127.0.0.1", 9, 2
    message = _email(practice, patient.guardians.get())
    assert deliver().retried == 1
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED
    assert "ConnectionRefusedError" in message.delivery_attempts.get().error

"""Texts through the twilio package against a local server that checks the request shape."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from pedsdesk.messaging.actions import queue_message
from pedsdesk.messaging.delivery import recover_stale
from pedsdesk.messaging.models import ChannelFailure, Message, MessageState, MessagingPolicy, PhoneOptOut
from pedsdesk.messaging.tests.conftest import FROM_NUMBER
from pedsdesk.messaging.tests.helpers import deliver
from pedsdesk.workqueue.models import Task

pytestmark = pytest.mark.django_db


def _text(practice, guardian, key="t:1", kind="contact_test", **kwargs):
    return queue_message(practice=practice, kind=kind, recipient=guardian, context={}, idempotency_key=key,
                         **kwargs)


def test_text_goes_to_the_messages_api_with_a_status_callback(fake_twilio, practice, patient):
    message = _text(practice, patient.guardians.get())
    assert deliver().sent == 1
    [created] = fake_twilio.created
    form = created["form"]
    assert form["To"] == "+15125550142" and form["From"] == FROM_NUMBER
    assert form["Body"].startswith("Sunny Steps Pediatric Therapy: this is a test message")
    callback = urlsplit(form["StatusCallback"])
    assert callback.path == "/messaging/twilio/status/"
    assert parse_qs(callback.query)["ref"] == [message.reference]  # ties a callback to the message
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.provider_id == created["sid"]
    assert message.delivery_attempts.get().response == "status queued"


def test_messaging_service_and_a_practices_own_number(fake_twilio, practice, patient, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    guardian = patient.guardians.get()
    _text(practice, guardian, "t:1")
    deliver()
    assert fake_twilio.created[-1]["form"]["MessagingServiceSid"] == settings.TWILIO_MESSAGING_SERVICE_SID
    assert "From" not in fake_twilio.created[-1]["form"]
    MessagingPolicy.objects.update_or_create(practice=practice, defaults={"sms_from_number": "+15125550199",
                                                                          "sms_per_day": 5})
    _text(practice, guardian, "t:2", urgent=True)
    deliver()
    assert fake_twilio.created[-1]["form"]["From"] == "+15125550199"


@pytest.mark.parametrize("code", [21211, 21614])
def test_invalid_number_marks_the_number_failing(fake_twilio, practice, patient, code):
    guardian = patient.guardians.get()
    fake_twilio.errors[guardian.phone] = (400, code)
    message = _text(practice, guardian)
    assert deliver().failed == 1
    message.refresh_from_db()
    assert message.state == MessageState.FAILED and str(code) in message.status_reason
    assert ChannelFailure.objects.get().error_code == str(code)
    task = Task.objects.get(kind="contact_channel_failing")
    assert task.dedupe_key == f"channel-failing:guardian:{guardian.pk}:sms" and task.subject == guardian
    # The guardian's email still works, and texts are never tried again.
    fallback = _text(practice, guardian, "t:2")
    assert fallback.channel == "email"
    assert _text(practice, guardian, "t:3", channel="sms") is None


def test_carrier_opt_out_is_recorded_not_a_failing_number(fake_twilio, practice, patient):
    guardian = patient.guardians.get()
    fake_twilio.errors[guardian.phone] = (400, 21610)
    _text(practice, guardian)
    deliver()
    guardian.refresh_from_db()
    assert guardian.sms_opted_out_at is not None and PhoneOptOut.objects.filter(phone=guardian.phone).exists()
    assert not ChannelFailure.objects.exists() and not Task.objects.exists()


def test_twilio_server_error_is_retried(fake_twilio, practice, patient):
    guardian = patient.guardians.get()
    fake_twilio.errors[guardian.phone] = (503, 20500)
    message = _text(practice, guardian)
    assert deliver().retried == 1
    message.refresh_from_db()
    # A 5xx may come after Twilio created the text: in doubt until the lease runs out, then looked up.
    assert message.state == MessageState.SENDING and message.attempts == 1 and "in doubt" in message.status_reason
    del fake_twilio.errors[guardian.phone]
    assert deliver().sent == 0
    Message.objects.filter(pk=message.pk).update(lease_expires_at=message.lease_expires_at - timedelta(hours=1))
    stats = deliver()
    assert (stats.recovered, stats.sent) == (1, 1) and len(fake_twilio.created) == 1
    assert [a.outcome for a in message.delivery_attempts.all()] == ["retry", "sent"]


def test_an_error_after_twilio_kept_the_text_is_not_sent_twice(fake_twilio, practice, patient):
    guardian = patient.guardians.get()
    fake_twilio.create_then_fail.add(guardian.phone)
    message = _text(practice, guardian)
    assert deliver().sent == 1
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.delivery_attempts.get().outcome == "found"
    assert deliver().sent == 0 and len(fake_twilio.created) == 1


def _crash_after_claim(message):
    """What a worker killed after its claim leaves behind: SENDING, an expired lease, a started attempt."""
    from django.utils import timezone

    from pedsdesk.messaging.models import DeliveryAttempt

    past = timezone.now() - timezone.timedelta(minutes=10)
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, lease_token="dead", attempts=1,
                                                 lease_expires_at=past)
    DeliveryAttempt.objects.create(message=message, number=1, lease_token="dead", transport="twilio",
                                   started_at=past)


def test_a_dead_workers_text_that_twilio_has_is_not_sent_again(fake_twilio, practice, patient):
    message = _text(practice, patient.guardians.get())
    from pedsdesk.messaging.channels.sms_twilio import TwilioTransport

    TwilioTransport(channel="sms").send(message)  # the provider took it; then the worker died
    _crash_after_claim(message)
    assert recover_stale() == 1
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert message.delivery_attempts.get().outcome == "found"
    assert deliver().sent == 0 and len(fake_twilio.created) == 1


def test_a_dead_workers_text_that_twilio_never_got_is_sent_once(fake_twilio, practice, patient):
    message = _text(practice, patient.guardians.get())
    _crash_after_claim(message)
    assert recover_stale() == 1
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED
    assert deliver().sent == 1 and len(fake_twilio.created) == 1
    assert [a.outcome for a in message.delivery_attempts.all()] == ["retry", "sent"]

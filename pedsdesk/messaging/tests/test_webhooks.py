"""Twilio's inbound and status webhooks, signed with Twilio's own RequestValidator."""

import pytest
from django.core.management import call_command
from twilio.request_validator import RequestValidator

from conftest import make_guardian, make_patient
from pedsdesk.audit.models import AuditEvent
from pedsdesk.messaging.actions import await_reply, queue_message
from pedsdesk.messaging.models import (
    ChannelFailure,
    InboundMessage,
    Message,
    MessageState,
    PhoneOptOut,
    ProviderEvent,
    ReplyWait,
)
from pedsdesk.messaging.replies import intent_of, keyword_of, register_reply_handler
from pedsdesk.messaging.tests.conftest import AUTH_TOKEN, inbound_params, sent_bodies
from pedsdesk.messaging.tests.helpers import daytime, deliver
from pedsdesk.workqueue.models import Task

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["STOP", "stop", "Stop.", "STOP!", "stop please", "  Unsubscribe ", "cancel",
                                  "END", "quit", "please stop"])
def test_stop_keywords_opt_out_every_guardian_with_the_number(twilio_post, practice, patient, text):
    rosa = patient.guardians.get()
    brother = make_patient(practice, "Leo", "Lopez")
    rosa_again = make_guardian(brother, "Rosa")  # a second record with the same number
    response = twilio_post("twilio_inbound", inbound_params(text))
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    for guardian in (rosa, rosa_again):
        guardian.refresh_from_db()
        assert guardian.sms_opted_out_at is not None
    assert PhoneOptOut.objects.filter(practice=practice, phone="+15125550142").exists()
    events = AuditEvent.objects.filter(action="sms_opted_out", actor_label="sms reply")
    assert events.count() == 2
    assert InboundMessage.objects.get().keyword == "stop"


def test_keyword_and_intent_normalisation():
    assert [keyword_of(t) for t in ["STOP!", "Stop please", "stop.", "start", "UNSTOP", "help?", "Ayuda"]] == [
        "stop", "stop", "stop", "start", "start", "help", "help"]
    assert keyword_of("I can't make it on Tuesday, can we stop by Wednesday instead") is None
    assert [intent_of(t) for t in ["yes!", "Yes", "Si", "sí", "SÍ.", "ok 👍", "Y", "no", "Nope.", "maybe"]] == [
        "yes", "yes", "yes", "yes", "yes", "yes", "yes", "no", "no", None]


def test_stop_then_every_sweep_sends_nothing_more(twilio_post, console_outbox, practice, patient, staff):
    """A guardian who texts STOP receives nothing afterwards from any workflow."""
    rosa = patient.guardians.get()
    queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="before-stop",
                  channel="sms")
    twilio_post("twilio_inbound", inbound_params("Stop please"))
    # Workflows keep trying: a portal link, a notice, a test, queued after the STOP.
    for i, kind in enumerate(["notice", "contact_test", "help_reply"]):
        queue_message(practice=practice, kind=kind, recipient=rosa, context={}, idempotency_key=f"after:{i}",
                      channel="sms")
    from pedsdesk.messaging.actions import send_family_link

    send_family_link(actor=staff["front_desk"], guardian=rosa, patient=patient, channel="sms")
    call_command("sweep")
    deliver(daytime())
    texts = sent_bodies(console_outbox, "sms")
    assert [t["kind"] for t in texts] == ["opt_out_confirmation"]
    assert "Reply START" in texts[0]["body"]
    assert Message.objects.get(idempotency_key="before-stop").state == MessageState.SUPPRESSED
    # START turns texts on again.
    twilio_post("twilio_inbound", inbound_params("START"))
    rosa.refresh_from_db()
    assert rosa.sms_opted_out_at is None and not PhoneOptOut.objects.exists()
    queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="after-start",
                  channel="sms", urgent=True)
    deliver(daytime())
    assert sorted(t["kind"] for t in sent_bodies(console_outbox, "sms")) == [
        "notice", "opt_in_confirmation", "opt_out_confirmation"]


def test_help_answers_with_the_practices_phone(twilio_post, console_outbox, practice, patient):
    twilio_post("twilio_inbound", inbound_params("help"))
    deliver(daytime())
    [text] = sent_bodies(console_outbox, "sms")
    assert text["kind"] == "help_reply" and "(512) 555-0100" in text["body"]


def test_unsigned_or_mis_signed_requests_are_refused_and_nothing_is_recorded(twilio_post, practice, patient):
    params = inbound_params("STOP")
    assert twilio_post("twilio_inbound", params, signature="").status_code == 403
    assert twilio_post("twilio_inbound", params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    tampered = dict(params)
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://127.0.0.1:8000/messaging/twilio/inbound/",
                                                               params)
    tampered["Body"] = "START"
    assert twilio_post("twilio_inbound", tampered, signature=signature).status_code == 403
    assert twilio_post("twilio_status", {"MessageSid": "SM1", "MessageStatus": "delivered"},
                       signature="").status_code == 403
    assert not InboundMessage.objects.exists() and not ProviderEvent.objects.exists()
    assert patient.guardians.get().sms_opted_out_at is None


def test_no_auth_token_configured_refuses_everything(twilio_post, settings, practice):
    params = inbound_params("STOP")
    signed = twilio_post  # signs with the test token
    settings.TWILIO_AUTH_TOKEN = ""
    assert signed("twilio_inbound", params, signature="x").status_code == 403


def test_get_is_not_allowed(client):
    assert client.get("/messaging/twilio/inbound/").status_code == 405


def test_a_repeated_inbound_webhook_is_handled_once(twilio_post, practice, patient):
    params = inbound_params("Can we move Thursday to 4?", sid="SM" + "a" * 32)
    assert twilio_post("twilio_inbound", params).status_code == 200
    assert twilio_post("twilio_inbound", params).status_code == 200
    assert InboundMessage.objects.count() == 1
    task = Task.objects.get(kind="sms_reply")
    assert "Can we move Thursday to 4?" in task.reason and task.role == "front_desk"
    assert task.subject == patient.guardians.get()


def test_unknown_numbers_and_malformed_bodies(twilio_post, practice, patient):
    response = twilio_post("twilio_inbound", inbound_params("hello?", sender="+15125550999"))
    assert response.status_code == 200
    assert InboundMessage.objects.get().outcome == "front-desk task (unknown number)"
    assert twilio_post("twilio_inbound", inbound_params("STOP", sender="+15125550998")).status_code == 200
    assert PhoneOptOut.objects.filter(phone="+15125550998").exists()  # a guardian added later is not texted
    assert twilio_post("twilio_inbound", inbound_params("hi", sender="not a number")).status_code == 200
    assert "not a phone number" in InboundMessage.objects.get(from_number="not a number").outcome
    assert twilio_post("twilio_inbound", {"Body": "STOP"}).status_code == 400
    assert twilio_post("twilio_inbound", {"MessageSid": "SM1", "From": "+15125550142", "Body": ""}).status_code == 200
    assert twilio_post("twilio_status", {"MessageSid": "SM9"}).status_code == 400
    big = inbound_params("x" * 5000)
    assert twilio_post("twilio_inbound", big).status_code == 200
    assert twilio_post("twilio_inbound", inbound_params("sto\x00p \x00")).status_code == 200
    assert twilio_post("twilio_status", {"MessageSid": "SM\x00x", "MessageStatus": "sent\x00"},
                       query="?ref=%00").status_code == 204


def test_replies_go_to_the_workflow_waiting_for_them(twilio_post, practice, patient):
    seen = []

    def confirm(reply):
        seen.append((reply.intent, reply.normalized, reply.about))
        return reply.intent == "yes"

    register_reply_handler("test_confirm", confirm)
    rosa = patient.guardians.get()
    from django.utils import timezone

    await_reply(guardian=rosa, handler="test_confirm", about=patient, until=timezone.now() + timezone.timedelta(1))
    twilio_post("twilio_inbound", inbound_params("Sí!"))
    assert seen == [("yes", "si", patient)]
    assert ReplyWait.objects.get().resolved_at is not None
    assert not Task.objects.exists()
    # Nobody waits any more: the next reply becomes a task for the front desk.
    twilio_post("twilio_inbound", inbound_params("yes!"))
    assert Task.objects.get(kind="sms_reply").title == "Text from Rosa Lopez"


def test_status_callbacks_update_once_and_unknown_ones_are_logged(twilio_post, fake_twilio, practice, patient):
    message = queue_message(practice=practice, kind="contact_test", recipient=patient.guardians.get(), context={},
                            idempotency_key="s:1")
    deliver()
    message.refresh_from_db()
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered", "AccountSid": "AC1"}
    for _ in range(2):
        assert twilio_post("twilio_status", params, query=f"?ref={message.reference}").status_code == 204
    assert ProviderEvent.objects.filter(provider_id=message.provider_id).count() == 1
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED and message.delivered_at is not None
    # A late "sent" does not undo "delivered".
    twilio_post("twilio_status", {**params, "MessageStatus": "sent"}, query=f"?ref={message.reference}")
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert twilio_post("twilio_status", {"MessageSid": "SMnope", "MessageStatus": "sent"}).status_code == 204
    assert ProviderEvent.objects.get(provider_id="SMnope").outcome == "no such message"


def test_a_callback_resolves_a_message_whose_worker_died_after_twilio_took_it(twilio_post, practice, patient):
    message = queue_message(practice=practice, kind="contact_test", recipient=patient.guardians.get(), context={},
                            idempotency_key="s:2")
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, lease_token="dead")
    twilio_post("twilio_status", {"MessageSid": "SMabc", "MessageStatus": "sent"}, query=f"?ref={message.reference}")
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.provider_id == "SMabc"


def test_undelivered_to_a_landline_marks_the_number_failing(twilio_post, practice, patient):
    message = queue_message(practice=practice, kind="contact_test", recipient=patient.guardians.get(), context={},
                            idempotency_key="s:3")
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENT, provider_id="SMland")
    twilio_post("twilio_status", {"MessageSid": "SMland", "MessageStatus": "undelivered", "ErrorCode": "30006"})
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert ChannelFailure.objects.get().address == "+15125550142"
    assert Task.objects.filter(kind="contact_channel_failing").count() == 1

"""The disclosure gate: every send to a school passes it when queued, right before the
outbox hands it over, and when the contact opens the link. Emails go through a real
SMTP server and are read back."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from conftest import make_school, without_links
from pedsdesk.audit.models import AuditEvent
from pedsdesk.messaging.actions import queue_message
from pedsdesk.messaging.models import Message, MessageState
from pedsdesk.messaging.tests.helpers import deliver
from pedsdesk.schools import actions
from pedsdesk.schools.models import (
    ConsentState,
    Delivery,
    Disclosure,
    DisclosureAuthorization,
    DisclosureState,
    InfoCategory,
)
from pedsdesk.schools.queries import disclosures_of
from pedsdesk.schools.tests.conftest import make_contact

# The personas' practice keeps Chicago's calendar; UTC's date runs ahead of it every evening.
PRACTICE_ZONE = ZoneInfo("America/Chicago")


def practice_today() -> dt.date:
    return timezone.localdate(timezone=PRACTICE_ZONE)


pytestmark = pytest.mark.django_db


def _link(received) -> str:
    return re.search(r"https?://\S+/s/\S+/", received.get_content()).group(0)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_summary_goes_as_a_link_and_the_school_opens_the_pdf(smtp_sink, authorization, signed_summary, contact,
                                                               front_desk):
    disclosure = actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    assert deliver().sent == 1
    [received] = smtp_sink.messages
    assert received["To"] == contact.email and received["Subject"] == f"A document from {contact.practice.name}"
    body = received.get_content()
    assert "Ava L." in body and "F82" not in body and "slant board" not in body  # the link holds the detail
    assert not list(received.iter_attachments())

    response = Client().get(_path(_link(received)))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF") and "no-store" in response["Cache-Control"]
    disclosure.refresh_from_db()
    assert disclosure.open_count == 1 and disclosure.first_opened_at is not None
    [row] = disclosures_of(signed_summary.patient)
    assert row.status_text.startswith("Sent ") and "opened" in row.status_text
    assert row.purpose == authorization.purpose and row.sent_by == front_desk.get_full_name()


def test_no_authorization_refuses_saying_what_is_missing_and_queues_nothing(draft, signed_summary, contact,
                                                                            front_desk):
    with pytest.raises(actions.GateRefused) as refused:
        actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    assert refused.value.result.reason.startswith("The family has not signed the authorization drafted")
    assert not Disclosure.objects.exists() and not Message.objects.exists()


def test_a_contact_of_another_school_is_refused(authorization, signed_summary, practice, front_desk):
    other = make_contact(practice, make_school(practice, "Oak Middle"), name="Lee Park")
    with pytest.raises(actions.GateRefused) as refused:
        actions.send_summary(actor=front_desk, summary=signed_summary, contact=other)
    assert "does not name Lee Park (Oak Middle) as a recipient" in refused.value.result.reason
    assert not Message.objects.exists()


def test_an_address_the_authorization_does_not_name_is_refused(draft, patient, signed_summary, contact, front_desk):
    draft.recipient_school = None
    draft.save()
    draft.recipient_contacts.set([contact])
    actions.sign_authorization(authorization=draft, guardian=patient.guardians.get(), typed_name="Rosa Lopez",
                               agreed=True)
    with pytest.raises(actions.GateRefused) as refused:
        actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact, address="dana@gmail.example")
    assert "is not Dana Whitfield's address on file" in refused.value.result.reason
    # The contact's address changed after the family signed: the new one was never authorized.
    contact.email = "dana.w@maple.k12.example"
    contact.save()
    with pytest.raises(actions.GateRefused) as refused:
        actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    assert "names Dana Whitfield at another address" in refused.value.result.reason
    assert not Message.objects.exists()


def test_an_attachment_needs_the_familys_opt_in(smtp_sink, authorization, signed_summary, contact, front_desk):
    with pytest.raises(actions.GateRefused, match="accepts a secure link only"):
        actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact, attach=True)
    DisclosureAuthorization.objects.filter(pk=authorization.pk).update(delivery=Delivery.ATTACHMENT)
    actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact, attach=True)
    assert deliver().sent == 1
    [pdf] = list(smtp_sink.messages[0].iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")


def test_revoked_between_queueing_and_sending_nothing_leaves(smtp_sink, authorization, signed_summary, contact,
                                                             front_desk, patient):
    disclosure = actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    actions.revoke_authorization(actor="family link #1", authorization=authorization, reason="changed my mind")
    stats = deliver()
    assert stats.sent == 0 and smtp_sink.messages == []
    disclosure.refresh_from_db()
    assert disclosure.state == DisclosureState.STOPPED and disclosure.message.state == MessageState.CANCELLED
    assert disclosures_of(patient)[0].status_text == "Stopped: the disclosure authorization was revoked"


def test_the_outbox_checks_the_gate_itself_right_before_sending(smtp_sink, authorization, signed_summary, contact,
                                                                front_desk):
    """A revocation that did not withdraw the queued email (written straight to the row,
    or racing the worker) is caught by the outbox's pre-send check."""
    disclosure = actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    DisclosureAuthorization.objects.filter(pk=authorization.pk).update(state=ConsentState.REVOKED,
                                                                       revoked_at=timezone.now())
    stats = deliver()
    assert stats.sent == 0 and stats.suppressed == 1 and smtp_sink.messages == []
    disclosure.refresh_from_db()
    assert disclosure.state == DisclosureState.STOPPED and "was revoked" in disclosure.stopped_reason
    message = disclosure.message
    message.refresh_from_db()
    assert message.state == MessageState.CANCELLED and message.status_reason.startswith("stopped before sending")
    assert AuditEvent.objects.filter(action="school_disclosure_stopped").count() == 1


def test_revoked_after_sending_the_link_no_longer_opens(smtp_sink, authorization, signed_summary, contact,
                                                        front_desk):
    disclosure = actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    deliver()
    url = _path(_link(smtp_sink.messages[0]))
    actions.revoke_authorization(actor=front_desk, authorization=authorization)
    response = Client().get(url)
    assert response.status_code == 410 and b"%PDF" not in response.content
    assert b"no longer available" in response.content
    disclosure.refresh_from_db()
    assert disclosure.open_count == 0
    assert AuditEvent.objects.filter(action="school_document_refused", object_id=str(disclosure.pk)).exists()


def test_an_expired_authorization_or_link_no_longer_opens(smtp_sink, authorization, signed_summary, contact,
                                                          front_desk):
    disclosure = actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    deliver()
    url = _path(_link(smtp_sink.messages[0]))
    assert Client().get(url).status_code == 200
    Disclosure.objects.filter(pk=disclosure.pk).update(link_expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert Client().get(url).status_code == 410
    Disclosure.objects.filter(pk=disclosure.pk).update(link_expires_at=timezone.now() + dt.timedelta(days=1))
    DisclosureAuthorization.objects.filter(pk=authorization.pk).update(
        expires_on=practice_today() - dt.timedelta(days=1))
    assert Client().get(url).status_code == 410
    assert Client().get(url[:-3] + "xx/").status_code == 404  # a tampered token


def test_no_email_reaches_an_outside_contact_without_a_disclosure_record(smtp_sink, contact, practice,
                                                                         authorization):
    """Any code path that queues a school email without going through the gate is caught."""
    queue_message(practice=practice, kind="school_document", recipient=contact, idempotency_key="sneaky:1",
                  context={"url": "https://example.org/x", "child": "Ava L.", "expires": timezone.now()})
    assert deliver().sent == 0 and smtp_sink.messages == []
    assert Message.objects.get().status_reason == ("stopped before sending: an email to an outside contact must "
                                                   "be a recorded disclosure")


def test_the_refusal_offers_a_one_click_request_to_the_family(draft, signed_summary, contact, front_desk, patient):
    DisclosureAuthorization.objects.all().delete()
    authorization, messages = actions.request_family_signature(actor=front_desk, patient=patient, contact=contact,
                                                              category=InfoCategory.PROGRESS_SUMMARIES)
    assert authorization.state == ConsentState.DRAFT and authorization.recipient_school == patient.school
    assert list(authorization.recipient_contacts.all()) == [contact]
    [message] = messages
    assert message.kind == "school_consent_request" and "/school-consents/" in message.body
    assert "F82" not in without_links(message.body) and "OT" not in without_links(message.body)


def test_a_refusal_names_the_days_on_the_practices_calendar(authorization, signed_summary, contact, front_desk):
    """Signed and revoked at 9 pm in Chicago, which is already tomorrow in UTC."""
    evening = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)  # Nov 19, 21:00 in Chicago
    DisclosureAuthorization.objects.filter(pk=authorization.pk).update(
        state=ConsentState.REVOKED, signed_at=evening, revoked_at=evening + dt.timedelta(days=1))
    with pytest.raises(actions.GateRefused) as refused:
        actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    assert refused.value.result.reason == "The authorization signed Nov 19, 2026 was revoked on Nov 20, 2026."

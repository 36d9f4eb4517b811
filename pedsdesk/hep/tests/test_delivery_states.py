"""A delivery follows its message through Twilio's status callback (sent → delivered, or
failed → the other channel at once), and opening the family page is safe to repeat."""

import pytest
from django.core.management import call_command

from pedsdesk.audit.models import AuditEvent
from pedsdesk.hep.actions import follow_up, mark_opened, sweep_deliveries
from pedsdesk.hep.models import Delivery, DeliveryState
from pedsdesk.hep.tests.conftest import deliver_due
from pedsdesk.messaging.models import Message, MessageState
from pedsdesk.messaging.tests.conftest import fake_twilio, twilio_post  # noqa: F401 (fixtures)
from pedsdesk.portal.models import FamilyLink
from pedsdesk.workqueue.models import OPEN_STATUSES, Task

pytestmark = pytest.mark.django_db


def _sent_by_twilio(send_program, fake_twilio) -> tuple[Delivery, Message]:  # noqa: F811
    send_program()
    deliver_due()
    delivery = Delivery.objects.get()
    message = Message.objects.get(kind="hep_program", channel="sms")
    assert fake_twilio.created and message.state == MessageState.SENT and message.provider_id
    assert delivery.state == DeliveryState.SENT and delivery.delivered_at is None
    return delivery, message


def test_twilios_delivered_callback_moves_the_delivery_to_delivered(send_program, fake_twilio, twilio_post,  # noqa: F811
                                                                    any_hour):
    delivery, message = _sent_by_twilio(send_program, fake_twilio)
    response = twilio_post("twilio_status", {"MessageSid": message.provider_id, "MessageStatus": "delivered"},
                           query=f"?ref={message.reference}")
    assert response.status_code == 204
    call_command("sweep", schedule="minute")  # hep.deliveries reads the outbox every minute
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED and delivery.delivered_at is not None
    assert delivery.next_follow_up_at is not None  # still waiting to be opened
    # A late "sent" callback does not move it back.
    twilio_post("twilio_status", {"MessageSid": message.provider_id, "MessageStatus": "sent"})
    call_command("sweep", schedule="minute")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED


def test_an_undelivered_callback_fails_the_text_and_the_email_goes_at_once(send_program, fake_twilio,  # noqa: F811
                                                                          twilio_post, any_hour):  # noqa: F811
    delivery, message = _sent_by_twilio(send_program, fake_twilio)
    twilio_post("twilio_status", {"MessageSid": message.provider_id, "MessageStatus": "undelivered",
                                  "ErrorCode": "30003"})
    sweep_deliveries()
    delivery.refresh_from_db()
    assert delivery.follow_up_step == 2 and delivery.state == DeliveryState.QUEUED
    assert Message.objects.filter(kind="hep_program", channel="email", guardian=delivery.guardian).exists()


def test_opening_the_page_again_changes_nothing_and_closes_the_front_desks_task(send_program, patient, client,
                                                                               any_hour):
    send_program()
    delivery = Delivery.objects.get()
    for _ in range(3):  # reminder, other channel, front desk
        follow_up(Delivery.objects.select_related("practice", "guardian", "version__program__patient")
                  .get(pk=delivery.pk), delivery.created_at)
    task = Task.objects.get(dedupe_key=f"hep-unreached:{delivery.pk}")
    assert task.status in OPEN_STATUSES
    link = FamilyLink.objects.get(patient=patient)
    assert mark_opened(link=link) == 1
    assert mark_opened(link=link) == 0
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.OPENED and delivery.next_follow_up_at is None
    assert AuditEvent.objects.filter(action="hep_delivery_opened").count() == 1
    task.refresh_from_db()
    assert task.status not in OPEN_STATUSES and task.business_status == "the family opened it"

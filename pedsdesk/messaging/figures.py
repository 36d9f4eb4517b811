"""The outbox's figures for ``/metrics``: depth, age of the oldest due message, rate."""

import datetime as dt

from django.db.models import Count, Min
from django.utils import timezone

from pedsdesk.messaging.models import Message, MessageState
from pedsdesk.operations.metrics import gauge


@gauge("pedsdesk_outbox_due_messages", "Messages queued and due now, by channel", ("channel",))
def outbox_depth():
    now = timezone.now()
    rows = (Message.objects.filter(state=MessageState.QUEUED, next_attempt_at__lte=now, not_before__lte=now)
            .values("channel").annotate(n=Count("id")))
    for row in rows:
        yield (row["channel"],), row["n"]


@gauge("pedsdesk_outbox_oldest_due_age_seconds", "Seconds the oldest due queued message has waited")
def oldest_due():
    now = timezone.now()
    oldest = (Message.objects.filter(state=MessageState.QUEUED, next_attempt_at__lte=now, not_before__lte=now)
              .aggregate(first=Min("not_before"))["first"])
    yield (), (now - oldest).total_seconds() if oldest else 0.0


@gauge("pedsdesk_messages_sent_last_hour", "Messages handed to a provider in the last hour, by channel",
       ("channel",))
def delivery_rate():
    since = timezone.now() - dt.timedelta(hours=1)
    for row in Message.objects.filter(sent_at__gte=since).values("channel").annotate(n=Count("id")):
        yield (row["channel"],), row["n"]

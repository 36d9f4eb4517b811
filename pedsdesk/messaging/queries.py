"""Reads for the staff pages, scoped to one practice."""

from django.db.models import Count, QuerySet

from pedsdesk.audit.actions import record_event
from pedsdesk.messaging.models import ChannelFailure, InboundMessage, Message, MessageState


def open_failures(*, practice, guardian=None, channel: str = "") -> QuerySet:
    failures = ChannelFailure.objects.filter(practice=practice, cleared_at__isnull=True)
    if guardian is not None:
        failures = failures.filter(guardian=guardian)
    if channel:
        failures = failures.filter(channel=channel)
    return failures.select_related("guardian", "staff_member")


def outbox_page(*, practice, state: str = "", request=None) -> dict:
    """The latest messages (kind in words, the text as sent without link tokens, recipient,
    state), counts per state,
    the failing channels and the latest texts from families."""
    rows = Message.objects.filter(practice=practice).select_related("guardian", "staff_member")
    if state in MessageState.values:
        rows = rows.filter(state=state)
    counts = dict(Message.objects.filter(practice=practice).values_list("state").annotate(n=Count("pk")))
    inbound = InboundMessage.objects.filter(practice=practice).prefetch_related("guardians")[:20]
    # Texts from families may name a child: reading the page is audited like a chart.
    if request is not None:
        record_event(actor=request.user, action="list", object_type="messaging.message",
                     detail={"state": state} if state else {}, request=request)
    return {
        "title": "Messages",
        "messages_list": rows[:100],
        "counts": [(s.label, s.value, counts.get(s.value, 0)) for s in MessageState],
        "state": state,
        "failures": open_failures(practice=practice),
        "inbound": inbound,
    }

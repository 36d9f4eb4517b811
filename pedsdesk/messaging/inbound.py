"""What happens to a text a family sends us, and to a provider's status callback.

Both are recorded once per provider id, so a repeated webhook changes nothing.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from pedsdesk.messaging.actions import opt_in_number, opt_out_number, queue_message
from pedsdesk.messaging.models import (
    Channel,
    InboundMessage,
    Message,
    MessageState,
    MessagingPolicy,
    ProviderEvent,
    ReplyWait,
)
from pedsdesk.messaging.replies import _HANDLERS, Reply, intent_of, keyword_of, normalize
from pedsdesk.people.models import Guardian
from pedsdesk.people.phones import normalize_phone
from pedsdesk.practices.models import Practice

logger = logging.getLogger("pedsdesk.messaging")

# Twilio error codes in a status callback that mean the number cannot get texts.
CALLBACK_NUMBER_FAILING = {"30003", "30005", "30006", "21211", "21612", "21614"}
CALLBACK_UNSUBSCRIBED = {"21610"}
_STATE_RANK = {MessageState.QUEUED: 0, MessageState.SENDING: 1, MessageState.SENT: 2, MessageState.DELIVERED: 3,
               MessageState.FAILED: 3}


def practices_for(to_number: str) -> list[Practice]:
    """The practices a text to ``to_number`` reached: the one with that number of its own,
    else every practice that uses the site's number."""
    own = list(Practice.objects.filter(messaging_policy__sms_from_number=to_number))
    if own:
        return own
    dedicated = MessagingPolicy.objects.exclude(sms_from_number="").values("practice_id")
    return list(Practice.objects.exclude(pk__in=dedicated).order_by("pk"))


def handle_inbound(*, provider_id: str, from_number: str, to_number: str, body: str) -> InboundMessage:
    """Record a text and act on it: STOP/START/HELP, a waiting workflow, or a front-desk task."""
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(provider_id=provider_id, from_number=from_number[:32],
                                                    to_number=to_number[:32], body=body[:1600])
            _act(inbound)
            inbound.save(update_fields=["practice", "keyword", "outcome"])
    except IntegrityError:
        inbound = InboundMessage.objects.get(provider_id=provider_id)
        logger.info("inbound %s was already handled (%s)", provider_id, inbound.outcome)
    return inbound


def _act(inbound: InboundMessage) -> None:
    try:
        phone = normalize_phone(inbound.from_number)
    except ValidationError:
        inbound.outcome = "ignored: the sender is not a phone number we can read"
        logger.warning("inbound %s: unreadable sender number", inbound.provider_id)
        return
    practices = practices_for(inbound.to_number)
    guardians = list(Guardian.objects.filter(practice__in=practices, phone=phone).select_related("practice"))
    inbound.guardians.set(guardians)
    if len({g.practice_id for g in guardians}) == 1:
        inbound.practice = guardians[0].practice
    elif len(practices) == 1:
        inbound.practice = practices[0]
    keyword = keyword_of(inbound.body)
    inbound.keyword = keyword or ""
    if keyword == "stop":
        _stop(inbound, phone, practices, guardians)
    elif keyword == "start":
        _start(inbound, phone, practices, guardians)
    elif keyword == "help":
        _help(inbound, guardians)
    elif keyword == "unclear":
        # It names stopping but plainly not of texts ("don't stop the visits"): a person reads
        # it rather than a workflow taking it as an answer.
        _task_for_reply(inbound, guardians, unclear_stop=True)
    else:
        _route(inbound, guardians)


def _first_per_practice(guardians: list[Guardian]) -> list[Guardian]:
    seen, first = set(), []
    for guardian in guardians:
        if guardian.practice_id not in seen:
            seen.add(guardian.practice_id)
            first.append(guardian)
    return first


def _confirm(inbound: InboundMessage, guardians: list[Guardian], kind: str) -> None:
    for guardian in _first_per_practice(guardians):
        queue_message(practice=guardian.practice, kind=kind, recipient=guardian, context={}, channel=Channel.SMS,
                      urgent=True, idempotency_key=f"{kind}:{inbound.provider_id}:{guardian.practice_id}")


def _stop(inbound, phone, practices, guardians) -> None:
    # Every practice the text reached: a guardian added later with this number is not texted either.
    for practice in practices:
        opt_out_number(practice=practice, phone=phone, keyword="STOP")
    _confirm(inbound, guardians, "opt_out_confirmation")
    inbound.outcome = (f"opted out {len(guardians)} guardian(s)" if guardians
                       else "opted out a number that belongs to no guardian")


def _start(inbound, phone, practices, guardians) -> None:
    for practice in practices:
        opt_in_number(practice=practice, phone=phone, keyword="START")
    for guardian in guardians:
        guardian.sms_opted_out_at = None
    _confirm(inbound, guardians, "opt_in_confirmation")
    inbound.outcome = f"opted in {len(guardians)} guardian(s)" if guardians else "START from an unknown number"


def _help(inbound, guardians) -> None:
    if not guardians:
        inbound.outcome = "HELP from an unknown number: not answered"
        return
    _confirm(inbound, guardians, "help_reply")
    inbound.outcome = "answered HELP"


def _route(inbound: InboundMessage, guardians: list[Guardian]) -> None:
    """Offer the reply to the newest workflow waiting on one of these guardians."""
    now = timezone.now()
    waits = ReplyWait.objects.filter(guardian__in=guardians, resolved_at__isnull=True, until__gt=now).select_related(
        "guardian")
    normalized, intent = normalize(inbound.body), intent_of(inbound.body)
    for wait in waits:
        handler = _HANDLERS.get(wait.handler)
        if handler is None:
            logger.warning("reply wait %s names no registered handler %r", wait.pk, wait.handler)
            continue
        reply = Reply(text=inbound.body, normalized=normalized, intent=intent, guardian=wait.guardian,
                      inbound=inbound, wait=wait)
        try:
            with transaction.atomic():
                used = handler(reply)
        except Exception:
            logger.exception("reply handler %s failed on inbound %s", wait.handler, inbound.provider_id)
            continue
        if used:
            ReplyWait.objects.filter(pk=wait.pk).update(resolved_at=now, resolved_by=inbound)
            inbound.outcome = f"handled by {wait.handler}"
            return
    _task_for_reply(inbound, guardians)


def _task_for_reply(inbound: InboundMessage, guardians: list[Guardian], *, unclear_stop: bool = False) -> None:
    from pedsdesk.workqueue.actions import TaskSpec, open_task

    if not guardians and inbound.practice is None:
        inbound.outcome = "unknown number, several practices: logged only"
        logger.info("inbound %s from a number on no guardian's record", inbound.provider_id)
        return
    targets = _first_per_practice(guardians) or [None]
    for guardian in targets:
        practice = guardian.practice if guardian else inbound.practice
        who = str(guardian) if guardian else f"unknown number {inbound.from_number}"
        spec = TaskSpec(
            dedupe_key=f"sms-reply:{inbound.provider_id}", title=f"Text from {who}",
            reason=(f"They wrote: “{inbound.body[:1000]}”. It mentions stopping but does not seem to ask to "
                    f"stop texts, so texts were not turned off; check with them." if unclear_stop else
                    f"They wrote: “{inbound.body[:1000]}”. No workflow was waiting for this reply; answer them "
                    f"or act on it."),
            subject=guardian, role="front_desk",
            links=[{"label": "Guardian", "url": guardian.get_absolute_url()}] if guardian else [],
        )
        open_task(practice=practice, kind="sms_reply", spec=spec, rule="messaging")
    inbound.outcome = "front-desk task" if guardians else "front-desk task (unknown number)"
    if unclear_stop:
        inbound.outcome += ": mentions stopping, not opted out"


def handle_status(*, provider_id: str, status: str, error_code: str = "", ref: str = "") -> ProviderEvent:
    """Apply a status callback once: a repeat of the same (MessageSid, status) is ignored."""
    from pedsdesk.messaging.actions import mark_channel_failing

    status = status.lower()[:30]
    try:
        with transaction.atomic():
            event = ProviderEvent.objects.create(provider_id=provider_id, status=status, error_code=error_code[:30])
            message = Message.objects.filter(channel=Channel.SMS, provider_id=provider_id).first()
            if message is None and ref:
                # The worker died before recording Twilio's id: our reference names the message.
                message = Message.objects.filter(channel=Channel.SMS, reference=ref).first()
            if message is None:
                event.outcome = "no such message"
                event.save(update_fields=["outcome"])
                logger.info("status callback for unknown message %s", provider_id)
                return event
            event.message = message
            event.outcome = _apply_status(message, provider_id, status, error_code)
            event.save(update_fields=["message", "outcome"])
            if status in ("failed", "undelivered"):
                if error_code in CALLBACK_NUMBER_FAILING:
                    mark_channel_failing(message=message, reason=f"Twilio error {error_code} ({status})",
                                         error_code=error_code)
                elif error_code in CALLBACK_UNSUBSCRIBED and message.guardian_id:
                    opt_out_number(practice=message.practice, phone=message.to_address, keyword="carrier",
                                   actor="sms provider")
    except IntegrityError:
        event = ProviderEvent.objects.get(provider_id=provider_id, status=status)
        logger.info("duplicate status callback %s %s ignored", provider_id, status)
    return event


def _apply_status(message: Message, provider_id: str, status: str, error_code: str) -> str:
    now = timezone.now()
    fields = {"provider_status": status, "updated_at": now}
    if not message.provider_id:
        fields["provider_id"] = provider_id
    new_state = {"delivered": MessageState.DELIVERED, "failed": MessageState.FAILED,
                 "undelivered": MessageState.FAILED}.get(status)
    if status in ("accepted", "queued", "sending", "sent") and message.state == MessageState.SENDING:
        # Twilio has it although no worker recorded so: the worker died after sending.
        new_state = MessageState.SENT
    if new_state and _STATE_RANK.get(new_state, 0) > _STATE_RANK.get(message.state, -1):
        fields["state"] = new_state
        if new_state == MessageState.DELIVERED:
            fields["delivered_at"] = now
        if new_state == MessageState.FAILED:
            fields["status_reason"] = f"carrier reported {status} (error {error_code or '?'})"[:200]
            fields["closed_at"] = now
        if new_state == MessageState.SENT:
            fields.update(sent_at=now, lease_token="", lease_expires_at=None)
    Message.objects.filter(pk=message.pk).update(**fields)
    return f"message {message.pk}: {status}"

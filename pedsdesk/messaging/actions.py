"""Putting messages in the outbox, withdrawing them, and the changes messaging makes
to contacts (opt-outs, failing channels). Keyword-only, callable inside the caller's
transaction: a message row commits or rolls back with the change that caused it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.messaging.channels.base import reference_for
from pedsdesk.messaging.kinds import kind_of, render
from pedsdesk.messaging.models import (
    Channel,
    ChannelFailure,
    Message,
    MessageAttachment,
    MessageState,
    PhoneOptOut,
    ReplyWait,
)
from pedsdesk.messaging.rules import Blocked, blocked_addresses, unreachable_reason
from pedsdesk.people.models import Guardian
from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.sweeps import forget, remembered

logger = logging.getLogger("pedsdesk.messaging")


def _contact_practice_id(recipient) -> int | None:
    return recipient.practice_id


BLOCKED = "messaging.blocked"


def _blocked(practice: Practice) -> Blocked | None:
    # A sweep queueing many messages reads the practice's blocked addresses once (what
    # blocks one forgets them); the send checks them afresh anyway (rules.decide).
    return remembered((BLOCKED, practice.pk), lambda: blocked_addresses(practice), alone=lambda: None)


def _choose_channel(*, practice: Practice, kind: str, recipient, channel: str | None) -> tuple[str, str, str]:
    """(channel, address, reason): the first allowed channel the contact can receive on."""
    if isinstance(recipient, StaffMember):
        candidates = [channel or Channel.EMAIL]
    else:
        preferred = recipient.preferred_channel
        other = Channel.EMAIL if preferred == Channel.SMS else Channel.SMS
        # An explicit channel is the only one allowed; otherwise the other one is a fallback.
        candidates = [channel] if channel else [preferred, other]
    reasons = []
    for candidate in candidates:
        if candidate not in Channel.values:
            raise ValueError(f"channel must be one of {Channel.values}, not {candidate!r}")
        if candidate == Channel.SMS and isinstance(recipient, StaffMember):
            reasons.append("sms: staff members get email only")
            continue
        address = (recipient.phone if candidate == Channel.SMS else recipient.email) or ""
        reason = unreachable_reason(practice=practice, contact=recipient, channel=candidate, address=address,
                                    kind=kind, blocked=_blocked(practice))
        if not reason:
            return candidate, address, ""
        reasons.append(f"{candidate}: {reason}")
    return candidates[0], "", "; ".join(reasons)


@dataclass(frozen=True)
class Attachment:
    """A part of an email: a calendar invitation (``alternative``) or an attached file."""

    filename: str
    content_type: str
    content: bytes
    alternative: bool = False


def _recipient_kind(recipient) -> str:
    if isinstance(recipient, Guardian):
        return "guardian"
    return "staff" if isinstance(recipient, StaffMember) else "outside contact"


def _recipient_fields(recipient) -> dict:
    if isinstance(recipient, Guardian):
        return {"guardian": recipient}
    if isinstance(recipient, StaffMember):
        return {"staff_member": recipient}
    return {}


def _about_fields(about: Model | None) -> dict:
    if about is None:
        return {"about_type": None, "about_id": None}
    return {"about_type": ContentType.objects.get_for_model(about), "about_id": about.pk}


def _about_any(about: Model | Sequence[Model]) -> dict:
    """The rows about ``about``, or about any of a list of records of one model."""
    if isinstance(about, Model):
        return _about_fields(about)
    return {"about_type": ContentType.objects.get_for_model(about[0]), "about_id__in": [a.pk for a in about]}


def queue_message(
    *,
    practice: Practice,
    kind: str,
    recipient: Guardian | StaffMember,
    context: dict,
    idempotency_key: str,
    channel: str | None = None,
    not_before: dt.datetime | None = None,
    urgent: bool = False,
    about: Model | None = None,
    attachments: list[Attachment] | None = None,
) -> Message | None:
    """Put one message in the outbox, rendered now in the recipient's language.

    Returns the existing row when ``idempotency_key`` was used before (keys are global:
    prefix them with the workflow, e.g. ``"digest:12:2026-11-27"``). Returns None, and
    keeps a SKIPPED row saying why, when the contact cannot receive on any allowed
    channel (no number, opted out, failing). ``channel`` defaults to the guardian's
    preferred channel with the other one as fallback; staff get email.

    ``attachments`` (email only) are stored with the message in one transaction: a
    calendar part (``alternative=True``) and files. A kind ``for_external`` goes to a
    recipient outside the practice by email; only its address is kept.
    """
    _check_key(idempotency_key)
    existing = Message.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return None if existing.state == MessageState.SKIPPED else existing
    message = _outbox_row(practice=practice, kind=kind, recipient=recipient, context=context,
                          idempotency_key=idempotency_key, channel=channel, not_before=not_before, urgent=urgent,
                          about=about, attachments=attachments)
    skipped = message.state == MessageState.SKIPPED
    try:
        with transaction.atomic():
            message.save(force_insert=True)
            if not skipped:
                MessageAttachment.objects.bulk_create([
                    MessageAttachment(message=message, filename=part.filename, content_type=part.content_type,
                                      content=part.content, alternative=part.alternative, position=number)
                    for number, part in enumerate(attachments or [])])
    except IntegrityError:
        # Two callers raced with one key: the first row wins.
        message = Message.objects.get(idempotency_key=idempotency_key)
        return None if message.state == MessageState.SKIPPED else message
    if skipped:
        return None
    _kick_when_due([message])
    return message


def queue_messages(requests: list[dict]) -> int:
    """``queue_message`` for many messages at once (a run of reminders): one query for
    the keys already used, one insert for the rest. Each request holds queue_message's
    arguments, without attachments. A request that cannot be made (a record that does
    not render) is logged by key and left out; the others go. Returns how many were
    queued (not skipped)."""
    keys = [request["idempotency_key"] for request in requests]
    for key in keys:
        _check_key(key)
    used: set[str] = set()
    for start in range(0, len(keys), 500):  # bounded parameters, for SQLite
        used.update(Message.objects.filter(idempotency_key__in=keys[start:start + 500])
                    .values_list("idempotency_key", flat=True))
    rows = []
    for request in requests:
        if request["idempotency_key"] in used:
            continue
        if request.get("attachments"):
            raise ValueError("messages with attachments are queued one at a time (queue_message)")
        used.add(request["idempotency_key"])
        try:
            rows.append(_outbox_row(**request))
        except Exception:  # one family's bad record must not hold up everyone's messages
            logger.exception("message %s not queued", reference_for(request["idempotency_key"]))
    with transaction.atomic():
        Message.objects.bulk_create(rows, ignore_conflicts=True)  # a key raced: the first row wins
    queued = [row for row in rows if row.state != MessageState.SKIPPED]
    _kick_when_due(queued)
    return len(queued)


def _check_key(idempotency_key: str) -> None:
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValueError("idempotency_key must be 1 to 200 characters")


def _outbox_row(*, practice: Practice, kind: str, recipient, context: dict, idempotency_key: str,
                channel: str | None = None, not_before: dt.datetime | None = None, urgent: bool = False,
                about: Model | None = None, attachments: list[Attachment] | None = None) -> Message:
    """The outbox row for one message, unsaved: checked, its channel chosen, rendered
    now; SKIPPED with the reason when the contact cannot receive it."""
    spec = kind_of(kind)
    external = spec.for_external
    if not external and not isinstance(recipient, Guardian | StaffMember):
        raise TypeError("recipient must be a Guardian or a StaffMember")
    if external and isinstance(recipient, Guardian | StaffMember):
        raise ValueError(f"messages of kind {kind!r} go to contacts outside the practice")
    if _contact_practice_id(recipient) != practice.pk:
        raise ValueError("the recipient belongs to another practice")
    if not external and spec.for_staff != isinstance(recipient, StaffMember):
        raise ValueError(f"messages of kind {kind!r} go to {'staff' if spec.for_staff else 'guardians'}")
    if attachments and channel not in (None, Channel.EMAIL):
        raise ValueError("attachments go by email only")
    if external or attachments:
        channel = Channel.EMAIL
    if external:
        chosen, address = Channel.EMAIL, (recipient.email or "").strip()
        reason = unreachable_reason(practice=practice, contact=recipient, channel=chosen, address=address, kind=kind)
    else:
        chosen, address, reason = _choose_channel(practice=practice, kind=kind, recipient=recipient,
                                                  channel=channel)
    now = timezone.now()
    language = getattr(recipient, "language", "") or settings.LANGUAGE_CODE
    fields = {
        "practice": practice, "kind": kind, "channel": chosen, "language": language, "to_address": address,
        "idempotency_key": idempotency_key, "reference": reference_for(idempotency_key), "urgent": urgent,
        "created_at": now, "updated_at": now,
        "not_before": not_before or now, "next_attempt_at": max(not_before or now, now),
        **_about_fields(about),
        **_recipient_fields(recipient),
    }
    if reason:
        fields.update(state=MessageState.SKIPPED, status_reason=reason[:200], body="", closed_at=now)
        # Ids and reasons only: the log carries no names, numbers or clinical detail.
        logger.info("message %s for %s #%s not queued: %s", kind, _recipient_kind(recipient), recipient.pk, reason)
    else:
        rendered = render(kind=kind, practice=practice, recipient=recipient, channel=chosen, language=language,
                          context=context)
        fields.update(subject=rendered.subject, body=rendered.body)
    return Message(**fields)


def _kick_when_due(queued: list[Message]) -> None:
    now = timezone.now()
    if settings.PEDSDESK_MESSAGING_KICK and any(message.next_attempt_at <= now for message in queued):
        transaction.on_commit(_kick)


def _kick() -> None:
    """Ask a worker to deliver now instead of at the next minute's sweep."""
    from django.core.cache import cache

    from pedsdesk.messaging.tasks import deliver_soon

    try:
        # One kick per few seconds is plenty: a sweep delivers everything that is due.
        if cache.add("messaging:kick", 1, timeout=3):
            deliver_soon()
    except Exception:  # the minute sweep delivers anyway
        logger.exception("could not enqueue delivery")


def send_family_link(*, actor: StaffMember | str, guardian: Guardian, patient, channel: str | None = None,
                     days: int | None = None, request=None) -> Message | None:
    """Create a family link for ``guardian`` about ``patient`` and queue the "your child's
    page is ready" message carrying it (the link holds the detail; the text does not)."""
    from pedsdesk.portal.actions import create_family_link

    with transaction.atomic():
        link, url = create_family_link(actor=actor, guardian=guardian, patient=patient, days=days, request=request)
        return queue_message(practice=guardian.practice, kind="portal_link", recipient=guardian, channel=channel,
                             context={"url": url, "child_first_name": patient.preferred_name or patient.first_name},
                             idempotency_key=f"portal-link:{link.pk}", about=link)


def withdraw_messages(*, about: Model | Sequence[Model], kinds: list[str] | None = None, reason: str) -> int:
    """Withdraw every message about ``about`` (a record, or a list of records of one model)
    that has not gone out (e.g. the reminders of a moved or cancelled visit). Returns how
    many were withdrawn.

    A message that a worker is handing to the provider at this very instant may still go
    out; its row then says so (sent), never silently withdrawn.
    """
    if not about:
        return 0
    now = timezone.now()
    pending = Message.objects.filter(**_about_any(about), state__in=[MessageState.QUEUED, MessageState.SENDING])
    if kinds:
        pending = pending.filter(kind__in=kinds)
    return pending.update(state=MessageState.CANCELLED, status_reason=(reason or "withdrawn")[:200],
                          closed_at=now, updated_at=now)


def opt_out_number(*, practice: Practice, phone: str, keyword: str, actor: str = "sms reply") -> list[Guardian]:
    """STOP: no more texts to ``phone`` from ``practice``, for every guardian with that number."""
    now = timezone.now()
    with transaction.atomic():
        PhoneOptOut.objects.get_or_create(practice=practice, phone=phone,
                                          defaults={"opted_out_at": now, "keyword": keyword[:20]})
        forget(BLOCKED)
        guardians = list(Guardian.objects.filter(practice=practice, phone=phone))
        for guardian in guardians:
            if guardian.sms_opted_out_at is None:
                Guardian.objects.filter(pk=guardian.pk).update(sms_opted_out_at=now, updated_at=now)
                guardian.sms_opted_out_at = now
                record_event(actor=actor, action="sms_opted_out", obj=guardian, detail={"keyword": keyword})
        # Anything still waiting for this number stays unsent.
        Message.objects.filter(practice=practice, channel=Channel.SMS, to_address=phone,
                               state=MessageState.QUEUED).exclude(kind="opt_out_confirmation").update(
            state=MessageState.SUPPRESSED, status_reason="the number opted out of texts (STOP)", closed_at=now,
            updated_at=now)
    return guardians


def opt_in_number(*, practice: Practice, phone: str, keyword: str, actor: str = "sms reply") -> list[Guardian]:
    """START: texts to ``phone`` are allowed again."""
    with transaction.atomic():
        PhoneOptOut.objects.filter(practice=practice, phone=phone).delete()
        forget(BLOCKED)
        guardians = list(Guardian.objects.filter(practice=practice, phone=phone))
        for guardian in guardians:
            if guardian.sms_opted_out_at is not None:
                Guardian.objects.filter(pk=guardian.pk).update(sms_opted_out_at=None, updated_at=timezone.now())
                guardian.sms_opted_out_at = None
                record_event(actor=actor, action="sms_opted_in", obj=guardian, detail={"keyword": keyword})
    return guardians


def mark_channel_failing(*, message: Message, reason: str, error_code: str = "") -> ChannelFailure:
    """The provider refused this address for good: stop using it and ask the front desk to fix it."""
    from pedsdesk.workqueue.actions import TaskSpec, open_task
    from pedsdesk.workqueue.models import Priority

    contact = message.guardian or message.staff_member
    forget(BLOCKED)
    with transaction.atomic():
        if contact is None:
            # An outside contact (a school's): the mark stops further mail; the workflow
            # that wrote to them shows the failed message.
            failure, _ = ChannelFailure.objects.get_or_create(
                practice_id=message.practice_id, channel=message.channel, address=message.to_address,
                cleared_at__isnull=True, defaults={"reason": reason[:300], "error_code": error_code[:30]})
            return failure
        failure = ChannelFailure.objects.filter(practice_id=message.practice_id, channel=message.channel,
                                                address__iexact=message.to_address, cleared_at__isnull=True).first()
        if failure is None:
            try:
                with transaction.atomic():
                    failure = ChannelFailure.objects.create(
                        practice_id=message.practice_id, guardian=message.guardian,
                        staff_member=message.staff_member, channel=message.channel, address=message.to_address,
                        reason=reason[:300], error_code=error_code[:30])
            except IntegrityError:
                failure = ChannelFailure.objects.get(practice_id=message.practice_id, channel=message.channel,
                                                     address__iexact=message.to_address, cleared_at__isnull=True)
        if message.guardian_id:
            record_event(actor="messaging worker", action="contact_channel_failing", obj=message.guardian,
                         detail={"channel": message.channel, "error_code": error_code})
        what = "Texts to" if message.channel == Channel.SMS else "Emails to"
        who = "guardian" if message.guardian_id else "staff"
        spec = TaskSpec(
            dedupe_key=f"channel-failing:{who}:{contact.pk}:{message.channel}",
            title=f"{what} {contact} fail",
            reason=(f"The provider refused {message.to_address} for good ({reason}). Nothing more is sent there "
                    f"until the mark is cleared: check the {'number' if message.channel == Channel.SMS else 'address'}"
                    f" with the family, correct it, then clear the mark on their page."),
            subject=contact, role="front_desk", priority=Priority.HIGH,
            links=[{"label": "Contact", "url": contact.get_absolute_url()}],
        )
        open_task(practice=message.practice, kind="contact_channel_failing", spec=spec, rule="messaging")
    return failure


def clear_channel_failure(*, actor: StaffMember, failure: ChannelFailure, request=None) -> bool:
    """Staff fixed the number or address: the channel may be used again."""
    from pedsdesk.workqueue.actions import close_task_by_rule
    from pedsdesk.workqueue.models import OPEN_STATUSES, Task

    if failure.practice_id != actor.practice_id:
        raise ValueError("This contact belongs to another practice.")
    now = timezone.now()
    with transaction.atomic():
        changed = ChannelFailure.objects.filter(pk=failure.pk, cleared_at__isnull=True).update(
            cleared_at=now, cleared_by=actor)
        forget(BLOCKED)
        if changed:
            contact = failure.guardian or failure.staff_member
            record_event(actor=actor, action="contact_channel_cleared", obj=contact, request=request,
                         detail={"channel": failure.channel})
            who = "guardian" if failure.guardian_id else "staff"
            key = f"channel-failing:{who}:{contact.pk}:{failure.channel}"
            for task in Task.objects.filter(practice_id=failure.practice_id, dedupe_key=key, status__in=OPEN_STATUSES):
                close_task_by_rule(task=task, reason="channel cleared")
    return bool(changed)


def await_reply(*, guardian: Guardian, handler: str, until: dt.datetime, about: Model | None = None) -> ReplyWait:
    """Say that the workflow ``handler`` waits for a text from ``guardian`` about ``about``
    until ``until``. The newest open wait gets the next reply that is not a keyword."""
    from pedsdesk.messaging.replies import handler_for

    handler_for(handler)  # fails early on a typo
    return ReplyWait.objects.create(practice_id=guardian.practice_id, guardian=guardian, handler=handler,
                                    until=until, **_about_fields(about))


def cancel_reply_waits(*, about: Model | Sequence[Model], handler: str | None = None) -> int:
    """The workflow stopped waiting (e.g. the appointment was moved); ``about`` a record or a
    list of records of one model."""
    if not about:
        return 0
    waits = ReplyWait.objects.filter(**_about_any(about), resolved_at__isnull=True)
    if handler:
        waits = waits.filter(handler=handler)
    return waits.update(resolved_at=timezone.now())

"""Delivering due messages: claim, send, record. Safe with any number of workers on any
number of machines, and with a worker killed at any instant.

1. Claim: one transaction reads the queued row, applies the sending rules, and moves it
   to SENDING with a fresh lease token by a conditional UPDATE (``WHERE state='queued'``);
   it counts only if exactly one row changed, so no two workers hold one message. The
   same transaction writes the delivery attempt row ("started").
2. Send: the transport hands the message to the provider, within its timeout, which is
   shorter than what is left of the lease.
3. Record: a second transaction writes the outcome (``WHERE lease_token=<ours>``).

A worker that dies between 1 and 3 leaves a SENDING row whose lease runs out.
Recovery takes it over with a new token (conditional again) and asks the transport
whether the provider has it (``lookup``): yes → sent, without sending again; no → queued
again; cannot tell (plain SMTP) → queued again, and the repeat carries the same
Message-ID, so the mailbox can recognise it. See the README's "Messaging guarantees".
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pedsdesk.messaging.channels import transport_for
from pedsdesk.messaging.channels.base import DeliveryError, SendResult, TransientError, Transport, reference
from pedsdesk.messaging.models import (
    AttemptOutcome,
    Channel,
    DeliveryAttempt,
    Message,
    MessageState,
    MessagingPolicy,
)
from pedsdesk.messaging.rules import DEFER, SUPPRESS, decide
from pedsdesk.practices.models import Practice

logger = logging.getLogger("pedsdesk.messaging")

#: Seconds kept free at the end of a lease: a send must be over well before it ends.
LEASE_MARGIN = 1.0

#: Checks other apps register, run on every message right before the transport gets it
#: (after the claim, so nothing can change between the check and the hand-over but the
#: instant of sending): each returns why the message must not go ('' lets it go). The
#: school disclosure gate is one; a refused message is withdrawn with that reason.
PRE_SEND_CHECKS: list[Callable[[Message], str]] = []


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    suppressed: int = 0
    recovered: int = 0
    lost_races: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff(attempt: int) -> dt.timedelta:
    """Exponential, capped: 1, 2, 4 … minutes (by default), never more than an hour."""
    seconds = settings.PEDSDESK_MESSAGE_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.PEDSDESK_MESSAGE_RETRY_MAX_SECONDS))


class _Transports:
    """One transport per channel for one sweep, opened once (one SMTP connection)."""

    def __init__(self, overrides: dict[str, Transport] | None = None):
        self.open: dict[str, Transport] = dict(overrides or {})
        self.practices: dict[int, Practice] = {}

    def get(self, channel: str) -> Transport:
        if channel not in self.open:
            self.open[channel] = transport_for(channel)
        return self.open[channel]

    def close(self) -> None:
        for transport in self.open.values():
            try:
                transport.close()
            except Exception:
                logger.exception("closing the %s transport failed", transport.name)


def deliver_due(*, now: dt.datetime | None = None, limit: int = 500,
                transports: dict[str, Transport] | None = None) -> DeliveryStats:
    """Recover messages whose worker died, then send up to ``limit`` due messages.

    ``now`` is the instant the rules are evaluated at (tests move it); leases always
    use the real clock.
    """
    stats = DeliveryStats()
    pool = _Transports(transports)
    try:
        recover_stale(pool=pool, stats=stats)
        now = now or timezone.now()
        due = list(Message.objects.filter(state=MessageState.QUEUED, next_attempt_at__lte=now)
                   .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
        # Workers that read the same batch start at different rows instead of racing for each.
        offset = random.randrange(len(due)) if due else 0  # noqa: S311
        for pk in due[offset:] + due[:offset]:
            _deliver_one(pk, now=now, pool=pool, stats=stats)
    finally:
        pool.close()
    return stats


def _policy(pool: _Transports, message: Message) -> None:
    """Reuse one practice row per practice for the whole sweep (the policy is memoized)."""
    practice = pool.practices.get(message.practice_id)
    if practice is None:
        practice = pool.practices[message.practice_id] = Practice.objects.get(pk=message.practice_id)
    message.practice = practice


def _claim(pk: int, *, now: dt.datetime, pool: _Transports, stats: DeliveryStats):
    lease = settings.PEDSDESK_MESSAGE_LEASE_SECONDS
    deadline = time.monotonic() + lease
    with transaction.atomic():
        # The contact is read afresh (opt-outs, changed numbers); the practice comes from the sweep's cache.
        # SKIP LOCKED (PostgreSQL): a row another worker is claiming is skipped, not waited for.
        message = (Message.objects.select_related("guardian").select_for_update(skip_locked=True, of=("self",))
                   .filter(pk=pk, state=MessageState.QUEUED, next_attempt_at__lte=now).first())
        if message is None:
            stats.lost_races += 1
            return None
        _policy(pool, message)
        if message.channel == Channel.SMS and message.counts_toward_cap:
            # One practice's cap decisions one at a time, so two workers cannot both send
            # a family the day's only text.
            MessagingPolicy.objects.select_for_update().filter(practice_id=message.practice_id).exists()
        decision = decide(message, now)
        wall = timezone.now()
        pending = Message.objects.filter(pk=pk, state=MessageState.QUEUED)
        if decision.action == SUPPRESS:
            pending.update(state=MessageState.SUPPRESSED, status_reason=decision.reason[:200], closed_at=wall,
                           updated_at=wall)
            stats.suppressed += 1
            return None
        if decision.action == DEFER:
            pending.update(next_attempt_at=decision.until, status_reason=f"waiting: {decision.reason}"[:200],
                           updated_at=wall)
            stats.deferred += 1
            return None
        token = secrets.token_hex(16)
        claimed = pending.filter(next_attempt_at__lte=now).update(
            state=MessageState.SENDING, lease_token=token, lease_expires_at=wall + dt.timedelta(seconds=lease),
            attempts=F("attempts") + 1, counted_at=now, to_address=decision.address, updated_at=wall,
            status_reason="")
        if claimed != 1:
            stats.lost_races += 1
            return None
        message.state, message.lease_token, message.to_address = MessageState.SENDING, token, decision.address
        message.attempts += 1
        attempt = DeliveryAttempt.objects.create(message=message, number=message.attempts, lease_token=token,
                                                 transport=pool.get(message.channel).name, worker=worker_name(),
                                                 started_at=wall)
    return message, attempt, deadline


def _deliver_one(pk: int, *, now: dt.datetime, pool: _Transports, stats: DeliveryStats) -> None:
    claim = _claim(pk, now=now, pool=pool, stats=stats)
    if claim is None:
        return
    message, attempt, deadline = claim
    transport = pool.get(message.channel)
    if time.monotonic() + transport.timeout + LEASE_MARGIN > deadline:
        _finish(message, attempt, state=MessageState.QUEUED, outcome=AttemptOutcome.RETRY, now=now,
                error="the lease is too short for this transport's timeout; not sent")
        stats.retried += 1
        return
    # Withdrawn since the claim (the visit was moved)? Then it stays unsent.
    if not Message.objects.filter(pk=pk, lease_token=attempt.lease_token, state=MessageState.SENDING).exists():
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(outcome=AttemptOutcome.WITHDRAWN,
                                                             error="withdrawn before sending")
        return
    refusal = _pre_send_refusal(message)
    if refusal is not None:
        if refusal:
            _finish(message, attempt, state=MessageState.CANCELLED, outcome=AttemptOutcome.WITHDRAWN, now=now,
                    error=f"stopped before sending: {refusal}", reason=f"stopped before sending: {refusal}")
            stats.suppressed += 1
        else:
            _finish(message, attempt, state=MessageState.QUEUED, outcome=AttemptOutcome.RETRY, now=now,
                    error="a pre-send check failed; not sent", next_attempt_at=now + backoff(message.attempts),
                    reason="a pre-send check failed; will try again")
            stats.retried += 1
        return
    started = time.monotonic()
    try:
        result = transport.send(message)
    except DeliveryError as exc:
        _failed(message, attempt, exc, transport=transport, started=started, now=now, stats=stats)
    except Exception as exc:  # a transport bug must not stop the sweep
        logger.exception("transport %s crashed on message %s", transport.name, pk)
        error = TransientError(f"{type(exc).__name__} in the {transport.name} transport", in_doubt=True)
        _failed(message, attempt, error, transport=transport, started=started, now=now, stats=stats)
    else:
        _finish(message, attempt, state=MessageState.SENT, outcome=AttemptOutcome.SENT, result=result,
                started=started, now=now)
        stats.sent += 1


def _pre_send_refusal(message: Message) -> str | None:
    """None: send. A reason: never send. '': a check crashed, so try again later (a bug
    in a check must neither send what it would have stopped nor lose the message)."""
    for check in PRE_SEND_CHECKS:
        try:
            reason = check(message)
        except Exception:
            logger.exception("pre-send check %s crashed on message %s", getattr(check, "__name__", check), message.pk)
            return ""
        if reason:
            return reason
    return None


def _finish(message: Message, attempt: DeliveryAttempt, *, state: str, outcome: str, now: dt.datetime,
            result: SendResult | None = None, started: float | None = None, error: str = "",
            next_attempt_at: dt.datetime | None = None, reason: str = "") -> bool:
    """Write the outcome of our claim: the message row (only while our lease holds it)
    and the attempt row, in one transaction."""
    wall = timezone.now()
    fields = {"state": state, "lease_token": "", "lease_expires_at": None, "updated_at": wall,
              "status_reason": reason[:200]}
    if state == MessageState.SENT:
        fields.update(sent_at=wall, provider_id=(result.provider_id if result else "") or message.provider_id)
    elif state == MessageState.QUEUED:
        fields["next_attempt_at"] = next_attempt_at or now
    else:
        fields["closed_at"] = wall
    duration = None if started is None else int((time.monotonic() - started) * 1000)
    with transaction.atomic():
        changed = Message.objects.filter(pk=message.pk, lease_token=attempt.lease_token).update(**fields)
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(
            outcome=outcome, duration_ms=duration, error=error[:2000],
            provider_id=result.provider_id if result else "", response=(result.response if result else "")[:2000])
    if not changed:
        logger.warning("message %s: the lease ran out while sending (outcome %s)", message.pk, outcome)
    return bool(changed)


def _failed(message: Message, attempt: DeliveryAttempt, exc: DeliveryError, *, transport: Transport,
            started: float, now: dt.datetime, stats: DeliveryStats) -> None:
    from pedsdesk.messaging.actions import mark_channel_failing, opt_out_number

    error = str(exc)
    if exc.in_doubt and not exc.permanent:
        found = _lookup(transport, message, attempt.started_at)
        if found:
            _finish(message, attempt, state=MessageState.SENT, outcome=AttemptOutcome.FOUND, started=started,
                    now=now, error=error, result=SendResult(provider_id=message.provider_id, response="found"))
            stats.sent += 1
            return
        # The provider may still be taking it (a timeout): leave the message in doubt and let
        # recovery ask again when the lease runs out, after the usual back-off.
        wall = timezone.now()
        with transaction.atomic():
            Message.objects.filter(pk=message.pk, lease_token=attempt.lease_token).update(
                lease_expires_at=wall + backoff(message.attempts), updated_at=wall,
                status_reason="in doubt after a provider error; will check again")
            DeliveryAttempt.objects.filter(pk=attempt.pk).update(
                error=error[:2000], duration_ms=int((time.monotonic() - started) * 1000))
        stats.retried += 1
        return
    if exc.permanent:
        _finish(message, attempt, state=MessageState.FAILED, outcome=AttemptOutcome.FAILED, started=started,
                now=now, error=error, reason=f"refused by the provider ({exc.code or 'permanent error'})")
        stats.failed += 1
        # The message's fate is recorded first: a failure here must not send it again.
        try:
            if exc.contact_failing:
                mark_channel_failing(message=message, reason=error, error_code=exc.code)
            if exc.opted_out and message.guardian_id:
                opt_out_number(practice=message.practice, phone=message.to_address, keyword="carrier",
                               actor="sms provider")
        except Exception:
            logger.exception("recording the provider's refusal of message %s failed", message.pk)
        return
    if message.attempts >= settings.PEDSDESK_MESSAGE_MAX_ATTEMPTS:
        _finish(message, attempt, state=MessageState.FAILED, outcome=AttemptOutcome.FAILED, started=started,
                now=now, error=error, reason=f"gave up after {message.attempts} attempts")
        stats.failed += 1
        return
    _finish(message, attempt, state=MessageState.QUEUED, outcome=AttemptOutcome.RETRY, started=started, now=now,
            error=error, next_attempt_at=now + backoff(message.attempts), reason="temporary failure, will retry")
    stats.retried += 1


def _lookup(transport: Transport, message: Message, since: dt.datetime) -> bool | None:
    try:
        return transport.lookup(message, since)
    except Exception:
        logger.exception("lookup of message %s failed", message.pk)
        return None


def recover_stale(*, pool: _Transports | None = None, stats: DeliveryStats | None = None, limit: int = 200) -> int:
    """Take over SENDING messages whose worker's lease ran out and settle each one."""
    own_pool = pool is None
    pool = pool or _Transports()
    stats = stats or DeliveryStats()
    wall = timezone.now()
    stale = list(Message.objects.filter(state=MessageState.SENDING, lease_expires_at__lt=wall)
                 .values_list("pk", "lease_token")[:limit])
    recovered = 0
    try:
        for pk, token in stale:
            recovered += _recover_one(pk, token, pool=pool, stats=stats)
    finally:
        if own_pool:
            pool.close()
    return recovered


def _recover_one(pk: int, token: str, *, pool: _Transports, stats: DeliveryStats) -> int:
    wall = timezone.now()
    new_token = secrets.token_hex(16)
    lease = dt.timedelta(seconds=settings.PEDSDESK_MESSAGE_LEASE_SECONDS)
    with transaction.atomic():
        taken = Message.objects.filter(pk=pk, state=MessageState.SENDING, lease_token=token).update(
            lease_token=new_token, lease_expires_at=wall + lease, updated_at=wall)
        if not taken:
            return 0  # another worker is recovering it
        # The attempt moves to the new lease too, so a recoverer that dies is recovered in turn.
        DeliveryAttempt.objects.filter(message_id=pk, lease_token=token).update(lease_token=new_token)
    message = Message.objects.select_related("practice", "guardian", "staff_member").get(pk=pk)
    attempt = (DeliveryAttempt.objects.filter(message_id=pk, lease_token=new_token).order_by("-number").first()
               or DeliveryAttempt.objects.create(message=message, number=message.attempts, lease_token=new_token,
                                                 transport="?", started_at=message.updated_at))
    found = _lookup(pool.get(message.channel), message, attempt.started_at)
    stats.recovered += 1
    if found:
        _finish(message, attempt, state=MessageState.SENT, outcome=AttemptOutcome.FOUND, now=wall,
                result=SendResult(provider_id=message.provider_id or reference(message), response="found"),
                error="the worker stopped; the provider had the message")
        stats.sent += 1
        return 1
    if message.attempts >= settings.PEDSDESK_MESSAGE_MAX_ATTEMPTS:
        _finish(message, attempt, state=MessageState.FAILED, outcome=AttemptOutcome.FAILED, now=wall,
                error="workers kept stopping while sending it", reason="gave up: workers kept stopping")
        stats.failed += 1
        return 1
    if found is False:
        _finish(message, attempt, state=MessageState.QUEUED, outcome=AttemptOutcome.RETRY, now=wall,
                error="the worker stopped before the provider had the message")
    else:
        _finish(message, attempt, state=MessageState.QUEUED, outcome=AttemptOutcome.RESENT, now=wall,
                error="the worker stopped; the provider cannot tell whether it had the message, so it is sent "
                      "again with the same identifier")
    stats.retried += 1
    return 1

"""Writing audit events. Called inside the caller's transaction, so a change and
its audit row commit or roll back together."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from pedsdesk.audit import reads
from pedsdesk.audit.models import AuditChainHead, AuditEvent, chain_for
from pedsdesk.practices.clients import client_ip


def _client(request: HttpRequest | None) -> tuple[str, str]:
    if request is None:
        return "", ""
    return client_ip(request), request.META.get("HTTP_USER_AGENT", "")[:300]


def audit_key() -> str:
    """The HMAC secret of the chain (``PEDSDESK_AUDIT_KEY``); it never lives in the database."""
    key = settings.PEDSDESK_AUDIT_KEY
    if not key:
        raise ImproperlyConfigured("PEDSDESK_AUDIT_KEY is not set: the audit log cannot be written without its key.")
    return key


def record_event(
    *,
    actor: Any,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    patient_id: int | None = None,
    practice_id: int | None = None,
    detail: dict | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event to its practice's chain (chain 0 without a practice), now or at
    the end of the ``appended_together`` block it is recorded in.

    ``actor`` is a staff member, or a string naming a system actor ("family link",
    "worker"). ``obj`` fills in type, id, practice and patient where it can.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        if patient_id is None:
            patient_id = getattr(obj, "audit_patient_id", None)
        if practice_id is None:
            practice_id = getattr(obj, "practice_id", None)
    reads.covered(obj=obj, patient_id=patient_id, detail=detail)
    if isinstance(actor, str):
        actor_id, actor_label = None, actor
    else:
        actor_id, actor_label = actor.pk, f"{actor.username} ({actor.get_role_display()})"
        if practice_id is None:
            practice_id = actor.practice_id
    ip, agent = _client(request)
    event = AuditEvent(
        chain=chain_for(practice_id), at=timezone.now(), practice_id=practice_id, actor_id=actor_id,
        actor_label=actor_label, action=action, object_type=object_type, object_id=object_id,
        patient_id=patient_id, detail=detail or {}, ip=ip, user_agent=agent,
    )
    pending = _pending.get()
    if pending is not None:
        pending.append(event)
    else:
        _append([event])
    return event


#: The events of an ``appended_together`` block, waiting for its end.
_pending: ContextVar[list[AuditEvent] | None] = ContextVar("audit_pending", default=None)


@contextmanager
def appended_together() -> Iterator[None]:
    """The events recorded in this block (a run of series bookings, a rule's tasks) are
    appended when it ends, one lock and two writes a chain rather than three queries an
    event. It must sit inside the transaction of the changes, and a savepoint in it that
    rolls back must not have recorded an event (each change's event is its last step)."""
    if _pending.get() is not None:  # an outer block appends them
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("appended_together() belongs inside the transaction of the changes it audits")
    token = _pending.set([])
    try:
        yield
        events = _pending.get()
    finally:
        _pending.reset(token)
    _append(events)


def _append(events: list[AuditEvent]) -> None:
    """Chain ``events`` (in order) onto their chains' heads and write them."""
    if not events:
        return
    key = audit_key()
    by_chain: dict[int, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(event.chain, []).append(event)
    # No savepoint of its own: an event that fails to write fails the caller's change with it.
    with transaction.atomic(savepoint=False):
        for chain in sorted(by_chain):  # one order of chain locks everywhere
            # Only this practice's head is locked: other practices' writers never wait on it.
            head, _ = AuditChainHead.objects.select_for_update().get_or_create(chain=chain)
            seq, prev = head.seq, head.hash
            for event in by_chain[chain]:
                seq += 1
                event.seq, event.prev_hash = seq, prev
                event.hash = prev = event.compute_hash(key)
            AuditEvent.objects.bulk_create(by_chain[chain])
            # The head row is not an audit event; this is its only write.
            AuditChainHead.objects.filter(pk=head.pk).update(seq=seq, hash=prev)

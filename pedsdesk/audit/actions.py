"""Writing audit events. Called inside the caller's transaction, so a change and
its audit row commit or roll back together."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
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
    """Append one event to its practice's chain (chain 0 without a practice).

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
    key = audit_key()
    chain = chain_for(practice_id)
    # No savepoint of its own: an event that fails to write fails the caller's change with it.
    with transaction.atomic(savepoint=False):
        # Only this practice's head is locked: other practices' writers never wait on it.
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(chain=chain)
        event = AuditEvent(
            chain=chain,
            seq=head.seq + 1,
            at=timezone.now(),
            practice_id=practice_id,
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            patient_id=patient_id,
            detail=detail or {},
            ip=ip,
            user_agent=agent,
            prev_hash=head.hash,
        )
        event.hash = event.compute_hash(key)
        event.save(force_insert=True)
        # The head row is not an audit event; this is its only write.
        AuditChainHead.objects.filter(pk=head.pk).update(seq=event.seq, hash=event.hash)
    return event

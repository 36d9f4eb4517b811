"""Writing audit events. Called inside the caller's transaction, so a change and
its audit row commit or roll back together."""

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from pedsdesk.audit.models import AuditChainHead, AuditEvent
from pedsdesk.practices.clients import client_ip


def _client(request: HttpRequest | None) -> tuple[str, str]:
    if request is None:
        return "", ""
    return client_ip(request), request.META.get("HTTP_USER_AGENT", "")[:300]


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
    """Append one event to the chain.

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
    if isinstance(actor, str):
        actor_id, actor_label = None, actor
    else:
        actor_id, actor_label = actor.pk, f"{actor.username} ({actor.get_role_display()})"
        if practice_id is None:
            practice_id = actor.practice_id
    ip, agent = _client(request)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
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
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        # The head row is not an audit event; this is its only write.
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event

"""Opening, working and closing tasks. Each change is audited when a person makes it."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.workqueue.models import OPEN_STATUSES, Priority, Task, TaskStatus


@dataclass
class TaskSpec:
    """What a rule wants open: one task per ``dedupe_key`` while the condition holds."""

    dedupe_key: str
    title: str
    reason: str = ""
    subject: Model | None = None
    patient_id: int | None = None
    role: str = ""
    assignee: StaffMember | None = None
    due_at: dt.datetime | None = None
    priority: int = Priority.NORMAL
    business_status: str = ""
    links: list[dict] = field(default_factory=list)


def open_task(*, practice: Practice, kind: str, spec: TaskSpec, rule: str = "") -> tuple[Task, bool]:
    """Open the task ``spec`` describes unless one with its dedupe key is open.

    Returns (task, created). Safe to call again and again, and from two workers at
    once: the database's partial unique index lets one of them win.
    """
    existing = Task.objects.filter(practice=practice, dedupe_key=spec.dedupe_key, status__in=OPEN_STATUSES).first()
    if existing is not None:
        return existing, False
    subject_type = ContentType.objects.get_for_model(spec.subject) if spec.subject is not None else None
    patient_id = spec.patient_id
    if patient_id is None and spec.subject is not None:
        patient_id = getattr(spec.subject, "audit_patient_id", None)
    task = Task(
        practice=practice, kind=kind, title=spec.title[:200], reason=spec.reason, subject_type=subject_type,
        subject_id=spec.subject.pk if spec.subject is not None else None, patient_id=patient_id,
        role=spec.role, assignee=spec.assignee, due_at=spec.due_at, priority=spec.priority,
        business_status=spec.business_status, links=spec.links, rule=rule, dedupe_key=spec.dedupe_key,
    )
    try:
        with transaction.atomic():
            task.save()
    except IntegrityError:
        return Task.objects.get(practice=practice, dedupe_key=spec.dedupe_key, status__in=OPEN_STATUSES), False
    return task, True


def close_task_by_rule(*, task: Task, reason: str) -> None:
    """The condition cleared: nobody needs to act any more."""
    now = timezone.now()
    Task.objects.filter(pk=task.pk, status__in=OPEN_STATUSES).update(
        status=TaskStatus.CANCELLED, closed_at=now, updated_at=now, business_status=reason[:100]
    )


def sync_rule(*, practice: Practice, rule: str, kind: str, specs: Iterable[TaskSpec]) -> tuple[int, int]:
    """Make the open tasks of ``rule`` match ``specs``: open the new ones, close the
    ones whose condition cleared. Returns (opened, closed)."""
    wanted = {spec.dedupe_key: spec for spec in specs}
    opened = closed = 0
    for spec in wanted.values():
        _, created = open_task(practice=practice, kind=kind, spec=spec, rule=rule)
        opened += created
    stale = Task.objects.filter(practice=practice, rule=rule, status__in=OPEN_STATUSES).exclude(
        dedupe_key__in=list(wanted)
    )
    for task in stale:
        close_task_by_rule(task=task, reason="condition cleared")
        closed += 1
    return opened, closed


def _change(task: Task, actor: StaffMember, action: str, request=None, **fields) -> Task:
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk, practice=actor.practice)
        if not locked.is_open and action != "reopen":
            raise ValueError(f"This task is already {locked.get_status_display().lower()}.")
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.updated_at = timezone.now()
        locked.save()
        record_event(actor=actor, action=f"task_{action}", obj=locked, detail={"kind": locked.kind},
                     request=request)
    return locked


def claim_task(*, task: Task, actor: StaffMember, request=None) -> Task:
    return _change(task, actor, "claimed", request, assignee=actor, status=TaskStatus.CLAIMED, snoozed_until=None)


def complete_task(*, task: Task, actor: StaffMember, note: str = "", request=None) -> Task:
    return _change(task, actor, "completed", request, status=TaskStatus.DONE, closed_at=timezone.now(),
                   closed_by=actor, business_status=note[:100] or "done")


def snooze_task(*, task: Task, actor: StaffMember, until: dt.datetime, request=None) -> Task:
    if until <= timezone.now():
        raise ValueError("Snooze until a time in the future.")
    return _change(task, actor, "snoozed", request, status=TaskStatus.SNOOZED, snoozed_until=until)


def reassign_task(*, task: Task, actor: StaffMember, assignee: StaffMember | None = None, role: str = "",
                  request=None) -> Task:
    if assignee is not None and assignee.practice_id != actor.practice_id:
        raise ValueError("Choose someone from this practice.")
    if assignee is None and not role:
        raise ValueError("Choose a person or a role to hand the task to.")
    return _change(task, actor, "reassigned", request, assignee=assignee, role=role or task.role,
                   status=TaskStatus.CLAIMED if assignee else TaskStatus.OPEN)


def wake_snoozed_tasks(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return Task.objects.filter(status=TaskStatus.SNOOZED, snoozed_until__lte=now).update(
        status=TaskStatus.OPEN, snoozed_until=None, updated_at=now
    )

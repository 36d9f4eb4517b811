"""Opening, working and closing tasks.

Every change is written with an audit event in the same transaction: a person's
change names the person; a rule's or a sweep's names the rule or "pedsdesk", so a
task's history reads from its opening to its close.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F, Model
from django.db.models.functions import Least
from django.utils import timezone

from pedsdesk.audit.actions import appended_together, record_event
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.practices.permissions import has_permission
from pedsdesk.workqueue import conf
from pedsdesk.workqueue.models import OPEN_STATUSES, Priority, Task, TaskStatus

SYSTEM_ACTOR = "pedsdesk"


class TaskActionError(ValueError):
    """A change to a task that cannot be made; the message says why, for a person."""

    code = "invalid"


class TaskClosedError(TaskActionError):
    code = "conflict"


class NotYourTaskError(TaskActionError):
    code = "permission_denied"


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
    #: For conditions with no date of their own: due this long after the task opens …
    due_in: dt.timedelta | None = None
    #: … or at 5 pm local this many days after it opens (0: today).
    due_in_days: int | None = None


def _rule_actor(rule: str) -> str:
    return f"{SYSTEM_ACTOR} (rule {rule})" if rule else SYSTEM_ACTOR


def open_task(*, practice: Practice, kind: str, spec: TaskSpec, rule: str = "",
              none_open: bool = False) -> tuple[Task, bool]:
    """Open the task ``spec`` describes unless one with its dedupe key is open.

    Returns (task, created). Safe to call again and again, and from two workers at
    once: the database's partial unique index lets one of them win. ``none_open``: the
    caller has just read that no open task has the key (it is not read again).
    """
    if not none_open:
        existing = Task.objects.filter(practice=practice, dedupe_key=spec.dedupe_key,
                                       status__in=OPEN_STATUSES).first()
        if existing is not None:
            return existing, False
    task = _task(practice, kind, spec, rule, timezone.now())
    try:
        with transaction.atomic():
            task.save()
            record_event(actor=_rule_actor(rule), action="task_opened", obj=task,
                         detail={"kind": kind, "rule": rule} if rule else {"kind": kind})
    except IntegrityError:
        return Task.objects.get(practice=practice, dedupe_key=spec.dedupe_key, status__in=OPEN_STATUSES), False
    return task, True


def open_new_tasks(*, practice: Practice, kind: str, specs: list[TaskSpec], rule: str = "") -> list[Task]:
    """Open a task for each of ``specs``, whose dedupe keys are new (made from rows just
    written, such as a batch's skipped visits, or read as open nowhere): one insert for
    all, in the caller's transaction. A key open already fails it (the unique index)."""
    now = timezone.now()
    tasks = Task.objects.bulk_create([_task(practice, kind, spec, rule, now) for spec in specs])
    detail = {"kind": kind, "rule": rule} if rule else {"kind": kind}
    with appended_together():
        for task in tasks:
            record_event(actor=_rule_actor(rule), action="task_opened", obj=task, detail=detail)
    return tasks


def _task(practice: Practice, kind: str, spec: TaskSpec, rule: str, now: dt.datetime) -> Task:
    """The unsaved task ``spec`` describes, due as it says from ``now``."""
    subject_type = ContentType.objects.get_for_model(spec.subject) if spec.subject is not None else None
    patient_id = spec.patient_id
    if patient_id is None and spec.subject is not None:
        patient_id = getattr(spec.subject, "audit_patient_id", None)
    due_at = spec.due_at
    if due_at is None and spec.due_in is not None:
        due_at = now + spec.due_in
    elif due_at is None and spec.due_in_days is not None:
        day = now.astimezone(practice.zone).date() + dt.timedelta(days=spec.due_in_days)
        due_at = dt.datetime.combine(day, dt.time(17, 0), tzinfo=practice.zone)
    return Task(
        practice=practice, kind=kind, title=spec.title[:200], reason=spec.reason, subject_type=subject_type,
        subject_id=spec.subject.pk if spec.subject is not None else None, patient_id=patient_id,
        role=spec.role, assignee=spec.assignee, due_at=due_at, priority=spec.priority,
        business_status=spec.business_status[:100], links=spec.links, rule=rule, dedupe_key=spec.dedupe_key,
        created_at=now, updated_at=now,
    )


def close_task_by_rule(*, task: Task, reason: str) -> None:
    """The condition cleared: nobody needs to act any more."""
    now = timezone.now()
    with transaction.atomic():
        # Conditional: a person completing it at the same moment wins, and nothing is recorded twice.
        changed = Task.objects.filter(pk=task.pk, status__in=OPEN_STATUSES).update(
            status=TaskStatus.CANCELLED, closed_at=now, updated_at=now, business_status=reason[:100]
        )
        if changed:
            record_event(actor=_rule_actor(task.rule), action="task_closed_by_rule", obj=task,
                         practice_id=task.practice_id, detail={"kind": task.kind, "reason": reason})


# Fields a rule keeps up to date on its open task; who holds it and how urgent it is
# belong to people (and to escalation) once it is open.
_REFRESHED = ("title", "reason", "links", "patient_id")


def sync_rule(*, practice: Practice, rule: str, kind: str, specs: Iterable[TaskSpec],
              recheck_after: dt.timedelta | None = None, now: dt.datetime | None = None) -> tuple[int, int]:
    """Make the open tasks of ``rule`` match ``specs``: open the new ones, bring the
    open ones up to date (title, reason, links, dated due times), close the ones whose
    condition cleared. Returns (opened, closed).

    A task a person marked done while its condition still holds is not opened again
    until ``recheck_after`` has passed since (default: the work queue's setting).
    """
    now = now or timezone.now()
    recheck_after = conf.recheck_after() if recheck_after is None else recheck_after
    wanted = {spec.dedupe_key: spec for spec in specs}
    opened = closed = 0
    with transaction.atomic(), appended_together():
        current = {t.dedupe_key: t for t in Task.objects.filter(practice=practice, rule=rule,
                                                                 status__in=OPEN_STATUSES)}
        recently_done = set(
            Task.objects.filter(practice=practice, rule=rule, status=TaskStatus.DONE,
                                closed_at__gte=now - recheck_after).values_list("dedupe_key", flat=True)
        )
        open_elsewhere = _open_elsewhere(practice, [key for key in wanted
                                                    if key not in current and key not in recently_done])
        to_open = []
        for key, spec in wanted.items():
            task = current.get(key)
            if task is None:
                if key not in recently_done and key not in open_elsewhere:
                    to_open.append(spec)
            else:
                _refresh(task, spec, now)
        if to_open:
            try:
                with transaction.atomic():  # one insert, the first night after an import opening thousands
                    opened = len(open_new_tasks(practice=practice, kind=kind, specs=to_open, rule=rule))
            except IntegrityError:
                # A key was opened elsewhere since it was read: one by one, so that one loses quietly.
                opened = sum(open_task(practice=practice, kind=kind, spec=spec, rule=rule, none_open=True)[1]
                             for spec in to_open)
        for key, task in current.items():
            if key not in wanted:
                close_task_by_rule(task=task, reason="condition cleared")
                closed += 1
    return opened, closed


def _open_elsewhere(practice: Practice, keys: list[str]) -> set[str]:
    """Which of ``keys`` are open already, by hand or by another rule."""
    found = set()
    for start in range(0, len(keys), 500):  # bounded parameters (SQLite)
        found |= set(Task.objects.filter(practice=practice, dedupe_key__in=keys[start:start + 500],
                                         status__in=OPEN_STATUSES).values_list("dedupe_key", flat=True))
    return found


def _refresh(task: Task, spec: TaskSpec, now: dt.datetime) -> None:
    fresh = {"title": spec.title[:200], "reason": spec.reason, "links": spec.links}
    if spec.patient_id is not None:
        fresh["patient_id"] = spec.patient_id
    if spec.due_at is not None:
        fresh["due_at"] = spec.due_at
    changed = {name: value for name, value in fresh.items() if getattr(task, name) != value}
    if changed:
        Task.objects.filter(pk=task.pk, status__in=OPEN_STATUSES).update(**changed, updated_at=now)


# Working tasks


def may_work(task: Task, actor: StaffMember) -> bool:
    """Whether ``actor`` may claim, complete, snooze or hand on ``task``: their own, an
    unclaimed one of their role's queue, or any with the tasks.assign permission."""
    if task.practice_id != actor.practice_id or not has_permission(actor, "tasks.work"):
        return False
    if has_permission(actor, "tasks.assign") or task.assignee_id == actor.pk:
        return True
    return task.assignee_id is None and task.role in ("", actor.role)


def _change(task: Task, actor: StaffMember, action: str, request=None, detail: dict | None = None,
            check=None, **fields) -> Task:
    with transaction.atomic():
        # Lock only the task row: PostgreSQL cannot lock the nullable side of the assignee join.
        locked = Task.objects.select_for_update(of=("self",)).select_related("assignee").get(
            pk=task.pk, practice=actor.practice)
        if not locked.is_open:
            raise TaskClosedError(f"This task is already {locked.get_status_display().lower()}; nothing changed.")
        if not may_work(locked, actor):
            holder = locked.assignee or (Role(locked.role).label if locked.role else "someone else")
            raise NotYourTaskError(
                f"This task is in {holder}'s queue, not yours; ask the office manager to reassign it."
            )
        if check is not None:
            check(locked)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.updated_at = timezone.now()
        locked.save()
        record_event(actor=actor, action=f"task_{action}", obj=locked,
                     detail={"kind": locked.kind, **(detail or {})}, request=request)
    return locked


def claim_task(*, task: Task, actor: StaffMember, request=None) -> Task:
    def not_someone_elses(locked: Task) -> None:
        # Taking over a colleague's task is a reassignment, which managers do.
        if (locked.status == TaskStatus.CLAIMED and locked.assignee_id not in (None, actor.pk)
                and not has_permission(actor, "tasks.assign")):
            raise NotYourTaskError(f"{locked.assignee} is already working on this task.")

    return _change(task, actor, "claimed", request, check=not_someone_elses, assignee=actor,
                   status=TaskStatus.CLAIMED, snoozed_until=None)


def complete_task(*, task: Task, actor: StaffMember, note: str = "", request=None) -> Task:
    note = note.strip()
    return _change(task, actor, "completed", request, detail={"note": note} if note else None,
                   status=TaskStatus.DONE, closed_at=timezone.now(), closed_by=actor,
                   business_status=note[:100] or "done", snoozed_until=None)


def snooze_task(*, task: Task, actor: StaffMember, until: dt.datetime, request=None) -> Task:
    if timezone.is_naive(until):
        raise TaskActionError("Give the snooze time with its time zone.")
    if until <= timezone.now():
        raise TaskActionError("Snooze until a time in the future; nothing changed.")
    if until > timezone.now() + dt.timedelta(days=90):
        raise TaskActionError("Snooze for at most 90 days; close the task if nobody needs to act.")
    return _change(task, actor, "snoozed", request, detail={"until": until.isoformat()},
                   status=TaskStatus.SNOOZED, snoozed_until=until)


def reassign_task(*, task: Task, actor: StaffMember, assignee: StaffMember | None = None, role: str = "",
                  request=None) -> Task:
    """Hand the task to a person (it is theirs, in progress) or to a role's queue (unclaimed)."""
    if assignee is not None and assignee.practice_id != actor.practice_id:
        raise TaskActionError("Choose someone from this practice.")
    if assignee is not None and not assignee.is_active:
        raise TaskActionError(f"{assignee} no longer works here; choose someone else.")
    if assignee is None and not role:
        raise TaskActionError("Choose a person or a role to hand the task to.")
    if role and role not in Role.values:
        raise TaskActionError(f"There is no role {role!r}; choose one of {', '.join(Role.labels)}.")
    detail = {"to": f"staff {assignee.pk}" if assignee else f"role {role}"}
    if assignee is not None:
        return _change(task, actor, "reassigned", request, detail=detail, assignee=assignee,
                       role=role or assignee.role, status=TaskStatus.CLAIMED, snoozed_until=None)
    return _change(task, actor, "reassigned", request, detail=detail, assignee=None, role=role,
                   status=TaskStatus.OPEN, snoozed_until=None)


# Sweeps


def wake_snoozed_tasks(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return Task.objects.filter(status=TaskStatus.SNOOZED, snoozed_until__lte=now).update(
        status=TaskStatus.OPEN, snoozed_until=None, updated_at=now
    )


def escalate_overdue_tasks(*, now: dt.datetime | None = None, grace: dt.timedelta | None = None,
                           practice: Practice | None = None) -> int:
    """Tasks still open more than ``grace`` past their due time: mark them escalated and
    one step more urgent, so they show in the office manager's queue. Returns how many.

    Each row is claimed with a conditional update, so two workers escalate it once.
    Snoozed tasks wait: someone decided when to look again.
    """
    now = now or timezone.now()
    grace = conf.escalation_grace() if grace is None else grace
    candidates = Task.objects.filter(
        status__in=(TaskStatus.OPEN, TaskStatus.CLAIMED), escalated_at__isnull=True, due_at__lt=now - grace,
        parent__isnull=True,  # a list's rows escalate with their list
    ).only("pk", "practice_id", "patient_id", "kind", "due_at", "priority")
    if practice is not None:
        candidates = candidates.filter(practice=practice)
    escalated = 0
    for task in candidates.iterator():
        with transaction.atomic():
            changed = Task.objects.filter(pk=task.pk, escalated_at__isnull=True, status__in=OPEN_STATUSES).update(
                escalated_at=now, updated_at=now, priority=Least(F("priority") + 1, Priority.URGENT)
            )
            if changed:
                record_event(actor=SYSTEM_ACTOR, action="task_escalated", obj=task, practice_id=task.practice_id,
                             detail={"kind": task.kind, "overdue_since": task.due_at.isoformat()})
                escalated += 1
    return escalated

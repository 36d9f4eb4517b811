"""Reading the work queue: whose tasks are whose, in the order a person works them.

Every list here costs a fixed number of queries whatever the number of tasks: rows
come with their assignee joined, and labels are computed in Python.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.shortcuts import get_object_or_404
from django.utils import timezone

from pedsdesk.audit.models import AuditEvent
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.practices.permissions import has_permission
from pedsdesk.workqueue.actions import may_work
from pedsdesk.workqueue.lists import ROWS_SHOWN, load_rows, row_queryset
from pedsdesk.workqueue.models import LIST_KIND, OPEN_STATUSES, Task, TaskStatus
from pedsdesk.workqueue.rules import kind_label, rule_label

ACTIVE = (TaskStatus.OPEN, TaskStatus.CLAIMED)  # open and not snoozed: what a person should look at now


def escalation_role(practice: Practice) -> str:
    """Escalated tasks go to the office manager, or the owner where there is none."""
    has_manager = StaffMember.objects.filter(practice=practice, role=Role.OFFICE_MANAGER, is_active=True).exists()
    return Role.OFFICE_MANAGER if has_manager else Role.OWNER


def personal_filter(user: StaffMember, escalations_to: str, *, kind: str = "") -> Q:
    """Assigned to me, unclaimed in my role's queue, and escalated tasks if they come to me.
    A list task stands for its rows, except when asking for one kind: then its rows, one by one."""
    condition = Q(assignee=user) | Q(assignee__isnull=True, role=user.role)
    if user.role == escalations_to:
        condition |= Q(escalated_at__isnull=False)
    return condition & (Q(kind=kind) if kind else Q(parent__isnull=True))


def ordered(queryset: QuerySet) -> QuerySet:
    """Overdue first (earliest due), then due today, then later, then undated; urgent first within."""
    return queryset.order_by(F("due_at").asc(nulls_last=True), "-priority", "created_at", "pk")


def task_rows(queryset: QuerySet) -> QuerySet:
    return ordered(queryset.select_related("assignee"))


def end_of_local_day(practice: Practice, now: dt.datetime) -> dt.datetime:
    tomorrow = now.astimezone(practice.zone).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(0), tzinfo=practice.zone)


def _bucket_counts(queryset: QuerySet, now: dt.datetime, end_of_day: dt.datetime) -> dict[str, int]:
    active = Q(status__in=ACTIVE)
    return queryset.aggregate(
        overdue=Count("pk", filter=active & Q(due_at__lt=now)),
        today=Count("pk", filter=active & Q(due_at__gte=now, due_at__lt=end_of_day)),
        later=Count("pk", filter=active & (Q(due_at__gte=end_of_day) | Q(due_at__isnull=True))),
        escalated=Count("pk", filter=active & Q(escalated_at__isnull=False)),
        snoozed=Count("pk", filter=Q(status=TaskStatus.SNOOZED)),
    )


def decorate(tasks: list[Task], user: StaffMember | None, now: dt.datetime, practice: Practice) -> list[Task]:
    """Add what the templates and digest show: due label and state, kind label, and
    whether ``user`` may act on each task. No queries."""
    zone, end_of_day = practice.zone, end_of_local_day(practice, now)
    today = now.astimezone(zone).date()
    for task in tasks:
        task.kind_label = kind_label(task.kind)
        task.overdue = task.is_open and task.due_at is not None and task.due_at < now
        task.due_state, task.due_label = _due(task, now, end_of_day, today, zone)
        task.can_work = user is not None and may_work(task, user)
        task.can_claim = task.can_work and not (task.status == TaskStatus.CLAIMED and task.assignee_id == user.pk)
        task.holder = str(task.assignee) if task.assignee_id else (Role(task.role).label if task.role else "—")
    return tasks


def _due(task: Task, now: dt.datetime, end_of_day: dt.datetime, today: dt.date, zone) -> tuple[str, str]:
    if task.due_at is None:
        return "none", "No due date"
    local = task.due_at.astimezone(zone)
    clock = local.strftime("%I:%M %p").lstrip("0")
    if not task.is_open:
        return "none", f"Was due {local:%b} {local.day}"
    if task.due_at < now:
        days = (today - local.date()).days
        since = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days"
        return "overdue", f"Overdue since {clock}" if days == 0 else f"Overdue {since}"
    if task.due_at < end_of_day:
        return "today", f"Due today {clock}"
    if local.date() == today + dt.timedelta(days=1):
        return "later", f"Due tomorrow {clock}"
    return "later", f"Due {local:%a %b} {local.day}"


@dataclass
class Queue:
    """One person's (or the team's) tasks in working order, split for display."""

    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)
    later: list[Task] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    includes_escalated: bool = False

    @property
    def total(self) -> int:
        return self.counts.get("overdue", 0) + self.counts.get("today", 0) + self.counts.get("later", 0)

    @property
    def sections(self) -> list[tuple[str, str, list[Task], int]]:
        """(key, heading, shown rows, count of all) in working order."""
        return [("overdue", "Overdue", self.overdue, self.counts.get("overdue", 0)),
                ("today", "Due by end of day", self.today, self.counts.get("today", 0)),
                ("later", "Later", self.later, self.counts.get("later", 0))]


def split(tasks: list[Task]) -> tuple[list[Task], list[Task], list[Task]]:
    overdue = [t for t in tasks if t.due_state == "overdue"]
    today = [t for t in tasks if t.due_state == "today"]
    later = [t for t in tasks if t.due_state not in ("overdue", "today")]
    return overdue, today, later


def personal_queue(user: StaffMember, *, limit: int | None = None, offset: int = 0, kind: str = "",
                   now: dt.datetime | None = None) -> Queue:
    """My tasks (of one kind, if given): open and in progress, in working order, with
    counts of every bucket; ``offset`` and ``limit`` page through them."""
    now = now or timezone.now()
    practice = user.practice
    escalations_to = escalation_role(practice)
    mine = Task.objects.filter(practice=practice).filter(personal_filter(user, escalations_to, kind=kind))
    counts = _bucket_counts(mine, now, end_of_local_day(practice, now))
    rows = task_rows(mine.filter(status__in=ACTIVE))
    rows = rows[offset:offset + limit] if limit else rows[offset:]
    tasks = with_rows(decorate(list(rows), user, now, practice), user, now, practice)
    return Queue(*split(tasks), counts=counts, includes_escalated=user.role == escalations_to)


def personal_kinds(user: StaffMember) -> list[tuple[str, str]]:
    """The kinds of task open in my queue, rows of lists included, for the filter. One query."""
    practice = user.practice
    condition = Q(assignee=user) | Q(assignee__isnull=True, role=user.role)
    if user.role == escalation_role(practice):
        condition |= Q(escalated_at__isnull=False)
    kinds = set(Task.objects.filter(practice=practice, status__in=ACTIVE).filter(condition)
                .exclude(kind=LIST_KIND).values_list("kind", flat=True).distinct())
    return sorted(((k, kind_label(k)) for k in kinds), key=lambda c: c[1])


def with_rows(tasks: list[Task], user: StaffMember | None, now: dt.datetime, practice: Practice,
              *, shown: int = ROWS_SHOWN) -> list[Task]:
    """Give each list task among ``tasks`` its open rows (the first ``shown``) and their
    count, decorated and loaded for their templates. One query, plus each kind's loader."""
    lists = [t for t in tasks if t.kind == LIST_KIND]
    if not lists:
        return tasks
    rows = decorate(list(row_queryset(lists)), user, now, practice)
    by_list: dict[int, list[Task]] = {t.pk: [] for t in lists}
    for row in rows:
        by_list[row.parent_id].append(row)
    load_rows(r for members in by_list.values() for r in members[:shown])
    for task in lists:
        task.rows, task.row_count = by_list[task.pk][:shown], len(by_list[task.pk])
    return tasks


def today(user: StaffMember, *, limit: int = 21, now: dt.datetime | None = None) -> dict:
    """The work-queue part of the Today dashboard: my queue, and for those who assign
    work, every queue's counts and the escalated tasks."""
    now = now or timezone.now()
    queue = personal_queue(user, limit=limit, now=now)
    # A glance, not the whole queue: a few of each section, with "see all" links.
    queue.overdue, queue.today, queue.later = queue.overdue[:8], queue.today[:8], queue.later[:5]
    context: dict = {"queue": queue}
    if may_assign(user):
        context["overview"] = team_overview(user.practice, now)
        context["escalated"], context["escalated_count"] = escalated_tasks(user.practice, user, now=now)
    return context


def snoozed_tasks(user: StaffMember, now: dt.datetime | None = None) -> list[Task]:
    now = now or timezone.now()
    practice = user.practice
    rows = Task.objects.filter(practice=practice, status=TaskStatus.SNOOZED).filter(
        personal_filter(user, escalation_role(practice))).select_related("assignee").order_by("snoozed_until", "pk")
    return decorate(list(rows), user, now, practice)


def recently_done(user: StaffMember, days: int = 14, now: dt.datetime | None = None) -> list[Task]:
    now = now or timezone.now()
    rows = Task.objects.filter(practice=user.practice, closed_by=user, status=TaskStatus.DONE,
                               closed_at__gte=now - dt.timedelta(days=days)).select_related("assignee")
    return decorate(list(rows.order_by("-closed_at", "-pk")[:100]), user, now, user.practice)


@dataclass
class TeamFilters:
    role: str = ""
    assignee: int | None = None
    kind: str = ""
    status: str = "active"  # active (open + in progress), snoozed, done, closed (by rule), all_open
    overdue: bool = False
    escalated: bool = False
    unclaimed: bool = False
    patient: int | None = None


_STATUS_FILTERS = {
    "active": Q(status__in=ACTIVE),
    "snoozed": Q(status=TaskStatus.SNOOZED),
    "all_open": Q(status__in=OPEN_STATUSES),
    "done": Q(status=TaskStatus.DONE),
    "closed": Q(status=TaskStatus.CANCELLED),
}
STATUS_CHOICES = [("active", "Open and in progress"), ("snoozed", "Snoozed"), ("all_open", "All open"),
                  ("done", "Done"), ("closed", "Closed by rule")]


def team_tasks(practice: Practice, filters: TeamFilters, now: dt.datetime | None = None) -> QuerySet:
    """The practice's tasks, filtered; for the team queue page and the API."""
    now = now or timezone.now()
    rows = Task.objects.filter(practice=practice).filter(_STATUS_FILTERS.get(filters.status, Q(status__in=ACTIVE)))
    # A list stands for its rows, except when asking for one kind: then its rows, one by one.
    rows = rows.filter(kind=filters.kind) if filters.kind else rows.filter(parent__isnull=True)
    if filters.role:
        rows = rows.annotate(queue=QUEUE_ROLE).filter(queue=filters.role)
    if filters.assignee:
        rows = rows.filter(assignee_id=filters.assignee)
    if filters.unclaimed:
        rows = rows.filter(assignee__isnull=True)
    if filters.overdue:
        rows = rows.filter(due_at__lt=now, status__in=OPEN_STATUSES)
    if filters.escalated:
        rows = rows.filter(escalated_at__isnull=False)
    if filters.patient:
        rows = rows.filter(patient_id=filters.patient)
    if filters.status in ("done", "closed"):
        return rows.select_related("assignee").order_by("-closed_at", "-pk")
    return task_rows(rows)


# A task given to a person (a family's question to the treating therapist) counts in that
# person's role, not under "no role".
QUEUE_ROLE = Coalesce(NullIf(F("role"), Value("")), F("assignee__role"), Value(""))


def team_overview(practice: Practice, now: dt.datetime | None = None) -> list[dict]:
    """Per role queue: open, unclaimed, overdue and escalated tasks. One query."""
    now = now or timezone.now()
    active = Q(status__in=ACTIVE)
    counts = {
        row["queue"]: row
        for row in Task.objects.filter(practice=practice, status__in=OPEN_STATUSES, parent__isnull=True)
        .annotate(queue=QUEUE_ROLE).values("queue").annotate(
            open=Count("pk", filter=active),
            unclaimed=Count("pk", filter=active & Q(assignee__isnull=True)),
            overdue=Count("pk", filter=active & Q(due_at__lt=now)),
            escalated=Count("pk", filter=active & Q(escalated_at__isnull=False)),
            snoozed=Count("pk", filter=Q(status=TaskStatus.SNOOZED)),
        )
    }
    empty = {"open": 0, "unclaimed": 0, "overdue": 0, "escalated": 0, "snoozed": 0}
    rows = [{"role": role, "label": label, **{k: counts.get(role, empty)[k] for k in empty}}
            for role, label in Role.choices]
    if "" in counts:
        rows.append({"role": "", "label": "No role", **{k: counts[""][k] for k in empty}})
    return rows


def escalated_tasks(practice: Practice, user: StaffMember, *, limit: int = 10,
                    now: dt.datetime | None = None) -> tuple[list[Task], int]:
    now = now or timezone.now()
    rows = Task.objects.filter(practice=practice, status__in=ACTIVE, escalated_at__isnull=False, parent__isnull=True)
    shown = with_rows(decorate(list(task_rows(rows)[:limit]), user, now, practice), user, now, practice)
    return shown, (rows.count() if len(shown) == limit else len(shown))


def task_for(user: StaffMember, pk: int) -> Task:
    """Task ``pk`` of the user's practice, else 404 (another practice's id too)."""
    task = get_object_or_404(Task.objects.select_related("practice", "assignee", "closed_by", "subject_type"), pk=pk,
                             practice=user.practice_id)
    now = timezone.now()
    return with_rows(decorate([task], user, now, user.practice), user, now, user.practice)[0]


def list_rows_page(task: Task, user: StaffMember, page_number) -> Page:
    """One page of a list task's open rows, for the list's own page."""
    now = timezone.now()
    page = Paginator(row_queryset([task]), ROWS_SHOWN).get_page(page_number)
    page.object_list = load_rows(decorate(list(page.object_list), user, now, task.practice))
    return page


def task_history(task: Task) -> list[dict]:
    """The task's audit events, oldest first, in words: opened, claimed, snoozed,
    handed on, escalated, done or closed. Two queries."""
    events = list(
        AuditEvent.objects.filter(practice_id=task.practice_id, action__startswith="task_",
                                  object_type="workqueue.task", object_id=str(task.pk)).order_by("seq")
    )
    staff_ids = {int(e.detail["to"].split()[1]) for e in events
                 if str(e.detail.get("to", "")).startswith("staff ")}
    names = {m.pk: str(m) for m in StaffMember.objects.filter(pk__in=staff_ids, practice=task.practice_id)}
    zone = task.practice.zone
    history = []
    for event in events:
        detail = event.detail or {}
        what = _HISTORY_WORDS.get(event.action, event.action.removeprefix("task_").replace("_", " ").capitalize())
        to = str(detail.get("to", ""))
        if event.action == "task_reassigned" and to.startswith("staff "):
            what = f"Handed to {names.get(int(to.split()[1]), 'a former colleague')}"
        elif event.action == "task_reassigned" and to.startswith("role "):
            role = to.split()[1]
            what = f"Put back in the {Role(role).label if role in Role.values else role} queue"
        elif event.action == "task_snoozed" and detail.get("until"):
            until = dt.datetime.fromisoformat(detail["until"]).astimezone(zone)
            what = f"Snoozed until {until:%a %b} {until.day}, {until.strftime('%I:%M %p').lstrip('0')}"
        elif event.action == "task_completed" and detail.get("note"):
            what = f"Marked done: {detail['note']}"
        elif event.action == "task_closed_by_rule" and detail.get("reason"):
            what = f"Closed by its rule: {detail['reason']}"
        history.append({"at": event.at, "who": _who(event), "what": what})
    return history


def _who(event: AuditEvent) -> str:
    # System actors are labelled "pedsdesk (rule plan_of_care_ending)" in the log; say it in words.
    label = event.actor_label
    if event.actor_id is None and label.startswith("pedsdesk (rule ") and label.endswith(")"):
        return f"pedsdesk, rule “{rule_label(label[len('pedsdesk (rule '):-1])}”"
    return label


_HISTORY_WORDS = {
    "task_opened": "Opened",
    "task_claimed": "Claimed",
    "task_completed": "Marked done",
    "task_escalated": "Escalated: still open past its due time",
    "task_closed_by_rule": "Closed by its rule: the condition cleared",
}


def assignable_staff(practice: Practice) -> list[StaffMember]:
    return list(StaffMember.objects.filter(practice=practice, is_active=True).order_by("first_name", "last_name"))


def may_assign(user: StaffMember) -> bool:
    return has_permission(user, "tasks.assign")

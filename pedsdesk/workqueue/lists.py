"""List tasks: the kinds that come in dozens a day, gathered into one task per day and queue.

A rule registered with ``listed_in="calls"`` still opens and closes one task per
condition (a visit to confirm, a guardian to reach), so dedupe, recheck and audit work
as for any task; but those tasks are rows of the day's list task for their queue (role
or person) rather than rows of the queue. ``gather_lists`` runs after the rules: it
opens today's list of each queue, moves the open rows into it (yesterday's leftovers
too) and closes lists with nothing left. Each row is worked in place from the list; an
app gives its kind a row template and a loader (``list_row``) so a row can carry the
app's own buttons (Confirm, Cancel) without the work queue importing the app.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from pedsdesk.practices.models import Practice
from pedsdesk.workqueue.actions import TaskSpec, close_task_by_rule, open_task
from pedsdesk.workqueue.models import LIST_KIND, OPEN_STATUSES, Task, TaskStatus

DEFAULT_ROW_TEMPLATE = "workqueue/_item_default.html"
ROWS_SHOWN = 25  # rows of a list shown in the queue; the list's own page shows them all, paged


@dataclass(frozen=True)
class TaskList:
    name: str
    title: str  # "Calls to make"


@dataclass(frozen=True)
class ListRow:
    kind: str
    template: str
    load: Callable[[list[Task]], None] | None


_LISTS: dict[str, TaskList] = {}
_ROWS: dict[str, ListRow] = {}


def task_list(name: str, *, title: str) -> None:
    """Declare a list that rules gather into with ``task_rule(..., listed_in=name)``."""
    _LISTS[name] = TaskList(name, title)


def list_row(kind: str, *, template: str, load: Callable[[list[Task]], None] | None = None) -> None:
    """How a row of ``kind`` shows in a list: ``template`` (gets ``row``), and ``load(rows)``,
    which adds what the template needs to every row at once (a fixed number of queries)."""
    _ROWS[kind] = ListRow(kind, template, load)


task_list("calls", title="Calls to make")
task_list("plans_of_care", title="Plans of care to renew")
task_list("authorizations", title="Authorizations to follow up")
task_list("renewals", title="Renewals to send")
task_list("attendance", title="Attendance to talk over")


def list_title(name: str) -> str:
    return _LISTS[name].title if name in _LISTS else name.replace("_", " ").capitalize()


def _rule_name(name: str) -> str:
    return f"{name}_list"


def gather_lists(*, practice: Practice, listed: dict[str, str], now: dt.datetime | None = None) -> int:
    """Put every open task of a listed rule (``listed``: rule name -> list name) into
    today's list task of its queue; close lists with no open rows. Returns the number
    of rows that moved. Safe to run any time, on several machines: opening a list is
    deduplicated by the database, moving a row is a plain update."""
    now = now or timezone.now()
    today = now.astimezone(practice.zone).date()
    rows = Task.objects.filter(practice=practice, rule__in=list(listed), status__in=OPEN_STATUSES).select_related(
        "assignee").only("pk", "rule", "role", "assignee", "parent_id", "due_at", "priority")
    queues: dict[tuple[str, str, int | None], list[Task]] = defaultdict(list)
    for row in rows:
        queues[(listed[row.rule], row.role, row.assignee_id)].append(row)
    # Every open list read once: a quiet minute opens nothing and reads no list again.
    lists = {t.dedupe_key: t for t in Task.objects.filter(practice=practice, kind=LIST_KIND,
                                                          status__in=OPEN_STATUSES)}
    kept, moved = set(), 0
    for (name, role, _), members in queues.items():
        holder = members[0].assignee
        due = min((m.due_at for m in members if m.due_at), default=None)
        spec = TaskSpec(
            dedupe_key=f"list:{name}:{role}:{holder.pk if holder else '-'}:{today.isoformat()}",
            title=f"{list_title(name)}, {today:%a %b} {today.day}",
            reason=("Work each row from the list: it stays open until every row is done or its "
                    "condition clears. Rows left from earlier days move into today's list."),
            role=role, assignee=holder, due_at=due, priority=max(m.priority for m in members),
        )
        task = lists.get(spec.dedupe_key) or open_task(practice=practice, kind=LIST_KIND, spec=spec,
                                                       rule=_rule_name(name))[0]
        kept.add(task.pk)
        fresh = {"due_at": due, "priority": spec.priority}
        if any(getattr(task, k) != v for k, v in fresh.items()):
            Task.objects.filter(pk=task.pk, status__in=OPEN_STATUSES).update(**fresh, updated_at=now)
        stale = [m.pk for m in members if m.parent_id != task.pk]
        if stale:
            moved += Task.objects.filter(pk__in=stale).update(parent=task, updated_at=now)
    for old in lists.values():
        if old.pk not in kept:
            settle_list(old, reason="its rows moved to today's list")
    return moved


def settle_list(task: Task, *, reason: str = "every row is done") -> bool:
    """Close list ``task`` if none of its rows is open. Returns whether it closed."""
    with transaction.atomic():
        if Task.objects.filter(parent=task, status__in=OPEN_STATUSES).exists():
            return False
        close_task_by_rule(task=task, reason=reason)
    return True


def load_rows(rows: Iterable[Task]) -> list[Task]:
    """Give each row its template and what its kind's loader adds."""
    rows = list(rows)
    by_kind: dict[str, list[Task]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
        row.row_template = _ROWS[row.kind].template if row.kind in _ROWS else DEFAULT_ROW_TEMPLATE
    for kind, members in by_kind.items():
        if kind in _ROWS and _ROWS[kind].load:
            _ROWS[kind].load(members)
    return rows


def row_queryset(lists: Iterable[Task]):
    return Task.objects.filter(parent__in=list(lists), status__in=(TaskStatus.OPEN, TaskStatus.CLAIMED)).select_related(
        "assignee").order_by("due_at", "-priority", "pk")

"""The registry of task rules.

A rule is a function ``(practice, now) -> iterable of TaskSpec``: the tasks that
should be open right now. It never opens or closes anything itself; ``run_rules``
hands its answer to ``sync_rule``, which opens the new ones and closes the ones whose
condition cleared. So a rule is a plain query, easy to test, and safe to run as often
as anyone likes::

    @task_rule("guardian_unreachable", kind="guardian_unreachable")
    def guardian_unreachable(practice, now):
        for guardian in ...:
            yield TaskSpec(dedupe_key=f"guardian_unreachable:{guardian.pk}", ...)
"""

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import timezone

from pedsdesk.practices.models import Practice
from pedsdesk.sweeps import SCHEDULES, DueMarks, joined
from pedsdesk.workqueue.actions import TaskSpec, escalate_overdue_tasks, sync_rule
from pedsdesk.workqueue.lists import gather_lists

logger = logging.getLogger(__name__)

RuleFunction = Callable[[Practice, dt.datetime], Iterable[TaskSpec]]


@dataclass(frozen=True)
class TaskRule:
    name: str
    kind: str
    schedule: str
    evaluate: RuleFunction
    label: str
    recheck_after: dt.timedelta | None = None
    listed_in: str = ""
    due: DueMarks | None = None


_RULES: dict[str, TaskRule] = {}
_KIND_LABELS: dict[str, str] = {}


def task_rule(name: str, kind: str, schedule: str = "hourly", *, label: str = "",
              recheck_after: dt.timedelta | None = None, listed_in: str = "",
              due: DueMarks | None = None) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule run every hour (or minute, or day) for every practice.

    ``label`` names the task kind for people ("Plan of care to renew"); ``recheck_after``
    overrides how long a task marked done stays done while its condition still holds.
    ``listed_in`` names a list (workqueue/lists.py, e.g. "calls") that gathers the
    rule's tasks into one list task per day and queue, for kinds that come in dozens.
    ``due(now)`` marks what the rule reads, for every practice in one query (see
    ``pedsdesk.sweeps``): when every rule of a schedule has one, a practice whose marks
    did not move skips its rules that minute.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}")

    def register(function: RuleFunction) -> RuleFunction:
        _RULES[name] = TaskRule(name, kind, schedule, function, label or kind_label(kind), recheck_after, listed_in,
                                due)
        _KIND_LABELS.setdefault(kind, label or kind_label(kind))
        return function

    return register


def registered_rules(schedule: str | None = None) -> list[TaskRule]:
    return [r for r in _RULES.values() if schedule is None or r.schedule == schedule]


def rule_marks(schedule: str, now: dt.datetime) -> dict[int, object] | None:
    """The marks of every rule of ``schedule`` together, per practice; None when a rule
    has none (so its rules run every time). The hourly rules count days ("ends in 5
    days"): their marks carry each practice's date, so they run again when it turns."""
    rules = registered_rules(schedule)
    if not rules or any(rule.due is None for rule in rules):
        return None
    found = [due(now) for due in dict.fromkeys(rule.due for rule in rules)]  # rules that read alike share one
    if schedule != "minute":
        found.append({pk: now.astimezone(zoneinfo.ZoneInfo(zone)).date()
                      for pk, zone in Practice.objects.values_list("pk", "time_zone")})
    return joined(*found)


def kind_label(kind: str) -> str:
    """A task kind in words: its rule's label, else the kind with spaces."""
    return _KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def rule_label(name: str) -> str:
    rule = _RULES.get(name)
    return rule.label if rule else name.replace("_", " ")


def kind_choices() -> list[tuple[str, str]]:
    return sorted(_KIND_LABELS.items(), key=lambda item: item[1])


def run_rule(rule: TaskRule, practice: Practice, now: dt.datetime | None = None) -> tuple[int, int]:
    now = now or timezone.now()
    specs = list(rule.evaluate(practice, now))  # evaluated before sync_rule's transaction starts
    return sync_rule(practice=practice, rule=rule.name, kind=rule.kind, specs=specs,
                     recheck_after=rule.recheck_after, now=now)


def run_rules(*, practice: Practice | None = None, schedule: str | None = None,
              now: dt.datetime | None = None) -> dict[str, tuple[int, int]]:
    """Run the rules (of one schedule, or all) for one practice or every practice.

    Returns {rule name: (opened, closed)} summed over practices. A rule that fails is
    logged and skipped, so one bug cannot stop every other rule.
    """
    now = now or timezone.now()
    practices = [practice] if practice is not None else list(Practice.objects.order_by("pk"))
    totals: dict[str, tuple[int, int]] = {}
    for rule in registered_rules(schedule):
        opened = closed = 0
        for each in practices:
            try:
                o, c = run_rule(rule, each, now)
            except Exception:
                logger.exception("task rule %s failed for practice %s", rule.name, each.pk)
                continue
            opened, closed = opened + o, closed + c
        totals[rule.name] = (opened, closed)
    listed = {rule.name: rule.listed_in for rule in registered_rules() if rule.listed_in}
    for each in practices:
        gather_lists(practice=each, listed=listed, now=now)
    return totals


def bring_up_to_date(*, practice: Practice, now: dt.datetime | None = None) -> dict[str, int]:
    """Run every rule and the escalation once for ``practice``, as the sweeps would: the
    demo does this right after seeding so every queue has real tasks at once."""
    now = now or timezone.now()
    results = run_rules(practice=practice, now=now)
    escalated = escalate_overdue_tasks(now=now, practice=practice)
    return {"opened": sum(opened for opened, _ in results.values()), "escalated": escalated}

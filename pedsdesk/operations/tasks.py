"""huey tasks: each schedule's periodic tick fans out into one task per practice.

The database holds the truth (due rows, claimed with a conditional update), so these
may run on several machines at once, twice, or late: a sweep only does what is due.
Run one scheduler (``pedsdesk worker``) and as many ``pedsdesk worker --no-periodic``
as needed; two schedulers would only enqueue each tick twice, and the leases skip the
second.
"""

import datetime as dt
import hashlib

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from pedsdesk.operations.models import SweepMark
from pedsdesk.operations.runner import failed, prune_runs, run_global_sweeps, run_practice_sweeps
from pedsdesk.practices.models import Practice
from pedsdesk.sweeps import DUE_REFRESH, TICK, registered, sweep

#: A practice whose sweep failed is tried again this many times, this far apart.
RETRIES = 2
RETRY_DELAY_SECONDS = 60


@db_task()
def practice_sweeps(schedule: str, practice_id: int, only: list[str] | None = None, attempt: int = 0,
                    marks: dict[str, str] | None = None) -> dict:
    practice = Practice.objects.filter(pk=practice_id).first()
    if practice is None:
        return {}
    results = run_practice_sweeps(schedule=schedule, practice=practice, only=only, marks=marks)
    failures = [name for name, result in results.items() if failed(result)]
    if failures and attempt < RETRIES:
        # Only the failed sweeps, later, without holding up the other practices.
        practice_sweeps.schedule((schedule, practice_id, failures, attempt + 1, marks), delay=RETRY_DELAY_SECONDS)
    return results


@db_task()
def global_sweeps(schedule: str) -> dict:
    return run_global_sweeps(schedule=schedule)


def due_marks(schedule: str, practice_ids: list[int], now: dt.datetime) -> dict[str, dict[int, str]]:
    """For each sweep of ``schedule`` that says what it reads: every practice's mark,
    hashed with the period of its refresh (staggered by practice, a tick apart, so a few
    refresh each tick rather than all at once)."""
    marks: dict[str, dict[int, str]] = {}
    period = int(DUE_REFRESH[schedule].total_seconds() // 60)
    tick = int(TICK[schedule].total_seconds() // 60)
    minute = int(now.timestamp() // 60)
    for each in registered(schedule, per_practice=True):
        found = each.due(now) if each.due else None
        if found is None:
            continue
        marks[each.name] = {pk: hashlib.sha256(repr((found.get(pk), (minute + pk * tick) // period)).encode())
                            .hexdigest() for pk in practice_ids}
    return marks


def fan_out(schedule: str, now: dt.datetime | None = None) -> dict[str, int]:
    """Enqueue one task per practice with anything due, and one for the global sweeps.
    Returns how many practices there are, how many got a task, and how many sweep runs
    those tasks make."""
    now = now or timezone.now()
    practice_ids = list(Practice.objects.order_by("pk").values_list("pk", flat=True))
    names = [each.name for each in registered(schedule, per_practice=True)]
    marks = due_marks(schedule, practice_ids, now)
    seen = {(row.sweep, row.practice_id): row.mark for row in SweepMark.objects.filter(sweep__in=list(marks))}
    queued = runs = 0
    for pk in practice_ids:
        changed = {name: m[pk] for name, m in marks.items() if seen.get((name, pk)) != m[pk]}
        due = [name for name in names if name not in marks or name in changed]
        if due:
            practice_sweeps(schedule, pk, None if len(due) == len(names) else due, 0, changed or None)
            queued, runs = queued + 1, runs + len(due)
    for name, m in marks.items():  # up to date as of now: the status page does not call them late
        SweepMark.objects.filter(sweep=name).exclude(
            practice_id__in=[pk for pk in practice_ids if seen.get((name, pk)) != m[pk]]).update(checked_at=now)
    global_sweeps(schedule)
    return {"practices": len(practice_ids), "queued": queued,
            "runs": runs + len(registered(schedule, per_practice=False))}


@db_periodic_task(crontab(minute="*"))
def sweep_every_minute() -> dict:
    return fan_out("minute")


@db_periodic_task(crontab(minute="7"))
def sweep_every_hour() -> dict:
    return fan_out("hourly")


@db_periodic_task(crontab(minute="17", hour="3"))
def sweep_every_day() -> dict:
    return fan_out("daily")


@sweep("operations.prune_runs", "daily")
def prune() -> int:
    return prune_runs()

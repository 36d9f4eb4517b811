"""huey tasks: each schedule's periodic tick fans out into one task per practice.

The database holds the truth (due rows, claimed with a conditional update), so these
may run on several machines at once, twice, or late: a sweep only does what is due.
Run one scheduler (``pedsdesk worker``) and as many ``pedsdesk worker --no-periodic``
as needed; two schedulers would only enqueue each tick twice, and the leases skip the
second.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from pedsdesk.operations.runner import prune_runs, run_global_sweeps, run_practice_sweeps
from pedsdesk.practices.models import Practice
from pedsdesk.sweeps import sweep

#: A practice whose sweep failed is tried again this many times, this far apart.
RETRIES = 2
RETRY_DELAY_SECONDS = 60


@db_task()
def practice_sweeps(schedule: str, practice_id: int, only: list[str] | None = None, attempt: int = 0) -> dict:
    practice = Practice.objects.filter(pk=practice_id).first()
    if practice is None:
        return {}
    results = run_practice_sweeps(schedule=schedule, practice=practice, only=only)
    failed = [name for name, result in results.items() if isinstance(result, str) and result.startswith("failed:")]
    if failed and attempt < RETRIES:
        # Only the failed sweeps, later, without holding up the other practices.
        practice_sweeps.schedule((schedule, practice_id, failed, attempt + 1), delay=RETRY_DELAY_SECONDS)
    return results


@db_task()
def global_sweeps(schedule: str) -> dict:
    return run_global_sweeps(schedule=schedule)


def fan_out(schedule: str) -> dict[str, int]:
    """Enqueue one task per practice and one for the global sweeps."""
    practice_ids = list(Practice.objects.order_by("pk").values_list("pk", flat=True))
    for pk in practice_ids:
        practice_sweeps(schedule, pk)
    global_sweeps(schedule)
    return {"practices": len(practice_ids)}


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

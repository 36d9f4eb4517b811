"""huey tasks: the periodic sweeps of every app, and a prompt delivery after queueing.

The database holds the truth (due rows, claimed with a conditional update), so these
may run on several machines at once, twice, or late: a sweep only does what is due.
"""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from pedsdesk.sweeps import registered

logger = logging.getLogger("pedsdesk.sweeps")


def run_sweeps(schedule: str | None = None) -> dict[str, object]:
    """Run every registered sweep of ``schedule`` (all when None) once; one failing
    sweep does not stop the others."""
    results: dict[str, object] = {}
    # Delivery last, so what the other sweeps just queued goes out in the same run.
    for each in sorted(registered(schedule), key=lambda s: s.name.startswith("messaging.")):
        try:
            results[each.name] = each.run()
        except Exception as exc:
            logger.exception("sweep %s failed", each.name)
            results[each.name] = f"failed: {type(exc).__name__}"
    return results


@db_periodic_task(crontab(minute="*"))
def sweep_every_minute() -> dict:
    return run_sweeps("minute")


@db_periodic_task(crontab(minute="7"))
def sweep_every_hour() -> dict:
    return run_sweeps("hourly")


@db_periodic_task(crontab(minute="17", hour="3"))
def sweep_every_day() -> dict:
    return run_sweeps("daily")


@db_task()
def deliver_soon() -> dict:
    from pedsdesk.messaging.delivery import deliver_due

    return deliver_due().as_dict()

"""The work queue's periodic sweeps (run by huey, and by ``pedsdesk sweep``)."""

from pedsdesk.sweeps import sweep
from pedsdesk.workqueue import builtin_rules  # noqa: F401 -- registers the foundation rules
from pedsdesk.workqueue.actions import escalate_overdue_tasks, wake_snoozed_tasks
from pedsdesk.workqueue.digest import send_daily_digests
from pedsdesk.workqueue.rules import run_rules


@sweep("workqueue.wake_snoozed", "minute")
def wake_snoozed() -> int:
    return wake_snoozed_tasks()


@sweep("workqueue.rules_minute", "minute")
def rules_every_minute() -> dict:
    return run_rules(schedule="minute")


@sweep("workqueue.rules_hourly", "hourly")
def rules_every_hour() -> dict:
    return run_rules(schedule="hourly")


@sweep("workqueue.rules_daily", "daily")
def rules_every_day() -> dict:
    return run_rules(schedule="daily")


# After the rules, so a task escalates in the same hour its rule found it overdue.
@sweep("workqueue.escalate", "hourly")
def escalate() -> int:
    return escalate_overdue_tasks()


# Last, so the digest lists what the rules and escalation just found.
@sweep("workqueue.daily_digest", "hourly")
def daily_digest() -> int:
    return send_daily_digests()

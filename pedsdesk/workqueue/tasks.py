"""The work queue's periodic sweeps (run by huey, and by ``pedsdesk sweep``)."""

from functools import partial

from pedsdesk.practices.models import Practice
from pedsdesk.sweeps import sweep
from pedsdesk.workqueue import builtin_rules  # noqa: F401 -- registers the foundation rules
from pedsdesk.workqueue.actions import escalate_overdue_tasks, wake_snoozed_tasks
from pedsdesk.workqueue.digest import send_daily_digests
from pedsdesk.workqueue.rules import rule_marks, run_rules


@sweep("workqueue.wake_snoozed", "minute")
def wake_snoozed() -> int:
    return wake_snoozed_tasks()


@sweep("workqueue.rules_minute", "minute", per_practice=True, due=partial(rule_marks, "minute"))
def rules_every_minute(*, practice: Practice) -> dict:
    return run_rules(practice=practice, schedule="minute")


@sweep("workqueue.rules_hourly", "hourly", per_practice=True, due=partial(rule_marks, "hourly"))
def rules_every_hour(*, practice: Practice) -> dict:
    return run_rules(practice=practice, schedule="hourly")


@sweep("workqueue.rules_daily", "daily", per_practice=True)
def rules_every_day(*, practice: Practice) -> dict:
    return run_rules(practice=practice, schedule="daily")


# After the rules, so a task escalates in the same hour its rule found it overdue.
@sweep("workqueue.escalate", "hourly", per_practice=True)
def escalate(*, practice: Practice) -> int:
    return escalate_overdue_tasks(practice=practice)


# Last, so the digest lists what the rules and escalation just found.
@sweep("workqueue.daily_digest", "hourly", per_practice=True)
def daily_digest(*, practice: Practice) -> int:
    return send_daily_digests(practice=practice)

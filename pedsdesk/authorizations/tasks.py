"""The authorizations' daily sweep (run by huey, and by ``pedsdesk sweep``), and the
board's stored figures projected again after a change."""

import datetime as dt

from django.utils import timezone
from huey.contrib.djhuey import db_task

from pedsdesk.authorizations.actions import open_due_renewals, refresh_statuses
from pedsdesk.authorizations.figures import apply_marks
from pedsdesk.authorizations.rules import run_authorization_rules
from pedsdesk.practices.models import Practice
from pedsdesk.sweeps import run_memo, sweep


def run_daily(*, practice: Practice, now: dt.datetime | None = None, rules: bool = False) -> dict:
    """For one practice: statuses (expired, exhausted), then the renewals whose time has
    come (each opens its own tasks). The work queue's sweeps run the task rules; with
    ``rules`` they run here too, at once."""
    now = now or timezone.now()
    today = now.astimezone(practice.zone).date()
    with run_memo():  # one projection of every authorization for all of it
        changed = refresh_statuses(practice=practice, today=today)
        opened, moved = open_due_renewals(practice=practice, today=today)
        result = {"statuses": changed, "renewals_opened": opened, "due_dates_moved": moved}
        if rules:
            result["rules"] = run_authorization_rules(practice=practice, now=now)
    return result


@sweep("authorizations.daily", "daily", per_practice=True)
def authorizations_daily(*, practice: Practice) -> dict:
    return run_daily(practice=practice)


@db_task()
def refresh_figures_later(marks: dict[str, list[int]]) -> None:
    """The stored figures of the children a committed change marked (figures.figures_stale)."""
    apply_marks(marks)

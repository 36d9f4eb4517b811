"""The registry of periodic sweeps.

Each app registers the functions that bring its state up to date (due messages,
offer expiries, task rules, digests). huey runs them on a schedule; ``pedsdesk sweep``
runs every one of them once, now, for cron users and tests. A sweep must be safe to
run at any time, as often as anyone likes, on several machines at once.

A sweep registered with ``per_practice=True`` is called as ``run(practice=...)`` once
per practice: the worker fans those out into one task per practice, so several workers
share the work and one practice's failure holds up no other (``pedsdesk/operations``).

A per-practice sweep may say what it reads with ``due=``: a function of the time that
returns, for every practice, a mark of that state (a count, the ids, the latest change),
all practices in one query. The fan-out runs the sweep only for the practices whose mark
changed since their last run, and for each at least once every ``DUE_REFRESH`` anyway,
so a minute with nothing due costs a few queries, not a task per practice.

A sweep registered with ``since=True`` is called with ``since=``: when its last run that
did not fail started (None before the first), so it can read only what changed after.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Count, F, Max, QuerySet, Sum

T = TypeVar("T")

SCHEDULES = ("minute", "hourly", "daily")

#: A sweep with a ``due`` mark still runs this often for every practice (by schedule),
#: so what its mark leaves out (a guardian's new phone number in a task's text) is never
#: older; the practices take turns, a tick's worth apart.
DUE_REFRESH = {"minute": dt.timedelta(hours=1), "hourly": dt.timedelta(days=1), "daily": dt.timedelta(days=1)}
TICK = {"minute": dt.timedelta(minutes=1), "hourly": dt.timedelta(hours=1), "daily": dt.timedelta(days=1)}

#: ``due(now)``: {practice id: mark of what the sweep reads}, or None when it cannot tell.
DueMarks = Callable[[dt.datetime], dict[int, object] | None]


def counted(rows: QuerySet, *, practice: str = "practice_id", changed: str | None = None) -> dict[int, tuple]:
    """A due mark of ``rows`` for every practice in one query: {practice id: (how many,
    which (their ids summed), and their latest ``changed``)}."""
    aggregates = {"n": Count("pk"), "ids": Sum("pk"), **({"changed": Max(changed)} if changed else {})}
    return {row.pop("of"): tuple(row.values())
            for row in rows.order_by().values(of=F(practice)).annotate(**aggregates)}


def joined(*marks: dict[int, object]) -> dict[int, tuple]:
    """Several marks as one: {practice id: (each one's mark for it)}."""
    practices = {pk for each in marks for pk in each}
    return {pk: tuple(each.get(pk) for each in marks) for pk in practices}


@dataclass(frozen=True)
class Sweep:
    name: str
    schedule: str
    run: Callable[..., object]
    per_practice: bool = False
    due: DueMarks | None = None
    since: bool = False


_SWEEPS: dict[str, Sweep] = {}


def sweep(name: str, schedule: str, *, per_practice: bool = False, due: DueMarks | None = None,
          since: bool = False) -> Callable:
    """Register ``function`` as a sweep run every minute, hour or day; with
    ``per_practice`` it takes ``practice=`` and runs once for each practice (with
    ``due``, only for those whose mark changed); with ``since``, it takes ``since=``."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}")
    if due is not None and not per_practice:
        raise ValueError("only a per-practice sweep has a due mark")

    def register(function: Callable[..., object]) -> Callable[..., object]:
        _SWEEPS[name] = Sweep(name, schedule, function, per_practice, due, since)
        return function

    return register


def registered(schedule: str | None = None, *, per_practice: bool | None = None) -> list[Sweep]:
    return [s for s in _SWEEPS.values() if (schedule is None or s.schedule == schedule)
            and (per_practice is None or s.per_practice == per_practice)]


_RUN_MEMO: ContextVar[dict | None] = ContextVar("sweep_run_memo", default=None)


@contextmanager
def run_memo() -> Iterator[dict]:
    """A memo for one practice's tick (the runner opens one around a practice's sweeps
    of a schedule, and around each sweep; nested, the outer one is kept). What several
    steps read alike (every authorization projected, which statuses, renewals and rules
    all need) is read once. What a step changes, it forgets (``forget``)."""
    memo = _RUN_MEMO.get()
    if memo is not None:
        yield memo
        return
    token = _RUN_MEMO.set({})
    try:
        yield _RUN_MEMO.get()
    finally:
        _RUN_MEMO.reset(token)


def forget(name: str) -> None:
    """Drop what the open run remembered under ``name`` (a key's first part): the step
    about to commit changed what it was read from."""
    memo = _RUN_MEMO.get()
    if memo:
        for key in [k for k in memo if k[0] == name]:
            del memo[key]


def remembered(key: tuple, compute: Callable[[], T], alone: Callable[[], T] | None = None) -> T:
    """``compute()``, once per sweep run when one is open (``run_memo``), else every time.
    ``alone``: what to compute instead outside a run, when the caller needs only part of
    what ``compute`` reads for the whole run (a page's rows, not every row of the practice)."""
    memo = _RUN_MEMO.get()
    if memo is None:
        return (alone or compute)()
    if key not in memo:
        memo[key] = compute()
    return memo[key]

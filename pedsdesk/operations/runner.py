"""Running the sweeps: one practice at a time under a lease, every run recorded.

The huey periodic tasks (``tasks.py``) fan each schedule out into one task per
practice, so several workers on several machines share a sweep and a practice whose
sweep fails holds up nobody else. A lease per (schedule, practice), taken with a
conditional update, keeps two runs for one practice from overlapping; it runs out by
itself if its worker dies, and the next run picks the work up (every sweep only does
what is due, so nothing is done twice).
"""

import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from pedsdesk.operations.models import SweepLease, SweepMark, SweepRun, WorkerHeartbeat
from pedsdesk.practices.models import Practice
from pedsdesk.sweeps import SCHEDULES, Sweep, registered, run_memo

logger = logging.getLogger("pedsdesk.sweeps")

#: How long one practice's run of a schedule may hold its lease before another worker
#: may take over; renewed before each sweep of the run.
LEASE_SECONDS = {"minute": 120, "hourly": 900, "daily": 3600}
#: How long runs are kept for the status page and the metrics.
KEEP_RUNS = dt.timedelta(days=7)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease:
    def __init__(self, key: str, token: str, seconds: int) -> None:
        self.key, self.token, self.seconds = key, token, seconds

    def renew(self) -> bool:
        until = timezone.now() + dt.timedelta(seconds=self.seconds)
        return SweepLease.objects.filter(key=self.key, token=self.token).update(held_until=until) == 1


@contextmanager
def sweep_lease(key: str, seconds: int) -> Iterator[Lease | None]:
    """Yield a Lease if nobody else holds ``key`` (or theirs ran out), else None."""
    if not SweepLease.objects.filter(key=key).exists():
        try:
            with transaction.atomic():
                SweepLease.objects.create(key=key)
        except IntegrityError:  # another worker created it a moment ago
            pass
    now = timezone.now()
    token = secrets.token_hex(16)
    taken = SweepLease.objects.filter(key=key).filter(Q(held_until__isnull=True) | Q(held_until__lt=now)).update(
        token=token, held_until=now + dt.timedelta(seconds=seconds))
    if taken != 1:
        yield None
        return
    try:
        yield Lease(key, token, seconds)
    finally:
        SweepLease.objects.filter(key=key, token=token).update(token="", held_until=None)


def _jsonable(value: object) -> dict:
    if isinstance(value, dict):
        return {str(k): v if isinstance(v, int | float | str | bool | None) else str(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return {"result": [v if isinstance(v, int | float | str) else str(v) for v in value]}
    return {"result": value if isinstance(value, int | float | str | bool | None) else str(value)}


def last_good_start(sweep: Sweep, practice: Practice | None) -> dt.datetime | None:
    """When the last run of ``sweep`` that did not fail started: what changed after it
    is what a ``since`` sweep has to look at."""
    return (SweepRun.objects.filter(sweep=sweep.name, practice=practice, error="", finished_at__isnull=False)
            .order_by("-started_at").values_list("started_at", flat=True).first())


def run_recorded(sweep: Sweep, practice: Practice | None, call: Callable[..., object]) -> object:
    """Run one sweep, recording its start, end, counts and error; never raises. A
    ``since`` sweep is called with when its last good run started."""
    kwargs = {"since": last_good_start(sweep, practice)} if sweep.since else {}
    run = SweepRun.objects.create(practice=practice, sweep=sweep.name, schedule=sweep.schedule,
                                  started_at=timezone.now(), worker=worker_name())
    try:
        with run_memo() as memo:
            try:
                result = call(**kwargs)
            except Exception:
                memo.clear()  # it may hold what a rolled-back change read
                raise
    except Exception as exc:
        logger.exception("sweep %s failed for practice %s", sweep.name, practice.pk if practice else "-")
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        result = f"failed: {type(exc).__name__}"
    else:
        run.counts = _jsonable(result)
    run.finished_at = timezone.now()
    run.save(update_fields=["error", "counts", "finished_at"])
    return result


def failed(result: object) -> bool:
    """Whether ``run_recorded`` returned a failure."""
    return isinstance(result, str) and result.startswith("failed:")


def run_practice_sweeps(*, schedule: str, practice: Practice, only: list[str] | None = None,
                        marks: dict[str, str] | None = None) -> dict[str, object]:
    """Every per-practice sweep of ``schedule`` for one practice, in registration order
    (``only``: those). ``marks``: what the fan-out found each due sweep reading; kept
    once the sweep has run without failing, so the fan-out skips it until that moves."""
    beat()
    with sweep_lease(f"{schedule}:{practice.pk}", LEASE_SECONDS[schedule]) as lease:
        if lease is None:
            return {"skipped": "another worker is running them"}
        results: dict[str, object] = {}
        with run_memo():  # the daily rules use the projection the statuses and renewals made
            for each in registered(schedule, per_practice=True):
                if only and each.name not in only:
                    continue
                lease.renew()
                results[each.name] = run_recorded(each, practice, partial(each.run, practice=practice))
                if marks and each.name in marks and not failed(results[each.name]):
                    SweepMark.objects.update_or_create(practice=practice, sweep=each.name, defaults={
                        "mark": marks[each.name], "checked_at": timezone.now()})
        return results


def _delivery_last(sweeps: list[Sweep]) -> list[Sweep]:
    return sorted(sweeps, key=lambda s: s.name.startswith("messaging."))


def run_global_sweeps(*, schedule: str, delivery: bool | None = None) -> dict[str, object]:
    """The sweeps over every practice at once (they claim their rows conditionally,
    so any number may run side by side); delivery last, so what the others just
    queued goes out in the same run. ``delivery`` False/True: only the others/only it."""
    beat()
    sweeps = [s for s in registered(schedule, per_practice=False)
              if delivery is None or s.name.startswith("messaging.") == delivery]
    return {each.name: run_recorded(each, None, each.run) for each in _delivery_last(sweeps)}


def run_sweeps(schedule: str | None = None) -> dict[str, object]:
    """Run every sweep of ``schedule`` (all when None) now, in this process: the global
    ones, each practice's in turn, then delivery. ``pedsdesk sweep`` and the tests use
    it; workers fan the same work out instead."""
    results: dict[str, object] = {}
    for each_schedule in [schedule] if schedule else SCHEDULES:
        results.update(run_global_sweeps(schedule=each_schedule, delivery=False))
        for practice in Practice.objects.order_by("pk"):
            for name, result in run_practice_sweeps(schedule=each_schedule, practice=practice).items():
                results.setdefault(name, {})[practice.pk] = result
        results.update(run_global_sweeps(schedule=each_schedule, delivery=True))
    return results


def failures(results: dict[str, object]) -> list[str]:
    """The names of the sweeps in ``run_sweeps``' results that failed anywhere."""
    names = []
    for name, result in results.items():
        values = result.values() if isinstance(result, dict) and name != "skipped" else [result]
        if any(failed(v) for v in values):
            names.append(name)
    return names


def beat() -> None:
    """This worker is alive (the metrics show how long since each was seen)."""
    now = timezone.now()
    name = worker_name()
    if not WorkerHeartbeat.objects.filter(worker=name).update(seen_at=now, tasks_run=F("tasks_run") + 1):
        try:
            with transaction.atomic():
                WorkerHeartbeat.objects.create(worker=name, seen_at=now, tasks_run=1)
        except IntegrityError:
            pass


def prune_runs(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = SweepRun.objects.filter(started_at__lt=now - KEEP_RUNS).delete()
    WorkerHeartbeat.objects.filter(seen_at__lt=now - KEEP_RUNS).delete()
    return deleted

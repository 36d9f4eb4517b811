"""The sweeps' last runs, and what is late or failing: for `pedsdesk sweep --status`,
the owner's page and the metrics."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Q
from django.utils import timezone

from pedsdesk.operations.models import SweepMark, SweepRun
from pedsdesk.practices.models import Practice
from pedsdesk.sweeps import registered

INTERVALS = {"minute": dt.timedelta(minutes=1), "hourly": dt.timedelta(hours=1), "daily": dt.timedelta(days=1)}
#: A sweep is late when its last good run is older than twice its interval and this.
GRACE = dt.timedelta(minutes=5)


@dataclass
class SweepStatus:
    sweep: str
    schedule: str
    practice: Practice | None
    last: SweepRun | None
    last_ok_at: dt.datetime | None
    late: bool

    @property
    def failing(self) -> bool:
        return self.last is not None and self.last.state == "failed"

    @property
    def state(self) -> str:
        if self.last is None:
            return "never run"
        if self.failing:
            return "failing"
        return "late" if self.late else self.last.state


def sweep_status(*, practice: Practice | None = None, now: dt.datetime | None = None) -> list[SweepStatus]:
    """One row per (sweep, practice): the global sweeps once, each per-practice sweep for
    ``practice`` or every practice. Four queries whatever the number of runs. A sweep
    the fan-out found with nothing new to read (its mark unchanged) is up to date then."""
    now = now or timezone.now()
    practices = [practice] if practice else list(Practice.objects.order_by("pk"))
    runs = SweepRun.objects.all()
    if practice:
        runs = runs.filter(Q(practice=practice) | Q(practice__isnull=True))
    latest = runs.values("sweep", "practice_id").annotate(
        last_id=Max("id"), last_ok=Max("started_at", filter=Q(error="", finished_at__isnull=False)))
    by_key = {(row["sweep"], row["practice_id"]): row for row in latest}
    last_runs = SweepRun.objects.in_bulk([row["last_id"] for row in by_key.values()])
    marks = SweepMark.objects.filter(practice=practice) if practice else SweepMark.objects.all()
    checked = {(m.sweep, m.practice_id): m.checked_at for m in marks.only("sweep", "practice_id", "checked_at")}
    rows = []
    for each in sorted(registered(), key=lambda s: (not s.per_practice, s.schedule, s.name)):
        for owner in practices if each.per_practice else [None]:
            row = by_key.get((each.name, owner.pk if owner else None))
            last_ok = row["last_ok"] if row else None
            seen = checked.get((each.name, owner.pk if owner else None))
            last_ok = max(last_ok, seen) if last_ok and seen else last_ok
            late = row is not None and (last_ok is None or last_ok < now - 2 * INTERVALS[each.schedule] - GRACE)
            rows.append(SweepStatus(each.name, each.schedule, owner, last_runs.get(row["last_id"]) if row else None,
                                    last_ok, late))
    return rows

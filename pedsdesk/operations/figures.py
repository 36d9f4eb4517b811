"""The operations app's own figures for ``/metrics``: sweeps and workers."""

import datetime as dt

from django.db.models import Count, Max, Q
from django.utils import timezone

from pedsdesk.operations.metrics import gauge
from pedsdesk.operations.models import SweepRun, WorkerHeartbeat

_RECENT = dt.timedelta(hours=1)


@gauge("pedsdesk_sweep_last_duration_seconds", "Slowest practice's duration of each sweep's last hour of runs",
       ("sweep",))
def sweep_durations():
    since = timezone.now() - _RECENT
    slowest: dict[str, float] = {}
    runs = SweepRun.objects.filter(started_at__gte=since, finished_at__isnull=False)
    for sweep, started, finished in runs.values_list("sweep", "started_at", "finished_at").iterator():
        slowest[sweep] = max(slowest.get(sweep, 0.0), (finished - started).total_seconds())
    for sweep, seconds in slowest.items():
        yield (sweep,), seconds


@gauge("pedsdesk_sweep_runs_last_hour", "Sweep runs in the last hour, by outcome", ("sweep", "outcome"))
def sweep_runs():
    since = timezone.now() - _RECENT
    rows = (SweepRun.objects.filter(started_at__gte=since).values("sweep")
            .annotate(ok=Count("id", filter=Q(error="")), failed=Count("id", filter=~Q(error=""))))
    for row in rows:
        yield (row["sweep"], "ok"), row["ok"]
        yield (row["sweep"], "failed"), row["failed"]


@gauge("pedsdesk_sweep_seconds_since_last_run", "Seconds since each sweep last started anywhere", ("sweep",))
def sweep_ages():
    now = timezone.now()
    for row in SweepRun.objects.values("sweep").annotate(last=Max("started_at")):
        yield (row["sweep"],), (now - row["last"]).total_seconds()


@gauge("pedsdesk_worker_heartbeat_age_seconds", "Seconds since each worker last ran a sweep task", ("worker",))
def worker_heartbeats():
    now = timezone.now()
    for worker, seen_at in WorkerHeartbeat.objects.values_list("worker", "seen_at"):
        yield (worker,), (now - seen_at).total_seconds()

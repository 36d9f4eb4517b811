"""The sweeps at a therapy group's scale, on PostgreSQL + Redis, with 1 and 2 workers.

    python benchmarks/sweep_scale.py --practices 5,25,50 --size large   # 10,000 / 50,000 / 100,000 children
    python benchmarks/sweep_scale.py --practices 2,4 --size medium      # a quick look

For each group size: a fresh database with N demo practices seeded as of yesterday
(their own seeds and logins, no simulated week), so today's sweeps have one day of work.
It becomes a template; for each worker count W a copy of it is swept by W
``pedsdesk worker --no-periodic`` processes: the daily tick, 24 hourly ticks (``--hourly-ticks``) and 10
minute ticks, each enqueued as the scheduler does (one task per practice with anything
due, and one for the global sweeps) and timed until every sweep of the tick has recorded
its end. The minute figure is the median tick (the first delivers what the hours queued). Queries per
child: one practice's daily sweeps run in this process on another copy, counted.

Needs DATABASE_URL's server (the postgres superuser creates the databases) and REDIS_URL.
The last line: ``sweep scale: C children, 2 workers, daily D s, P ms/child (first size: Q
ms/child), speed-up S, minute M s, hourly H s``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
SEEDED = "pedsdesk_sweepscale_seeded"


def admin(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN, "-qc", sql], check=True, capture_output=True)


def copy_of(name: str) -> str:
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # a killed run may leave connections
    admin(f"CREATE DATABASE {name} TEMPLATE {SEEDED}")
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def seed(practices: int, size: str) -> int:
    """Seed the template database in a child process (settings read DATABASE_URL once)."""
    admin(f"DROP DATABASE IF EXISTS {SEEDED} WITH (FORCE)")
    admin(f"CREATE DATABASE {SEEDED}")
    # The group seeding `pedsdesk demo --practices N` does (8 weeks of history, a process
    # per core), as of yesterday.
    code = f"""
import datetime as dt, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from pedsdesk.demo.generator import demo_today
from pedsdesk.demo.management.commands.demo import Command
from pedsdesk.demo.schedule import GROUP_HISTORY_WEEKS
from pedsdesk.people.models import Patient
Command().seed_group({size!r}, 7, {practices}, GROUP_HISTORY_WEEKS, None, today=demo_today() - dt.timedelta(days=1))
print(Patient.objects.count())
"""
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{SEEDED}",
           "DJANGO_SETTINGS_MODULE": "pedsdesk.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    return int(out.stdout.strip().splitlines()[-1])


def sweep_run(url: str, workers: int, data_dir: str, hourly_ticks: int = 24) -> dict[str, float]:
    """W workers on a copy; each tick timed until all its sweeps have ended."""
    env = {**os.environ, "DATABASE_URL": url, "PEDSDESK_DATA_DIR": data_dir, "PEDSDESK_EMAIL_CHANNEL": "console",
           "PEDSDESK_SMS_CHANNEL": "console", "DJANGO_SETTINGS_MODULE": "pedsdesk.settings"}
    code = f"""
import json, subprocess, sys, time, django
PEDSDESK = {str(Path(sys.executable).parent / "pedsdesk")!r}
django.setup()
from django.conf import settings
from pedsdesk.operations.models import SweepRun
from pedsdesk.operations.tasks import fan_out
settings.HUEY.flush()
procs = [subprocess.Popen([PEDSDESK, "worker", "--workers", "1", "--no-periodic"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range({workers})]
time.sleep(4)  # the consumers start

def tick(schedule):
    before = SweepRun.objects.filter(finished_at__isnull=False).count()
    started = time.monotonic()
    expected = fan_out(schedule)["runs"]  # the practices with something due, and the global sweeps
    while SweepRun.objects.filter(finished_at__isnull=False).count() - before < expected:
        if time.monotonic() - started > 3600:
            raise SystemExit("a tick took over an hour")
        time.sleep(0.05)
    return time.monotonic() - started

try:
    daily = tick("daily")
    hourly = [tick("hourly") for _ in range({hourly_ticks})]
    minute = [tick("minute") for _ in range(10)]
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=30)
failed = SweepRun.objects.exclude(error="").count()
print(json.dumps({{"daily": daily, "hourly": max(hourly), "hourly_total": sum(hourly), "hourly_first": hourly[0],
                  "hourly_median": sorted(hourly)[len(hourly) // 2],
                  "minute_first": minute[0], "minute": sorted(minute)[len(minute) // 2], "failed": failed}}))
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def queries_per_child(url: str, data_dir: str) -> float:
    env = {**os.environ, "DATABASE_URL": url, "PEDSDESK_DATA_DIR": data_dir, "PEDSDESK_EMAIL_CHANNEL": "console",
           "PEDSDESK_SMS_CHANNEL": "console", "DJANGO_SETTINGS_MODULE": "pedsdesk.settings"}
    code = """
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pedsdesk.operations.runner import run_practice_sweeps
from pedsdesk.people.models import Patient
from pedsdesk.practices.models import Practice
practice = Practice.objects.order_by("pk").first()
with CaptureQueriesContext(connection) as queries:
    run_practice_sweeps(schedule="daily", practice=practice)
print(len(queries) / Patient.objects.filter(practice=practice).count())
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", default="5,25,50", help="Group sizes to measure, comma-separated.")
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--workers", default="1,2", help="Worker counts, comma-separated.")
    parser.add_argument("--hourly-ticks", type=int, default=24,
                        help="Hourly ticks after the daily one (fewer: a quicker look at a large group).")
    parser.add_argument("--keep-seeded", action="store_true",
                        help="Leave the last seeded group's database (pedsdesk_sweepscale_seeded) for profiling.")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("REDIS_URL is needed (the huey queue the workers share)")
    sizes = [int(n) for n in args.practices.split(",")]
    worker_counts = [int(n) for n in args.workers.split(",")]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d}")
    first_ms = None
    last = {}
    for practices in sizes:
        started = time.monotonic()
        children = seed(practices, args.size)
        print(f"{practices} {args.size} practices: {children} children seeded in {time.monotonic() - started:.0f} s")
        results = {}
        for workers in worker_counts:
            data_dir = tempfile.mkdtemp(prefix="pedsdesk-sweepscale-")
            results[workers] = sweep_run(copy_of(f"pedsdesk_sweepscale_w{workers}"), workers, data_dir,
                                         args.hourly_ticks)
        per_child_queries = queries_per_child(copy_of("pedsdesk_sweepscale_q"), tempfile.mkdtemp())
        for workers, r in results.items():
            ms = 1000 * r["daily"] / children
            speedup = results[worker_counts[0]]["daily"] / r["daily"]
            print(f"  {workers} worker(s): daily {r['daily']:.1f} s ({ms:.2f} ms/child, "
                  f"{per_child_queries:.1f} queries/child), speed-up {speedup:.2f}, hourly max {r['hourly']:.2f} s "
                  f"(first {r['hourly_first']:.2f} s, median {r['hourly_median']:.2f} s, {args.hourly_ticks} ticks "
                  f"{r['hourly_total']:.1f} s), minute median {r['minute']:.2f} s (first {r['minute_first']:.2f} s), "
                  f"failed runs {r['failed']}")
        best = results[worker_counts[-1]]
        ms = 1000 * best["daily"] / children
        first_ms = first_ms if first_ms is not None else ms
        last = {"children": children, "workers": worker_counts[-1], "daily": best["daily"], "ms": ms,
                "speedup": results[worker_counts[0]]["daily"] / best["daily"], "minute": best["minute"],
                "hourly": best["hourly"]}
    for name in ("w1", "w2", "q") if args.keep_seeded else ("seeded", "w1", "w2", "q"):
        admin(f"DROP DATABASE IF EXISTS pedsdesk_sweepscale_{name}")
    print(f"sweep scale: {last['children']} children, {last['workers']} workers, daily {last['daily']:.1f} s, "
          f"{last['ms']:.2f} ms/child ({sizes[0]} practices: {first_ms:.2f} ms/child), speed-up "
          f"{last['speedup']:.2f}, minute {last['minute']:.2f} s, hourly {last['hourly']:.2f} s")


if __name__ == "__main__":
    main()

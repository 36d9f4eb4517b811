"""The pages of a big practice: the authorizations board (page 1 and page 40) and the
day grid, in one practice of 10,000 children, on SQLite and PostgreSQL.

    python benchmarks/big_pages.py [--children 10000] [--databases sqlite,postgres] [--history-weeks 8]
                                   [--pg-database pedsdesk_bigpages]

Seeds one demo practice of ``--children`` children (the large demo's mix, therapists in
proportion) into a fresh database, then times each page as the browser asks for it
(median of ``--repeat`` requests after one warm-up) and counts its queries. PostgreSQL
needs the server at 127.0.0.1 (the postgres superuser creates ``--pg-database``, dropped
first: give each person running it at once a name of their own).
Targets: any board page ≤ 1 s, the day grid ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_NAME = "pedsdesk_bigpages"

CHILD = r"""
import json, statistics, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pedsdesk.demo import generator
from pedsdesk.practices.models import Role, StaffMember

children, weeks, repeat = (int(a) for a in sys.argv[1:4])
call_command("migrate", verbosity=0)
per = children / generator.SIZES["large"].children
generator.SIZES["bench"] = generator.DemoSize(children, tuple(
    (d, max(1, round(n * per))) for d, n in generator.SIZES["large"].therapists))
started = time.perf_counter()
summary = generator.seed_demo(size="bench", seed=7, simulate_week=False, history_weeks=weeks)
seeded = time.perf_counter() - started
practice = summary.practice
client = Client()
client.force_login(StaffMember.objects.get(practice=practice, role=Role.BILLING))
desk = Client()
desk.force_login(StaffMember.objects.get(practice=practice, role=Role.FRONT_DESK))
today = practice.local_now().date()
while today.weekday() > 4:  # a weekday's grid, the busy kind
    today = today.fromordinal(today.toordinal() + 1)

def timed(who, url):
    who.get(url)
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = who.get(url)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(queries)

board = reverse("authorization_board")
result = {"children": summary.counts["patients"], "authorizations": summary.counts["authorizations"],
          "therapists": summary.counts["therapists"], "seconds_to_seed": seeded}
for name, who, url in (("board page 1", client, board + "?show=all"),
                       ("board page 40", client, board + "?show=all&page=40"),
                       ("board page 40, by units left", client, board + "?show=all&sort=units_left&page=40"),
                       ("day grid", desk, reverse("schedule_day") + f"?date={today.isoformat()}")):
    result[name] = timed(who, url)
# What every board view cost before the stored figures: every authorization projected.
from pedsdesk.authorizations.queries import board as every_row
start = time.perf_counter()
rows = len(every_row(practice, today=practice.local_now().date(), show="all"))
result["every authorization projected (the board before)"] = (time.perf_counter() - start, rows)
print("RESULT " + json.dumps(result))
"""


def run(database: str, children: int, weeks: int, repeat: int, pg_name: str = PG_NAME) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pedsdesk.settings",
           "PEDSDESK_DATA_DIR": tempfile.mkdtemp(prefix="pedsdesk-bigpages-")}
    env.pop("DATABASE_URL", None)
    if database == "postgres":
        for sql in (f"DROP DATABASE IF EXISTS {pg_name}", f"CREATE DATABASE {pg_name}"):
            subprocess.run(["psql", PG_ADMIN, "-qc", sql], check=True, capture_output=True)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_name}"
    out = subprocess.run([sys.executable, "-c", CHILD, str(children), str(weeks), str(repeat)], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{database}: the run failed:\n{out.stderr[-3000:]}")
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--history-weeks", type=int, default=8, help="Weeks of past visits seeded (default 8).")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-database", default=PG_NAME,
                        help=f"PostgreSQL database, dropped first (default {PG_NAME}).")
    args = parser.parse_args()
    failed = False
    for database in args.databases.split(","):
        r = run(database, args.children, args.history_weeks, args.repeat, args.pg_database)
        print(f"{database}: {r['children']} children, {r['authorizations']} authorizations, {r['therapists']} "
              f"therapists (seeded in {r['seconds_to_seed']:.0f} s)")
        one, five, fifteen = os.getloadavg()
        print(f"  load average {one:.2f} {five:.2f} {fifteen:.2f} after the run (2 cores: noisy wall times above 1)")
        for name, limit in (("board page 1", 1.0), ("board page 40", 1.0), ("board page 40, by units left", 1.0),
                            ("day grid", 0.5)):
            seconds, queries = r[name]
            failed |= seconds > limit
            print(f"  {name:<30} {seconds * 1000:7.0f} ms  {queries:4d} queries  (target ≤ {limit * 1000:.0f} ms)")
        seconds, rows = r["every authorization projected (the board before)"]
        print(f"  every authorization projected, as each board view did before: {seconds * 1000:.0f} ms ({rows} rows)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

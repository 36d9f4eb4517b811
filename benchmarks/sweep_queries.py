"""Queries per child of one practice's daily, hourly and minute sweeps, on SQLite, on a
clock held still (so the counts are the same on every run, on a busy machine too).

    python benchmarks/sweep_queries.py [--size medium] [--profile daily]

Seeds one demo practice as of yesterday (no simulated week, as ``sweep_scale.py``
does), then on that database runs, as ``pedsdesk sweep`` does (the global sweeps, the
practice's, then delivery): the daily sweeps, one hourly and one minute tick, then a
minute later a second minute tick, with nothing left to do. For each
it prints the queries and milliseconds per child, and what the sweeps left behind
(tasks, visits, skips, messages), which a change that only makes them cheaper must
leave the same. ``--profile daily`` prints the top of a cProfile of that schedule.
"""

import argparse
import cProfile
import datetime as dt
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: The instant the sweeps run at (a Wednesday, 09:20 in Chicago): fixed so that what is
#: due, and so the query count, never depends on when the benchmark runs.
NOW = dt.datetime(2026, 6, 10, 14, 20, tzinfo=dt.UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--profile", default="", choices=["", "daily", "hourly", "minute"])
    parser.add_argument("--top", type=int, default=35, help="Lines of the profile shown.")
    parser.add_argument("--sql", type=int, default=0, help="Show the N most frequent statements of each sweep.")
    parser.add_argument("--seeded", default="", help="A SQLite file to keep the seeded demo in and start from "
                        "when it exists (seeding a medium demo takes a while).")
    args = parser.parse_args()
    os.environ["PEDSDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="pedsdesk-sweepq-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pedsdesk.settings")
    os.environ.setdefault("PEDSDESK_EMAIL_CHANNEL", "console")
    os.environ.setdefault("PEDSDESK_SMS_CHANNEL", "console")
    clock = {"now": NOW - dt.timedelta(days=1)}
    with mock.patch("django.utils.timezone.now", lambda: clock["now"]):
        run(args, clock)


def run(args, clock: dict) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from pedsdesk.demo.generator import demo_today, seed_demo
    from pedsdesk.messaging.models import Message
    from pedsdesk.operations.runner import run_sweeps
    from pedsdesk.people.models import Patient
    from pedsdesk.practices.memo import _MEMOS, forget_all
    from pedsdesk.scheduling.models import Appointment, SeriesSkip
    from pedsdesk.workqueue.models import Task

    database = Path(connection.settings_dict["NAME"])
    if args.seeded and Path(args.seeded).exists():
        connection.close()
        shutil.copyfile(args.seeded, database)
        call_command("migrate", verbosity=0)  # migrations added since it was seeded
    else:
        call_command("migrate", verbosity=0)
        seed_demo(size=args.size, seed=7, today=demo_today(), simulate_week=False)
        if args.seeded:
            connection.close()
            shutil.copyfile(database, args.seeded)
    children = Patient.objects.count()
    clock["now"] = NOW
    forget_all()
    for memo in _MEMOS:  # a memo's minute must not run out on a slow run: the counts would vary
        memo.seconds = float("inf")
    print(f"{args.size} demo: {children} children; sweeps at {NOW:%Y-%m-%d %H:%M} UTC")
    # The second minute tick has nothing left to do: the fixed cost every minute pays.
    ticks = (("daily", "daily", NOW), ("hourly", "hourly", NOW), ("minute", "minute", NOW),
             ("minute again", "minute", NOW + dt.timedelta(minutes=1)))
    for name, schedule, at in ticks:
        clock["now"] = at
        profile = cProfile.Profile() if args.profile == name else None
        queries: list[str] = []

        def count(execute, sql, *rest, queries=queries):
            queries.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            if profile:
                profile.enable()
            run_sweeps(schedule)
            if profile:
                profile.disable()
            seconds = time.perf_counter() - started
        left = (f"tasks {Task.objects.count()}, visits {Appointment.objects.count()}, "
                f"skips {SeriesSkip.objects.count()}, messages {Message.objects.count()}")
        print(f"{name}: {len(queries)} queries, {len(queries) / children:.2f} queries/child, "
              f"{1000 * seconds / children:.2f} ms/child; after it: {left}")
        if args.sql:
            shapes = Counter(re.sub(r"'[^']*'|\b\d+\b", "?", sql)[:160] for sql in queries)
            for sql, count in shapes.most_common(args.sql):
                print(f"  {count:6d}  {sql}")
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()

"""Time projecting every authorization of the large demo practice on SQLite.

    python benchmarks/authorization_projection.py [--size large] [--runs 5]

Seeds the demo practice into a fresh SQLite database in a temporary data directory,
then projects every authorization (utilization from appointments and future series
occurrences, exhaustion dates, flags) several times and prints the timings; then the
same for the authorizations board's data (every authorization's figures, flags,
therapist and renewal: what the board, the report and the API list read).
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["PEDSDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="pedsdesk-bench-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pedsdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from pedsdesk.authorizations.queries import board, project_authorizations
    from pedsdesk.demo.generator import seed_demo
    from pedsdesk.scheduling.models import Appointment, Series

    call_command("migrate", verbosity=0)
    summary = seed_demo(size=args.size, seed=7)
    practice = summary.practice
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        projections = project_authorizations(practice)
        timings.append(time.perf_counter() - start)
    board_timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        rows = board(practice, today=summary.today, show="all")
        board_timings.append(time.perf_counter() - start)
    flagged = sum(1 for p in projections.values() if p.flags)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {__import__('sqlite3').sqlite_version}, Django {django.get_version()}")
    print(f"practice: {summary.counts['patients']} children, {Appointment.objects.count()} appointments, "
          f"{Series.objects.count()} series, {len(projections)} authorizations ({flagged} flagged)")
    print(f"projection of every authorization: median {statistics.median(timings):.2f} s, "
          f"max {max(timings):.2f} s over {args.runs} runs")
    print(f"board data for {len(rows)} authorizations (figures, flags, therapists, renewals): median "
          f"{statistics.median(board_timings):.2f} s, max {max(board_timings):.2f} s")
    sys.exit(0 if max(timings) < 2.0 else 1)


if __name__ == "__main__":
    main()

import datetime as dt
import os
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor

from pedsdesk.demo.generator import DEMO_PASSWORD, DEMO_PRACTICE_NAME, SIZES, DemoLogin, seed_demo
from pedsdesk.demo.schedule import GROUP_HISTORY_WEEKS, HISTORY_WEEKS
from pedsdesk.demo.server import follow_port, run_server
from pedsdesk.people.models import Patient
from pedsdesk.practices.models import Practice, Role, StaffMember


def analyze() -> None:
    """Rows written in bulk leave PostgreSQL's planner statistics empty until autovacuum
    gets to them; meanwhile the first sweeps would scan whole tables (a group's series
    booking took 2.6 times as long a practice)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class Command(BaseCommand):
    help = (
        "Seed the demo practice with synthetic children, families, payers and schools, print the demo logins, "
        "then serve (as `pedsdesk serve`) unless --no-serve."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=list(SIZES), default="medium",
                            help="small ≈ 40 children, medium ≈ 300, large ≈ 2,000 (default medium).")
        parser.add_argument("--seed", type=int, default=7, help="Random seed; the same seed gives the same data.")
        parser.add_argument("--if-empty", action="store_true", help="Seed only when there is no practice yet.")
        parser.add_argument("--no-serve", action="store_true", help="Seed and exit instead of serving.")
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on (default 8000).")
        parser.add_argument("--practices", type=int, default=1,
                            help="A therapy group: this many demo practices, each with its own logins "
                                 "(c1-frontdesk, c2-frontdesk, …) and its own seed.")
        parser.add_argument("--no-simulate", action="store_true",
                            help="Skip the simulated week of cancellations (a group always skips it).")
        parser.add_argument("--history-weeks", type=int, default=None,
                            help=f"Weeks of past visits (default {HISTORY_WEEKS}; a group "
                                 f"{GROUP_HISTORY_WEEKS}, which seeds it several times faster).")
        parser.add_argument("--jobs", type=int, default=None,
                            help="A group on PostgreSQL: practices seeded by this many processes at once "
                                 "(default: one per core). SQLite has one writer, so one.")

    def handle(self, *args, size: str, seed: int, if_empty: bool, no_serve: bool, port: int, practices: int = 1,
               no_simulate: bool = False, history_weeks: int | None = None, jobs: int | None = None, **options):
        if not 1 <= practices <= 500:
            raise CommandError("--practices takes a number from 1 to 500.")
        if history_weeks is not None and not 1 <= history_weeks <= HISTORY_WEEKS:
            raise CommandError(f"--history-weeks takes a number from 1 to {HISTORY_WEEKS}.")
        # An empty data directory is the usual start (scripts run `demo --no-serve` first).
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stdout.write("Bringing the database up to date (migrate)…")
            call_command("migrate", interactive=False, verbosity=0)
        follow_port(port)  # the demo's texts and emails link to the port it serves
        real = Practice.objects.filter(is_demo=False).order_by("pk").first()
        demo = Practice.objects.filter(is_demo=True).order_by("pk").first()
        if if_empty and (real or demo):
            self.stdout.write("A practice already exists; not seeding (--if-empty).")
        elif real:
            raise CommandError(
                f"This database holds a real practice ({real.name}); the demo never seeds next to real data. "
                "Point PEDSDESK_DATA_DIR (or DATABASE_URL) at an empty database for the demo."
            )
        elif demo:
            raise CommandError(
                "The demo practice is already seeded. Use --if-empty to keep it, or a fresh PEDSDESK_DATA_DIR "
                "to seed again."
            )
        elif practices > 1:
            demo = self.seed_group(size, seed, practices, history_weeks or GROUP_HISTORY_WEEKS, jobs)
        else:
            started = time.monotonic()
            summary = seed_demo(size=size, seed=seed, simulate_week=not no_simulate,
                                history_weeks=history_weeks or HISTORY_WEEKS)
            analyze()
            self.report_seeded(summary, time.monotonic() - started)
            demo = summary.practice
            self.report_tasks(summary.practice)
        if demo is not None:
            self.print_logins(demo, port)
        if not no_serve:
            run_server(port=port, announce=self.stdout.write)

    def report_seeded(self, summary, seconds: float) -> None:
        counts = summary.counts
        self.stdout.write(self.style.SUCCESS(
            f"Seeded demo practice {summary.practice.name} ({summary.size}, seed {summary.seed}, today "
            f"{summary.today}) in {seconds:.1f} s: {counts['patients']} children, "
            f"{counts['guardians']} guardians, {counts['therapists']} therapists, {counts['plans_of_care']} "
            f"plans of care, {counts['coverages']} coverages, {counts['payers']} payers, "
            f"{counts['schools']} schools."
        ))

    def seed_group(self, size: str, seed: int, practices: int, history_weeks: int, jobs: int | None,
                   today: dt.date | None = None) -> Practice:
        """N practices, each with its own seed and logins (c1-frontdesk, c2-frontdesk, …), no
        simulated week. On PostgreSQL several processes seed at once, each practice in its
        own transaction; a group's first sweeps open its tasks, spread over the workers."""
        started = time.monotonic()
        # Forked processes need their own connections: not on SQLite (one writer), and not
        # when called inside a transaction (a test's, a script's), which they could not see.
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            jobs = 1
        jobs = max(1, min(jobs or os.cpu_count() or 1, practices))
        indexes = list(range(practices))
        if jobs == 1:
            self.seed_some(size, seed, indexes, history_weeks, today)
        else:
            connections.close_all()  # each process opens its own
            children = []
            for job in range(jobs):
                pid = os.fork()
                if pid == 0:
                    code = 0
                    try:
                        self.seed_some(size, seed, indexes[job::jobs], history_weeks, today)
                    except BaseException as exc:
                        self.stderr.write(f"Seeding failed: {exc!r}")
                        code = 1
                    finally:
                        self.stdout.flush()
                        os._exit(code)
                children.append(pid)
            failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
            if failed:
                raise CommandError(f"{len(failed)} of {jobs} seeding processes failed; see above.")
        analyze()
        seconds = time.monotonic() - started
        total = Patient.objects.filter(practice__is_demo=True).count()
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {practices} demo practices ({total} children) in {seconds:.0f} s: "
            f"{seconds / practices:.1f} s per practice with {jobs} process{'es' if jobs > 1 else ''}."))
        return Practice.objects.filter(is_demo=True).order_by("pk").first()

    def seed_some(self, size: str, seed: int, indexes: list[int], history_weeks: int,
                  today: dt.date | None = None) -> None:
        for index in indexes:
            started = time.monotonic()
            summary = seed_demo(size=size, seed=seed + index, today=today, simulate_week=False,
                                history_weeks=history_weeks, practice_name=f"{DEMO_PRACTICE_NAME} {index + 1}",
                                login_prefix=f"c{index + 1}-")
            self.report_seeded(summary, time.monotonic() - started)

    def report_tasks(self, practice: Practice) -> None:
        # The rules and escalation run once now, as the hourly sweeps would, so every
        # queue, the Today page and tomorrow's digest have real tasks from the start.
        from pedsdesk.workqueue.queries import team_overview
        from pedsdesk.workqueue.rules import bring_up_to_date

        result = bring_up_to_date(practice=practice)
        overview = [row for row in team_overview(practice) if row["open"]]
        queues = ", ".join(f"{row['label'].lower()} {row['open']}" for row in overview)
        self.stdout.write(
            f"Work queue: the task rules ran once: {sum(row['open'] for row in overview)} open tasks ({queues}), "
            f"{result['escalated']} escalated to the office manager. See Today and My tasks."
        )

    def print_logins(self, practice: Practice, port: int) -> None:
        self.stdout.write(f"\nOpen http://127.0.0.1:{port}/ and sign in with password {DEMO_PASSWORD!r} as:")
        for login in demo_logins(practice):
            self.stdout.write(f"  {login.username:<10} {login.role:<18} {login.name}")
        self.stdout.write("")


def demo_logins(practice: Practice) -> list[DemoLogin]:
    """One login per role (and one therapist per discipline), read back from the database."""
    logins, seen = [], set()
    members = StaffMember.objects.filter(practice=practice).select_related("therapist_profile").order_by("pk")
    for member in members:
        profile = getattr(member, "therapist_profile", None) if member.role == Role.THERAPIST else None
        key = (member.role, profile.discipline if profile else "")
        if key in seen:
            continue
        seen.add(key)
        role = f"Therapist ({profile.discipline})" if profile else member.get_role_display()
        logins.append(DemoLogin(member.username, role, member.get_full_name()))
    return logins

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from pedsdesk.demo.generator import DEMO_PASSWORD, DEMO_PRACTICE_NAME, SIZES, DemoLogin, seed_demo
from pedsdesk.demo.server import follow_port, run_server
from pedsdesk.practices.models import Practice, Role, StaffMember


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
                            help="Skip the simulated week of cancellations (faster for large groups).")

    def handle(self, *args, size: str, seed: int, if_empty: bool, no_serve: bool, port: int, practices: int = 1,
               no_simulate: bool = False, **options):
        if not 1 <= practices <= 500:
            raise CommandError("--practices takes a number from 1 to 500.")
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
        else:
            for index in range(practices):
                started = time.monotonic()
                group = practices > 1
                summary = seed_demo(size=size, seed=seed + index, simulate_week=not no_simulate,
                                    practice_name=f"{DEMO_PRACTICE_NAME} {index + 1}" if group else DEMO_PRACTICE_NAME,
                                    login_prefix=f"c{index + 1}-" if group else "")
                counts = summary.counts
                self.stdout.write(self.style.SUCCESS(
                    f"Seeded demo practice {summary.practice.name} ({size}, seed {seed + index}, today "
                    f"{summary.today}) in {time.monotonic() - started:.1f} s: {counts['patients']} children, "
                    f"{counts['guardians']} guardians, {counts['therapists']} therapists, {counts['plans_of_care']} "
                    f"plans of care, {counts['coverages']} coverages, {counts['payers']} payers, "
                    f"{counts['schools']} schools."
                ))
                demo = demo or summary.practice
                if not group:
                    # A group's first sweeps open its tasks, spread over the workers.
                    self.report_tasks(summary.practice)
        if demo is not None:
            self.print_logins(demo, port)
        if not no_serve:
            run_server(port=port, announce=self.stdout.write)

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

"""Run every registered sweep once, now: for cron users, tests and the impatient.

    pedsdesk sweep                     # every sweep, every practice
    pedsdesk sweep --schedule minute   # only the every-minute ones
    pedsdesk sweep --status            # the last runs, and anything late or failing (exit 1 if so)
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from pedsdesk.operations.queries import sweep_status
from pedsdesk.operations.runner import failures, run_sweeps
from pedsdesk.practices.models import Practice
from pedsdesk.sweeps import SCHEDULES, registered


class Command(BaseCommand):
    help = "Run every registered periodic sweep (due messages, task rules, digests …) once, now."

    def add_arguments(self, parser):
        parser.add_argument("--schedule", choices=SCHEDULES, help="Only the sweeps of this schedule.")
        parser.add_argument("--status", action="store_true", help="Show the last runs instead of running.")
        parser.add_argument("--practice", type=int, help="With --status: only this practice (and global sweeps).")

    def handle(self, *args, schedule: str | None = None, status: bool = False, practice: int | None = None,
               **options):
        autodiscover_modules("tasks")  # every app's tasks.py registers its sweeps
        if status:
            return self.show_status(practice)
        if not registered(schedule):
            raise CommandError("No sweeps are registered.")
        results = run_sweeps(schedule)
        for name, result in results.items():
            self.stdout.write(f"{name}: {result}")
        failed = failures(results)
        if failed:
            raise CommandError("Failed: " + ", ".join(failed))

    def show_status(self, practice_id: int | None) -> None:
        practice = None
        if practice_id is not None:
            practice = Practice.objects.filter(pk=practice_id).first()
            if practice is None:
                raise CommandError(f"No practice with id {practice_id}.")
        rows = sweep_status(practice=practice)
        now = timezone.now()
        self.stdout.write(f"{'sweep':32} {'practice':>8} {'state':10} {'last start (UTC)':17} {'seconds':>8}  note")
        for row in rows:
            last = row.last
            started = f"{last.started_at:%Y-%m-%d %H:%M}" if last else "-"
            seconds = f"{last.seconds:.2f}" if last and last.seconds is not None else "-"
            note = last.error.splitlines()[0][:60] if last and last.error else ""
            if row.late and not note:
                ago = now - row.last_ok_at if row.last_ok_at else None
                note = f"last good run {int(ago.total_seconds() // 60)} min ago" if ago else "no good run yet"
            owner = str(row.practice.pk) if row.practice else "all"
            self.stdout.write(f"{row.sweep:32} {owner:>8} {row.state:10} {started:17} {seconds:>8}  {note}")
        bad = [row for row in rows if row.failing or row.late]
        if bad:
            raise CommandError(f"{len(bad)} sweep(s) late or failing.")
        self.stdout.write("every sweep ran on time")

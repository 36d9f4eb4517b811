"""Run every registered sweep once, now: for cron users, tests and the impatient.

    pedsdesk sweep                     # every sweep
    pedsdesk sweep --schedule minute   # only the every-minute ones
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import autodiscover_modules

from pedsdesk.sweeps import SCHEDULES, registered


class Command(BaseCommand):
    help = "Run every registered periodic sweep (due messages, task rules, digests …) once, now."

    def add_arguments(self, parser):
        parser.add_argument("--schedule", choices=SCHEDULES, help="Only the sweeps of this schedule.")

    def handle(self, *args, schedule: str | None = None, **options):
        autodiscover_modules("tasks")  # every app's tasks.py registers its sweeps
        from pedsdesk.messaging.tasks import run_sweeps

        sweeps = registered(schedule)
        if not sweeps:
            raise CommandError("No sweeps are registered.")
        results = run_sweeps(schedule)
        failed = []
        for name, result in results.items():
            self.stdout.write(f"{name}: {result}")
            if isinstance(result, str) and result.startswith("failed:"):
                failed.append(name)
        if failed:
            raise CommandError("Failed: " + ", ".join(failed))

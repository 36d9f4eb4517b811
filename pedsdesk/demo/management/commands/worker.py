from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run only the huey queue consumer (thread workers), e.g. on a machine that serves no web traffic."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2, help="Worker threads (default 2).")

    def handle(self, *args, workers: int, **options):
        # huey's own command handles signals, periodic tasks and worker health checks.
        call_command("run_huey", workers=workers, worker_type="thread")

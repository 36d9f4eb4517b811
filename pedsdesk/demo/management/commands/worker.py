from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run only the huey queue consumer (thread workers), e.g. on a machine that serves no web traffic."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2, help="Worker threads (default 2).")
        parser.add_argument("--no-periodic", action="store_true",
                            help="Run tasks only; leave the periodic ticks to the one scheduler worker.")

    def handle(self, *args, workers: int, no_periodic: bool = False, **options):
        # huey's own command handles signals, periodic tasks and worker health checks.
        call_command("run_huey", workers=workers, worker_type="thread", periodic=not no_periodic)

from django.core.management.base import BaseCommand

from pedsdesk.demo.server import run_server


class Command(BaseCommand):
    help = (
        "Run pedsdesk in the foreground: the waitress web server and a huey consumer (thread workers) "
        "in one process. Ctrl-C or SIGTERM stops both."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
        parser.add_argument("--threads", type=int, default=8, help="Web server threads (default 8).")
        parser.add_argument("--workers", type=int, default=2, help="Queue worker threads (default 2).")

    def handle(self, *args, host: str, port: int, threads: int, workers: int, **options):
        run_server(host=host, port=port, threads=threads, workers=workers, announce=self.stdout.write)

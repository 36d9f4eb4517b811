from django.core.management.base import BaseCommand, CommandError

from pedsdesk.audit.queries import verify_chain


class Command(BaseCommand):
    help = "Audit log tools. `audit verify` checks the hash chain from the first entry to the head."

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["verify"])

    def handle(self, *args, operation: str, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(f"audit chain broken after {report.checked} good entries: {report.problem}")
        self.stdout.write(f"audit chain intact: {report.checked} entries")

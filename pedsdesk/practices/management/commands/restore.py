from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pedsdesk.backup import BackupError, restore


class Command(BaseCommand):
    help = ("Restore a `pedsdesk backup` DIR into this installation's data directory (fresh, or --replace with every "
            "process stopped), then check it: file hashes, the manifest's signature (needs the same "
            "PEDSDESK_AUDIT_KEY), row counts, audit heads and `audit verify` of every chain.")

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--replace", action="store_true", help="overwrite an existing database")

    def handle(self, *args, directory: Path, replace: bool, **options):
        try:
            report = restore(directory, replace=replace)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored from {directory} and checked: {report.tables} tables, {report.rows} rows match "
                          f"the manifest, {report.audit_entries} audit entries verify, {report.files} private files")

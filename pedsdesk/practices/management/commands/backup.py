from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pedsdesk.backup import BackupError, backup


class Command(BaseCommand):
    help = ("Back up a running SQLite installation into DIR (new or empty): the database and huey's queue through "
            "SQLite's online backup API, the private files, and a signed manifest of row counts and audit chain "
            "heads. Keep PEDSDESK_SECRET_KEY and PEDSDESK_AUDIT_KEY beside it, not in it.")

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory: Path, **options):
        try:
            manifest = backup(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        heads = ", ".join(f"{h['chain']}#{h['seq']}" for h in manifest["audit_heads"]) or "none"
        self.stdout.write(f"backup written to {directory}: {len(manifest['tables'])} tables, {manifest['rows']} rows, "
                          f"{len(manifest['files'])} files; audit heads {heads}")

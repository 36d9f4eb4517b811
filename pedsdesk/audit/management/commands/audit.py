from django.core.management.base import BaseCommand, CommandError

from pedsdesk.audit.checkpoints import CheckpointError, latest_checkpoint, load_checkpoint, write_checkpoint
from pedsdesk.audit.queries import chain_label, verify_chains


class Command(BaseCommand):
    help = (
        "Audit log tools. `audit verify` checks every practice's keyed hash chain from its first entry to its "
        "head (or one chain with --practice). With --checkpoint FILE (a file the hourly sweep wrote to "
        "PEDSDESK_AUDIT_CHECKPOINT_DIR, or the JSON of the owner's daily checkpoint email) it also proves that "
        "no chain is shorter than the checkpoint saw and that the entry it saw still has its hash: this catches "
        "a truncated tail and a chain rehashed by someone holding the database. `--checkpoint latest` takes the "
        "newest file in that directory. `audit checkpoint` writes a checkpoint now."
    )

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["verify", "checkpoint"])
        parser.add_argument("--practice", type=int, help="check only this practice's chain (0: events without one)")
        parser.add_argument("--checkpoint", metavar="FILE", help="a signed checkpoint file, or 'latest'")

    def handle(self, *args, operation: str, practice: int | None = None, checkpoint: str | None = None, **options):
        if operation == "checkpoint":
            self.stdout.write(f"audit checkpoint written: {write_checkpoint()}")
            return
        document = None
        if checkpoint:
            path = latest_checkpoint() if checkpoint == "latest" else checkpoint
            if path is None:
                raise CommandError("no checkpoint in PEDSDESK_AUDIT_CHECKPOINT_DIR yet; run `pedsdesk audit "
                                   "checkpoint` or wait for the hourly sweep")
            try:
                document = load_checkpoint(path)
            except CheckpointError as exc:
                raise CommandError(f"checkpoint refused: {exc}") from None
        reports = verify_chains(practice_id=practice, checkpoint=document)
        for report in reports:
            if not report.ok:
                raise CommandError(f"audit chain broken: {chain_label(report.chain)} after {report.checked} good "
                                   f"entries: {report.problem}")
        total = sum(r.checked for r in reports)
        against = f", against the checkpoint of {document['written_at']}" if document else ""
        self.stdout.write(f"audit chain intact: {total} entries in {len(reports)} chain(s){against}")

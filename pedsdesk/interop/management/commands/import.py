"""``pedsdesk import PRESET FILE [--dry-run] [--format json]``.

Exit 0 when the import was applied, or a dry run found nothing to reject; exit 2 when
rows were rejected (they are printed, and nothing was changed).

``pedsdesk import PRESET FOLDER --daily on|off`` registers a folder for the daily sweep.
"""

import json
import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from pedsdesk.audit.actions import record_event
from pedsdesk.interop.actions import run_import
from pedsdesk.interop.models import ImportFolder
from pedsdesk.interop.queries import command_practice, find_mapping
from pedsdesk.practices.models import Practice, StaffMember


class ProgressBar:
    """A one-line bar on the terminal (only when stderr is one)."""

    def __init__(self, total: int, stream=None):
        self.total, self.stream, self.started = max(total, 1), stream or sys.stderr, time.monotonic()
        self.enabled = self.stream.isatty()

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        share = min(done / self.total, 1)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        self.stream.write(f"\r[{'#' * int(share * 30):<30}] {done:,}/{self.total:,} rows  {rate:,.0f} rows/s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def estimate_rows(path: str) -> int:
    if path.lower().endswith((".xlsx", ".xlsm")):
        return 0
    lines = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)


class Command(BaseCommand):
    help = "Import an EMR export (CSV or XLSX) or a FHIR Bundle, with a dry run first."

    def add_arguments(self, parser):
        parser.add_argument("preset", help="A preset (e.g. webpt-scheduled-visits), a saved mapping's name, "
                                           "a mapping .toml file, or fhir.")
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; change nothing.")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--practice", type=int, help="Practice id (needed when there are several).")
        parser.add_argument("--as", dest="username", help="Staff member the audit log names.")
        parser.add_argument("--daily", choices=["on", "off"],
                            help="FILE is a folder: import what lands in it every day (on), or stop (off).")
        parser.add_argument("--map", action="append", default=[], metavar="KIND:NAME=ANSWER",
                            help='Answer an unknown name: therapist:"Jane Doe"=12, therapist:"Jane Doe"=create:OT, '
                                 'payer:"BCBS TX"=3 or payer:"BCBS TX"=create.')

    def handle(self, *args, **options):
        practice = command_practice(options["practice"])
        actor: StaffMember | str = "pedsdesk import (command line)"
        if options["username"]:
            actor = StaffMember.objects.filter(practice=practice, username=options["username"]).first()
            if actor is None:
                raise CommandError(f"No staff member {options['username']} in {practice}.")
        resolutions: dict = {}
        for answer in options["map"]:
            kind, _, rest = answer.partition(":")
            name, _, value = rest.rpartition("=")
            if kind not in ("therapist", "payer") or not name or not value:
                raise CommandError(f'--map {answer}: write it as therapist:NAME=ID, or payer:NAME=create.')
            resolutions.setdefault(kind, {})[name.strip('"')] = value
        if options["daily"]:
            self._folder(practice, options["preset"], options["file"], options["daily"] == "on", actor)
            return
        if options["preset"] == "fhir":
            from pedsdesk.interop.fhir.importing import import_bundle_file

            run, report = import_bundle_file(practice=practice, path=options["file"], actor=actor,
                                             dry_run=options["dry_run"], resolutions=resolutions)
        else:
            try:
                mapping = find_mapping(practice, options["preset"])
            except LookupError as exc:
                raise CommandError(str(exc)) from None
            bar = ProgressBar(estimate_rows(options["file"]))
            try:
                run, report = run_import(practice=practice, mapping=mapping, path=options["file"], actor=actor,
                                         dry_run=options["dry_run"], resolutions=resolutions, progress=bar)
            finally:
                bar.close()
        if options["format"] == "json":
            self.stdout.write(json.dumps({"import": run.pk, **report.as_dict()}, indent=2, default=str))
        else:
            self._print(report)
        if report.rejected:
            sys.exit(2)

    def _folder(self, practice: Practice, preset: str, path: str, on: bool, actor) -> None:
        """Register (or turn off) a folder for the daily import sweep."""
        folder = os.path.abspath(path)
        if on:
            if not os.path.isdir(folder):
                raise CommandError(f"{folder} is not a folder.")
            if preset != "fhir":
                try:
                    find_mapping(practice, preset)
                except LookupError as exc:
                    raise CommandError(str(exc)) from None
            entry, _ = ImportFolder.objects.update_or_create(practice=practice, path=folder,
                                                             defaults={"mapping_name": preset, "active": True})
        else:
            entry = ImportFolder.objects.filter(practice=practice, path=folder).first()
            if entry is None:
                raise CommandError(f"{folder} is not an import folder of {practice}.")
            ImportFolder.objects.filter(pk=entry.pk).update(active=False)
        record_event(actor=actor, action="update", obj=entry, practice_id=practice.pk,
                     detail={"path": folder, "mapping": preset, "active": on})
        self.stdout.write(f"{folder}: {'imported every day with ' + preset if on else 'no longer imported'}.")

    def _print(self, report) -> None:
        verb = "Applied" if report.applied else ("Dry run" if report.dry_run else "Nothing applied")
        counts = ", ".join(f"{n} {k}" for k, n in report.counts.items())
        self.stdout.write(f"{verb}: {report.mapping}, {report.rows} rows: {counts}.")
        for note in report.notes:
            self.stdout.write(f"  note: {note}")
        for kind, names in report.unknown.items():
            for name, rows in names.items():
                self.stdout.write(f'  unknown {kind} "{name}" (rows {", ".join(map(str, rows[:10]))}): '
                                  f'answer with --map {kind}:"{name}"=ID or =create'
                                  f'{":OT|PT|SLP" if kind == "therapist" else ""}')
        for problem in sorted(report.problems, key=lambda p: (p.row, p.column)):
            where = f"row {problem.row}, {problem.column}" if problem.row else problem.column
            self.stdout.write(f"  rejected {where}: {problem.message}")
        if report.rejected and not report.dry_run:
            self.stdout.write("Nothing was changed. Fix the rows above and import the file again.")

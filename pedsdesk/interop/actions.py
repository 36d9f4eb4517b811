"""Running an import: the file, the mapping, the engine, the run's record and its audit event."""

import hashlib
import os
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.interop.engine import Importer, Report
from pedsdesk.interop.mapping import Mapping
from pedsdesk.interop.models import ImportRun
from pedsdesk.interop.reading import FileRefused, open_table
from pedsdesk.practices.models import Practice, StaffMember


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def run_import(*, practice: Practice, mapping: Mapping, path: str, actor: StaffMember | str, dry_run: bool,
               origin: str = ImportRun.Origin.COMMAND, resolutions: dict | None = None,
               file_name: str = "", progress: Callable[[int], None] | None = None) -> tuple[ImportRun, Report]:
    """Dry-run or apply ``path`` with ``mapping``; nothing changes unless every row is accepted."""
    file_name = file_name or os.path.basename(path)
    run = ImportRun.objects.create(
        practice=practice, started_by=actor if isinstance(actor, StaffMember) else None, origin=origin,
        mapping_name=mapping.name, source=mapping.source, record_type=mapping.record_type,
        file_name=file_name[:255], file_sha256=file_sha256(path), dry_run=dry_run)
    importer = Importer(practice=practice, mapping=mapping, actor=actor, resolutions=resolutions,
                        progress=progress)
    report = Report(mapping=mapping.name, record_type=mapping.record_type, dry_run=dry_run)
    try:
        table = open_table(path, encoding=mapping.encoding, sheet=mapping.sheet, name=file_name)
    except FileRefused as exc:
        report.reject(0, "file", str(exc))
        report.counts["rejected"] = 1
    else:
        report = importer.run(table, dry_run=dry_run)
    return finish_run(run, report, actor), report


def finish_run(run: ImportRun, report: Report, actor: StaffMember | str) -> ImportRun:
    if report.applied:
        status = ImportRun.Status.APPLIED
    else:
        status = ImportRun.Status.REJECTED if report.rejected else ImportRun.Status.CLEAN
    summary = report.as_dict()
    with transaction.atomic():
        ImportRun.objects.filter(pk=run.pk).update(
            status=status, counts=report.counts, rejections=summary["rejections"][:1000],
            unknown=summary["unknown"], notes=report.notes[:100], rows_total=report.rows,
            finished_at=timezone.now())
        run.refresh_from_db()
        record_event(actor=actor, action="import", obj=run, practice_id=run.practice_id, detail={
            "file": run.file_name, "sha256": run.file_sha256, "mapping": run.mapping_name, "dry_run": run.dry_run,
            "status": status, "counts": report.counts})
    return run

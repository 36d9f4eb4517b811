"""Running an import: the file, the mapping, the engine, the run's record and its audit event."""

import hashlib
import os
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
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
               file_name: str = "", progress: Callable[[int], None] | None = None,
               run: ImportRun | None = None) -> tuple[ImportRun, Report]:
    """Dry-run or apply ``path`` with ``mapping``; nothing changes unless every row is accepted.
    ``run``: the record an upload made when it was queued (else one is made now)."""
    file_name = file_name or os.path.basename(path)
    if run is None:
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
            changes=summary["changes"],
            finished_at=timezone.now())
        run.refresh_from_db()
        record_event(actor=actor, action="import", obj=run, practice_id=run.practice_id, detail={
            "file": run.file_name, "sha256": run.file_sha256, "mapping": run.mapping_name, "dry_run": run.dry_run,
            "status": status, "counts": report.counts})
    return run


# Uploads from the Imports page: stored outside anything served, run in the worker.


def progress_key(run_id: int) -> str:
    return f"interop:progress:{run_id}"


def upload_dir(practice: Practice) -> str:
    return os.path.join(settings.DATA_DIR, "imports", str(practice.pk))


def start_upload(*, practice: Practice, actor: StaffMember, mapping_key: str, dry_run: bool,
                 upload: UploadedFile | None = None, previous: ImportRun | None = None,
                 resolutions: dict | None = None) -> ImportRun:
    """Keep the file (a new upload, or the one ``previous`` ran on) and queue its dry run or apply."""
    from pedsdesk.interop.queries import find_mapping
    from pedsdesk.interop.tasks import run_import_later

    mapping = None if mapping_key == "fhir" else find_mapping(practice, mapping_key)
    if upload is not None:
        folder = os.path.join(upload_dir(practice), uuid.uuid4().hex)
        os.makedirs(folder, exist_ok=True)
        name = os.path.basename(upload.name or "upload.csv").replace("\x00", "")[:200] or "upload.csv"
        path = os.path.join(folder, name)
        with open(path, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
    else:
        path, name = previous.file_path, previous.file_name
    with transaction.atomic():
        run = ImportRun.objects.create(
            practice=practice, started_by=actor, origin=ImportRun.Origin.PAGE, mapping_key=mapping_key,
            mapping_name=mapping.name if mapping else "FHIR R4 Bundle", source=mapping.source if mapping else "fhir",
            record_type=mapping.record_type if mapping else "fhir", file_name=name, file_path=path,
            file_sha256=file_sha256(path), dry_run=dry_run, resolutions=resolutions or {})
        record_event(actor=actor, action="import_queued", obj=run, practice_id=practice.pk,
                     detail={"file": name, "mapping": mapping_key, "dry_run": dry_run})
        transaction.on_commit(lambda: run_import_later(run.pk))
    return run


def apply_upload(*, run_id: int) -> ImportRun:
    """The worker's half of an upload: run it, with a progress line the page reads."""
    from pedsdesk.interop.fhir.importing import import_bundle_file
    from pedsdesk.interop.queries import find_mapping

    run = ImportRun.objects.select_related("practice", "started_by").get(pk=run_id)
    if run.status != ImportRun.Status.RUNNING:
        return run  # a retried task: it ran already
    actor = run.started_by or "pedsdesk worker"

    def progress(rows: int) -> None:
        cache.set(progress_key(run.pk), rows, 3600)

    if run.mapping_key == "fhir":
        run, _ = import_bundle_file(practice=run.practice, path=run.file_path, actor=actor, dry_run=run.dry_run,
                                    resolutions=run.resolutions, run=run)
        return run
    mapping = find_mapping(run.practice, run.mapping_key)
    run, _ = run_import(practice=run.practice, mapping=mapping, path=run.file_path, actor=actor,
                        dry_run=run.dry_run, resolutions=run.resolutions, progress=progress, run=run)
    cache.delete(progress_key(run.pk))
    return run

"""The daily import of configured folders, and imports the Imports page runs in the worker."""

import json
import os
import shutil
from pathlib import Path

from django.utils import timezone
from huey.contrib.djhuey import db_task

from pedsdesk.interop.models import ImportFolder, ImportRun
from pedsdesk.sweeps import sweep

FOLDER_ACTOR = "pedsdesk import folder"
IMPORTABLE = (".csv", ".txt", ".tsv", ".xlsx", ".json")


def _claim(folder: Path, name: str) -> Path | None:
    """Move the file into processing/ first: a rename is atomic, so of two sweeps on two
    machines only one gets it."""
    processing = folder / "processing"
    processing.mkdir(exist_ok=True)
    try:
        os.rename(folder / name, processing / name)
    except FileNotFoundError:
        return None
    return processing / name


def _report_text(run: ImportRun, report) -> str:
    lines = [f"pedsdesk import of {run.file_name} with {run.mapping_name}: nothing was changed.",
             f"{report.rows} rows: " + ", ".join(f"{n} {k}" for k, n in report.counts.items()), ""]
    lines += [f"row {p.row}, {p.column}: {p.message}" if p.row else f"{p.column}: {p.message}"
              for p in sorted(report.problems, key=lambda p: (p.row, p.column))]
    lines += ["", *[f"note: {n}" for n in report.notes]]
    return "\n".join(lines) + "\n"


def sweep_folder(import_folder: ImportFolder) -> list[ImportRun]:
    """Import every file waiting in one folder, oldest first."""
    from pedsdesk.interop.actions import run_import
    from pedsdesk.interop.fhir.importing import import_bundle_file
    from pedsdesk.interop.queries import find_mapping
    from pedsdesk.workqueue.actions import TaskSpec, open_task
    from pedsdesk.workqueue.models import Priority

    folder = Path(import_folder.path)
    practice = import_folder.practice
    if not folder.is_dir():
        open_task(practice=practice, kind="interop.import_folder_missing", spec=TaskSpec(
            dedupe_key=f"import-folder-missing-{import_folder.pk}", title="The import folder is missing",
            reason=f"{folder} does not exist or is not a folder; nothing was imported from it.",
            role="office_manager", priority=Priority.HIGH, due_in_days=0))
        return []
    names = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMPORTABLE),
                   key=lambda p: (p.stat().st_mtime, p.name))
    runs = []
    for waiting in names:
        path = _claim(folder, waiting.name)
        if path is None:
            continue
        if import_folder.mapping_name == "fhir":
            run, report = import_bundle_file(practice=practice, path=str(path), actor=FOLDER_ACTOR, dry_run=False,
                                             origin=ImportRun.Origin.FOLDER)
        else:
            mapping = find_mapping(practice, import_folder.mapping_name)
            run, report = run_import(practice=practice, mapping=mapping, path=str(path), actor=FOLDER_ACTOR,
                                     dry_run=False, origin=ImportRun.Origin.FOLDER)
        day = timezone.now().astimezone(practice.zone).date().isoformat()
        if report.applied:
            target = folder / "done" / day
            target.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target / path.name)
            spec = TaskSpec(dedupe_key=f"import-run-{run.pk}", title=f"Imported {run.file_name}",
                            reason=", ".join(f"{n} {k}" for k, n in report.counts.items() if n) or "No changes.",
                            role="office_manager", priority=Priority.LOW, due_in_days=1)
        else:
            target = folder / "failed"
            target.mkdir(exist_ok=True)
            shutil.move(path, target / path.name)
            (target / f"{path.name}.rejections.txt").write_text(_report_text(run, report), encoding="utf-8")
            (target / f"{path.name}.rejections.json").write_text(json.dumps(report.as_dict(), indent=2,
                                                                            default=str), encoding="utf-8")
            spec = TaskSpec(dedupe_key=f"import-run-{run.pk}", title=f"Import of {run.file_name} was rejected",
                            reason=f"{report.counts['rejected']} rows were rejected, so nothing was imported. "
                                   f"The file and its report are in {target}.",
                            role="office_manager", priority=Priority.HIGH, due_in_days=0)
        spec.links = [{"label": "Import", "url": run.get_absolute_url()}]
        open_task(practice=practice, kind="interop.import_result", spec=spec)
        runs.append(run)
    ImportFolder.objects.filter(pk=import_folder.pk).update(last_swept_at=timezone.now())
    return runs


@sweep("interop.import_folders", "daily", per_practice=True)
def import_folders(*, practice) -> dict[str, int]:
    runs = []
    for import_folder in ImportFolder.objects.filter(practice=practice, active=True).select_related("practice"):
        runs += sweep_folder(import_folder)
    return {"imports": len(runs), "applied": sum(r.status == ImportRun.Status.APPLIED for r in runs)}


@db_task()
def run_import_later(run_id: int) -> None:
    """Run an upload from the Imports page in the worker (the page shows its progress line)."""
    from pedsdesk.interop.actions import apply_upload

    apply_upload(run_id=run_id)

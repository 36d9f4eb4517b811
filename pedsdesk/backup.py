"""Backup and restore of an embedded (SQLite) installation, while it runs.

``backup`` copies the database and huey's queue with SQLite's online backup API (a
consistent snapshot even while web and worker processes write), copies the private
files the snapshot refers to, and writes a manifest last: row counts per table, each
audit chain's head, and a SHA-256 of every file, signed with the audit key. A directory
without a manifest is not a backup. ``restore`` checks the signature and the hashes,
copies everything back (again with the backup API), then checks the restored database
against the manifest and verifies every audit chain. PostgreSQL is backed up with its
own tools (the README's procedure).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

MANIFEST = "manifest.json"
FORMAT = "pedsdesk-backup/1"
DATABASE_FILE, QUEUE_FILE, PRIVATE = "pedsdesk.sqlite3", "huey.sqlite3", "private"


class BackupError(RuntimeError):
    pass


@dataclass
class RestoreReport:
    tables: int
    rows: int
    audit_entries: int
    files: int


def _database_path() -> Path:
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("sqlite3"):
        raise BackupError("pedsdesk backup copies SQLite installations; for PostgreSQL use pg_dump or base "
                          "backups as the README's 'Backup and restore' section describes")
    return Path(database["NAME"])


def _queue_path() -> Path | None:
    """huey's SQLite queue, or None when the queue lives in Redis (the database holds the truth)."""
    filename = getattr(getattr(settings.HUEY, "storage", None), "filename", None)
    return Path(filename) if filename else None


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent snapshot, safe against concurrent writers."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=60)
    dst = sqlite3.connect(target, timeout=60)
    try:
        with dst:
            src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        src.close()
        dst.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tables(path: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {name: con.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}  # noqa: S608
    finally:
        con.close()


def _query(path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _sign(body: dict) -> str:
    from pedsdesk.audit.actions import audit_key

    key = hmac.new(audit_key().encode(), b"pedsdesk backup manifest", hashlib.sha256).digest()
    payload = json.dumps({k: v for k, v in body.items() if k != "signature"}, sort_keys=True,
                         separators=(",", ":")).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def backup(directory: Path) -> dict:
    """Write a backup into ``directory`` (new or empty); returns the manifest."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty; back up into a new directory")
    source = _database_path()
    partial = directory.with_name(directory.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True, mode=0o700)
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    _copy_sqlite(source, partial / DATABASE_FILE)
    snapshot_seconds = time.monotonic() - clock
    files = {DATABASE_FILE: _sha256(partial / DATABASE_FILE)}
    queue = _queue_path()
    if queue is not None and queue.exists():
        _copy_sqlite(queue, partial / QUEUE_FILE)
        files[QUEUE_FILE] = _sha256(partial / QUEUE_FILE)
    private, missing = _copy_private(partial / DATABASE_FILE, partial / PRIVATE)
    files.update(private)
    heads = _query(partial / DATABASE_FILE, "SELECT chain, seq, hash FROM audit_auditchainhead ORDER BY chain")
    tables = _tables(partial / DATABASE_FILE)
    manifest = {
        "format": FORMAT,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "snapshot_seconds": round(snapshot_seconds, 3),
        "backup_seconds": round(time.monotonic() - clock, 3),
        "tables": tables,
        "rows": sum(tables.values()),
        "audit_heads": [{"chain": c, "seq": s, "hash": h} for c, s, h in heads],
        "queue": "sqlite" if QUEUE_FILE in files else "redis (not copied: sweeps re-create its work)",
        "files": files,
        "missing_private_files": missing,
    }
    manifest["signature"] = _sign(manifest)
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if directory.exists():
        directory.rmdir()
    partial.rename(directory)
    return manifest


def _copy_private(database: Path, target: Path) -> tuple[dict[str, str], list[str]]:
    """The private files the snapshot's rows refer to (a file stored after it is not needed)."""
    root = Path(settings.PEDSDESK_PRIVATE_DIR)
    names = [r[0] for r in _query(database, "SELECT storage_name FROM files_storedfile WHERE discarded_at IS NULL")]
    copied, missing = {}, []
    for name in names:
        source = root / name
        if not source.is_file():
            missing.append(name)
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(source, destination)
        copied[f"{PRIVATE}/{name}"] = _sha256(destination)
    return copied, missing


def read_manifest(directory: Path) -> dict:
    """The manifest, with its signature and every file's hash checked."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{directory} has no {MANIFEST}: it is not a finished backup") from None
    except json.JSONDecodeError as exc:
        raise BackupError(f"{directory / MANIFEST} is damaged: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{directory} is not a pedsdesk backup ({FORMAT})")
    if not hmac.compare_digest(str(manifest.get("signature", "")), _sign(manifest)):
        raise BackupError("the manifest's signature does not match: it was altered, or PEDSDESK_AUDIT_KEY is not "
                          "the key of the installation that made it (restore with that key)")
    for name, digest in manifest["files"].items():
        path = directory / name
        if not path.is_file():
            raise BackupError(f"{name} is missing from the backup")
        if _sha256(path) != digest:
            raise BackupError(f"{name} does not match its hash in the manifest: the backup is damaged")
    return manifest


def restore(directory: Path, *, replace: bool = False) -> RestoreReport:
    """Bring a backup back into this installation's data directory, then check it."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    target = _database_path()
    if target.exists() and _tables(target).get("django_migrations") and not replace:
        raise BackupError(f"{target} already holds a database; restore into a fresh data directory, or pass "
                          "--replace with every pedsdesk process stopped")
    connections.close_all()
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        leftover.unlink(missing_ok=True)
    _copy_sqlite(directory / DATABASE_FILE, target)
    queue = _queue_path()
    if QUEUE_FILE in manifest["files"] and queue is not None:
        _copy_sqlite(directory / QUEUE_FILE, queue)
    root = Path(settings.PEDSDESK_PRIVATE_DIR)
    private = [name for name in manifest["files"] if name.startswith(f"{PRIVATE}/")]
    for name in private:
        destination = root / name.removeprefix(f"{PRIVATE}/")
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(directory / name, destination)
    return check_restored(manifest, files=len(private))


def check_restored(manifest: dict, *, files: int) -> RestoreReport:
    from pedsdesk.audit.models import AuditChainHead
    from pedsdesk.audit.queries import chain_label, verify_chains

    tables = _tables(_database_path())
    wrong = {t: (n, tables.get(t)) for t, n in manifest["tables"].items() if tables.get(t) != n}
    if wrong:
        raise BackupError(f"restored row counts differ from the manifest (table: manifest, restored): {wrong}")
    heads = [{"chain": h.chain, "seq": h.seq, "hash": h.hash} for h in AuditChainHead.objects.order_by("chain")]
    if heads != manifest["audit_heads"]:
        raise BackupError("the restored audit heads differ from the manifest's")
    reports = verify_chains()
    for report in reports:
        if not report.ok:
            raise BackupError(f"audit verify failed after restore: {chain_label(report.chain)}: {report.problem}")
    return RestoreReport(tables=len(tables), rows=sum(tables.values()),
                         audit_entries=sum(r.checked for r in reports), files=files)

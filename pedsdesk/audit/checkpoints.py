"""Signed checkpoints of the chain heads, kept outside the database.

The hourly sweep writes every chain's head (sequence number and hash) to a file in
``PEDSDESK_AUDIT_CHECKPOINT_DIR``; the daily sweep emails each practice's owners their
chain's head. ``pedsdesk audit verify --checkpoint FILE`` then proves that no chain is
now shorter than it was, and that the entry the checkpoint saw still has its hash.
"""

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from pedsdesk.audit.actions import audit_key
from pedsdesk.audit.chain import CHECKPOINT_FORMAT, checkpoint_problem, key_id, sign_checkpoint
from pedsdesk.audit.models import NO_PRACTICE_CHAIN, AuditChainHead

FILE_PREFIX = "audit-checkpoint-"


class CheckpointError(ValueError):
    pass


def checkpoint_document(*, chain: int | None = None, now: dt.datetime | None = None) -> dict:
    """The signed heads of every chain, or of one."""
    heads = AuditChainHead.objects.order_by("chain")
    if chain is not None:
        heads = heads.filter(chain=chain)
    key = audit_key()
    return sign_checkpoint(key, {
        "format": CHECKPOINT_FORMAT,
        "written_at": (now or timezone.now()).astimezone(dt.UTC).isoformat(timespec="seconds"),
        "key_id": key_id(key),
        "chains": [{"chain": h.chain, "practice_id": None if h.chain == NO_PRACTICE_CHAIN else h.chain,
                    "seq": h.seq, "hash": h.hash} for h in heads],
    })


def write_checkpoint(*, directory: Path | None = None, now: dt.datetime | None = None) -> Path:
    """Write the heads to a new file (atomically: a reader never sees half a checkpoint)."""
    now = now or timezone.now()
    directory = Path(directory or settings.PEDSDESK_AUDIT_CHECKPOINT_DIR)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    document = checkpoint_document(now=now)
    path = directory / f"{FILE_PREFIX}{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".checkpoint-")
    with os.fdopen(handle, "w") as out:
        json.dump(document, out, indent=1, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    return path


def latest_checkpoint(directory: Path | None = None) -> Path | None:
    directory = Path(directory or settings.PEDSDESK_AUDIT_CHECKPOINT_DIR)
    files = sorted(directory.glob(f"{FILE_PREFIX}*.json")) if directory.is_dir() else []
    return files[-1] if files else None


def load_checkpoint(path: Path | str) -> dict:
    """A checkpoint whose signature holds, or CheckpointError saying what is wrong with it."""
    try:
        document = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint file at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not a readable checkpoint: {exc}") from None
    problem = checkpoint_problem(audit_key(), document)
    if problem:
        raise CheckpointError(f"{path}: {problem}")
    return document

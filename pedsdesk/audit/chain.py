"""The arithmetic of the keyed audit chain and its checkpoints (no Django).

An entry's hash is an HMAC-SHA256, under the audit key, of its fields and the hash of
the entry before it in its chain. Without the key nobody can write a hash that
verifies, so an attacker with only the database can neither edit, insert nor rehash
entries. Deleting the newest entries of a chain leaves a chain that verifies on its
own: the checkpoints (its head, signed with the same key, kept outside the database)
catch that.
"""

import hashlib
import hmac
import json
from typing import Any

GENESIS_HASH = "0" * 64
CHECKPOINT_FORMAT = "pedsdesk-audit-checkpoint/1"


def _derive(key: str, purpose: bytes) -> bytes:
    # One secret, separate keys for entries and checkpoints: a signature of one kind never passes as the other.
    return hmac.new(key.encode(), purpose, hashlib.sha256).digest()


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=True).encode()


def entry_hash(key: str, fields: dict) -> str:
    return hmac.new(_derive(key, b"pedsdesk audit entry"), _canonical(fields), hashlib.sha256).hexdigest()


def key_id(key: str) -> str:
    """A short name for the key, written into checkpoints, that does not reveal it."""
    return hmac.new(_derive(key, b"pedsdesk audit key id"), b"", hashlib.sha256).hexdigest()[:16]


def sign_checkpoint(key: str, body: dict) -> dict:
    payload = {k: v for k, v in body.items() if k != "signature"}
    signature = hmac.new(_derive(key, b"pedsdesk audit checkpoint"), _canonical(payload), hashlib.sha256).hexdigest()
    return {**payload, "signature": signature}


def checkpoint_problem(key: str, document: Any) -> str:
    """Why a checkpoint document cannot be trusted, or "" when it can."""
    if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
        return f"this is not a pedsdesk audit checkpoint (format {CHECKPOINT_FORMAT})"
    if document.get("key_id") != key_id(key):
        return "the checkpoint was signed with another audit key (PEDSDESK_AUDIT_KEY differs)"
    expected = sign_checkpoint(key, document)["signature"]
    if not hmac.compare_digest(str(document.get("signature", "")), expected):
        return "the checkpoint's signature does not match: the file was altered"
    chains = document.get("chains")
    if not isinstance(chains, list) or not all(
            isinstance(c, dict) and {"chain", "seq", "hash"} <= set(c) for c in chains):
        return "the checkpoint lists no chain heads"
    return ""

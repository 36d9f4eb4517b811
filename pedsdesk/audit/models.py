"""The append-only, keyed, hash-chained audit log: one chain per practice.

Each event's hash is an HMAC (under ``PEDSDESK_AUDIT_KEY``, which never lives in the
database) of its fields and the previous event's hash in the same chain. Each chain's
head row remembers the last sequence number and hash, and is the only row a writer
locks, so practices never wait on each other. Events without a practice (sign-in
failures, system work) have chain 0. Signed checkpoints of the heads, written outside
the database, catch a chain cut short (pedsdesk/audit/checkpoints.py).
"""

from datetime import UTC

from django.db import models
from django.utils import timezone

from pedsdesk.audit.chain import GENESIS_HASH, entry_hash
from pedsdesk.fields import FieldRules

NO_PRACTICE_CHAIN = 0

__all__ = ["GENESIS_HASH", "NO_PRACTICE_CHAIN", "AppendOnlyError", "AuditChainHead", "AuditEvent"]


class AppendOnlyError(RuntimeError):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are never updated")

    def delete(self):
        raise AppendOnlyError("audit events are never deleted")


def chain_for(practice_id: int | None) -> int:
    return practice_id or NO_PRACTICE_CHAIN


class AuditEvent(FieldRules, models.Model):
    chain = models.BigIntegerField(default=NO_PRACTICE_CHAIN)
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField(default=timezone.now, db_index=True)
    practice_id = models.BigIntegerField(null=True, db_index=True)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=40, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True, db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_chain_seq")]
        # A record's history (a task's, a visit's) is looked up by what it is about.
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.chain}.{self.seq} {self.actor_label} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are never deleted")

    def hashed_fields(self) -> dict:
        return {
            "chain": self.chain,
            "seq": self.seq,
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "practice_id": self.practice_id,
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "patient_id": self.patient_id,
            "detail": self.detail,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self, key: str) -> str:
        return entry_hash(key, self.hashed_fields())


class AuditChainHead(FieldRules, models.Model):
    """One row per chain: its last sequence number and hash; locked by each writer of that chain."""

    chain = models.BigIntegerField(unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain {self.chain} head #{self.seq}"

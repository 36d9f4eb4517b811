"""One keyed chain per practice.

Existing events are checked against the old unkeyed chain first (re-chaining a
tampered log would launder it), then given their practice's chain, a sequence number
in it, and an HMAC under PEDSDESK_AUDIT_KEY; one head row per chain replaces the
single global head.
"""

import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.db import migrations, models

from pedsdesk.audit.chain import GENESIS_HASH, entry_hash


def _old_hash(e) -> str:
    # The unkeyed hash of 0001/0002, frozen here.
    payload = {"seq": e.seq, "at": e.at.astimezone(UTC).isoformat(timespec="microseconds"),
               "practice_id": e.practice_id, "actor_id": e.actor_id, "actor_label": e.actor_label,
               "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
               "patient_id": e.patient_id, "detail": e.detail, "ip": e.ip, "user_agent": e.user_agent,
               "prev_hash": e.prev_hash}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
                          .encode()).hexdigest()


def rechain(apps, schema_editor):
    Event = apps.get_model("audit", "AuditEvent")
    Head = apps.get_model("audit", "AuditChainHead")
    events = list(Event.objects.order_by("seq"))
    prev = GENESIS_HASH
    for expected, event in enumerate(events, start=1):
        if event.seq != expected or event.prev_hash != prev or _old_hash(event) != event.hash:
            raise RuntimeError(f"audit entry #{event.seq} does not verify in the old chain; the log was altered. "
                               "Investigate before migrating: re-chaining would hide it.")
        prev = event.hash
    key = settings.PEDSDESK_AUDIT_KEY
    if events and not key:
        raise RuntimeError("set PEDSDESK_AUDIT_KEY before migrating: existing audit entries are re-chained with it")
    heads: dict[int, tuple[int, str]] = {}
    for event in events:
        chain = event.practice_id or 0
        seq, prev_hash = heads.get(chain, (0, GENESIS_HASH))
        event.chain, event.seq, event.prev_hash = chain, seq + 1, prev_hash
        event.hash = entry_hash(key, {
            "chain": event.chain, "seq": event.seq, "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "practice_id": event.practice_id, "actor_id": event.actor_id, "actor_label": event.actor_label,
            "action": event.action, "object_type": event.object_type, "object_id": event.object_id,
            "patient_id": event.patient_id, "detail": event.detail, "ip": event.ip, "user_agent": event.user_agent,
            "prev_hash": event.prev_hash})
        heads[chain] = (event.seq, event.hash)
    Event.objects.bulk_update(events, ["chain", "seq", "prev_hash", "hash"], batch_size=500)
    Head.objects.all().delete()
    Head.objects.bulk_create([Head(chain=chain, seq=seq, hash=h) for chain, (seq, h) in sorted(heads.items())])


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_record_history_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='chain',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='seq',
            field=models.PositiveBigIntegerField(),
        ),
        migrations.AddField(
            model_name='auditchainhead',
            name='chain',
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(rechain, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='auditchainhead',
            name='chain',
            field=models.BigIntegerField(unique=True),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.UniqueConstraint(fields=('chain', 'seq'), name='audit_event_chain_seq'),
        ),
    ]

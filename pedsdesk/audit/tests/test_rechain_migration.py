"""Existing entries of the old single, unkeyed chain are re-chained per practice with
the key; a log already altered stops the migration instead of being laundered."""

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pedsdesk.audit.models import GENESIS_HASH
from pedsdesk.audit.queries import verify_chain

BEFORE, AFTER = [("audit", "0002_record_history_index")], [("audit", "0003_keyed_chain_per_practice")]
rechain_module = importlib.import_module("pedsdesk.audit.migrations.0003_keyed_chain_per_practice")


def _old_rows(apps, practices):
    Event = apps.get_model("audit", "AuditEvent")
    prev = GENESIS_HASH
    for seq, practice_id in enumerate(practices, start=1):
        event = Event(seq=seq, at=dt.datetime(2026, 11, 1, 12, seq, tzinfo=dt.UTC), practice_id=practice_id,
                      actor_label="fran (Front desk)", action="view", object_type="people.patient",
                      object_id=str(seq), detail={"n": seq}, prev_hash=prev)
        event.hash = rechain_module._old_hash(event)
        event.save()
        prev = event.hash
    apps.get_model("audit", "AuditChainHead").objects.create(pk=1, seq=len(practices), hash=prev)


@pytest.mark.django_db(transaction=True)
def test_old_entries_are_rechained_per_practice():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    _old_rows(executor.loader.project_state(BEFORE).apps, [7, 8, 7, None, 7])
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    from pedsdesk.audit.models import AuditChainHead, AuditEvent

    assert list(AuditEvent.objects.order_by("id").values_list("chain", "seq")) == [
        (7, 1), (8, 1), (7, 2), (0, 1), (7, 3)]
    assert dict(AuditChainHead.objects.values_list("chain", "seq")) == {0: 1, 7: 3, 8: 1}
    report = verify_chain()
    assert report.ok and report.checked == 5


@pytest.mark.django_db(transaction=True)
def test_an_altered_old_log_stops_the_migration():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    _old_rows(apps, [7, 7, 7])
    apps.get_model("audit", "AuditEvent").objects.filter(seq=2).update(action="nothing")
    executor = MigrationExecutor(connection)
    with pytest.raises(RuntimeError, match="entry #2 does not verify"):
        executor.migrate(AFTER)
    apps.get_model("audit", "AuditEvent").objects.all().delete()
    apps.get_model("audit", "AuditChainHead").objects.all().delete()
    MigrationExecutor(connection).migrate(AFTER)

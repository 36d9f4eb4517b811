"""The keyed chain, one per practice, and its checkpoints: every attack someone with
write access to the database could try is detected, and practices never wait on
each other's audit writes."""

import hashlib
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from pedsdesk.audit.actions import appended_together, record_event
from pedsdesk.audit.checkpoints import CheckpointError, load_checkpoint, write_checkpoint
from pedsdesk.audit.models import NO_PRACTICE_CHAIN, AuditChainHead, AuditEvent
from pedsdesk.audit.queries import verify_chain
from pedsdesk.audit.tasks import checkpoint_email, checkpoint_file
from pedsdesk.messaging.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def chains(practice, owner, front_desk, outsider, patient):
    """Five events in this practice, two in another, one without a practice."""
    for n in range(5):
        record_event(actor=front_desk, action="view", obj=patient, detail={"n": n})
    for _ in range(2):
        record_event(actor=outsider, action="view", object_type="people.patient", object_id="1")
    record_event(actor="sign-in", action="login_failed", detail={"username": "nobody"})
    return practice.pk, outsider.practice_id


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def _events(chain: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(chain=chain).order_by("seq"))


def _set_head(chain: int) -> None:
    """What a careful attacker does after removing entries: make the head agree."""
    last = _events(chain)[-1]
    _sql("UPDATE audit_auditchainhead SET seq = %s, hash = %s WHERE chain = %s", [last.seq, last.hash, chain])


def test_each_practice_has_its_own_gapless_chain(chains):
    mine, theirs = chains
    assert [e.seq for e in _events(mine)] == [1, 2, 3, 4, 5]
    assert [e.seq for e in _events(theirs)] == [1, 2]
    assert [e.seq for e in _events(NO_PRACTICE_CHAIN)] == [1]
    assert AuditChainHead.objects.get(chain=mine).seq == 5
    report = verify_chain()
    assert report.ok and report.checked == 8
    assert verify_chain(practice_id=theirs).checked == 2


def test_a_run_of_changes_appends_its_events_together_in_order_and_a_rollback_drops_them(chains, front_desk,
                                                                                           outsider, patient):
    mine, theirs = chains
    with transaction.atomic(), CaptureQueriesContext(connection) as queries, appended_together():
        for n in range(40):
            record_event(actor=front_desk, action="view", obj=patient, detail={"n": n})
        record_event(actor=outsider, action="view", object_type="people.patient", object_id="1")
        assert AuditEvent.objects.filter(chain=mine).count() == 5  # nothing written yet
    # A lock, an insert and a head update a chain, whatever the number of events.
    assert len(queries) == 1 + 2 * 3
    assert [e.detail.get("n") for e in _events(mine)][5:] == list(range(40))
    assert [e.seq for e in _events(mine)] == list(range(1, 46))
    assert [e.seq for e in _events(theirs)] == [1, 2, 3]
    assert verify_chain().ok

    with pytest.raises(ValueError), transaction.atomic(), appended_together():
        record_event(actor=front_desk, action="view", obj=patient)
        raise ValueError("the change failed")
    assert AuditEvent.objects.filter(chain=mine).count() == 45
    assert AuditChainHead.objects.get(chain=mine).seq == 45


@pytest.mark.django_db(transaction=True)
def test_events_cannot_wait_outside_the_transaction_of_their_change():
    # Outside it, the change could commit without its events.
    with pytest.raises(RuntimeError, match="inside the transaction"), appended_together():
        pass  # pragma: no cover


def test_an_edit_is_detected(chains):
    mine, _ = chains
    _sql("UPDATE audit_auditevent SET detail = %s WHERE chain = %s AND seq = 3", ['{"n": 99}', mine])
    report = verify_chain()
    assert not report.ok and report.chain == mine and report.bad_seq == 3 and "altered" in report.problem
    assert verify_chain(practice_id=chains[1]).ok  # the other practice's chain is untouched


def test_a_deletion_in_the_middle_is_detected(chains):
    mine, _ = chains
    _sql("DELETE FROM audit_auditevent WHERE chain = %s AND seq = 2", [mine])
    with pytest.raises(CommandError, match=f"practice {mine}'s chain .*entry #2 is missing"):
        call_command("audit", "verify")


def test_a_reordering_is_detected(chains):
    mine, _ = chains
    _sql("UPDATE audit_auditevent SET seq = 100 WHERE chain = %s AND seq = 2", [mine])
    _sql("UPDATE audit_auditevent SET seq = 2 WHERE chain = %s AND seq = 3", [mine])
    _sql("UPDATE audit_auditevent SET seq = 3 WHERE chain = %s AND seq = 100", [mine])
    report = verify_chain(practice_id=mine)
    assert not report.ok and report.bad_seq == 2


def test_a_truncated_tail_passes_alone_and_is_caught_by_the_checkpoint(chains, tmp_path):
    mine, _ = chains
    checkpoint = write_checkpoint(directory=tmp_path)
    _sql("DELETE FROM audit_auditevent WHERE chain = %s AND seq >= 4", [mine])
    _set_head(mine)
    assert verify_chain().ok  # the chain on its own cannot know what came after its end
    report = verify_chain(checkpoint=load_checkpoint(checkpoint))
    assert not report.ok and "ends at #3 but the checkpoint" in report.problem and "saw #5" in report.problem
    with pytest.raises(CommandError, match="entries were removed from its end"):
        call_command("audit", "verify", "--practice", str(mine), "--checkpoint", str(checkpoint))


def test_a_chain_emptied_entirely_is_caught_by_the_checkpoint(chains, tmp_path):
    _, theirs = chains
    checkpoint = load_checkpoint(write_checkpoint(directory=tmp_path))
    _sql("DELETE FROM audit_auditevent WHERE chain = %s", [theirs])
    _sql("DELETE FROM audit_auditchainhead WHERE chain = %s", [theirs])
    assert verify_chain().ok
    assert not verify_chain(checkpoint=checkpoint).ok


def _rehash(chain: int, digest) -> None:
    prev = "0" * 64
    for event in _events(chain):
        event.prev_hash = prev
        new = digest(event)
        _sql("UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", [prev, new, event.pk])
        prev = new
    _set_head(chain)


def test_recomputing_every_hash_without_the_key_is_detected(chains):
    mine, _ = chains
    _sql("UPDATE audit_auditevent SET actor_label = 'nobody' WHERE chain = %s AND seq = 2", [mine])

    def plain_sha256(event):  # what the old, unkeyed chain used
        return hashlib.sha256(json.dumps(event.hashed_fields(), sort_keys=True, default=str).encode()).hexdigest()

    _rehash(mine, plain_sha256)
    report = verify_chain()
    assert not report.ok and report.bad_seq == 1 and "without the audit key" in report.problem
    _rehash(mine, lambda event: event.compute_hash("a guessed key"))
    assert verify_chain(practice_id=mine).bad_seq == 1


def test_a_rehash_with_a_stolen_key_is_caught_by_the_checkpoint(chains, tmp_path, settings):
    mine, _ = chains
    checkpoint = load_checkpoint(write_checkpoint(directory=tmp_path))
    _sql("UPDATE audit_auditevent SET actor_label = 'nobody' WHERE chain = %s AND seq = 2", [mine])
    _rehash(mine, lambda event: event.compute_hash(settings.PEDSDESK_AUDIT_KEY))
    assert verify_chain().ok
    report = verify_chain(checkpoint=checkpoint)
    assert not report.ok and report.bad_seq == 5 and "chain was rewritten" in report.problem


def test_a_forged_or_foreign_checkpoint_is_refused(chains, tmp_path, settings):
    path = write_checkpoint(directory=tmp_path)
    document = json.loads(path.read_text())
    for head in document["chains"]:
        head["seq"] = 1  # make a truncation look expected
    path.write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="signature does not match"):
        load_checkpoint(path)
    with pytest.raises(CommandError, match="checkpoint refused"):
        call_command("audit", "verify", "--checkpoint", str(path))
    other = write_checkpoint(directory=tmp_path / "other")
    settings.PEDSDESK_AUDIT_KEY = "another-key-another-key-another-key-!!"
    with pytest.raises(CheckpointError, match="another audit key"):
        load_checkpoint(other)
    (tmp_path / "junk.json").write_text("[1, 2")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.json")


def test_verify_uses_the_newest_checkpoint_on_request(chains, capsys, settings, tmp_path):
    settings.PEDSDESK_AUDIT_CHECKPOINT_DIR = tmp_path
    with pytest.raises(CommandError, match="no checkpoint"):
        call_command("audit", "verify", "--checkpoint", "latest")
    call_command("audit", "checkpoint")
    call_command("audit", "verify", "--checkpoint", "latest")
    assert "audit chain intact: 8 entries in 3 chain(s), against the checkpoint of" in capsys.readouterr().out


def test_the_hourly_sweep_writes_a_checkpoint_file(chains, settings, tmp_path):
    settings.PEDSDESK_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    path = checkpoint_file()
    heads = {c["chain"]: c["seq"] for c in load_checkpoint(path)["chains"]}
    assert heads == {chains[0]: 5, chains[1]: 2, NO_PRACTICE_CHAIN: 1}
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_owners_get_their_chain_head_by_email_once_a_day(chains, owner, outsider, patient, tmp_path, settings):
    settings.PEDSDESK_AUDIT_EMAIL_HOUR = 24  # not yet today
    assert checkpoint_email() == 0
    settings.PEDSDESK_AUDIT_EMAIL_HOUR = 0
    assert checkpoint_email() == 2  # this practice's owner and the other practice's
    assert checkpoint_email() == 0
    message = Message.objects.get(staff_member=owner, kind="audit_checkpoint")
    assert message.channel == "email" and "entry #" in message.subject
    assert patient.last_name not in message.body and patient.first_name not in message.body
    saved = tmp_path / "from-email.json"
    saved.write_text(message.body.split("-----\n")[1])
    document = load_checkpoint(saved)
    assert [c["chain"] for c in document["chains"]] == [chains[0]]  # only their own practice's head
    call_command("audit", "verify", "--practice", str(chains[0]), "--checkpoint", str(saved))


def test_no_audit_event_is_written_without_the_key(settings, front_desk, patient):
    settings.PEDSDESK_AUDIT_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="PEDSDESK_AUDIT_KEY"):
        record_event(actor=front_desk, action="view", obj=patient)


def test_check_deploy_fails_without_the_audit_key(settings):
    settings.PEDSDESK_AUDIT_KEY = ""
    with pytest.raises(SystemCheckError, match="PEDSDESK_AUDIT_KEY is not set"):
        call_command("check", deploy=True)
    settings.PEDSDESK_AUDIT_KEY = settings.SECRET_KEY
    with pytest.raises(SystemCheckError, match="must differ"):
        call_command("check", deploy=True)


def test_production_settings_have_no_default_audit_key(tmp_path):
    env = {**os.environ, "PEDSDESK_ENV": "production", "PEDSDESK_SECRET_KEY": "x" * 60,
           "PEDSDESK_ALLOWED_HOSTS": "pedsdesk.example.org", "PEDSDESK_DATA_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "pedsdesk.settings"}
    env.pop("PEDSDESK_AUDIT_KEY", None)
    run = subprocess.run([sys.executable, "-m", "django", "check", "--deploy"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode != 0 and "pedsdesk.E001" in run.stderr
    assert not (tmp_path / "audit_key").exists()


def _in_threads(*targets, timeout=30):
    threads = [threading.Thread(target=t) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)


@pytest.mark.django_db(transaction=True)
def test_one_practices_parallel_writes_keep_a_gapless_chain(practice, front_desk, therapist, patient):
    barrier = threading.Barrier(4)
    errors = []

    def writer(actor):
        def run():
            try:
                barrier.wait(timeout=10)
                for n in range(10):
                    with transaction.atomic():
                        record_event(actor=actor, action="view", obj=patient, detail={"n": n})
            except Exception as exc:
                errors.append(exc)
            finally:
                connection.close()
        return run

    _in_threads(*(writer(a) for a in (front_desk, therapist, front_desk, therapist)))
    assert not errors
    assert [e.seq for e in _events(practice.pk)] == list(range(1, 41))
    assert AuditChainHead.objects.filter(chain=practice.pk).count() == 1
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite has one writer at a time for the whole database")
def test_two_practices_audited_writes_do_not_wait_on_each_other(practice, front_desk, outsider, patient):
    """A writer holds its practice's chain head in an open transaction; another practice's
    writer finishes meanwhile (with one global head it would wait for the first)."""
    record_event(actor=front_desk, action="view", obj=patient)
    record_event(actor=outsider, action="view", object_type="people.patient", object_id="1")
    holding, other_done = threading.Event(), threading.Event()
    timings = {}

    def slow_writer():
        try:
            with transaction.atomic():
                record_event(actor=front_desk, action="view", obj=patient)
                holding.set()
                timings["other finished while held"] = other_done.wait(timeout=10)
        finally:
            connection.close()

    def other_practice():
        try:
            holding.wait(timeout=10)
            started = time.monotonic()
            with transaction.atomic():
                record_event(actor=outsider, action="view", object_type="people.patient", object_id="1")
            timings["seconds"] = time.monotonic() - started
            other_done.set()
        finally:
            connection.close()

    _in_threads(slow_writer, other_practice)
    assert timings["other finished while held"] and timings["seconds"] < 2
    assert [e.seq for e in _events(outsider.practice_id)] == [1, 2]
    assert verify_chain().ok


WRITER = """
import sys
import django
django.setup()
from pedsdesk.audit.actions import record_event
n = 0
while True:
    record_event(actor="kill drill", action="view", practice_id=int(sys.argv[1]), detail={"n": n})
    if n == 0:  # one write is in, so the kill lands on a chain that is under way, however busy the machine
        print("writing", flush=True)
    n += 1
"""


@pytest.mark.django_db(transaction=True)
def test_a_writer_killed_mid_write_leaves_every_chain_whole(practice, settings, tmp_path):
    """Writers of two practices are SIGKILLed at random moments; each chain stays gapless
    and verifies, and the next write continues it."""
    import random
    import signal

    from django.db import connection as db

    database = db.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pedsdesk.settings", "PEDSDESK_DATA_DIR": str(tmp_path),
           "PEDSDESK_AUDIT_KEY": settings.PEDSDESK_AUDIT_KEY, "PEDSDESK_LOG_LEVEL": "WARNING"}
    if db.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        env["PEDSDESK_SQLITE_PATH"] = database["NAME"]
    else:
        env["DATABASE_URL"] = (f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
                               f"{database['NAME']}")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(7)
    for round_ in range(3):
        writers = [subprocess.Popen([sys.executable, str(script), str(chain)], env=env,  # noqa: S603
                                    stdout=subprocess.PIPE, text=True) for chain in (practice.pk, 9999)]
        for writer in writers:
            assert writer.stdout.readline().strip() == "writing"
        time.sleep(rng.uniform(0.2, 0.8))
        for writer in writers:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        record_event(actor="after the kill", action="view", practice_id=practice.pk, detail={"round": round_})
    for chain in (practice.pk, 9999):
        seqs = [e.seq for e in _events(chain)]
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 3  # a write a round at least
    assert verify_chain().ok

"""Claims, withdrawal, query counts, the sweep command and what texts may say."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_guardian, make_patient
from pedsdesk.messaging.actions import queue_message, send_family_link, withdraw_messages
from pedsdesk.messaging.delivery import DeliveryStats, _claim, _Transports
from pedsdesk.messaging.kinds import BUILTIN_KINDS, render
from pedsdesk.messaging.models import Message, MessageState, MessagingPolicy
from pedsdesk.messaging.tests.conftest import sent_bodies
from pedsdesk.messaging.tests.helpers import daytime, deliver
from pedsdesk.sweeps import registered

pytestmark = pytest.mark.django_db


def test_a_message_is_claimed_once(console_outbox, practice, patient):
    message = queue_message(practice=practice, kind="notice", recipient=patient.guardians.get(), context={},
                            idempotency_key="k:1")
    now = daytime()
    first = _claim(message.pk, now=now, pool=_Transports(), stats=DeliveryStats())
    stats = DeliveryStats()
    second = _claim(message.pk, now=now, pool=_Transports(), stats=stats)
    assert first is not None and second is None and stats.lost_races == 1
    assert Message.objects.get(pk=message.pk).state == MessageState.SENDING


def test_withdrawn_messages_are_never_sent(console_outbox, practice, patient):
    rosa = patient.guardians.get()
    for i in range(3):
        queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key=f"r:{i}",
                      about=patient, channel="email")
    assert withdraw_messages(about=patient, kinds=["notice"], reason="appointment moved") == 3
    assert deliver().sent == 0 and sent_bodies(console_outbox, "email") == []
    assert set(Message.objects.values_list("status_reason", flat=True)) == {"appointment moved"}


def test_withdrawal_after_the_claim_still_stops_the_send(console_outbox, practice, patient):
    from pedsdesk.messaging.delivery import _deliver_one

    rosa = patient.guardians.get()
    message = queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="r:x",
                            about=patient, channel="email")
    pool = _Transports()
    original = pool.get

    def get(channel):  # the visit is moved while the worker holds the claim
        withdraw_messages(about=patient, reason="moved")
        return original(channel)

    pool.get = get
    _deliver_one(message.pk, now=daytime(), pool=pool, stats=DeliveryStats())
    assert sent_bodies(console_outbox, "email") == []
    assert Message.objects.get(pk=message.pk).state == MessageState.CANCELLED


def test_delivery_queries_are_bounded_per_message(console_outbox, practice, patient, staff):
    MessagingPolicy.objects.create(practice=practice, sms_per_day=100, sms_per_week=100)

    def queue_many(prefix, n):
        for i in range(n):
            guardian = make_guardian(make_patient(practice, f"Kid{prefix}{i}", "Q"), f"G{prefix}{i}",
                                     phone=f"+1512555{1000 + i:04d}" if prefix != "b" else f"+1512556{1000 + i:04d}")
            queue_message(practice=practice, kind="notice", recipient=guardian, context={},
                          idempotency_key=f"{prefix}:{i}")

    queue_many("a", 2)
    with CaptureQueriesContext(connection) as two:
        assert deliver().sent == 2
    queue_many("b", 10)
    with CaptureQueriesContext(connection) as twelve:
        assert deliver().sent == 10
    def statements(captured):  # the test's savepoints stand in for BEGIN/COMMIT
        return [q for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]

    per_message = (len(statements(twelve)) - len(statements(two))) / 8
    # Claim (read, lock, opt-out, failing, cap, update, attempt), withdrawal check, outcome (2).
    assert per_message <= 10, per_message
    assert len(statements(two)) <= 2 * 10 + 6


def test_sms_bodies_carry_no_clinical_detail(practice, patient, staff):
    """No diagnosis code, goal text or therapist discipline in any text of any kind."""
    from pedsdesk.people.models import Diagnosis

    Diagnosis.objects.create(patient=patient, code="F82", description="Developmental coordination disorder")
    plan = patient.plans_of_care.get()
    rosa = patient.guardians.get()
    forbidden = [r"F82", "coordination", "Zips coat", "Writes first name", "Occupational", "therapy\\b(?! )",
                 "OT\\b", "PT\\b", "SLP", "speech", "diagnos", plan.get_discipline_display()]
    context = {"url": "http://127.0.0.1:8000/f/abc", "child_first_name": patient.first_name,
               "tasks": [{"title": "x", "due": None, "priority": 1, "url": "/", "escalated": False}]}
    for language in ("en", "es"):
        rosa.language = language
        for kind in BUILTIN_KINDS:
            if kind == "daily_digest":
                continue
            body = render(kind=kind, practice=practice, recipient=rosa, channel="sms", language=language,
                          context=context).body
            for pattern in forbidden:
                text = body.replace(practice.name, "")  # "Pediatric Therapy" is the practice's own name
                assert not re.search(pattern, text, re.IGNORECASE), (kind, language, pattern, body)
            assert practice.name in body and len(body) <= 320


def test_every_kind_renders_in_spanish(practice, patient, office_manager):
    rosa = patient.guardians.get()
    context = {"url": "http://127.0.0.1:8000/f/abc", "child_first_name": "Ava"}
    for kind in BUILTIN_KINDS:
        if kind == "daily_digest":
            continue
        for channel in ("sms", "email"):
            english = render(kind=kind, practice=practice, recipient=rosa, channel=channel, language="en",
                             context=context)
            spanish = render(kind=kind, practice=practice, recipient=rosa, channel=channel, language="es",
                             context=context)
            assert english.body != spanish.body and english.subject != spanish.subject, (kind, channel)


def test_family_link_message_carries_the_link(console_outbox, practice, patient, front_desk):
    rosa = patient.guardians.get()
    message = send_family_link(actor=front_desk, guardian=rosa, patient=patient)
    assert message.kind == "portal_link" and message.about.guardian == rosa
    assert re.search(r"http://127\.0\.0\.1:8000/\S+", message.body)
    assert "Ava" not in message.body  # texts do not even name the child
    email = send_family_link(actor=front_desk, guardian=rosa, patient=patient, channel="email")
    assert email.subject == "Ava's page is ready"


def test_the_sweep_command_runs_every_registered_sweep(console_outbox, practice, patient, capsys):
    assert "messaging.deliver_due" in {s.name for s in registered("minute")}
    queue_message(practice=practice, kind="notice", recipient=patient.guardians.get(), context={},
                  idempotency_key="sw:1", channel="email")
    call_command("sweep", schedule="minute")
    out = capsys.readouterr().out
    assert "messaging.deliver_due" in out
    assert [m["kind"] for m in sent_bodies(console_outbox, "email")] == ["notice"]


def test_deliver_command_drains_the_outbox(console_outbox, practice, patient, capsys):
    queue_message(practice=practice, kind="notice", recipient=patient.guardians.get(), context={},
                  idempotency_key="d:1", channel="email")
    call_command("deliver", until_empty=True, interval=0.01)
    assert "delivered 1" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_workers_running_at_once_send_each_message_once(console_outbox, practice, patient):
    import threading
    from collections import Counter

    from django.db import connection as db

    rosa = patient.guardians.get()
    for i in range(40):
        queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key=f"par:{i}",
                      channel="email")
    barrier = threading.Barrier(3)
    errors = []

    def worker():
        try:
            barrier.wait(timeout=10)
            deliver()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    refs = Counter(m["ref"] for m in sent_bodies(console_outbox, "email"))
    assert len(refs) == 40 and set(refs.values()) == {1}
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.SENT}

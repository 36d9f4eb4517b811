import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_guardian, make_patient
from pedsdesk.messaging.actions import opt_out_number, queue_message, withdraw_messages
from pedsdesk.messaging.models import Message, MessageState
from pedsdesk.sweeps import run_memo

pytestmark = pytest.mark.django_db


def test_queue_renders_in_the_guardians_language_and_is_idempotent(practice, patient):
    rosa = patient.guardians.get()
    first = queue_message(practice=practice, kind="contact_test", recipient=rosa, context={},
                          idempotency_key="test:rosa:1")
    assert first.channel == "sms" and first.to_address == "+15125550142" and first.language == "en"
    assert "Sunny Steps Pediatric Therapy" in first.body and first.state == MessageState.QUEUED
    again = queue_message(practice=practice, kind="contact_test", recipient=rosa, context={},
                          idempotency_key="test:rosa:1")
    assert again.pk == first.pk and Message.objects.count() == 1
    lucia = make_guardian(make_patient(practice, "Mateo", "Ruiz"), "Lucia", language="es", phone="+15125550177")
    spanish = queue_message(practice=practice, kind="contact_test", recipient=lucia, context={},
                            idempotency_key="test:lucia:1")
    assert spanish.language == "es" and "mensaje de prueba" in spanish.body


def test_staff_digest_takes_a_list_of_task_dicts(practice, office_manager):
    tasks = [{"title": "Renew authorization for Ava L.", "due": dt.date(2026, 12, 1), "priority": "High",
              "url": "/tasks/1/", "escalated": True},
             {"title": "Call back Rosa", "due": None, "priority": "Normal", "url": "/tasks/2/", "escalated": False}]
    message = queue_message(practice=practice, kind="daily_digest", recipient=office_manager, channel="email",
                            context={"tasks": tasks}, idempotency_key="digest:1:2026-11-27")
    assert message.channel == "email" and message.to_address == office_manager.email
    assert "[ESCALATED] Renew authorization" in message.body and "Call back Rosa" in message.body
    assert "1 escalated" in message.subject and "2 open tasks" in message.subject
    assert "http://127.0.0.1:8000/tasks/1/" in message.body


def test_unreachable_contact_returns_none_and_keeps_the_reason(practice, patient):
    rosa = patient.guardians.get()
    rosa.sms_opted_out_at = timezone.now()
    rosa.email = ""
    rosa.save()
    assert queue_message(practice=practice, kind="notice", recipient=rosa, context={},
                         idempotency_key="n:1") is None
    skipped = Message.objects.get(idempotency_key="n:1")
    assert skipped.state == MessageState.SKIPPED and "opted out" in skipped.status_reason
    assert queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="n:1") is None


def test_preferred_sms_falls_back_to_email_when_opted_out(practice, patient):
    rosa = patient.guardians.get()
    rosa.sms_opted_out_at = timezone.now()
    rosa.save()
    message = queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="n:2")
    assert message.channel == "email" and message.to_address == "rosa@example.org"
    assert queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="n:3",
                         channel="sms") is None


def test_a_sweep_reads_blocked_numbers_once_and_a_stop_in_the_run_counts_at_once(practice, patient):
    rosa = patient.guardians.get()
    with run_memo():
        first = queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="b:1",
                              channel="sms")
        with CaptureQueriesContext(connection) as queries:
            queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="b:2",
                          channel="sms")
        assert first.channel == "sms" and not any("optout" in q["sql"] or "channelfailure" in q["sql"]
                                                  for q in queries.captured_queries)
        opt_out_number(practice=practice, phone=rosa.phone, keyword="STOP")
        rosa.refresh_from_db()
        rosa.sms_opted_out_at = None  # only the practice's list of opted-out numbers says so now
        assert queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="b:3",
                             channel="sms") is None
    assert "opted out" in Message.objects.get(idempotency_key="b:3").status_reason


def test_withdraw_cancels_pending_messages_about_one_record(practice, patient):
    rosa = patient.guardians.get()
    for i in range(2):
        queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key=f"w:{i}",
                      about=patient)
    queue_message(practice=practice, kind="contact_test", recipient=rosa, context={}, idempotency_key="w:other",
                  about=rosa)
    assert withdraw_messages(about=patient, reason="visit moved") == 2
    assert withdraw_messages(about=patient, reason="visit moved") == 0
    assert Message.objects.get(idempotency_key="w:other").state == MessageState.QUEUED
    assert set(Message.objects.filter(kind="notice").values_list("state", flat=True)) == {"cancelled"}


def test_recipient_of_another_practice_is_refused(practice, patient, outsider):
    with pytest.raises(ValueError, match="another practice"):
        queue_message(practice=practice, kind="daily_digest", recipient=outsider, context={"tasks": []},
                      idempotency_key="x")


def test_queueing_asks_a_worker_once_after_commit(practice, patient, django_capture_on_commit_callbacks, monkeypatch):
    from pedsdesk.messaging import tasks

    calls = []
    monkeypatch.setattr(tasks, "deliver_soon", lambda: calls.append(1))
    rosa = patient.guardians.get()
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key=f"k:{i}")
    assert calls == [1]

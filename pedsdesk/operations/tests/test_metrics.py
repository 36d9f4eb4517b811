"""/metrics: Prometheus text, behind a bearer token, read from the database."""

import datetime as dt

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from pedsdesk.messaging.actions import queue_message
from pedsdesk.operations import runner


def samples(response) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_are_off_without_a_token(client, settings, db):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("header", ["", "Bearer wrong", "Basic czNjcmV0"])
def test_metrics_refuse_a_missing_or_wrong_token(client, settings, db, header):
    settings.METRICS_TOKEN = "s3cret-token"
    response = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and b"pedsdesk_" not in response.content


def test_metrics_show_outbox_sweeps_and_workers(client, settings, practice, patient):
    settings.METRICS_TOKEN = "s3cret-token"
    settings.PEDSDESK_EMAIL_CHANNEL = "console"
    guardian = patient.guardians.get()
    queue_message(practice=practice, kind="notice", recipient=guardian, context={}, idempotency_key="m:1",
                  channel="email", not_before=timezone.now() - dt.timedelta(minutes=10))
    runner.run_global_sweeps(schedule="hourly", delivery=False)
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    found = samples(response)
    assert found[("pedsdesk_outbox_due_messages", (("channel", "email"),))] == 1
    assert 590 <= found[("pedsdesk_outbox_oldest_due_age_seconds", ())] <= 700
    assert ("pedsdesk_worker_heartbeat_age_seconds", (("worker", runner.worker_name()),)) in found
    assert any(name == "pedsdesk_sweep_last_duration_seconds" for name, _ in found)

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from pedsdesk.hep.actions import ItemInput, load_starter_library, sweep_deliveries, update_and_send
from pedsdesk.hep.models import Activity
from pedsdesk.messaging.models import Message, MessageState, MessagingPolicy


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.PEDSDESK_EMAIL_CHANNEL = "console"
    settings.PEDSDESK_SMS_CHANNEL = "console"
    settings.PEDSDESK_MESSAGING_KICK = False
    settings.DATA_DIR = tmp_path
    return tmp_path / "outbox"


@pytest.fixture
def any_hour(practice):
    """Texts may go at any hour, so a test passes at any time of day."""
    MessagingPolicy.objects.update_or_create(practice=practice, defaults={"quiet_start": dt.time(0),
                                                                          "quiet_end": dt.time(0)})


def starter(key: str) -> Activity:
    """A starter activity. A transactional test elsewhere in the run may have flushed the
    rows the data migration wrote, so they are loaded again when missing."""
    found = Activity.objects.filter(practice=None, key=key).first()
    if found is None:
        load_starter_library()
        found = Activity.objects.get(practice=None, key=key)
    return found


@pytest.fixture
def send_program(therapist, patient):
    """Send Ava's program with the given starter activities to her guardians (default: Rosa)."""

    def send(*keys: str, guardians=None, note: str = "Practise after school."):
        keys = keys or ("ot-playdough-pinch", "ot-zipper-coat")
        items = [ItemInput(activity_id=starter(key).pk, repetitions=10, days_per_week=5) for key in keys]
        return update_and_send(actor=therapist, patient=patient, items=items, note=note,
                               guardians=guardians if guardians is not None else list(patient.guardians.all()))

    return send


def deliver_due() -> None:
    """Make every queued message due and run the sweeps (the outbox delivers)."""
    past = timezone.now() - dt.timedelta(minutes=1)
    Message.objects.filter(state=MessageState.QUEUED).update(not_before=past, next_attempt_at=past)
    call_command("sweep")
    sweep_deliveries()  # the outbox ran after the delivery sweep: read the new states now

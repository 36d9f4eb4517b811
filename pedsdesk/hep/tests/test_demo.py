"""The medium demo's home programs: the report lists every child with a program, with
deliveries in every state and adherence in [0, 1]; and no text the demo's sweeps queue
names an activity, a diagnosis, a goal or a discipline."""

import datetime as dt
import io
import json
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from conftest import without_links
from pedsdesk.demo.generator import seed_demo
from pedsdesk.hep.actions import sweep_deliveries
from pedsdesk.hep.followups import request_before_visits, send_nudges
from pedsdesk.hep.models import Activity, DeliveryState
from pedsdesk.hep.queries import REPORT_COLUMNS
from pedsdesk.messaging.models import Message
from pedsdesk.people.models import Diagnosis, PlanOfCare
from pedsdesk.practices.models import Discipline

pytestmark = pytest.mark.django_db

DISCIPLINE_WORDS = [r"\bOT\b", r"\bPT\b", r"\bSLP\b", "occupational", "physical therap", "speech",
                    "terapia ocupacional", "fisioterapia", "terapia física", "habla", "lenguaje"]


@pytest.fixture
def outbox(settings, tmp_path):
    settings.PEDSDESK_SMS_CHANNEL = settings.PEDSDESK_EMAIL_CHANNEL = "console"
    settings.DATA_DIR = tmp_path
    settings.PEDSDESK_MESSAGING_KICK = False


def test_report_hep_on_the_medium_demo(outbox):
    demo = seed_demo(size="medium", seed=7, simulate_week=False)
    out = io.StringIO()
    call_command("report", "hep", "--format", "json", "--practice", str(demo.practice.pk), stdout=out)
    rows = json.loads(out.getvalue())
    children = demo.practice.patients.filter(is_active=True).count()
    assert 0.3 * children < len(rows) < 0.7 * children  # about half the children
    assert all(list(row) == list(REPORT_COLUMNS) for row in rows)
    assert {row["delivery_state"] for row in rows} == set(DeliveryState.values)
    shares = [row["adherence"] for row in rows if row["adherence"] is not None]
    assert shares and all(0 <= share <= 1 for share in shares) and max(shares) - min(shares) >= 0.5
    assert any(row["open_question"] for row in rows) and not all(row["open_question"] for row in rows)
    assert all(isinstance(row["open_question"], bool) for row in rows)
    csv_out = io.StringIO()
    call_command("report", "hep", "--format", "csv", "--practice", str(demo.practice.pk), stdout=csv_out)
    assert csv_out.getvalue().splitlines()[0] == ",".join(REPORT_COLUMNS)
    table = io.StringIO()
    call_command("report", "hep", "--format", "table", "--practice", str(demo.practice.pk), stdout=table)
    assert table.getvalue().splitlines()[0].split() == list(REPORT_COLUMNS)



def test_no_text_the_demo_sweeps_queue_carries_clinical_detail(outbox):
    # The small practice: every sweep runs over it (on the medium one they take minutes).
    practice = seed_demo(size="small", seed=7, simulate_week=False).practice
    call_command("sweep")
    now = timezone.now()
    for days in (1, 3, 5, 8):  # the days ahead: follow-ups, nudges, before-visit questions
        later = now + dt.timedelta(days=days)
        sweep_deliveries(now=later)
        send_nudges(practice=practice, now=later)
        request_before_visits(practice=practice, now=later)
    call_command("sweep")
    texts = list(Message.objects.filter(practice=practice, channel="sms").exclude(body=""))
    hep_kinds = {m.kind for m in texts if m.kind.startswith("hep_")}
    assert {"hep_program", "hep_program_reminder", "hep_nudge"} <= hep_kinds, hep_kinds
    forbidden = set()
    for activity in Activity.objects.filter(practice__isnull=True):
        forbidden |= {activity.title_en.lower(), activity.title_es.lower()}
    for diagnosis in Diagnosis.objects.filter(patient__practice=practice):
        forbidden |= {diagnosis.code.lower(), diagnosis.description.lower()}
    for plan in PlanOfCare.objects.filter(patient__practice=practice):
        forbidden |= {goal.lower() for goal in plan.goal_list}
    forbidden |= {label.lower() for _, label in Discipline.choices}
    for message in texts:
        body = without_links(message.body).lower()
        found = [word for word in forbidden if word and word in body]
        assert not found, f"{message.kind}: {found} in {message.body!r}"
        for pattern in DISCIPLINE_WORDS:
            assert not re.search(pattern, without_links(message.body), re.I), f"{message.kind}: {pattern}"

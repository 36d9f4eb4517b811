"""Every text every workflow queues for the demo practice is free of clinical detail."""

import re

import pytest
from django.core.management import call_command

from conftest import without_links
from pedsdesk.demo.generator import seed_demo
from pedsdesk.messaging.models import Message
from pedsdesk.people.models import Diagnosis, PlanOfCare

pytestmark = pytest.mark.django_db

DISCIPLINES = ["occupational therap", "physical therap", "speech", "language patholog", "terapia ocupacional",
               "terapia f[ií]sica", "terapia del habla", r"\bOT\b", r"\bPT\b", r"\bSLP\b", "diagnos"]


def test_no_text_of_any_workflow_carries_clinical_detail(console_outbox):
    summary = seed_demo(size="small", seed=7)
    call_command("sweep")
    practice = summary.practice
    texts = list(Message.objects.filter(practice=practice, channel="sms").exclude(body=""))
    assert len(texts) > 10, "the demo's workflows queue texts"
    codes = set(Diagnosis.objects.filter(patient__practice=practice).values_list("code", flat=True))
    goals = {g for plan in PlanOfCare.objects.filter(patient__practice=practice) for g in plan.goal_list}
    for text in texts:
        body = without_links(text.body).replace(practice.name, "")
        for code in codes:
            assert not re.search(rf"\b{re.escape(code)}\b", body), (text.kind, code)
        for goal in goals:
            assert goal.lower() not in body.lower(), (text.kind, goal)
        for pattern in DISCIPLINES:
            assert not re.search(pattern, body, re.IGNORECASE), (text.kind, pattern, body)

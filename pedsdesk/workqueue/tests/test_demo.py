"""The demo practice has real tasks in every role's queue right after seeding, and
its Today page, My tasks, the team queue and the digest work with them. One seeding
(the medium demo takes seconds), checked from every side."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from pedsdesk.demo.generator import DEMO_PASSWORD
from pedsdesk.messaging.models import Message
from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.workqueue.digest import send_daily_digests
from pedsdesk.workqueue.models import Task
from pedsdesk.workqueue.queries import personal_queue

pytestmark = pytest.mark.django_db


def signed_in_demo(username: str) -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": DEMO_PASSWORD}).status_code == 302
    return client


def test_the_demo_has_real_tasks_in_every_queue_and_they_work():
    out = io.StringIO()
    call_command("demo", size="medium", no_serve=True, stdout=out)
    assert "Work queue: the task rules ran once:" in out.getvalue()
    practice = Practice.objects.get(is_demo=True)
    rules = set(Task.objects.filter(practice=practice).values_list("rule", flat=True))
    assert {"guardian_unreachable", "plan_of_care_ending", "patient_without_plan_of_care",
            "coverage_ending"} <= rules

    for role in ("office_manager", "front_desk", "billing", "therapist"):
        member = next((m for m in StaffMember.objects.filter(role=role).order_by("pk") if personal_queue(m).total),
                      None)
        assert member is not None, f"no {role} has a task in the demo"
        queue = personal_queue(member)
        first = (queue.overdue or queue.today or queue.later)[0]
        client = signed_in_demo(member.username)
        for url in ("/", "/tasks/", first.get_absolute_url()):
            response = client.get(url)
            assert response.status_code == 200
            assert first.title.encode() in response.content.replace(b"&#x27;", b"'"), (role, url)

    owner = signed_in_demo("owner")
    page = owner.get("/").content.decode()
    assert "Every queue" in page and "Escalated" in page
    assert owner.get("/tasks/team/").status_code == 200

    local_morning = practice.local_now().replace(hour=7, minute=30)
    assert send_daily_digests(now=local_morning) >= 4
    message = Message.objects.filter(kind="daily_digest", staff_member__username="frontdesk").get()
    assert "open task" in message.subject and "/tasks/" in message.body

"""The demo practice has real tasks in every role's queue right after seeding, and
its Today page, My tasks and digest work with them."""

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


@pytest.fixture
def demo_output(db) -> str:
    out = io.StringIO()
    call_command("demo", size="medium", no_serve=True, stdout=out)
    return out.getvalue()


def test_demo_seeding_runs_the_rules_and_says_so(demo_output):
    assert "Work queue: the task rules ran once:" in demo_output
    practice = Practice.objects.get(is_demo=True)
    rules = set(Task.objects.filter(practice=practice).values_list("rule", flat=True))
    assert {"guardian_unreachable", "plan_of_care_ending", "patient_without_plan_of_care",
            "coverage_ending"} <= rules


@pytest.mark.parametrize("role", ["office_manager", "front_desk", "billing", "therapist"])
def test_every_role_has_real_tasks_and_sees_them(demo_output, role):
    member = next(m for m in StaffMember.objects.filter(role=role).order_by("pk") if personal_queue(m).total)
    username = member.username
    queue = personal_queue(member)
    assert queue.total > 0, f"{username} has an empty queue in the demo"
    client = Client()
    assert client.post("/login/", {"username": username, "password": DEMO_PASSWORD}).status_code == 302
    first = (queue.overdue or queue.today or queue.later)[0]
    for url in ("/", "/tasks/", first.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200
        assert first.title.encode() in response.content.replace(b"&#x27;", b"'"), url


def test_the_demo_owner_sees_every_queue(demo_output):
    client = Client()
    client.post("/login/", {"username": "owner", "password": DEMO_PASSWORD})
    page = client.get("/").content.decode()
    assert "Every queue" in page and "Front desk" in page
    assert client.get("/tasks/team/").status_code == 200


def test_the_demo_digest_goes_out_with_the_seeded_tasks(demo_output):
    practice = Practice.objects.get(is_demo=True)
    local_morning = practice.local_now().replace(hour=7, minute=30)
    assert send_daily_digests(now=local_morning) >= 4
    message = Message.objects.filter(kind="daily_digest", staff_member__username="frontdesk").get()
    assert "open task" in message.subject and "/tasks/" in message.body

"""The work-queue pages: Today, My tasks, the team queue, a task, and the actions by
htmx and by plain form posts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_patient, make_practice, make_staff, signed_in
from pedsdesk.workqueue.actions import TaskSpec, claim_task, complete_task, escalate_overdue_tasks, open_task
from pedsdesk.workqueue.models import Priority, Task, TaskStatus

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def make_task(practice, key="t", *, role="front_desk", due=None, assignee=None, **kwargs):
    spec = TaskSpec(dedupe_key=key, title=f"Call family {key}", role=role, due_at=due, assignee=assignee,
                    reason=f"Reason {key}", **kwargs)
    return open_task(practice=practice, kind="guardian_unreachable", spec=spec)[0]


@pytest.fixture
def guardian_task(practice, patient):
    guardian = patient.guardians.get()
    spec = TaskSpec(dedupe_key="g", title=f"Get a way to reach {guardian}", role="front_desk", subject=guardian,
                    reason="Rosa replied STOP and has no email.", due_at=timezone.now() + dt.timedelta(hours=3),
                    links=[{"label": str(guardian), "url": guardian.get_absolute_url()}])
    return open_task(practice=practice, kind="guardian_unreachable", spec=spec, rule="guardian_unreachable")[0]


def test_today_lists_my_tasks_overdue_first_with_counts(practice, staff):
    now = timezone.now()
    make_task(practice, "later", due=now + dt.timedelta(days=4))
    make_task(practice, "overdue", due=now - dt.timedelta(days=2))
    make_task(practice, "billing", role="billing", due=now - dt.timedelta(days=2))
    page = signed_in(staff["front_desk"]).get("/").content.decode()
    assert page.index("Call family overdue") < page.index("Call family later")
    assert "Call family billing" not in page
    assert "Overdue 2 days" in page
    assert 'href="/tasks/"' in page  # the nav and the section link
    assert "Active patients" in page  # the practice's figures stay below


def test_today_for_managers_shows_every_queue_and_the_owner_sees_escalations(practice, staff):
    now = timezone.now()
    make_task(practice, "late", role="billing", due=now - dt.timedelta(days=3))
    escalate_overdue_tasks(now=now)
    owner_page = signed_in(staff["owner"]).get("/").content.decode()
    assert "Every queue" in owner_page and "Open the team queue" in owner_page
    assert "Escalated" in owner_page and "Call family late" in owner_page
    manager_page = signed_in(staff["office_manager"]).get("/").content.decode()
    assert "Call family late" in manager_page  # in her own queue: escalated
    assert "Every queue" not in signed_in(staff["therapist"]).get("/").content.decode()


def test_my_tasks_tabs(practice, staff):
    fran = staff["front_desk"]
    now = timezone.now()
    make_task(practice, "open")
    done = make_task(practice, "done")
    complete_task(task=done, actor=fran)
    snoozed = make_task(practice, "snoozed")
    from pedsdesk.workqueue.actions import snooze_task

    snooze_task(task=snoozed, actor=fran, until=now + dt.timedelta(hours=5))
    client = signed_in(fran)
    page = client.get("/tasks/").content.decode()
    assert "Call family open" in page and "Call family snoozed" not in page and "Call family done" not in page
    assert "Snoozed (1)" in page
    assert "Call family snoozed" in client.get("/tasks/?show=snoozed").content.decode()
    assert "Call family done" in client.get("/tasks/?show=done").content.decode()


def test_claim_and_complete_by_htmx_swap_the_row(practice, staff, guardian_task):
    client = signed_in(staff["front_desk"])
    response = client.post(f"/tasks/{guardian_task.pk}/claim/", {"layout": "mine", "next": "/tasks/"}, **HTMX)
    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="task-{guardian_task.pk}"')
    assert "In progress" in row and "Claimed." in row
    assert ">Claim<" not in row  # it is hers now
    guardian_task.refresh_from_db()
    assert guardian_task.status == TaskStatus.CLAIMED and guardian_task.assignee == staff["front_desk"]

    response = client.post(f"/tasks/{guardian_task.pk}/complete/", {"layout": "mine"}, **HTMX)
    row = response.content.decode()
    assert "Done" in row and "task-closed" in row and ">Complete<" not in row
    guardian_task.refresh_from_db()
    assert guardian_task.status == TaskStatus.DONE and guardian_task.closed_by == staff["front_desk"]


def test_plain_posts_redirect_with_a_message(practice, staff, guardian_task):
    client = signed_in(staff["front_desk"])
    response = client.post(f"/tasks/{guardian_task.pk}/complete/", {"next": "/tasks/", "note": "got an email"})
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    page = client.get("/tasks/").content.decode()
    assert "Done: Get a way to reach Rosa Lopez" in page
    guardian_task.refresh_from_db()
    assert guardian_task.business_status == "got an email"
    # An address elsewhere is not followed.
    response = client.post(f"/tasks/{guardian_task.pk}/claim/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/tasks/{guardian_task.pk}/"


def test_completing_a_closed_task_says_so_and_changes_nothing(practice, staff, guardian_task):
    complete_task(task=guardian_task, actor=staff["front_desk"], note="first")
    response = signed_in(staff["front_desk"]).post(f"/tasks/{guardian_task.pk}/complete/",
                                                   {"layout": "mine", "note": "second"}, **HTMX)
    assert response.status_code == 200
    assert "This task is already done; nothing changed." in response.content.decode()
    guardian_task.refresh_from_db()
    assert guardian_task.business_status == "first"


def test_snoozing_to_a_past_time_says_so_and_changes_nothing(practice, staff, guardian_task):
    client = signed_in(staff["front_desk"])
    response = client.post(f"/tasks/{guardian_task.pk}/snooze/", {"layout": "detail", "snooze": "1h",
                                                                   "until": "2020-01-01T09:00"}, **HTMX)
    body = response.content.decode()
    assert 'id="task-detail"' in body and "Snooze until a time in the future" in body
    response = client.post(f"/tasks/{guardian_task.pk}/snooze/", {"layout": "mine", "until": "next tuesday"}, **HTMX)
    assert "Enter the snooze time as a date and time" in response.content.decode()
    response = client.post(f"/tasks/{guardian_task.pk}/snooze/", {"layout": "mine", "snooze": "forever"}, **HTMX)
    assert "Choose how long" in response.content.decode()
    guardian_task.refresh_from_db()
    assert guardian_task.status == TaskStatus.OPEN and guardian_task.snoozed_until is None


def test_snooze_until_tomorrow_morning_in_the_practices_time_zone(practice, staff, guardian_task):
    signed_in(staff["front_desk"]).post(f"/tasks/{guardian_task.pk}/snooze/", {"snooze": "tomorrow"})
    guardian_task.refresh_from_db()
    local = guardian_task.snoozed_until.astimezone(practice.zone)
    assert guardian_task.status == TaskStatus.SNOOZED
    assert (local.hour, local.minute) == (8, 0)
    assert local.date() == practice.local_now().date() + dt.timedelta(days=1)


def test_reassign_to_someone_of_another_practice_is_refused(practice, staff, guardian_task, outsider):
    client = signed_in(staff["office_manager"])
    response = client.post(f"/tasks/{guardian_task.pk}/reassign/", {"layout": "team", "to": f"staff:{outsider.pk}"},
                           **HTMX)
    assert "Choose someone from this practice" in response.content.decode()
    guardian_task.refresh_from_db()
    assert guardian_task.assignee is None and guardian_task.role == "front_desk"
    response = client.post(f"/tasks/{guardian_task.pk}/reassign/", {"layout": "team",
                                                                      "to": f"staff:{staff['therapist'].pk}"}, **HTMX)
    assert "Theo Tester" in response.content.decode()
    guardian_task.refresh_from_db()
    assert guardian_task.assignee == staff["therapist"] and guardian_task.status == TaskStatus.CLAIMED


def test_someone_elses_task_cannot_be_worked(practice, staff, guardian_task):
    response = signed_in(staff["billing"]).post(f"/tasks/{guardian_task.pk}/claim/", {"layout": "mine"}, **HTMX)
    assert "not yours" in response.content.decode()
    guardian_task.refresh_from_db()
    assert guardian_task.status == TaskStatus.OPEN


def test_task_detail_shows_reason_subject_link_history_and_actions(practice, patient, staff, guardian_task):
    claim_task(task=guardian_task, actor=staff["front_desk"])
    page = signed_in(staff["front_desk"]).get(f"/tasks/{guardian_task.pk}/").content.decode()
    guardian = patient.guardians.get()
    assert "Rosa replied STOP and has no email." in page
    assert f'href="/guardians/{guardian.pk}/"' in page
    assert "Opened" in page and "Claimed" in page and "fran (Front desk)" in page
    assert ">Complete<" in page and "Hand to" in page and 'type="datetime-local"' in page
    # Someone who may not work it sees it, without the actions.
    other = signed_in(staff["billing"]).get(f"/tasks/{guardian_task.pk}/").content.decode()
    assert "Rosa replied STOP" in other and ">Complete<" not in other


def test_viewing_a_task_is_audited_with_its_child(practice, patient, staff):
    task = open_task(practice=practice, kind="chart", spec=TaskSpec(dedupe_key="c", title="Check chart",
                                                                    subject=patient, role="front_desk"))[0]
    signed_in(staff["front_desk"]).get(f"/tasks/{task.pk}/")
    from pedsdesk.audit.models import AuditEvent

    event = AuditEvent.objects.get(action="view", object_type="workqueue.task")
    assert event.patient_id == patient.pk


def test_another_practices_task_is_404_for_every_page_and_action(practice, staff, guardian_task, outsider):
    client = signed_in(outsider)
    assert client.get(f"/tasks/{guardian_task.pk}/").status_code == 404
    for action in ("claim", "complete", "snooze", "reassign"):
        assert client.post(f"/tasks/{guardian_task.pk}/{action}/", {"snooze": "1h"}, **HTMX).status_code == 404
    guardian_task.refresh_from_db()
    assert guardian_task.status == TaskStatus.OPEN
    assert b"Rosa" not in client.get("/tasks/").content


def test_team_queue_filters(practice, staff):
    now = timezone.now()
    make_task(practice, "front")
    make_task(practice, "bill", role="billing", due=now - dt.timedelta(days=3))
    make_task(practice, "theo", role="therapist", assignee=staff["therapist"])
    escalate_overdue_tasks(now=now)
    client = signed_in(staff["office_manager"])
    page = client.get("/tasks/team/").content.decode()
    assert all(f"Call family {k}" in page for k in ("front", "bill", "theo"))
    page = client.get("/tasks/team/?role=billing").content.decode()
    assert "Call family bill" in page and "Call family front" not in page
    page = client.get(f"/tasks/team/?assignee={staff['therapist'].pk}").content.decode()
    assert "Call family theo" in page and "Call family bill" not in page
    page = client.get("/tasks/team/?escalated=on").content.decode()
    assert "Call family bill" in page and "Call family front" not in page
    page = client.get("/tasks/team/?status=done").content.decode()
    assert "No tasks match." in page
    assert client.get("/tasks/team/?assignee=nonsense&page=9").status_code == 200


def test_a_task_given_to_a_therapist_counts_in_the_therapists_queue_not_under_no_role(practice, staff):
    # The family's question goes to the treating therapist by name, with no role queue.
    make_task(practice, "question", role="", assignee=staff["therapist"])
    client = signed_in(staff["office_manager"])
    today = client.get("/").content.decode()
    assert "No role" not in today
    page = client.get("/tasks/team/?role=therapist").content.decode()
    assert "Call family question" in page


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/", "/tasks/", "/tasks/?show=snoozed", "/tasks/?show=done", "/tasks/team/"])
def test_list_pages_cost_the_same_queries_for_3_or_30_tasks(practice, staff, patient, url):
    client = signed_in(staff["office_manager"])
    now = timezone.now()
    other_maria = make_staff(practice, "mona", "office_manager")

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            task = make_task(practice, f"k{i}", role="office_manager", due=now + dt.timedelta(hours=i - 10),
                             assignee=other_maria if i % 3 == 0 else None, priority=Priority.HIGH)
            if i % 4 == 0:
                complete_task(task=task, actor=staff["office_manager"])
            elif i % 5 == 0:
                from pedsdesk.workqueue.actions import snooze_task

                snooze_task(task=task, actor=staff["office_manager"], until=now + dt.timedelta(days=1))

    add(3, 0)
    _queries(client, url)  # the practice's policies are memoized by the first request
    few = _queries(client, url)
    add(27, 3)
    assert _queries(client, url) == few


def test_task_detail_queries_do_not_grow_with_its_history(practice, staff, guardian_task):
    from pedsdesk.workqueue.actions import reassign_task

    client = signed_in(staff["office_manager"])
    url = f"/tasks/{guardian_task.pk}/"
    reassign_task(task=guardian_task, actor=staff["office_manager"], assignee=staff["front_desk"])
    first = _queries(client, url)
    for member in (staff["therapist"], staff["billing"], staff["owner"]):
        reassign_task(task=guardian_task, actor=staff["office_manager"], assignee=member)
    assert _queries(client, url) == first


def test_every_page_is_practice_scoped_even_with_the_same_role_names(db):
    here, there = make_practice(), make_practice("Elsewhere", npi="1245319599")
    fran_here = make_staff(here, "fran", "front_desk")
    make_staff(there, "fred", "front_desk")
    make_patient(there, "Zed", "Outside")
    make_task(there, "theirs")
    assert b"Call family theirs" not in signed_in(fran_here).get("/tasks/").content
    assert b"Call family theirs" not in signed_in(fran_here).get("/").content
    assert Task.objects.count() == 1

"""The tasks API: my tasks, the team's, one task, and claim/complete/snooze/reassign,
with 401, 403, 404, 409 and 422 where they belong."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pedsdesk.audit.models import AuditEvent
from pedsdesk.practices.actions import create_api_token
from pedsdesk.workqueue.actions import TaskSpec, complete_task, escalate_overdue_tasks, open_task
from pedsdesk.workqueue.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def api_as(user) -> Client:
    return Client(headers={"authorization": f"Bearer {create_api_token(staff_member=user, name='tests')}"})


def make_task(practice, key="t", *, role="front_desk", due=None, assignee=None, subject=None):
    spec = TaskSpec(dedupe_key=key, title=f"Task {key}", role=role, due_at=due, assignee=assignee, subject=subject,
                    reason=f"Because {key}", links=[{"label": "Chart", "url": "/patients/1/"}])
    return open_task(practice=practice, kind="guardian_unreachable", spec=spec, rule="guardian_unreachable")[0]


@pytest.fixture
def task(practice, patient):
    return make_task(practice, "g", subject=patient.guardians.get(), due=timezone.now() - dt.timedelta(hours=2))


def test_spec_lists_the_task_endpoints():
    raw = Client().get("/api/v1/openapi.json").content.decode()
    assert raw.count('"409"') == raw.count('"409": {"description": "The change conflicts')  # no key twice
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/tasks", "/api/v1/tasks/mine", "/api/v1/tasks/{task_id}", "/api/v1/tasks/{task_id}/claim",
            "/api/v1/tasks/{task_id}/complete", "/api/v1/tasks/{task_id}/snooze",
            "/api/v1/tasks/{task_id}/reassign"} <= set(paths)
    assert paths["/api/v1/tasks"]["get"]["x-permission"] == "tasks.assign"
    assert paths["/api/v1/tasks/{task_id}/claim"]["post"]["x-permission"] == "tasks.work"


def test_my_tasks(practice, staff, task):
    make_task(practice, "bill", role="billing")
    mine = make_task(practice, "mine", role="", assignee=staff["front_desk"], due=timezone.now() + dt.timedelta(days=1))
    body = api_as(staff["front_desk"]).get("/api/v1/tasks/mine").json()
    assert body["count"] == 2
    assert [t["id"] for t in body["items"]] == [task.pk, mine.pk]  # overdue first
    first = body["items"][0]
    assert first["overdue"] is True and first["kind_label"] == "Guardian we cannot reach"
    assert first["subject_type"] == "people.guardian" and first["reason"] == "Because g"
    assert first["links"] == [{"label": "Chart", "url": "/patients/1/"}]
    assert first["priority_label"] == "Normal" and first["assignee"] is None
    overdue = api_as(staff["front_desk"]).get("/api/v1/tasks/mine?overdue=false").json()
    assert [t["id"] for t in overdue["items"]] == [mine.pk]
    assert AuditEvent.objects.filter(action="list", object_type="workqueue.task").exists()


def test_team_tasks_with_filters(practice, staff, task):
    bill = make_task(practice, "bill", role="billing", due=timezone.now() - dt.timedelta(days=3))
    escalate_overdue_tasks()
    client = api_as(staff["office_manager"])
    assert client.get("/api/v1/tasks").json()["count"] == 2
    assert [t["id"] for t in client.get("/api/v1/tasks?role=billing").json()["items"]] == [bill.pk]
    assert [t["id"] for t in client.get("/api/v1/tasks?escalated=true").json()["items"]] == [bill.pk]
    assert client.get("/api/v1/tasks?status=done").json()["count"] == 0
    response = client.get("/api/v1/tasks?role=janitor")
    assert response.status_code == 422 and "role" in response.json()["fields"]


def test_team_tasks_need_tasks_assign(staff, task):
    response = api_as(staff["front_desk"]).get("/api/v1/tasks")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied" and "tasks.assign" in response.json()["message"]


def test_no_token_is_401(task):
    for method, path in (("get", "/api/v1/tasks/mine"), ("get", f"/api/v1/tasks/{task.pk}"),
                         ("post", f"/api/v1/tasks/{task.pk}/claim")):
        response = getattr(Client(), method)(path)
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_get_a_task_and_another_practices_is_404(staff, task, outsider):
    body = api_as(staff["therapist"]).get(f"/api/v1/tasks/{task.pk}").json()
    assert body["id"] == task.pk and body["title"] == "Task g"
    response = api_as(outsider).get(f"/api/v1/tasks/{task.pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    for action in ("claim", "complete"):
        assert api_as(outsider).post(f"/api/v1/tasks/{task.pk}/{action}", {},
                                     content_type="application/json").status_code == 404
    assert api_as(staff["front_desk"]).get("/api/v1/tasks/999999").status_code == 404


def test_claim_then_complete(staff, task):
    client = api_as(staff["front_desk"])
    body = client.post(f"/api/v1/tasks/{task.pk}/claim").json()
    assert body["status"] == "claimed" and body["assignee"]["name"] == "Fran Tester"
    body = client.post(f"/api/v1/tasks/{task.pk}/complete", {"note": "emailed"}, content_type="application/json").json()
    assert body["status"] == "done" and body["business_status"] == "emailed" and body["closed_at"]
    response = client.post(f"/api/v1/tasks/{task.pk}/complete", {}, content_type="application/json")
    assert response.status_code == 409
    assert response.json() == {"code": "conflict", "message": "This task is already done; nothing changed."}


def test_complete_without_a_body(staff, task):
    response = api_as(staff["front_desk"]).post(f"/api/v1/tasks/{task.pk}/complete", "",
                                                content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "done"


def test_working_someone_elses_task_is_403(staff, task):
    response = api_as(staff["billing"]).post(f"/api/v1/tasks/{task.pk}/claim")
    assert response.status_code == 403 and "not yours" in response.json()["message"]
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_snooze(practice, staff, task):
    client = api_as(staff["front_desk"])
    local = (practice.local_now() + dt.timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    body = client.post(f"/api/v1/tasks/{task.pk}/snooze", {"until": local.replace(tzinfo=None).isoformat()},
                       content_type="application/json").json()
    assert body["status"] == "snoozed"
    assert dt.datetime.fromisoformat(body["snoozed_until"]) == local  # naive means the practice's local time
    assert client.get("/api/v1/tasks/mine").json()["count"] == 0
    assert client.get("/api/v1/tasks/mine?snoozed=true").json()["count"] == 1


@pytest.mark.parametrize("payload, field", [
    ({"until": "2020-01-01T09:00:00Z"}, "until"),
    ({"until": "not a time"}, "until"),
    ({}, "until"),
    ({"until": "2099-01-01T09:00:00Z", "extra": 1}, "extra"),
])
def test_bad_snooze_is_422_and_changes_nothing(staff, task, payload, field):
    response = api_as(staff["front_desk"]).post(f"/api/v1/tasks/{task.pk}/snooze", payload,
                                                content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"]
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_reassign_to_a_person_or_a_queue(staff, task):
    client = api_as(staff["office_manager"])
    body = client.post(f"/api/v1/tasks/{task.pk}/reassign", {"assignee_id": staff["therapist"].pk},
                       content_type="application/json").json()
    assert body["assignee"]["id"] == staff["therapist"].pk and body["status"] == "claimed"
    body = client.post(f"/api/v1/tasks/{task.pk}/reassign", {"role": "billing"},
                       content_type="application/json").json()
    assert body["assignee"] is None and body["role"] == "billing" and body["status"] == "open"


@pytest.mark.parametrize("payload, field", [
    ({"assignee_id": "OUTSIDER"}, "assignee_id"),
    ({"assignee_id": 999999}, "assignee_id"),
    ({"role": "janitor"}, "role"),
    ({}, "non_field_errors"),
    ({"assignee_id": "ME", "role": "billing"}, "non_field_errors"),
])
def test_bad_reassign_is_422_and_changes_nothing(staff, task, outsider, payload, field):
    ids = {"OUTSIDER": outsider.pk, "ME": staff["office_manager"].pk}
    payload = {k: ids.get(v, v) for k, v in payload.items()}
    response = api_as(staff["office_manager"]).post(f"/api/v1/tasks/{task.pk}/reassign", payload,
                                                    content_type="application/json")
    assert response.status_code == 422, response.json()
    assert field in response.json()["fields"]
    task.refresh_from_db()
    assert task.assignee is None and task.role == "front_desk"


def test_closed_task_reassign_is_409(staff, task):
    complete_task(task=task, actor=staff["front_desk"])
    response = api_as(staff["office_manager"]).post(f"/api/v1/tasks/{task.pk}/reassign", {"role": "billing"},
                                                    content_type="application/json")
    assert response.status_code == 409


def test_list_queries_do_not_grow_with_tasks(practice, staff, patient):
    client = api_as(staff["office_manager"])
    for i in range(3):
        make_task(practice, f"a{i}", role="office_manager", subject=patient, assignee=staff["office_manager"])

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    few = {path: count(path) for path in ("/api/v1/tasks", "/api/v1/tasks/mine")}
    for i in range(20):
        make_task(practice, f"b{i}", role="office_manager", subject=patient, assignee=staff["office_manager"])
    assert {path: count(path) for path in few} == few

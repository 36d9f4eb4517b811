"""List tasks: the kinds that come in dozens a day are rows of one list task per day and
queue, shown as one row of the queue and worked row by row in place."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import signed_in
from pedsdesk.workqueue.actions import TaskSpec, complete_task, escalate_overdue_tasks, open_task
from pedsdesk.workqueue.lists import gather_lists
from pedsdesk.workqueue.models import LIST_KIND, Task, TaskStatus

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
LISTED = {"reach_rule": "calls"}


def reach(practice, key, *, role="front_desk", due=None, assignee=None):
    spec = TaskSpec(dedupe_key=key, title=f"Get a way to reach family {key}", role=role, assignee=assignee,
                    due_at=due or timezone.now() + dt.timedelta(hours=2))
    return open_task(practice=practice, kind="guardian_unreachable", spec=spec, rule="reach_rule")[0]


def lists(practice):
    return list(Task.objects.filter(practice=practice, kind=LIST_KIND).order_by("pk"))


def test_a_days_rows_of_one_queue_make_one_list_due_with_its_earliest_row(practice, staff):
    now = timezone.now()
    rows = [reach(practice, f"g{i}", due=now + dt.timedelta(hours=i + 1)) for i in range(5)]
    mine = reach(practice, "mine", assignee=staff["therapist"], role="therapist")
    gather_lists(practice=practice, listed=LISTED, now=now)
    front, theirs = lists(practice)
    assert front.role == "front_desk" and front.assignee is None and front.title.startswith("Calls to make, ")
    assert front.due_at == rows[0].due_at and set(front.items.values_list("pk", flat=True)) == {r.pk for r in rows}
    assert theirs.assignee == staff["therapist"] and list(theirs.items.all()) == [mine]
    gather_lists(practice=practice, listed=LISTED, now=now)  # again: nothing changes
    assert len(lists(practice)) == 2


def test_gathering_again_when_nothing_changed_reads_the_rows_and_the_lists_once(practice, staff):
    """Every minute's rules gather the lists: a quiet minute costs two reads, however many queues."""
    for i in range(6):
        reach(practice, f"g{i}")
    for role in ("therapist", "office_manager", "billing"):
        reach(practice, f"r-{role}", role=role)
    gather_lists(practice=practice, listed=LISTED)
    assert len(lists(practice)) == 4
    with CaptureQueriesContext(connection) as queries:
        assert gather_lists(practice=practice, listed=LISTED) == 0
    assert len(queries) == 2


def test_my_tasks_shows_the_list_as_one_row_with_its_rows_inside(practice, staff):
    for i in range(30):
        reach(practice, f"g{i}")
    gather_lists(practice=practice, listed=LISTED)
    body = signed_in(staff["front_desk"]).get("/tasks/").content.decode()
    assert body.count('class="task task-list') == 1 and "Work the list (30)" in body
    assert body.count('<li id="task-') == 25 and "All 30 rows of this list" in body
    assert "Open (1)" in body


def test_filtering_by_kind_shows_the_rows_one_by_one(practice, staff):
    for i in range(3):
        reach(practice, f"g{i}")
    gather_lists(practice=practice, listed=LISTED)
    client = signed_in(staff["front_desk"])
    body = client.get("/tasks/", {"kind": "guardian_unreachable"}).content.decode()
    assert body.count('class="task"') == 3 and "task-list" not in body
    assert '<option value="guardian_unreachable" selected>' in body
    # An unknown kind is ignored, not an error.
    assert client.get("/tasks/", {"kind": "<script>"}).status_code == 200


def test_long_queues_are_paged(practice, staff):
    now = timezone.now()
    for i in range(45):
        open_task(practice=practice, kind="coverage_ending", spec=TaskSpec(
            dedupe_key=f"c{i}", title=f"Coverage {i}", role="front_desk", due_at=now + dt.timedelta(hours=i)))
    client = signed_in(staff["front_desk"])
    first = client.get("/tasks/").content.decode()
    assert first.count('class="task"') == 40 and "Page 1 of 2" in first
    second = client.get("/tasks/", {"page": 2}).content.decode()
    assert second.count('class="task"') == 5 and "Coverage 44" in second
    assert client.get("/tasks/", {"page": "x"}).status_code == 200


def test_yesterdays_leftovers_move_into_todays_list_and_yesterdays_closes(practice, staff):
    yesterday = timezone.now() - dt.timedelta(days=1)
    row = reach(practice, "old")
    gather_lists(practice=practice, listed=LISTED, now=yesterday)
    [old] = lists(practice)
    gather_lists(practice=practice, listed=LISTED)
    old.refresh_from_db()
    row.refresh_from_db()
    assert old.status == TaskStatus.CANCELLED and row.parent != old and row.parent.is_open


def test_the_last_row_done_in_place_closes_the_list(practice, staff):
    first, second = reach(practice, "a"), reach(practice, "b")
    gather_lists(practice=practice, listed=LISTED)
    client = signed_in(staff["front_desk"])
    answer = client.post(f"/tasks/{first.pk}/complete/", {"layout": "item", "note": "Left a message"}, **HTMX)
    body = answer.content.decode()
    assert body.lstrip().startswith(f'<li id="task-{first.pk}"') and "Done." in body
    [listed] = lists(practice)
    assert listed.is_open
    client.post(f"/tasks/{second.pk}/complete/", {"layout": "item"}, **HTMX)
    listed.refresh_from_db()
    assert listed.status == TaskStatus.CANCELLED and listed.business_status == "every row is done"


def test_rows_escalate_with_their_list_not_one_by_one(practice, staff):
    past = timezone.now() - dt.timedelta(days=2)
    for i in range(3):
        reach(practice, f"g{i}", due=past)
    gather_lists(practice=practice, listed=LISTED)
    assert escalate_overdue_tasks() == 1
    assert Task.objects.get(escalated_at__isnull=False).kind == LIST_KIND


def test_a_list_cannot_be_completed_as_a_whole(practice, staff):
    reach(practice, "a")
    gather_lists(practice=practice, listed=LISTED)
    body = signed_in(staff["front_desk"]).get("/tasks/").content.decode()
    head = body[body.index('class="list-head"'):body.index("Work the list")]
    assert "Complete" not in head and "Claim" in head


def test_a_list_page_shows_every_row_paged(practice, staff):
    for i in range(30):
        reach(practice, f"g{i}")
    gather_lists(practice=practice, listed=LISTED)
    [listed] = lists(practice)
    client = signed_in(staff["front_desk"])
    assert client.get(f"/tasks/{listed.pk}/").content.decode().count('<li id="task-') == 25
    assert client.get(f"/tasks/{listed.pk}/", {"page": 2}).content.decode().count('<li id="task-') == 5


def test_my_tasks_costs_the_same_queries_for_3_or_30_rows(practice, staff):
    client = signed_in(staff["front_desk"])
    for i in range(3):
        reach(practice, f"g{i}")
    gather_lists(practice=practice, listed=LISTED)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/tasks/").status_code == 200
        return len(captured)

    few = count()
    for i in range(3, 30):
        reach(practice, f"g{i}")
    gather_lists(practice=practice, listed=LISTED)
    assert count() == few


def test_a_done_row_stays_done_and_its_list_reopens_only_for_new_rows(practice, staff):
    row = reach(practice, "a")
    gather_lists(practice=practice, listed=LISTED)
    complete_task(task=row, actor=staff["front_desk"])
    gather_lists(practice=practice, listed=LISTED)
    assert not Task.objects.filter(kind=LIST_KIND, status__in=("open", "claimed")).exists()

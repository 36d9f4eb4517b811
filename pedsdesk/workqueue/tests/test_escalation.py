"""Escalation of overdue tasks, who may work which task, and the queues' order."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from conftest import make_staff
from pedsdesk.audit.models import AuditEvent
from pedsdesk.workqueue.actions import (
    NotYourTaskError,
    TaskActionError,
    TaskClosedError,
    TaskSpec,
    claim_task,
    complete_task,
    escalate_overdue_tasks,
    open_task,
    reassign_task,
    snooze_task,
)
from pedsdesk.workqueue.models import Priority, Task, TaskStatus
from pedsdesk.workqueue.queries import personal_queue

pytestmark = pytest.mark.django_db


def make_task(practice, key="t", *, role="front_desk", due=None, assignee=None, priority=Priority.NORMAL, **kwargs):
    spec = TaskSpec(dedupe_key=key, title=f"Task {key}", role=role, due_at=due, assignee=assignee,
                    priority=priority, **kwargs)
    return open_task(practice=practice, kind="test", spec=spec)[0]


def test_overdue_past_the_grace_escalates_once_and_rises_in_priority(practice, staff):
    now = timezone.now()
    late = make_task(practice, "late", due=now - dt.timedelta(hours=25))
    recent = make_task(practice, "recent", due=now - dt.timedelta(hours=23))
    urgent = make_task(practice, "urgent", due=now - dt.timedelta(days=3), priority=Priority.URGENT)
    assert escalate_overdue_tasks(now=now) == 2
    assert escalate_overdue_tasks(now=now) == 0  # once
    late.refresh_from_db()
    recent.refresh_from_db()
    urgent.refresh_from_db()
    assert late.escalated_at == now and late.priority == Priority.HIGH
    assert recent.escalated_at is None and recent.priority == Priority.NORMAL
    assert urgent.priority == Priority.URGENT  # already the top
    event = AuditEvent.objects.get(action="task_escalated", object_id=str(late.pk))
    assert event.actor_label == "pedsdesk" and event.practice_id == practice.pk


@override_settings(PEDSDESK_ESCALATION_GRACE_HOURS=2)
def test_the_grace_is_configurable(practice, staff):
    now = timezone.now()
    make_task(practice, "late", due=now - dt.timedelta(hours=3))
    assert escalate_overdue_tasks(now=now) == 1


def test_snoozed_done_and_undated_tasks_do_not_escalate(practice, staff):
    now = timezone.now()
    snoozed = make_task(practice, "snoozed", due=now - dt.timedelta(days=3))
    snooze_task(task=snoozed, actor=staff["front_desk"], until=now + dt.timedelta(hours=2))
    done = make_task(practice, "done", due=now - dt.timedelta(days=3))
    complete_task(task=done, actor=staff["front_desk"])
    make_task(practice, "undated")
    assert escalate_overdue_tasks(now=now) == 0


def test_escalated_tasks_show_in_the_office_managers_queue(practice, staff):
    now = timezone.now()
    billing_task = make_task(practice, "bill", role="billing", due=now - dt.timedelta(days=2))
    escalate_overdue_tasks(now=now)
    manager_queue = personal_queue(staff["office_manager"])
    assert [t.pk for t in manager_queue.overdue] == [billing_task.pk]
    assert manager_queue.counts["escalated"] == 1 and manager_queue.includes_escalated
    assert personal_queue(staff["owner"]).total == 0
    assert [t.pk for t in personal_queue(staff["billing"]).overdue] == [billing_task.pk]
    assert personal_queue(staff["front_desk"]).total == 0


def test_without_an_office_manager_escalations_go_to_the_owner(practice, staff):
    staff["office_manager"].is_active = False
    staff["office_manager"].save()
    now = timezone.now()
    make_task(practice, "bill", role="billing", due=now - dt.timedelta(days=2))
    escalate_overdue_tasks(now=now)
    assert personal_queue(staff["owner"]).counts["escalated"] == 1


def test_personal_queue_order_and_buckets(practice, staff):
    now = timezone.now()
    fran = staff["front_desk"]
    later = make_task(practice, "later", due=now + dt.timedelta(days=3))
    undated = make_task(practice, "undated")
    overdue = make_task(practice, "overdue", due=now - dt.timedelta(hours=1))
    very_overdue = make_task(practice, "very", due=now - dt.timedelta(days=2))
    mine = make_task(practice, "mine", role="", assignee=fran, due=now + dt.timedelta(days=1))
    make_task(practice, "someone else's", role="billing", due=now - dt.timedelta(days=1))
    colleague = make_staff(practice, "frida", "front_desk")
    claimed_by_colleague = make_task(practice, "frida's")
    claim_task(task=claimed_by_colleague, actor=colleague)
    queue = personal_queue(fran, now=now)
    assert [t.pk for t in queue.overdue] == [very_overdue.pk, overdue.pk]
    assert [t.pk for t in queue.later] == [mine.pk, later.pk, undated.pk]
    assert queue.counts == {"overdue": 2, "today": 0, "later": 3, "escalated": 0, "snoozed": 0}
    assert queue.overdue[0].due_label == "Overdue 2 days"


def test_only_ones_own_or_ones_roles_unclaimed_tasks_may_be_worked(practice, staff):
    fran, theo, maria = staff["front_desk"], staff["therapist"], staff["office_manager"]
    task = make_task(practice, "front")
    with pytest.raises(NotYourTaskError, match="Front desk's queue"):
        complete_task(task=task, actor=theo)
    claim_task(task=task, actor=fran)
    frida = make_staff(practice, "frida", "front_desk")
    with pytest.raises(NotYourTaskError, match="Fran Tester"):
        claim_task(task=task, actor=frida)
    # The office manager may take it over.
    task = claim_task(task=task, actor=maria)
    assert task.assignee == maria
    assert Task.objects.get(pk=task.pk).assignee == maria


def test_closed_tasks_refuse_every_action(practice, staff):
    fran = staff["front_desk"]
    task = make_task(practice, "x")
    complete_task(task=task, actor=fran)
    for change in (lambda: claim_task(task=task, actor=fran), lambda: complete_task(task=task, actor=fran),
                   lambda: snooze_task(task=task, actor=fran, until=timezone.now() + dt.timedelta(hours=1)),
                   lambda: reassign_task(task=task, actor=fran, role="billing")):
        with pytest.raises(TaskClosedError, match="already done"):
            change()


def test_reassign_checks_its_target(practice, staff, outsider):
    fran, maria = staff["front_desk"], staff["office_manager"]
    task = make_task(practice, "x")
    with pytest.raises(TaskActionError, match="this practice"):
        reassign_task(task=task, actor=fran, assignee=outsider)
    with pytest.raises(TaskActionError, match="no role"):
        reassign_task(task=task, actor=fran, role="janitor")
    maria.is_active = False
    maria.save()
    with pytest.raises(TaskActionError, match="no longer works here"):
        reassign_task(task=task, actor=fran, assignee=maria)
    task = reassign_task(task=task, actor=fran, role="billing")
    assert task.role == "billing" and task.assignee is None and task.status == TaskStatus.OPEN
    assert Task.objects.get(pk=task.pk).updated_at >= task.created_at


def test_snooze_limits(practice, staff):
    fran = staff["front_desk"]
    task = make_task(practice, "x")
    with pytest.raises(TaskActionError, match="90 days"):
        snooze_task(task=task, actor=fran, until=timezone.now() + dt.timedelta(days=91))
    with pytest.raises(TaskActionError, match="time zone"):
        snooze_task(task=task, actor=fran, until=dt.datetime(2030, 1, 1, 9, 0))  # noqa: DTZ001
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN

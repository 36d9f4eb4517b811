import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pedsdesk.audit.models import AuditEvent
from pedsdesk.workqueue.actions import (
    TaskSpec,
    claim_task,
    complete_task,
    open_task,
    reassign_task,
    snooze_task,
    sync_rule,
    wake_snoozed_tasks,
)
from pedsdesk.workqueue.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def _specs(patient, *keys):
    guardian = patient.guardians.get()
    return [TaskSpec(dedupe_key=f"reach:{k}", title=f"Call {guardian}", subject=guardian, role="front_desk")
            for k in keys]


def test_a_rule_opens_once_and_closes_when_the_condition_clears(practice, patient):
    assert sync_rule(practice=practice, rule="reach", kind="unreachable", specs=_specs(patient, 1, 2)) == (2, 0)
    assert sync_rule(practice=practice, rule="reach", kind="unreachable", specs=_specs(patient, 1, 2)) == (0, 0)
    assert sync_rule(practice=practice, rule="reach", kind="unreachable", specs=_specs(patient, 2)) == (0, 1)
    statuses = dict(Task.objects.values_list("dedupe_key", "status"))
    assert statuses == {"reach:1": TaskStatus.CANCELLED, "reach:2": TaskStatus.OPEN}
    # The condition comes back: a new task, the closed one stays closed.
    assert sync_rule(practice=practice, rule="reach", kind="unreachable", specs=_specs(patient, 1, 2)) == (1, 0)
    assert Task.objects.filter(dedupe_key="reach:1").count() == 2


def test_a_rule_leaves_a_task_opened_elsewhere_alone_and_opens_many_in_a_few_queries(practice, patient):
    open_task(practice=practice, kind="unreachable", spec=_specs(patient, 3)[0])  # by hand, no rule
    with CaptureQueriesContext(connection) as few:
        assert sync_rule(practice=practice, rule="reach", kind="unreachable", specs=_specs(patient, 1, 3)) == (1, 0)
    with CaptureQueriesContext(connection) as many:
        assert sync_rule(practice=practice, rule="more", kind="unreachable",
                         specs=_specs(patient, *range(10, 30))) == (20, 0)
    assert Task.objects.filter(dedupe_key="reach:3", status=TaskStatus.OPEN).count() == 1
    assert AuditEvent.objects.filter(action="task_opened").count() == 1 + 1 + 20
    # The new tasks are one insert, their audit events written together: 20 cost what 1 does.
    assert len(many) - len(few) <= 2, (len(few), len(many))


def test_a_key_opened_by_hand_while_the_rule_runs_loses_quietly_to_the_person(practice, patient, monkeypatch):
    from pedsdesk.workqueue import actions

    # The person's task committed just after the rule read which keys are open.
    open_task(practice=practice, kind="unreachable", spec=_specs(patient, 2)[0])
    monkeypatch.setattr(actions, "_open_elsewhere", lambda practice, keys: set())
    assert sync_rule(practice=practice, rule="reach", kind="unreachable", specs=_specs(patient, 1, 2, 3)) == (2, 0)
    open_tasks = Task.objects.filter(status=TaskStatus.OPEN)
    assert sorted(open_tasks.values_list("dedupe_key", "rule")) == [
        ("reach:1", "reach"), ("reach:2", ""), ("reach:3", "reach")]
    # One event for the person's task, one for each the rule opened; none for the insert undone.
    assert sorted(AuditEvent.objects.filter(action="task_opened").values_list("object_id", flat=True)) == sorted(
        str(pk) for pk in open_tasks.values_list("pk", flat=True))


def test_task_about_a_guardian_knows_the_child(practice, patient):
    task, created = open_task(practice=practice, kind="unreachable", spec=_specs(patient, 1)[0])
    assert created and task.patient_id is None  # a guardian is not one child's record
    spec = TaskSpec(dedupe_key="chart", title="Check chart", subject=patient)
    task, _ = open_task(practice=practice, kind="chart", spec=spec)
    assert task.patient_id == patient.pk


def test_claim_snooze_reassign_complete(practice, patient, front_desk, office_manager):
    task, _ = open_task(practice=practice, kind="unreachable", spec=_specs(patient, 1)[0])
    task = claim_task(task=task, actor=front_desk)
    assert task.assignee == front_desk and task.status == TaskStatus.CLAIMED
    with pytest.raises(ValueError, match="future"):
        snooze_task(task=task, actor=front_desk, until=timezone.now() - dt.timedelta(hours=1))
    task = snooze_task(task=task, actor=front_desk, until=timezone.now() + dt.timedelta(hours=1))
    assert wake_snoozed_tasks(now=timezone.now() + dt.timedelta(hours=2)) == 1
    task = reassign_task(task=task, actor=front_desk, assignee=office_manager)
    assert task.assignee == office_manager
    task = complete_task(task=task, actor=office_manager, note="left voicemail")
    assert task.status == TaskStatus.DONE and task.closed_by == office_manager
    with pytest.raises(ValueError, match="already done"):
        claim_task(task=task, actor=front_desk)


def test_reassigning_to_another_practice_is_refused(practice, patient, front_desk, outsider):
    task, _ = open_task(practice=practice, kind="unreachable", spec=_specs(patient, 1)[0])
    with pytest.raises(ValueError, match="this practice"):
        reassign_task(task=task, actor=front_desk, assignee=outsider)

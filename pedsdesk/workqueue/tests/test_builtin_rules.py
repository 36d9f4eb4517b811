"""The foundation rules, each opening its task when the condition appears and closing
it when it clears, run the way the hourly sweep runs them."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from conftest import make_coverage, make_guardian, make_patient, make_payer, make_plan_of_care, make_staff
from pedsdesk.audit.models import AuditEvent
from pedsdesk.authorizations.models import PayerType
from pedsdesk.people.models import PlanOfCare
from pedsdesk.sweeps import registered
from pedsdesk.workqueue.actions import complete_task
from pedsdesk.workqueue.models import Priority, Task, TaskStatus
from pedsdesk.workqueue.rules import registered_rules, run_rules

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
# Thursday 10:00 in Chicago; every rule reads "today" in the practice's time zone.
NOW = dt.datetime(2026, 11, 12, 10, 0, tzinfo=CHICAGO)
TODAY = NOW.date()


def run(now: dt.datetime = NOW) -> dict:
    return run_rules(now=now)


def open_tasks(rule: str) -> list[Task]:
    return list(Task.objects.filter(rule=rule, status__in=["open", "claimed", "snoozed"]).order_by("pk"))


def test_the_foundation_rules_and_the_sweeps_are_registered():
    assert {r.name for r in registered_rules()} >= {
        "guardian_unreachable", "plan_of_care_ending", "patient_without_plan_of_care", "coverage_ending"}
    sweeps = {s.name: s.schedule for s in registered()}
    assert sweeps["workqueue.rules_hourly"] == "hourly"
    assert sweeps["workqueue.escalate"] == "hourly"
    assert sweeps["workqueue.daily_digest"] == "hourly"
    assert sweeps["workqueue.wake_snoozed"] == "minute"


def test_rules_are_idempotent(practice, patient):
    make_patient(practice, "Noah", "Kim")  # no plan of care
    first = run()
    assert sum(opened for opened, _ in first.values()) >= 1
    assert all(result == (0, 0) for result in run().values())


# Guardian unreachable -> front desk


def test_guardian_who_texted_stop_and_has_no_email_goes_to_the_front_desk(practice, patient):
    rosa = patient.guardians.get()
    rosa.email = ""
    rosa.sms_opted_out_at = dt.datetime(2026, 11, 10, 15, 0, tzinfo=dt.UTC)
    rosa.save()
    run()
    [task] = open_tasks("guardian_unreachable")
    assert task.role == "front_desk" and task.assignee is None
    assert task.title == "Get a way to reach Rosa Lopez"
    assert "Rosa Lopez (mother of Ava Lopez) replied STOP to our texts on Tuesday, November 10" in task.reason
    assert "(512) 555-0142" in task.reason and "START" in task.reason
    assert task.subject == rosa and task.patient_id == patient.pk
    assert task.links[0] == {"label": "Rosa Lopez", "url": f"/guardians/{rosa.pk}/"}
    assert task.due_at is not None
    # An email address on file: reachable again, the task closes by itself.
    rosa.email = "rosa@example.org"
    rosa.save()
    assert run()["guardian_unreachable"] == (0, 1)
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and task.business_status == "condition cleared"


def test_guardian_without_phone_or_email(practice, patient):
    sibling = make_patient(practice, "Leo", "Lopez")
    rosa = patient.guardians.get()
    from pedsdesk.people.models import GuardianOf

    GuardianOf.objects.create(guardian=rosa, patient=sibling, relationship="mother")
    rosa.phone, rosa.email = "", ""
    rosa.save()
    run()
    [task] = open_tasks("guardian_unreachable")
    assert "no mobile number and no email address" in task.reason
    assert "mother of Ava Lopez and Leo Lopez" in task.reason
    assert task.patient_id is None  # two children: the task is about the guardian


def test_guardian_who_never_agreed_to_texts_and_has_no_email(practice, patient):
    rosa = patient.guardians.get()
    rosa.email, rosa.sms_consent_at = "", None
    rosa.save()
    run()
    [task] = open_tasks("guardian_unreachable")
    assert "has not agreed to text messages and has no email address" in task.reason
    assert "(512) 555-0142" in task.reason
    # Consent recorded: texts can go, the task closes.
    rosa.sms_consent_at = timezone.now()
    rosa.save()
    assert run()["guardian_unreachable"] == (0, 1)


def test_guardian_of_only_inactive_children_is_left_alone(practice, patient):
    rosa = patient.guardians.get()
    rosa.phone, rosa.email = "", ""
    rosa.save()
    patient.is_active = False
    patient.save()
    run()
    assert open_tasks("guardian_unreachable") == []


# Plan of care ending -> its therapist


def test_plan_ending_within_14_days_goes_to_its_therapist(practice, patient, therapist):
    plan = patient.plans_of_care.get()
    plan.end_date = TODAY + dt.timedelta(days=10)  # Sunday, November 22
    plan.save()
    run()
    [task] = open_tasks("plan_of_care_ending")
    assert task.assignee == therapist and task.role == "therapist"
    assert task.kind == "plan_of_care_renewal"
    assert task.title == "Renew Ava Lopez's OT plan of care (ends Nov 22)"
    assert "ends on Sunday, November 22, in 10 days" in task.reason
    assert "no new OT plan of care follows it" in task.reason
    # Due a week before it ends, at 5 pm in Chicago.
    assert task.due_at == dt.datetime(2026, 11, 15, 17, 0, tzinfo=CHICAGO)
    assert task.priority == Priority.NORMAL
    assert {"label": "Plan of care", "url": f"/plans-of-care/{plan.pk}/"} in task.links

    # The therapist enters the next plan: the condition clears.
    make_plan_of_care(patient, therapist, start_date=plan.end_date + dt.timedelta(days=1),
                      end_date=plan.end_date + dt.timedelta(days=180))
    assert run()["plan_of_care_ending"] == (0, 1)


def test_plan_ending_beyond_14_days_or_for_another_discipline(practice, patient, therapist):
    plan = patient.plans_of_care.get()
    plan.end_date = TODAY + dt.timedelta(days=15)
    plan.save()
    run()
    assert open_tasks("plan_of_care_ending") == []
    plan.end_date = TODAY + dt.timedelta(days=3)
    plan.save()
    # A later plan of another discipline does not continue this one.
    speech = make_staff(practice, "sally", "therapist", discipline="SLP")
    PlanOfCare.objects.create(patient=patient, discipline="SLP", therapist=speech, frequency_per_week=1, minutes=30,
                              start_date=TODAY, end_date=TODAY + dt.timedelta(days=90), goals="Says /s/")
    run()
    [task] = open_tasks("plan_of_care_ending")
    assert task.priority == Priority.HIGH  # within the week the payer needs


def test_moving_the_plan_end_updates_the_open_task(practice, patient):
    plan = patient.plans_of_care.get()
    plan.end_date = TODAY + dt.timedelta(days=10)
    plan.save()
    run()
    plan.end_date = TODAY + dt.timedelta(days=12)
    plan.save()
    assert run()["plan_of_care_ending"] == (0, 0)
    [task] = open_tasks("plan_of_care_ending")
    assert "(ends Nov 24)" in task.title
    assert task.due_at == dt.datetime(2026, 11, 17, 17, 0, tzinfo=CHICAGO)


def test_done_by_a_person_while_the_condition_holds_comes_back_after_the_recheck(practice, patient, therapist):
    plan = patient.plans_of_care.get()
    plan.end_date = TODAY + dt.timedelta(days=10)
    plan.save()
    run()
    [task] = open_tasks("plan_of_care_ending")
    complete_task(task=task, actor=therapist, note="re-eval booked")
    Task.objects.filter(pk=task.pk).update(closed_at=NOW)
    assert run(NOW + dt.timedelta(hours=1))["plan_of_care_ending"] == (0, 0)  # marked done: left alone for now
    assert run(NOW + dt.timedelta(days=2, hours=23))["plan_of_care_ending"] == (0, 0)
    # Three days on (this rule's recheck), still no new plan: a new task.
    assert run(NOW + dt.timedelta(days=3, minutes=1))["plan_of_care_ending"] == (1, 0)


def test_plan_of_an_inactive_therapist_goes_to_the_office_manager(practice, patient, therapist):
    plan = patient.plans_of_care.get()
    plan.end_date = TODAY + dt.timedelta(days=5)
    plan.save()
    therapist.is_active = False
    therapist.save()
    run()
    [task] = open_tasks("plan_of_care_ending")
    assert task.assignee is None and task.role == "office_manager"
    assert "no longer works here" in task.reason


# Active child without a current plan of care -> office manager


def test_child_whose_plan_ended_goes_to_the_office_manager(practice, patient, therapist):
    plan = patient.plans_of_care.get()
    plan.end_date = TODAY - dt.timedelta(days=1)
    plan.save()
    run()
    [task] = open_tasks("patient_without_plan_of_care")
    assert task.role == "office_manager" and task.assignee is None
    assert task.title == "No current plan of care: Ava Lopez"
    assert "last plan of care (OT with Theo Tester) ended on Wednesday, November 11" in task.reason
    assert task.patient_id == patient.pk
    assert {"label": "Last plan of care", "url": f"/plans-of-care/{plan.pk}/"} in task.links
    # The plan of care ending rule has nothing to say once it ended.
    assert open_tasks("plan_of_care_ending") == []
    make_plan_of_care(patient, therapist, start_date=TODAY, end_date=TODAY + dt.timedelta(days=90))
    assert run()["patient_without_plan_of_care"] == (0, 1)


def test_child_with_no_plan_ever_and_an_inactive_child(practice, patient):
    make_patient(practice, "Noah", "Kim")
    gone = make_patient(practice, "Ida", "Gone", is_active=False)
    run()
    tasks = open_tasks("patient_without_plan_of_care")
    assert [t.title for t in tasks] == ["No current plan of care: Noah Kim"]
    assert "no plan of care on file" in tasks[0].reason
    assert all(t.patient_id != gone.pk for t in tasks)


def test_child_whose_next_plan_starts_later_is_low_priority(practice, patient, therapist):
    plan = patient.plans_of_care.get()
    plan.start_date = TODAY + dt.timedelta(days=4)
    plan.save()
    run()
    [task] = open_tasks("patient_without_plan_of_care")
    assert task.priority == Priority.LOW and "starts on Monday, November 16" in task.reason


# Coverage ending -> billing


def test_coverage_ending_within_30_days_goes_to_billing(practice, patient):
    coverage = patient.coverages.get()
    coverage.end_date = TODAY + dt.timedelta(days=20)  # December 2
    coverage.save()
    run()
    [task] = open_tasks("coverage_ending")
    assert task.role == "billing" and task.kind == "coverage_ending"
    assert task.title == "Coverage ends Dec 2: Ava Lopez, Lone Star Medicaid"
    assert "member ID M123456" in task.reason and "in 20 days" in task.reason
    assert "renewal packet" in task.reason  # Medicaid
    assert task.due_at == dt.datetime(2026, 11, 18, 17, 0, tzinfo=CHICAGO)
    assert {"label": "Coverage", "url": f"/coverages/{coverage.pk}/edit/"} in task.links

    # Billing records the renewed coverage: nothing left to do.
    make_coverage(patient, coverage.payer, start_date=coverage.end_date + dt.timedelta(days=1))
    assert run()["coverage_ending"] == (0, 1)


def test_coverage_ending_later_or_already_ended_or_open_ended(practice, patient):
    coverage = patient.coverages.get()
    for end in (TODAY + dt.timedelta(days=31), TODAY - dt.timedelta(days=1), None):
        coverage.end_date = end
        coverage.save()
        run()
        assert open_tasks("coverage_ending") == []


def test_commercial_coverage_reason_has_no_medicaid_advice(practice, patient):
    other = make_patient(practice, "Mia", "Chen")
    make_guardian(other, "June")
    coverage = make_coverage(other, make_payer(practice, "Bluebonnet", payer_type=PayerType.COMMERCIAL),
                             end_date=TODAY + dt.timedelta(days=3))
    run()
    [task] = open_tasks("coverage_ending")
    assert task.subject == coverage and task.priority == Priority.HIGH
    assert "renewal packet" not in task.reason


# Across practices, time zones and audit


def test_rules_keep_to_each_practice(practice, patient, other_practice, outsider):
    stranger = make_patient(other_practice, "Zed", "Outside")
    run()
    assert Task.objects.filter(practice=other_practice, patient_id=stranger.pk).count() == 1
    assert not Task.objects.filter(practice=practice, patient_id=stranger.pk).exists()


def test_today_is_the_practices_local_date(practice, patient):
    plan = patient.plans_of_care.get()
    plan.end_date = TODAY - dt.timedelta(days=1)
    plan.save()
    # 11:30 pm on the 11th in Chicago is already the 12th in UTC: the plan still covers today.
    late_evening = dt.datetime(2026, 11, 11, 23, 30, tzinfo=CHICAGO)
    run(late_evening)
    assert open_tasks("patient_without_plan_of_care") == []
    run(late_evening + dt.timedelta(hours=1))
    assert len(open_tasks("patient_without_plan_of_care")) == 1


def test_opening_and_closing_by_a_rule_are_in_the_audit_log(practice, patient):
    coverage = patient.coverages.get()
    coverage.end_date = TODAY + dt.timedelta(days=20)
    coverage.save()
    run()
    [task] = open_tasks("coverage_ending")
    coverage.end_date = None
    coverage.save()
    run()
    events = AuditEvent.objects.filter(object_type="workqueue.task", object_id=str(task.pk)).order_by("seq")
    assert [(e.action, e.actor_label) for e in events] == [
        ("task_opened", "pedsdesk (rule coverage_ending)"),
        ("task_closed_by_rule", "pedsdesk (rule coverage_ending)"),
    ]
    assert events[0].patient_id == patient.pk and events[0].practice_id == practice.pk


def test_a_failing_rule_does_not_stop_the_others(practice, patient, monkeypatch):
    from pedsdesk.workqueue import rules

    rule = rules._RULES["guardian_unreachable"]

    def broken(practice, now):
        raise RuntimeError("bug")

    monkeypatch.setitem(rules._RULES, "guardian_unreachable", rules.TaskRule(
        rule.name, rule.kind, rule.schedule, broken, rule.label))
    coverage = patient.coverages.get()
    coverage.end_date = TODAY + dt.timedelta(days=20)
    coverage.save()
    result = run()
    assert result["guardian_unreachable"] == (0, 0)
    assert result["coverage_ending"] == (1, 0)

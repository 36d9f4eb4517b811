"""Work-queue rules of school coordination, registered with the work queue's registry.

Each says which tasks should be open now; the registry's sweep opens new ones and
closes those whose condition cleared (the date passed, the authorization was renewed,
the request was sent, the summary signed). An overdue task is escalated to the office
manager by the work queue's escalation, like every other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Exists, OuterRef

from pedsdesk.practices.models import Practice, Role
from pedsdesk.schools.models import (
    OUTSTANDING_REQUEST_STATES,
    DocumentRequest,
    Meeting,
    MeetingState,
    PlanType,
    StudentPlan,
    Summary,
    SummaryState,
)
from pedsdesk.schools.queries import authorizations_ending
from pedsdesk.sweeps import counted, joined
from pedsdesk.workqueue.actions import TaskSpec
from pedsdesk.workqueue.models import Priority
from pedsdesk.workqueue.rules import task_rule

REVIEW_LEAD_DAYS = 30
RENEWAL_LEAD_DAYS = 30
REQUEST_LEAD_DAYS = 7
SUMMARY_LEAD_DAYS = 7


def _today(practice: Practice, now: dt.datetime) -> dt.date:
    return now.astimezone(practice.zone).date()


def _five_pm(practice: Practice, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(17), tzinfo=practice.zone)


def _day(day: dt.date) -> str:
    return f"{day:%a %b} {day.day}"


def _child(patient) -> str:
    return f"{patient.preferred_name or patient.first_name} {patient.last_name[:1]}."


@task_rule("school_review_ahead", kind="school_review_ahead", schedule="daily",
           label="IEP/504 review or re-evaluation ahead")
def school_review_ahead(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Front desk: a child's annual review or re-evaluation in the next 30 days: ask the
    therapist for a summary and the family for an authorization in time."""
    today = _today(practice, now)
    horizon = today + dt.timedelta(days=REVIEW_LEAD_DAYS)
    plans = (StudentPlan.objects.filter(patient__practice=practice, patient__is_active=True)
             .exclude(plan_type=PlanType.NONE).select_related("patient", "case_manager").order_by("pk"))
    for plan in plans:
        for field, what in (("annual_review_on", "annual review"), ("reevaluation_on", "re-evaluation")):
            day = getattr(plan, field)
            if day is None or not today <= day <= horizon:
                continue
            manager = f" Case manager: {plan.case_manager.name}." if plan.case_manager_id else ""
            yield TaskSpec(
                dedupe_key=f"school_review:{plan.pk}:{field}:{day.isoformat()}",
                title=f"{plan.get_plan_type_display()} {what} for {_child(plan.patient)} on {_day(day)}",
                reason=(f"The school holds {_child(plan.patient)}'s {plan.get_plan_type_display()} {what} on "
                        f"{_day(day)}. Check the family's authorization to disclose and ask the therapist for a "
                        f"summary in time.{manager}"),
                subject=plan, role=Role.FRONT_DESK,
                due_at=_five_pm(practice, max(today, day - dt.timedelta(days=14))),
                links=[{"label": "Chart", "url": plan.get_absolute_url()}])


@task_rule("school_authorization_renewal", kind="school_authorization_renewal", schedule="daily",
           label="School authorization to renew")
def school_authorization_renewal(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Front desk: a signed authorization ends within 30 days and no later one for the
    same child has been signed or sent for signature."""
    today = _today(practice, now)
    for authorization in authorizations_ending(practice, today, RENEWAL_LEAD_DAYS):
        yield TaskSpec(
            dedupe_key=f"school_authorization_renewal:{authorization.pk}",
            title=(f"Renew {_child(authorization.patient)}'s school authorization "
                   f"(ends {_day(authorization.expires_on)})"),
            reason=(f"The family's authorization to disclose to {authorization.recipient_label} ends on "
                    f"{_day(authorization.expires_on)}. After that nothing more can be sent to the school. Send "
                    "the family a new one to sign from the authorization's page."),
            subject=authorization, role=Role.FRONT_DESK,
            due_at=_five_pm(practice, max(today, authorization.expires_on - dt.timedelta(days=7))),
            links=[{"label": "Authorization", "url": authorization.get_absolute_url()}])


def _request_marks(now: dt.datetime) -> dict[int, tuple]:
    return counted(DocumentRequest.objects.filter(state__in=OUTSTANDING_REQUEST_STATES), changed="updated_at")


def _summary_marks(now: dt.datetime) -> dict[int, tuple]:
    """The meetings still to come, and the signed summaries (one closes its meeting's task)."""
    return joined(counted(Meeting.objects.filter(state=MeetingState.SCHEDULED, start_at__gt=now), changed="updated_at"),
                  counted(Summary.objects.filter(state=SummaryState.SIGNED), changed="updated_at"))


@task_rule("school_request_due", kind="school_request_due", label="School document request due",
           due=_request_marks)
def school_request_due(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """The assignee: an outstanding documentation request due within a week (or overdue)."""
    today = _today(practice, now)
    requests = (DocumentRequest.objects.filter(practice=practice, state__in=OUTSTANDING_REQUEST_STATES,
                                               due_on__lte=today + dt.timedelta(days=REQUEST_LEAD_DAYS))
                .select_related("patient", "assignee").order_by("due_on", "pk"))
    for doc in requests:
        overdue = doc.due_on < today
        yield TaskSpec(
            dedupe_key=f"school_request:{doc.pk}",
            title=f"{doc.get_kind_display()} for {_child(doc.patient)} due {_day(doc.due_on)}",
            reason=(f"{doc.get_requester_display()} request{f' from {doc.requested_by}' if doc.requested_by else ''}"
                    f", now {doc.get_state_display().lower()}. "
                    + ("It is overdue." if overdue else "Draft, sign and send it by the due date.")),
            subject=doc, assignee=doc.assignee, due_at=_five_pm(practice, doc.due_on),
            priority=Priority.HIGH if overdue else Priority.NORMAL, business_status=doc.state,
            links=[{"label": "Request", "url": doc.get_absolute_url()}])


@task_rule("school_summary_due", kind="school_summary_due", label="School summary due before a meeting",
           due=_summary_marks)
def school_summary_due(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """The therapist: a signed summary is due ``summary_due_days`` before a meeting they
    attend; the task opens a week before that and closes when one is signed."""
    today = _today(practice, now)
    signed = Summary.objects.filter(meeting=OuterRef("pk"), state=SummaryState.SIGNED)
    meetings = (Meeting.objects.filter(practice=practice, state=MeetingState.SCHEDULED, start_at__gt=now)
                .filter(~Exists(signed)).select_related("patient", "therapist", "school").order_by("start_at"))
    for meeting in meetings:
        meeting_day = meeting.start_at.astimezone(practice.zone).date()
        due = meeting_day - dt.timedelta(days=meeting.summary_due_days)
        if today < due - dt.timedelta(days=SUMMARY_LEAD_DAYS):
            continue
        yield TaskSpec(
            dedupe_key=f"school_summary:{meeting.pk}",
            title=f"Summary for {_child(meeting.patient)}'s {meeting.get_kind_display()} (due {_day(due)})",
            reason=(f"{meeting.get_kind_display()} at {meeting.school.name} on {_day(meeting_day)}. Complete and "
                    f"sign the school summary by {_day(due)} so it can be sent before the meeting."),
            subject=meeting, assignee=meeting.therapist, due_at=_five_pm(practice, max(today, due)),
            links=[{"label": "Meeting", "url": meeting.get_absolute_url()}])

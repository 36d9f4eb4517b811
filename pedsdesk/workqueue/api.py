"""API endpoints of the work queue: my tasks, the team's tasks, one task, and claim,
complete, snooze, reassign. The same actions as the pages, with the same checks:
a task of another practice is 404, one in someone else's queue 403, a closed one 409,
bad input 422."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Query, Router

from pedsdesk.practices.api import audit, get_or_404, paginate, related_or_invalid, requires
from pedsdesk.practices.models import StaffMember
from pedsdesk.practices.schemas import Page
from pedsdesk.workqueue import actions
from pedsdesk.workqueue.models import Task, TaskStatus
from pedsdesk.workqueue.queries import ACTIVE, TeamFilters, escalation_role, ordered, personal_filter, team_tasks
from pedsdesk.workqueue.schemas import CompleteIn, MyTaskFilters, ReassignIn, SnoozeIn, TaskOut, TeamTaskFilters

router = Router(tags=["tasks"])

# A closed task answers 409 with a JSON error made here: declaring 409 in the response
# schemas would list it twice in the spec (``requires`` documents it for every POST).
_CHANGED = TaskOut


def _tasks(request: HttpRequest) -> QuerySet:
    return Task.objects.filter(practice=request.auth.practice_id).select_related("assignee")


def _list(request: HttpRequest, rows: QuerySet, paging: Any, queue: str) -> dict[str, Any]:
    page = paginate(rows, paging)
    audit(request, "list", object_type="workqueue.task", detail={"queue": queue,
                                                                 "task_ids": [t.pk for t in page["items"]]})
    return page


@router.get("/tasks/mine", response=Page[TaskOut], summary="List my tasks")
@requires("tasks.view")
def list_my_tasks(request: HttpRequest, params: Query[MyTaskFilters]) -> dict[str, Any]:
    """Tasks assigned to you and unclaimed tasks of your role's queue (and every escalated
    task if escalations come to you), overdue first."""
    user = request.auth
    rows = _tasks(request).filter(personal_filter(user, escalation_role(user.practice)))
    rows = rows.filter(status=TaskStatus.SNOOZED) if params.snoozed else rows.filter(status__in=ACTIVE)
    if params.kind:
        rows = rows.filter(kind=params.kind)
    if params.overdue is not None:
        overdue = {"due_at__lt": timezone.now()}
        rows = rows.filter(**overdue) if params.overdue else rows.exclude(**overdue)
    return _list(request, ordered(rows), params, "mine")


@router.get("/tasks", response=Page[TaskOut], summary="List the team's tasks")
@requires("tasks.assign")
def list_tasks(request: HttpRequest, params: Query[TeamTaskFilters]) -> dict[str, Any]:
    """Every queue of your practice, filtered; open and in progress by default."""
    filters = TeamFilters(role=params.role or "", assignee=params.assignee_id, kind=params.kind,
                          status=params.status, overdue=params.overdue, escalated=params.escalated,
                          unclaimed=params.unclaimed, patient=params.patient_id)
    return _list(request, team_tasks(request.auth.practice, filters), params, "team")


@router.get("/tasks/{task_id}", response=TaskOut, summary="Get a task")
@requires("tasks.view")
def get_task(request: HttpRequest, task_id: int) -> Task:
    task = get_or_404(request, _tasks(request), task_id)
    audit(request, "view", task)
    return task


def _apply(request: HttpRequest, task_id: int, change: Callable[[Task], Task], field: str = "non_field_errors"):
    task = get_or_404(request, Task.objects.all(), task_id)
    try:
        change(task)
    except actions.TaskClosedError as exc:
        return JsonResponse({"code": "conflict", "message": str(exc)}, status=409)
    except actions.NotYourTaskError as exc:
        raise PermissionDenied(str(exc)) from None
    except actions.TaskActionError as exc:
        raise ValidationError({field: [str(exc)]}) from None
    return _tasks(request).get(pk=task.pk)


@router.post("/tasks/{task_id}/claim", response=_CHANGED, summary="Claim a task")
@requires("tasks.work")
def claim_task(request: HttpRequest, task_id: int):
    """The task becomes yours, in progress."""
    return _apply(request, task_id, lambda task: actions.claim_task(task=task, actor=request.auth, request=request))


@router.post("/tasks/{task_id}/complete", response=_CHANGED, summary="Complete a task")
@requires("tasks.work")
def complete_task(request: HttpRequest, task_id: int, payload: CompleteIn | None = None):
    note = payload.note if payload else ""
    return _apply(request, task_id, lambda task: actions.complete_task(task=task, actor=request.auth, note=note,
                                                                       request=request))


@router.post("/tasks/{task_id}/snooze", response=_CHANGED, summary="Snooze a task")
@requires("tasks.work")
def snooze_task(request: HttpRequest, task_id: int, payload: SnoozeIn):
    """Hide the task from the queue until ``until``; it comes back open."""
    until = payload.until
    if timezone.is_naive(until):
        until = until.replace(tzinfo=request.auth.practice.zone)
    return _apply(request, task_id, lambda task: actions.snooze_task(task=task, actor=request.auth, until=until,
                                                                     request=request), field="until")


@router.post("/tasks/{task_id}/reassign", response=_CHANGED, summary="Hand a task to a person or a queue")
@requires("tasks.work")
def reassign_task(request: HttpRequest, task_id: int, payload: ReassignIn):
    get_or_404(request, Task.objects.all(), task_id)  # an unknown task is 404 before the body's ids are checked
    if (payload.assignee_id is None) == (payload.role is None):
        raise ValidationError({"non_field_errors": ["Give exactly one of assignee_id (a person) and role (a queue)."]})
    assignee = None
    if payload.assignee_id is not None:
        assignee = related_or_invalid(request, StaffMember.objects.all(), payload.assignee_id, "assignee_id")
    role = payload.role or ""
    return _apply(request, task_id, lambda task: actions.reassign_task(
        task=task, actor=request.auth, assignee=assignee, role=role, request=request),
        field="assignee_id" if assignee else "role")

"""The work-queue pages: My tasks, the team queue, a task, and the four actions.

The actions answer htmx requests with the re-rendered row (or task panel), and plain
form posts with a redirect and a message, so every page works without JavaScript.
Bad input changes nothing and says why.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.practices.web import requires
from pedsdesk.workqueue import actions
from pedsdesk.workqueue.forms import (
    SNOOZE_CHOICES,
    TeamFilterForm,
    reassign_choices,
    reassign_target,
    snooze_until,
)
from pedsdesk.workqueue.lists import load_rows, settle_list
from pedsdesk.workqueue.models import LIST_KIND, Task
from pedsdesk.workqueue.queries import (
    assignable_staff,
    decorate,
    list_rows_page,
    personal_kinds,
    personal_queue,
    recently_done,
    snoozed_tasks,
    task_for,
    task_history,
    team_overview,
    team_tasks,
    with_rows,
)
from pedsdesk.workqueue.rules import kind_label

MY_TASKS_PAGE = 40  # rows a page of My tasks shows; a day's dozens of calls are one list row
SHOW_CHOICES = [("", "Open"), ("snoozed", "Snoozed"), ("done", "Done by me")]


def _controls(request: HttpRequest, staff=None) -> dict:
    """What the action forms need: snooze presets and, for people who may hand tasks
    on, whom to hand them to."""
    staff = assignable_staff(request.user.practice) if staff is None else staff
    return {"snooze_choices": SNOOZE_CHOICES, "reassign_choices": reassign_choices(staff),
            "next_url": request.get_full_path()}


@requires("tasks.view")
def my_tasks(request: HttpRequest) -> HttpResponse:
    user = request.user
    show = request.GET.get("show", "")
    kinds = personal_kinds(user)
    kind = request.GET.get("kind", "")
    kind = kind if kind in dict(kinds) else ""
    page_number = _page_number(request.GET.get("page"))
    queue = personal_queue(user, kind=kind, offset=(page_number - 1) * MY_TASKS_PAGE, limit=MY_TASKS_PAGE)
    pages = max(1, -(-queue.total // MY_TASKS_PAGE))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"title": "My tasks", "queue": queue, "show": show, "show_choices": SHOW_CHOICES,
               "kinds": kinds, "kind": kind, "page_number": min(page_number, pages), "pages": pages,
               "query": query.urlencode(), "layout": "mine", **_controls(request)}
    if show == "snoozed":
        context["listed"] = snoozed_tasks(user)
    elif show == "done":
        context["listed"] = recently_done(user)
    record_event(actor=user, action="list", object_type="workqueue.task", detail={"queue": "mine", "show": show},
                 request=request)
    return render(request, "workqueue/my_tasks.html", context)


def _page_number(value: str | None) -> int:
    """A page number from the address; anything else is the first page."""
    return int(value) if value and value.isdigit() and 0 < int(value) < 10_000 else 1


@requires("tasks.assign")
def team_queue(request: HttpRequest) -> HttpResponse:
    practice = request.user.practice
    staff = assignable_staff(practice)
    form = TeamFilterForm(request.GET or None, staff=staff)
    kinds = set(Task.objects.filter(practice=practice).values_list("kind", flat=True).distinct())
    form.fields["kind"].choices = [("", "Every kind"), *sorted(((k, kind_label(k)) for k in kinds),
                                                             key=lambda c: c[1])]
    filters = form.filters()
    now = timezone.now()
    page = Paginator(team_tasks(practice, filters, now), 50).get_page(request.GET.get("page"))
    tasks = with_rows(decorate(list(page.object_list), request.user, now, practice), request.user, now, practice)
    query = request.GET.copy()
    query.pop("page", None)
    record_event(actor=request.user, action="list", object_type="workqueue.task",
                 detail={"queue": "team", "filters": {k: v for k, v in request.GET.items() if k != "page"}},
                 request=request)
    return render(request, "workqueue/team.html", {
        "title": "Team queue", "form": form, "page_obj": page, "tasks": tasks,
        "overview": team_overview(practice, now), "query": query.urlencode(), "layout": "team",
        **_controls(request, staff),
    })


@requires("tasks.view")
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = task_for(request.user, pk)
    record_event(actor=request.user, action="view", obj=task, request=request)
    return render(request, "workqueue/task_detail.html", _detail_context(request, task))


def _detail_context(request: HttpRequest, task: Task, **extra) -> dict:
    context = {"title": task.title, "task": task, "history": task_history(task), "layout": "detail",
               **_controls(request), **extra}
    if task.kind == LIST_KIND:
        context["rows_page"] = list_rows_page(task, request.user, request.GET.get("page"))
    return context


# Actions


def _next(request: HttpRequest, task: Task) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return task.get_absolute_url()


def _act(request: HttpRequest, pk: int, change: Callable[[Task], Task], done: str) -> HttpResponse:
    """Apply ``change`` to task ``pk`` of the user's practice (else 404); answer htmx with
    the fragment the page shows, anything else with a redirect."""
    task = task_for(request.user, pk)
    error = notice = ""
    try:
        task = change(task)
        notice = done
    except actions.TaskActionError as exc:
        error = str(exc)
    return task_answer(request, task, error=error, notice=notice)


def task_answer(request: HttpRequest, task: Task, *, error: str = "", notice: str = "") -> HttpResponse:
    """After a change to ``task``: htmx gets the fragment its page shows (row, list row or
    task panel), a plain form a redirect and a message. A list row's list closes with its last row."""
    if not error and task.parent_id:
        settle_list(task.parent)
    if request.headers.get("HX-Request") == "true":
        return _fragment(request, task_for(request.user, task.pk), error=error, notice=notice)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{notice}: {task.title}")
    return redirect(_next(request, task))


def _fragment(request: HttpRequest, task: Task, *, error: str, notice: str) -> HttpResponse:
    layout = request.POST.get("layout", "mine")
    context = {"task": task, "error": error, "notice": notice, "layout": layout, **_controls(request)}
    context["next_url"] = _next(request, task)
    if layout == "item":
        return render(request, "workqueue/_item.html", {**context, "row": load_rows([task])[0]})
    if layout == "detail":
        return render(request, "workqueue/_detail_body.html", {**_detail_context(request, task), **context})
    return render(request, "workqueue/_row.html", context)


@require_POST
@requires("tasks.work")
def task_claim(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda task: actions.claim_task(task=task, actor=request.user, request=request),
                "Claimed")


@require_POST
@requires("tasks.work")
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    note = request.POST.get("note", "")
    return _act(request, pk, lambda task: actions.complete_task(task=task, actor=request.user, note=note,
                                                                request=request), "Done")


@require_POST
@requires("tasks.work")
def task_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    def snooze(task: Task) -> Task:
        until = snooze_until(choice=request.POST.get("snooze", ""), custom=request.POST.get("until", ""),
                             practice=request.user.practice, now=timezone.now())
        return actions.snooze_task(task=task, actor=request.user, until=until, request=request)

    return _act(request, pk, snooze, "Snoozed")


@require_POST
@requires("tasks.work")
def task_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    def reassign(task: Task) -> Task:
        assignee, role = reassign_target(value=request.POST.get("to", ""), practice=request.user.practice)
        return actions.reassign_task(task=task, actor=request.user, assignee=assignee, role=role, request=request)

    return _act(request, pk, reassign, "Handed on")

"""Schedule screens. With htmx the grid updates in place; without it every form still
works as a plain page."""

import contextlib
import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.people.views import patient_choices
from pedsdesk.practices.models import Role, StaffMember
from pedsdesk.practices.web import requires
from pedsdesk.scheduling import actions
from pedsdesk.scheduling.forms import BookingForm, CancelForm, MoveForm
from pedsdesk.scheduling.models import Appointment, AppointmentStatus, CancelledBy
from pedsdesk.scheduling.panel import panel_sections
from pedsdesk.scheduling.queries import day_list, density, practice_day, therapist_week, therapists_of
from pedsdesk.scheduling.timeslots import local_to_utc, week_start
from pedsdesk.workqueue.actions import TaskClosedError, complete_task
from pedsdesk.workqueue.queries import task_for
from pedsdesk.workqueue.views import task_answer


def _day(request: HttpRequest) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return request.user.practice.local_now().date()


def _therapist(request: HttpRequest, raw: str | None = None) -> StaffMember:
    therapists = therapists_of(request.user.practice)
    raw = raw if raw is not None else request.GET.get("therapist", "")
    if raw.isdigit():
        found = therapists.filter(pk=int(raw)).first()
        if found is None:
            raise Http404("No such therapist in this practice.")
        return found
    if request.user.role == Role.THERAPIST:
        return request.user
    first = therapists.first()
    if first is None:
        raise Http404("This practice has no therapists yet.")
    return first


def _week_context(request: HttpRequest, therapist: StaffMember, day: dt.date) -> dict:
    practice = request.user.practice
    monday = week_start(day)
    return {
        "grid": therapist_week(practice, therapist, day), "therapist": therapist, "monday": monday,
        "previous": monday - dt.timedelta(weeks=1), "next": monday + dt.timedelta(weeks=1),
        "therapists": therapists_of(practice), "title": f"{therapist}'s week of {monday:%b %-d}",
    }


@requires("schedule.view")
def schedule_week(request: HttpRequest) -> HttpResponse:
    context = _week_context(request, _therapist(request), _day(request))
    template = "scheduling/_grid.html" if request.headers.get("HX-Request") else "scheduling/week.html"
    return render(request, template, context)


@requires("schedule.view")
def schedule_day(request: HttpRequest) -> HttpResponse:
    practice = request.user.practice
    day = _day(request)
    visits = day_list(practice, day)
    # The guardians whose numbers the list shows (read as values, not as rows the read audit sees).
    guardian_ids = sorted({g for row in visits for g in row.guardian_ids})
    record_event(actor=request.user, action="list", object_type="scheduling.appointment", request=request,
                 detail={"day": day.isoformat(), "guardian_ids": guardian_ids})
    return render(request, "scheduling/day.html", {
        "day": day, "grid": practice_day(practice, day, [row.visit for row in visits]), "visits": visits,
        "density": density(practice, day),
        "previous": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1), "title": f"{day:%A, %b %-d}",
    })


@requires("schedule.edit")
def slot_panel(request: HttpRequest) -> HttpResponse:
    """The booking form for an empty slot the user clicked."""
    therapist = _therapist(request)
    try:
        start = dt.datetime.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = request.user.practice.local_now().replace(minute=0, second=0, microsecond=0)
    form = BookingForm(practice=request.user.practice, initial={
        "therapist": therapist.pk, "date": start.date(), "time": start.time(),
        "minutes": 45, "patient": request.GET.get("patient") or None,
    })
    # Opened without htmx (a new tab, a bookmark): the form in a whole page.
    template = "scheduling/_booking_form.html" if request.headers.get("HX-Request") else "scheduling/booking.html"
    chosen = form.fields["patient"].queryset.filter(pk=form.initial["patient"]).first() if str(
        form.initial["patient"] or "").isdigit() else None
    return render(request, template, {"form": form, "title": "Book a visit",
                                      "picker": patient_choices(request, "", chosen)})


def _grid_response(request: HttpRequest, therapist: StaffMember, day: dt.date) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return render(request, "scheduling/_grid.html", _week_context(request, therapist, day))
    return redirect(f"{reverse('schedule_week')}?therapist={therapist.pk}&date={day.isoformat()}")


@require_POST
@requires("schedule.edit")
def book(request: HttpRequest) -> HttpResponse:
    form = BookingForm(request.POST, practice=request.user.practice)
    problems = None
    query = request.POST.get("patient_q", "")
    if request.POST.get("find"):
        # The picker's Find button (without htmx): the same form again, with the children found.
        form = BookingForm(initial=request.POST.dict(), practice=request.user.practice)
        return _booking_again(request, form, None, patient_choices(request, query), status=200)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.book_appointment(
                actor=request.user, practice=request.user.practice, therapist=data["therapist"],
                patient=data["patient"], start_at=form.start_at(), minutes=data["minutes"], kind=data["kind"],
                plan_of_care=form.plan_of_care(), title=data["title"], override_reason=data["override_reason"],
                request=request,
            )
        except actions.BookingRefused as refused:
            problems = refused.check
        else:
            messages.success(request, "Booked.")
            return _grid_response(request, data["therapist"], data["date"])
    chosen = form.cleaned_data.get("patient") if hasattr(form, "cleaned_data") else None
    return _booking_again(request, form, problems, patient_choices(request, query, chosen), status=400)


def _booking_again(request: HttpRequest, form: BookingForm, problems, picker: dict, *, status: int) -> HttpResponse:
    hx = request.headers.get("HX-Request")
    response = render(request, "scheduling/_booking_form.html" if hx else "scheduling/booking.html",
                      {"form": form, "problems": problems, "title": "Book a visit", "picker": picker},
                      status=200 if hx else status)
    if hx:
        response["HX-Retarget"] = "#panel"
        response["HX-Reswap"] = "innerHTML"
    return response


def _appointment(request: HttpRequest, pk: int) -> Appointment:
    return get_object_or_404(Appointment.objects.select_related("patient", "therapist", "practice"), pk=pk,
                             practice=request.user.practice)


@requires("schedule.view")
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    record_event(actor=request.user, action="view", obj=appointment, request=request)
    context = {"appointment": appointment, "move_form": MoveForm(initial={
        "date": appointment.local_start.date(), "time": appointment.local_start.time()}),
        "cancel_form": CancelForm(), "title": str(appointment), "now": timezone.now(),
        "sections": panel_sections(request, appointment)}
    template = "scheduling/_appointment_panel.html" if request.headers.get("HX-Request") else (
        "scheduling/appointment.html")
    return render(request, template, context)


def _panel_error(request: HttpRequest, appointment: Appointment, error: str, **forms) -> HttpResponse:
    context = {"appointment": appointment, "error": error, "now": timezone.now(),
               "sections": panel_sections(request, appointment),
               "move_form": forms.get("move_form") or MoveForm(initial={
                   "date": appointment.local_start.date(), "time": appointment.local_start.time()}),
               "cancel_form": forms.get("cancel_form") or CancelForm()}
    hx = request.headers.get("HX-Request")
    response = render(request, "scheduling/_appointment_panel.html" if hx else "scheduling/appointment.html",
                      context, status=200 if hx else 400)
    if hx:
        response["HX-Retarget"] = "#panel"
        response["HX-Reswap"] = "innerHTML"
    return response


@require_POST
@requires("schedule.edit")
def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _panel_error(request, appointment, "Enter the new date and time.", move_form=form)
    start_at = local_to_utc(form.cleaned_data["date"], form.cleaned_data["time"], appointment.practice.zone)
    try:
        moved = actions.move_appointment(actor=request.user, appointment=appointment, start_at=start_at,
                                         override_reason=form.cleaned_data["override_reason"], request=request)
    except actions.BookingRefused as refused:
        needs = " Give a reason to move it anyway." if not refused.check.blocks else ""
        return _panel_error(request, appointment, f"{refused}{needs}", move_form=form)
    messages.success(request, "Moved.")
    return _grid_response(request, moved.therapist, moved.local_start.date())


@require_POST
@requires("schedule.edit")
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _panel_error(request, appointment, "Say who cancelled and why.", cancel_form=form)
    try:
        actions.cancel_appointment(actor=request.user, appointment=appointment, by=form.cleaned_data["by"],
                                   reason=form.cleaned_data["reason"], request=request)
    except ValueError as exc:
        return _panel_error(request, appointment, str(exc), cancel_form=form)
    messages.success(request, "Cancelled; the time is open again.")
    return _grid_response(request, appointment.therapist, appointment.local_start.date())


@require_POST
@requires("schedule.edit")
def appointment_status(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    status = request.POST.get("status", "")
    if status not in AppointmentStatus.values:
        return _panel_error(request, appointment, "Choose what happened with this visit.")
    try:
        actions.set_status(actor=request.user, appointment=appointment, status=status, request=request)
    except ValueError as exc:
        return _panel_error(request, appointment, str(exc))
    return _grid_response(request, appointment.therapist, appointment.local_start.date())


@require_POST
@requires("schedule.edit")
def visit_call(request: HttpRequest, pk: int) -> HttpResponse:
    """A call-list row's Confirm or Cancel (task ``pk``): change the visit as the family
    said on the phone, then mark the row done; the answer is the row, in place."""
    task = task_for(request.user, pk)
    if task.kind != "visit_unconfirmed" or not task.subject_id:
        raise Http404("Not a visit to confirm.")
    appointment = _appointment(request, task.subject_id)
    what = request.POST.get("do", "")
    error = notice = ""
    try:
        if not task.is_open or not task.can_work:
            raise ValueError("This row is not open in your queue any more; nothing changed.")
        if what == "confirm":
            actions.set_status(actor=request.user, appointment=appointment, status=AppointmentStatus.CONFIRMED,
                               request=request)
            note, notice = "Confirmed by phone", "Confirmed"
        elif what == "cancel":
            actions.cancel_appointment(actor=request.user, appointment=appointment, by=CancelledBy.FAMILY,
                                       reason=request.POST.get("reason", ""), request=request)
            note, notice = "Cancelled by phone", "Cancelled; the time is an opening now"
        else:
            raise ValueError("Choose Confirm or Cancel for this visit.")
    except ValueError as exc:
        error = str(exc)
    else:
        # The rule may have seen the change first and closed the row: nothing left to do then.
        with contextlib.suppress(TaskClosedError):
            complete_task(task=task, actor=request.user, note=note, request=request)
    return task_answer(request, task_for(request.user, pk), error=error, notice=notice)

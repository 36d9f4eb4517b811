"""Openings with their offers, the waitlist and the gap list, for the front desk."""

import datetime as dt

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.practices.web import requires
from pedsdesk.scheduling.forms import GapListForm, WaitlistForm
from pedsdesk.scheduling.models import GapListEntry, Opening, WaitlistEntry
from pedsdesk.scheduling.offers import send_next_offers
from pedsdesk.scheduling.queries import refill_measures
from pedsdesk.scheduling.timeslots import local_to_utc, week_start


@requires("schedule.view")
def opening_list(request: HttpRequest) -> HttpResponse:
    practice = request.user.practice
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = practice.local_now().date()
    monday = week_start(day)
    start, end = (local_to_utc(monday, dt.time.min, practice.zone),
                  local_to_utc(monday + dt.timedelta(days=7), dt.time.min, practice.zone))
    openings = (Opening.objects.filter(practice=practice, start_at__gte=start, start_at__lt=end)
                .select_related("therapist", "filled_by__patient", "freed_by__patient")
                .prefetch_related("offers").order_by("start_at"))
    return render(request, "scheduling/openings.html", {
        "openings": openings, "measures": refill_measures(practice, day), "monday": monday,
        "previous": monday - dt.timedelta(weeks=1), "next": monday + dt.timedelta(weeks=1), "title": "Openings",
    })


@requires("schedule.view")
def opening_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opening = get_object_or_404(Opening.objects.select_related("therapist", "filled_by__patient", "freed_by__patient"),
                                pk=pk, practice=request.user.practice)
    offers = opening.offers.select_related("patient", "guardian").order_by("rank")
    record_event(actor=request.user, action="view", obj=opening, practice_id=opening.practice_id, request=request)
    return render(request, "scheduling/opening.html", {"opening": opening, "offers": offers,
                                                       "title": str(opening)})


@require_POST
@requires("schedule.edit")
def opening_offer_again(request: HttpRequest, pk: int) -> HttpResponse:
    opening = get_object_or_404(Opening, pk=pk, practice=request.user.practice)
    sent = send_next_offers(opening=opening)
    if sent:
        messages.success(request, f"Offered to {sent} more famil{'y' if sent == 1 else 'ies'}.")
    else:
        messages.info(request, "Nobody else fits this opening right now; see why below.")
    return redirect("opening_detail", pk=opening.pk)


@requires("schedule.view")
def waitlist(request: HttpRequest) -> HttpResponse:
    practice = request.user.practice
    entries = (WaitlistEntry.objects.filter(practice=practice, status=WaitlistEntry.Status.WAITING)
               .select_related("patient", "payer", "preferred_therapist").order_by("priority", "referral_date"))
    record_event(actor=request.user, action="list", object_type="scheduling.waitlistentry", request=request)
    return render(request, "scheduling/waitlist.html", {
        "entries": entries, "today": practice.local_now().date(), "title": "Waitlist"})


@requires("schedule.view")
def gap_list(request: HttpRequest) -> HttpResponse:
    entries = (GapListEntry.objects.filter(practice=request.user.practice, active=True)
               .select_related("patient", "plan_of_care__therapist").order_by("created_at"))
    record_event(actor=request.user, action="list", object_type="scheduling.gaplistentry", request=request)
    return render(request, "scheduling/gap_list.html", {"entries": entries, "title": "Fill-the-gap list"})


def _entry_form(request: HttpRequest, form_class, instance, title: str, back: str) -> HttpResponse:
    form = form_class(request.POST or None, instance=instance, practice=request.user.practice)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            record_event(actor=request.user, action="update" if instance else "create", obj=saved,
                         practice_id=request.user.practice_id, detail={"fields": sorted(form.changed_data)},
                         request=request)
        messages.success(request, "Saved.")
        return redirect(back)
    return render(request, "records/form.html", {"form": form, "title": title, "cancel_url": back},
                  status=400 if request.method == "POST" else 200)


@requires("schedule.edit")
def waitlist_create(request: HttpRequest) -> HttpResponse:
    return _entry_form(request, WaitlistForm, None, "Add to the waitlist", "/waitlist/")


@requires("schedule.edit")
def waitlist_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(WaitlistEntry, pk=pk, practice=request.user.practice)
    return _entry_form(request, WaitlistForm, entry, f"Waitlist: {entry.patient}", "/waitlist/")


@requires("schedule.edit")
def gap_create(request: HttpRequest) -> HttpResponse:
    return _entry_form(request, GapListForm, None, "Add to the fill-the-gap list", "/gap-list/")


@requires("schedule.edit")
def gap_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(GapListEntry, pk=pk, practice=request.user.practice)
    return _entry_form(request, GapListForm, entry, f"Fill-the-gap: {entry.patient}", "/gap-list/")


@require_POST
@requires("plans_of_care.edit")
def plan_discharge(request: HttpRequest, pk: int) -> HttpResponse:
    """End a plan of care's weekly visits after a last day and offer the freed weekly slots."""
    from pedsdesk.people.models import PlanOfCare
    from pedsdesk.scheduling.offers import discharge

    plan = get_object_or_404(PlanOfCare.objects.select_related("patient__practice"), pk=pk,
                             patient__practice=request.user.practice)
    try:
        last_day = dt.date.fromisoformat(request.POST.get("last_day", ""))
    except ValueError:
        messages.error(request, "Give the last day of visits, like 2026-12-18.")
        return redirect(plan)
    if last_day < plan.start_date:
        messages.error(request, "The last day cannot be before the plan of care started.")
        return redirect(plan)
    openings = discharge(actor=request.user, plan=plan, last_day=last_day)
    messages.success(request, f"Discharged after {last_day:%b %-d}; {len(openings)} weekly slot"
                              f"{'s' if len(openings) != 1 else ''} offered to families who need a regular time.")
    return redirect(plan)


@require_POST
@requires("schedule.edit")
def plan_series_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a plan of care a weekly time; its visits are booked the practice's weeks ahead."""
    from pedsdesk.people.models import PlanOfCare
    from pedsdesk.scheduling.series import create_series, extend_series

    plan = get_object_or_404(PlanOfCare.objects.select_related("patient__practice", "therapist"), pk=pk,
                             patient__practice=request.user.practice)
    raw_day, raw_time = request.POST.get("weekday", ""), request.POST.get("time", "")
    try:
        weekday, start_time = int(raw_day), dt.time.fromisoformat(raw_time)
    except ValueError:
        messages.error(request, "Choose a weekday and a time like 15:30.")
        return redirect(plan)
    if plan.series.filter(active=True).count() >= plan.frequency_per_week:
        messages.error(request, f"This plan is {plan.frequency_per_week}x a week and already has that many "
                                "weekly times; stop one first.")
        return redirect(plan)
    try:
        series = create_series(actor=request.user, plan_of_care=plan, weekday=weekday, start_time=start_time)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(plan)
    booked, skipped = extend_series(series=series, actor=request.user)
    note = f" {skipped} date{'s' if skipped != 1 else ''} could not be booked; see below." if skipped else ""
    messages.success(request, f"Weekly {series}: {booked} visit{'s' if booked != 1 else ''} booked.{note}")
    return redirect(plan)

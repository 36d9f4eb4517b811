"""Therapists' working hours and time off, and the practice's closures."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.fields import DateFormField, LineFormField
from pedsdesk.practices.models import Practice, Role
from pedsdesk.practices.web import requires
from pedsdesk.scheduling.actions import load_federal_holidays
from pedsdesk.scheduling.models import Closure, TimeOff, Weekday, WorkingHours
from pedsdesk.scheduling.queries import therapists_of
from pedsdesk.scheduling.timeslots import local_to_utc


class HoursForm(forms.ModelForm):
    class Meta:
        model = WorkingHours
        fields = ["weekday", "start", "end"]
        widgets = {"start": forms.TimeInput(attrs={"type": "time"}), "end": forms.TimeInput(attrs={"type": "time"})}

    def clean(self):
        cleaned = super().clean()
        weekday, start, end = cleaned.get("weekday"), cleaned.get("start"), cleaned.get("end")
        if weekday is not None and start and end and self.instance.therapist_id and WorkingHours.objects.filter(
                therapist_id=self.instance.therapist_id, weekday=weekday, start__lt=end, end__gt=start).exists():
            raise forms.ValidationError(f"These hours overlap hours already set for {Weekday(weekday).label}.")
        return cleaned


class TimeOffForm(forms.Form):
    start_date = DateFormField()
    start_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}),
                                 help_text="Leave empty for the whole day.")
    end_date = DateFormField()
    end_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    reason = LineFormField(required=False, max_length=200)

    def span(self, practice: Practice) -> tuple[dt.datetime, dt.datetime]:
        d = self.cleaned_data
        start = local_to_utc(d["start_date"], d.get("start_time") or dt.time.min, practice.zone)
        end = (local_to_utc(d["end_date"], d["end_time"], practice.zone) if d.get("end_time")
               else local_to_utc(d["end_date"] + dt.timedelta(days=1), dt.time.min, practice.zone))
        return start, end

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start_date") and cleaned.get("end_date") and cleaned["end_date"] < cleaned["start_date"]:
            raise forms.ValidationError("Time off cannot end before it starts.")
        return cleaned


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ["date", "name"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def validate_unique(self):
        date = self.cleaned_data.get("date")
        if date and Closure.objects.filter(practice=self.instance.practice, date=date).exists():
            self.add_error("date", f"The practice is already closed on {date:%b %-d}.")


def _therapist(request: HttpRequest, raw: str):
    therapists = therapists_of(request.user.practice)
    if raw.isdigit():
        return get_object_or_404(therapists, pk=int(raw))
    if request.user.role == Role.THERAPIST:
        return request.user
    return therapists.first()


@requires("schedule.view")
def availability(request: HttpRequest) -> HttpResponse:
    therapist = _therapist(request, request.GET.get("therapist", "") or request.POST.get("therapist", ""))
    if therapist is None:
        messages.info(request, "Add a therapist on the Staff page first.")
        return redirect("staff_list")
    hours_form, off_form = HoursForm(prefix="hours"), TimeOffForm(prefix="off")
    if request.method == "POST":
        if not _may_edit(request, therapist):
            return HttpResponse(status=403)
        if "hours-weekday" in request.POST:
            hours_form = HoursForm(request.POST, prefix="hours", instance=WorkingHours(therapist=therapist))
            if hours_form.is_valid():
                with transaction.atomic():
                    row = hours_form.save()
                    record_event(actor=request.user, action="create", obj=row,
                                 practice_id=request.user.practice_id)
                return redirect(f"{reverse('availability')}?therapist={therapist.pk}")
        else:
            off_form = TimeOffForm(request.POST, prefix="off")
            if off_form.is_valid():
                start, end = off_form.span(request.user.practice)
                with transaction.atomic():
                    row = TimeOff.objects.create(therapist=therapist, start_at=start, end_at=end,
                                                 reason=off_form.cleaned_data["reason"])
                    record_event(actor=request.user, action="create", obj=row,
                                 practice_id=request.user.practice_id)
                messages.success(request, "Time off added. Visits already booked then are not moved: "
                                          "see the week grid.")
                return redirect(f"{reverse('availability')}?therapist={therapist.pk}")
    today = request.user.practice.local_now().date()
    return render(request, "scheduling/availability.html", {
        "therapist": therapist, "therapists": therapists_of(request.user.practice),
        "hours": therapist.working_hours.all(),
        "time_off": therapist.time_off.filter(end_at__gte=local_to_utc(today, dt.time.min,
                                                                       request.user.practice.zone)),
        "hours_form": hours_form, "off_form": off_form, "can_edit": _may_edit(request, therapist),
        "title": f"{therapist}'s hours",
    }, status=400 if request.method == "POST" else 200)


def _may_edit(request: HttpRequest, therapist) -> bool:
    # Therapists keep their own hours; managers and the front desk keep everyone's.
    from pedsdesk.practices.permissions import has_permission

    return has_permission(request.user, "schedule.edit") and (
        request.user.role != Role.THERAPIST or request.user.pk == therapist.pk)


@require_POST
@requires("schedule.edit")
def availability_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = {"hours": WorkingHours, "time-off": TimeOff}.get(kind)
    if model is None:
        return HttpResponse(status=404)
    row = get_object_or_404(model, pk=pk, therapist__practice=request.user.practice)
    if not _may_edit(request, row.therapist):
        return HttpResponse(status=403)
    with transaction.atomic():
        record_event(actor=request.user, action="delete", obj=row, practice_id=request.user.practice_id)
        row.delete()
    return redirect(f"{reverse('availability')}?therapist={row.therapist_id}")


@requires("schedule.view")
def closures(request: HttpRequest) -> HttpResponse:
    practice = request.user.practice
    form = ClosureForm(prefix="closure", instance=Closure(practice=practice))
    if request.method == "POST":
        from pedsdesk.practices.permissions import has_permission

        if not has_permission(request.user, "closures.edit"):
            return HttpResponse(status=403)
        if "load_year" in request.POST:
            year = int(request.POST["load_year"]) if request.POST["load_year"].isdigit() else 0
            if 2000 <= year <= 2100:
                added = load_federal_holidays(practice=practice, years=[year])
                messages.success(request, f"Added {added} federal holiday{'s' if added != 1 else ''} for {year}.")
            return redirect("closures")
        form = ClosureForm(request.POST, prefix="closure", instance=Closure(practice=practice))
        if form.is_valid():
            with transaction.atomic():
                row = form.save()
                record_event(actor=request.user, action="create", obj=row, practice_id=practice.pk)
            messages.success(request, f"Closed on {row.date:%b %-d}. Visits already booked that day are not "
                                      "moved: cancel or move them from the schedule.")
            return redirect("closures")
    today = practice.local_now().date()
    return render(request, "scheduling/closures.html", {
        "closures": Closure.objects.filter(practice=practice, date__gte=today), "form": form,
        "years": [today.year, today.year + 1], "title": "Closures",
    }, status=400 if request.method == "POST" else 200)


@require_POST
@requires("closures.edit")
def closure_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Closure, pk=pk, practice=request.user.practice)
    with transaction.atomic():
        record_event(actor=request.user, action="delete", obj=row, practice_id=row.practice_id,
                     detail={"date": row.date.isoformat(), "name": row.name})
        row.delete()
    messages.success(request, f"Open again on {row.date:%b %-d}.")
    return redirect("closures")


class SchedulingPolicyForm(forms.ModelForm):
    class Meta:
        from pedsdesk.scheduling.models import SchedulingPolicy

        model = SchedulingPolicy
        fields = ["school_travel_minutes", "daytime_start", "daytime_end", "evening_end", "treatment_week_days",
                  "late_cancel_hours", "minimum_notice_hours", "series_weeks_ahead", "offer_makeups",
                  "offer_policy", "offer_batch_size", "offer_expiry_minutes"]
        widgets = {f: forms.TimeInput(attrs={"type": "time"}) for f in ("daytime_start", "daytime_end",
                                                                          "evening_end")}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("daytime_start") and cleaned.get("daytime_end") and \
                cleaned["daytime_end"] <= cleaned["daytime_start"]:
            self.add_error("daytime_end", "The day must end after it starts.")
        if cleaned.get("treatment_week_days") is not None and not 5 <= cleaned["treatment_week_days"] <= 7:
            self.add_error("treatment_week_days", "A treatment week is 5, 6 or 7 days from Monday.")
        if cleaned.get("offer_batch_size") is not None and not 1 <= cleaned["offer_batch_size"] <= 25:
            self.add_error("offer_batch_size", "A batch is 1 to 25 families.")
        return cleaned


class ReminderForm(forms.ModelForm):
    reminder_hours = forms.CharField(label="Reminders, hours before the visit",
                                     help_text="Comma-separated, e.g. 48, 2.")

    class Meta:
        from pedsdesk.scheduling.models import ConfirmationPolicy

        model = ConfirmationPolicy
        fields = ["reminder_hours", "unconfirmed_task_hours", "misses_in_a_row", "attendance_floor_percent",
                  "attendance_window_days", "attendance_minimum_visits"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["reminder_hours"] = ", ".join(str(h) for h in self.instance.reminder_hours or [])

    def clean_reminder_hours(self):
        try:
            hours = sorted({int(h) for h in self.cleaned_data["reminder_hours"].replace(" ", "").split(",") if h},
                           reverse=True)
        except ValueError:
            raise forms.ValidationError("Write whole hours separated by commas, like 48, 2.") from None
        if any(not 1 <= h <= 336 for h in hours):
            raise forms.ValidationError("Each reminder is 1 to 336 hours (two weeks) before the visit.")
        return hours


@requires("scheduling_policy.edit")
def scheduling_settings(request: HttpRequest) -> HttpResponse:
    """How this practice schedules, offers and reminds."""
    from pedsdesk.scheduling.models import ConfirmationPolicy, SchedulingPolicy

    practice = request.user.practice
    policy, reminders = SchedulingPolicy.for_practice(practice), ConfirmationPolicy.for_practice(practice)
    form = SchedulingPolicyForm(request.POST or None, instance=policy, prefix="policy")
    reminder_form = ReminderForm(request.POST or None, instance=reminders, prefix="reminders")
    if request.method == "POST" and form.is_valid() and reminder_form.is_valid():
        with transaction.atomic():
            form.save()
            reminder_form.save()
            record_event(actor=request.user, action="update", obj=policy, practice_id=practice.pk,
                         detail={"fields": sorted(form.changed_data + reminder_form.changed_data)})
        messages.success(request, "Scheduling settings saved.")
        return redirect("scheduling_settings")
    return render(request, "scheduling/settings.html", {"form": form, "reminder_form": reminder_form,
                                                        "title": "Scheduling settings"},
                  status=400 if request.method == "POST" else 200)

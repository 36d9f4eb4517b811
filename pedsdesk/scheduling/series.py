"""Recurring series: the weekly visits a plan of care turns into.

Occurrences are booked a configurable number of weeks ahead, each through the same
checks as a hand-made booking (so the authorization guard sees every one). An
occurrence that would be refused is not booked: it is recorded as a skip with its
reason, and a task asks the front desk to sort it out.
"""

import datetime as dt

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.people.models import PlanOfCare
from pedsdesk.practices.models import StaffMember
from pedsdesk.scheduling.actions import BookingBatch, BookingRefused, book_appointment
from pedsdesk.scheduling.models import Appointment, AppointmentKind, SchedulingPolicy, Series, SeriesSkip
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.workqueue.actions import TaskSpec, open_task


def occurrence_dates(series: Series, start: dt.date, end: dt.date) -> list[dt.date]:
    """Every date of ``series`` from ``start`` to ``end`` inclusive, within its own period."""
    first = max(start, series.start_date)
    last = min(end, series.end_date)
    if first > last:
        return []
    first += dt.timedelta(days=(series.weekday - first.weekday()) % 7)
    if first > last:
        return []
    return [first + dt.timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


def create_series(*, actor: StaffMember, plan_of_care: PlanOfCare, weekday: int, start_time: dt.time,
                  start_date: dt.date | None = None, minutes: int | None = None) -> Series:
    if not 0 <= weekday <= 5:
        raise ValueError("Choose a weekday from Monday to Saturday.")
    start_date = max(start_date or plan_of_care.start_date, plan_of_care.start_date)
    if start_date > plan_of_care.end_date:
        raise ValueError("The plan of care has ended; write a new one before starting a series.")
    with transaction.atomic():
        series = Series.objects.create(plan_of_care=plan_of_care, weekday=weekday, start_time=start_time,
                                       minutes=minutes or plan_of_care.minutes, start_date=start_date,
                                       end_date=plan_of_care.end_date)
        record_event(actor=actor, action="create", obj=series, practice_id=plan_of_care.patient.practice_id)
    return series


def extend_series(*, series: Series, through: dt.date | None = None, actor: StaffMember | str = "scheduler",
                  now: dt.datetime | None = None) -> tuple[int, int]:
    """Book the occurrences up to ``through`` (default: the practice's weeks ahead).

    Returns (booked, skipped). Safe to run again: dates already booked or skipped are
    left alone. The occurrences are one batch of bookings: the guards read the child's
    schedule once, not once a visit.
    """
    plan = series.plan_of_care
    patient = plan.patient
    practice = patient.practice
    now = now or timezone.now()
    today = now.astimezone(practice.zone).date()
    policy = SchedulingPolicy.for_practice(practice)
    through = through or today + dt.timedelta(weeks=policy.series_weeks_ahead)
    start = max(series.generated_through + dt.timedelta(days=1) if series.generated_through else series.start_date,
                today)
    booked = skipped = 0
    batch = BookingBatch()
    days = occurrence_dates(series, start, through)
    # What is handled already, read once (the sweep's lease keeps others from adding to it;
    # a refusal below is checked again before it is recorded).
    handled = set(Appointment.objects.filter(series=series, start_at__gte=now).values_list("start_at", flat=True))
    skipped_days = set(series.skips.filter(date__gte=days[0]).values_list("date", flat=True)) if days else set()
    for day in days:
        start_at = local_to_utc(day, series.start_time, practice.zone)
        if start_at <= now or start_at in handled or day in skipped_days:
            continue
        try:
            book_appointment(actor=actor, practice=practice, therapist=plan.therapist, patient=patient,
                             start_at=start_at, minutes=series.minutes, kind=AppointmentKind.TREATMENT,
                             plan_of_care=plan, series=series, batch=batch)
            booked += 1
        except BookingRefused as refused:
            problem = (refused.check.blocks or refused.check.warnings)[0]
            if problem.code == "child_busy" and Appointment.objects.filter(series=series, start_at=start_at).exists():
                continue  # booked by someone else a moment ago
            _skip(series, day, problem.code, str(refused))
            skipped += 1
    Series.objects.filter(pk=series.pk).update(generated_through=covered_through(series, through))
    return booked, skipped


def covered_through(series: Series, through: dt.date) -> dt.date:
    """The last day up to which every occurrence is handled once ``through`` is: the day
    before the next occurrence, so the daily sweep passes the series by until a new
    occurrence comes within its horizon (once a week, not every day)."""
    covered = max(through, series.generated_through or through)
    following = covered + dt.timedelta(days=(series.weekday - covered.weekday()) % 7 or 7)
    return max(covered, min(following - dt.timedelta(days=1), series.end_date))


#: How far past what it has handled the daily sweep books a series in one day. A series
#: weeks behind its horizon (the first sweep after seeding or a big import) catches up a
#: week a day, rather than booking two months of visits, and opening a task for each one
#: it cannot book, in one night; a series kept up to date needs less than a week a day.
CATCH_UP_PER_DAY = dt.timedelta(weeks=1)


def catch_up_through(series: Series, *, today: dt.date, horizon: dt.date) -> dt.date:
    """How far today's sweep books ``series``: its horizon, or a week past what it handled."""
    handled = series.generated_through or series.start_date - dt.timedelta(days=1)
    return min(horizon, max(handled, today) + CATCH_UP_PER_DAY)


def due_series(practice, *, today: dt.date):
    """The practice's active series with an occurrence not yet handled within its horizon."""
    through = today + dt.timedelta(weeks=SchedulingPolicy.for_practice(practice).series_weeks_ahead)
    return (Series.objects.filter(active=True, end_date__gte=today, plan_of_care__patient__practice=practice)
            .filter(Q(generated_through__isnull=True)
                    | (Q(generated_through__lt=through) & Q(generated_through__lt=F("end_date")))))


def _skip(series: Series, day: dt.date, code: str, message: str) -> None:
    plan = series.plan_of_care
    with transaction.atomic():
        skip, created = SeriesSkip.objects.get_or_create(series=series, date=day,
                                                         defaults={"code": code, "message": message[:300]})
        if created:
            open_task(practice=plan.patient.practice, kind="series_occurrence_skipped", spec=TaskSpec(
                dedupe_key=f"series-skip:{skip.pk}",
                title=f"{plan.patient.first_name} {plan.patient.last_name[:1]}.'s {day:%a %b %-d} visit was not booked",
                reason=message, subject=skip, patient_id=plan.patient_id, role="front_desk",
                links=[{"label": "Chart", "url": plan.patient.get_absolute_url()}],
            ))

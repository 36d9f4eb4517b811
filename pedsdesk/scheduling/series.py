"""Recurring series: the weekly visits a plan of care turns into.

Occurrences are booked a configurable number of weeks ahead, each through the same
checks as a hand-made booking (so the authorization guard sees every one). An
occurrence that would be refused is not booked: it is recorded as a skip with its
reason, and a task asks the front desk to sort it out.
"""

import datetime as dt
from typing import Protocol

from django.db import transaction
from django.db.models import F, Q
from django.db.models.signals import post_save
from django.utils import timezone

from pedsdesk.audit.actions import appended_together, record_event
from pedsdesk.people.models import PlanOfCare
from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.scheduling.actions import BookingBatch, BookingRefused, book_appointment
from pedsdesk.scheduling.models import Appointment, AppointmentKind, SchedulingPolicy, Series, SeriesSkip
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.workqueue.actions import TaskSpec, open_new_tasks


class Weekly(Protocol):
    """What the dates of a weekly series follow from: a series, or a row read of one."""

    weekday: int
    start_date: dt.date
    end_date: dt.date


def occurrence_dates(series: Weekly, start: dt.date, end: dt.date) -> list[dt.date]:
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
    left alone.
    """
    practice = series.plan_of_care.patient.practice
    now = now or timezone.now()
    today = now.astimezone(practice.zone).date()
    through = through or today + dt.timedelta(weeks=SchedulingPolicy.for_practice(practice).series_weeks_ahead)
    return _book_together(practice, [(series, through)], actor=actor, now=now)


#: Children whose due series one transaction of the daily sweep books. Their therapists'
#: and their rows stay locked that long, so a front desk booking one of them waits a
#: moment at most; the checks read once for all of them.
CHILDREN_AT_ONCE = 50


def extend_due_series(*, practice: Practice, now: dt.datetime | None = None) -> tuple[int, int]:
    """The daily sweep's booking: each due series to its horizon (a week past what it
    handled when further behind), a few dozen children at a time. Returns (booked, skipped)."""
    now = now or timezone.now()
    today = now.astimezone(practice.zone).date()
    horizon = today + dt.timedelta(weeks=SchedulingPolicy.for_practice(practice).series_weeks_ahead)
    by_child: dict[int, list[Series]] = {}
    for series in due_series(practice, today=today).select_related(
            "plan_of_care__patient", "plan_of_care__therapist__therapist_profile").order_by(
            "plan_of_care__patient_id", "pk"):
        by_child.setdefault(series.plan_of_care.patient_id, []).append(series)
    children = list(by_child.values())
    booked = skipped = 0
    for start in range(0, len(children), CHILDREN_AT_ONCE):
        wanted = [(series, catch_up_through(series, today=today, horizon=horizon))
                  for child in children[start:start + CHILDREN_AT_ONCE] for series in child]
        b, s = _book_together(practice, wanted, actor="scheduler", now=now)
        booked, skipped = booked + b, skipped + s
    return booked, skipped


def _book_together(practice: Practice, wanted: list[tuple[Series, dt.date]], *, actor: StaffMember | str,
                   now: dt.datetime) -> tuple[int, int]:
    """Book these series up to their dates in one transaction, under the locks of their
    therapists and children: what is handled already, and everything the checks need, is
    read under the locks once for all of them, so nobody else's booking can come between."""
    today = now.astimezone(practice.zone).date()
    plans = [series.plan_of_care for series, _ in wanted]
    for plan in plans:
        plan.patient.practice = practice
    ids = [series.pk for series, _ in wanted]
    booked = skipped = 0
    batch = BookingBatch()
    with transaction.atomic(), appended_together():
        batch.lock(therapists={p.therapist_id for p in plans}, patients={p.patient_id for p in plans})
        handled_through = dict(Series.objects.filter(pk__in=ids).values_list("pk", "generated_through"))
        booked_at = set(Appointment.objects.filter(series__in=ids, start_at__gte=now).values_list("series_id",
                                                                                                   "start_at"))
        skipped_on = set(SeriesSkip.objects.filter(series__in=ids, date__gte=today).values_list("series_id", "date"))
        occurrences = []
        for series, through in wanted:
            series.generated_through = handled_through.get(series.pk, series.generated_through)
            first = (series.generated_through + dt.timedelta(days=1) if series.generated_through
                     else series.start_date)
            for day in occurrence_dates(series, max(first, today), through):
                start_at = local_to_utc(day, series.start_time, practice.zone)
                if start_at > now and (series.pk, start_at) not in booked_at and (series.pk, day) not in skipped_on:
                    occurrences.append((series, day, start_at))
        if occurrences:
            batch.hold(practice=practice, bookings=[(p.therapist, p.patient, p) for p in plans],
                       start_at=min(start_at for _, _, start_at in occurrences),
                       end_at=max(start_at + dt.timedelta(minutes=s.minutes) for s, _, start_at in occurrences))
        refused_on = []
        for series, day, start_at in occurrences:
            plan = series.plan_of_care
            try:
                book_appointment(actor=actor, practice=practice, therapist=plan.therapist, patient=plan.patient,
                                 start_at=start_at, minutes=series.minutes, kind=AppointmentKind.TREATMENT,
                                 plan_of_care=plan, series=series, batch=batch)
                booked += 1
            except BookingRefused as refused:
                problem = (refused.check.blocks or refused.check.warnings)[0]
                refused_on.append(SeriesSkip(series=series, date=day, code=problem.code, message=str(refused)[:300]))
        _skip(practice, refused_on)
        skipped = len(refused_on)
        for series, through in wanted:
            series.generated_through = covered_through(series, through)
        Series.objects.bulk_update([series for series, _ in wanted], ["generated_through"])
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


def _skip(practice: Practice, skips: list[SeriesSkip]) -> None:
    """Record the occurrences the batch could not book (the days read as unhandled under
    its locks, so none is recorded already), each with a task for the front desk."""
    if not skips:
        return
    SeriesSkip.objects.bulk_create(skips)
    specs = []
    for skip in skips:
        # bulk_create sends no signal; a skip's listeners (the authorization figures) still hear of it.
        post_save.send(sender=SeriesSkip, instance=skip, created=True, update_fields=None, raw=False,
                       using=skip._state.db)
        patient = skip.series.plan_of_care.patient
        specs.append(TaskSpec(
            dedupe_key=f"series-skip:{skip.pk}",
            title=f"{patient.first_name} {patient.last_name[:1]}.'s {skip.date:%a %b %-d} visit was not booked",
            reason=skip.message, subject=skip, patient_id=patient.pk, role="front_desk",
            links=[{"label": "Chart", "url": patient.get_absolute_url()}],
        ))
    open_new_tasks(practice=practice, kind="series_occurrence_skipped", specs=specs)

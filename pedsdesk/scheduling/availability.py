"""When a therapist can work and when a child can come, as UTC intervals of one local day."""

import datetime as dt

from pedsdesk.people.models import Patient
from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.scheduling.models import Closure, FamilyAvailability, SchedulingPolicy, TimeOff, WorkingHours
from pedsdesk.scheduling.timeslots import Interval, local_day_bounds, local_to_utc, subtract
from pedsdesk.schools.models import SchoolDay


def closure_on(practice: Practice, day: dt.date, memo: dict | None = None) -> Closure | None:
    """The closure on ``day``; with ``memo`` (a batch of bookings' memo, BookingBatch) the
    practice's closures are read once for the batch."""
    if memo is None:
        return Closure.objects.filter(practice=practice, date=day).first()
    key = ("closures", practice.pk)
    if key not in memo:
        memo[key] = {c.date: c for c in Closure.objects.filter(practice=practice).order_by("pk")}
    return memo[key].get(day)


def _remembered(memo: dict | None, key: tuple, read):
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def time_off_around(therapist: StaffMember, day: dt.date, start_at: dt.datetime, end_at: dt.datetime,
                    zone: dt.tzinfo) -> list[TimeOff]:
    """The therapist's time off touching ``day`` or the visit from ``start_at`` to ``end_at``
    (one read serves the visit's own check and the day's working windows)."""
    day_start, day_end = local_day_bounds(day, zone)
    return list(TimeOff.objects.filter(therapist=therapist, start_at__lt=max(day_end, end_at),
                                       end_at__gt=min(day_start, start_at)).order_by("pk"))


def therapist_windows(therapist: StaffMember, day: dt.date, memo: dict | None = None,
                      time_off: list[TimeOff] | None = None) -> list[Interval]:
    """Working hours on ``day`` minus time off; nothing on a closure day. With ``memo``
    the closures and weekly hours are read once for a batch of bookings (time off is
    read for each day, or given: ``time_off_around``)."""
    practice = therapist.practice
    zone = practice.zone
    if closure_on(practice, day, memo):
        return []
    hours = _remembered(memo, ("hours", therapist.pk, day.weekday()),
                        lambda: list(WorkingHours.objects.filter(therapist=therapist, weekday=day.weekday())))
    windows = [(local_to_utc(day, h.start, zone), local_to_utc(day, h.end, zone)) for h in hours]
    day_start, day_end = local_day_bounds(day, zone)
    if time_off is None:
        off = TimeOff.objects.filter(therapist=therapist, start_at__lt=day_end, end_at__gt=day_start)
    else:
        off = [t for t in time_off if t.start_at < day_end and t.end_at > day_start]
    return subtract(windows, [(t.start_at, t.end_at) for t in off])


def is_school_day(patient: Patient, day: dt.date, memo: dict | None = None) -> tuple[bool, dt.time | None]:
    """(in school that day, dismissal time) for a school-age child."""
    school = patient.school
    if school is None or school.is_preschool or day.weekday() >= 5:
        return False, None
    if (school.first_day and day < school.first_day) or (school.last_day and day > school.last_day):
        return False, None
    entry = _remembered(memo, ("school_day", school.pk, day),
                        lambda: SchoolDay.objects.filter(school=school, date=day).first())
    if entry and entry.kind == SchoolDay.Kind.NO_SCHOOL:
        return False, None
    if entry and entry.kind == SchoolDay.Kind.EARLY_RELEASE and school.early_release_time:
        return True, school.early_release_time
    return True, school.dismissal_time


def child_windows(patient: Patient, day: dt.date, memo: dict | None = None) -> list[Interval]:
    """When the child can be at the clinic on ``day``.

    Derived from school (after dismissal plus travel on school days, daytime
    otherwise), then widened by windows the family says work and narrowed by those
    that never work. With ``memo`` the family's weekly windows and the school's day are
    read once for a batch of bookings.
    """
    practice = patient.practice
    zone = practice.zone
    policy = SchedulingPolicy.for_practice(practice)
    if day.weekday() == 6:
        base: list[Interval] = []
    else:
        in_school, dismissal = is_school_day(patient, day, memo)
        if in_school:
            after = (dt.datetime.combine(day, dismissal) + dt.timedelta(minutes=policy.school_travel_minutes)).time()
            base = [(local_to_utc(day, after, zone), local_to_utc(day, policy.evening_end, zone))]
        else:
            base = [(local_to_utc(day, policy.daytime_start, zone), local_to_utc(day, policy.daytime_end, zone))]
    stated = _remembered(memo, ("family", patient.pk, day.weekday()),
                         lambda: list(FamilyAvailability.objects.filter(patient=patient, weekday=day.weekday())))
    extra = [(local_to_utc(day, s.start, zone), local_to_utc(day, s.end, zone))
             for s in stated if s.kind == FamilyAvailability.Kind.AVAILABLE]
    never = [(local_to_utc(day, s.start, zone), local_to_utc(day, s.end, zone))
             for s in stated if s.kind == FamilyAvailability.Kind.UNAVAILABLE]
    return subtract(_union(base + extra), never)


def _union(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged

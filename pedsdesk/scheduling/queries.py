"""Reads for the schedule screens: grids in local time, density, a child's visits."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import F, Func, IntegerField, Prefetch, QuerySet, Sum
from django.utils import dateformat, timezone, translation

from pedsdesk.people.models import GuardianOf, Patient
from pedsdesk.people.phones import display_phone
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.scheduling.models import HOLDING_STATUSES, Appointment, Closure, WorkingHours
from pedsdesk.scheduling.timeslots import local_day_bounds, local_to_utc, week_start

SLOT_MINUTES = 15
GRID_START, GRID_END = dt.time(8, 0), dt.time(19, 0)


def _shown(visits: QuerySet[Appointment]) -> QuerySet[Appointment]:
    """What a grid or a list shows of each visit, its child's name in the visit's own row
    (``child_first_name``, ``child_last_name``): a big practice's day has thousands of
    visits, and loading every column of each, or a model instance for each one's child,
    costs more than drawing them."""
    return visits.only("practice", "patient", "therapist", "status", "start_at", "end_at", "title").annotate(
        child_first_name=F("patient__first_name"), child_last_name=F("patient__last_name"))


@dataclass(slots=True)
class Cell:
    """One cell of the grid: a visit spanning ``rows`` slots, a free slot, or covered."""

    kind: str  # "visit", "free", "past" (free but gone by), "off", "covered"
    therapist_id: int
    start: dt.datetime | None = None  # local time
    appointment: Appointment | None = None
    rows: int = 1
    today: bool = False
    slot: str = ""  # a free slot's start as the booking form takes it ("2026-12-03T16:00")
    label: str = ""  # and as a screen reader says it ("Thu Dec 3, 4:00 PM")


@dataclass(slots=True)
class Row:
    time: dt.time
    cells: list[Cell]


@dataclass
class Grid:
    columns: list[tuple[str, dt.date, StaffMember]]  # (heading, day, therapist)
    rows: list[Row] = field(default_factory=list)
    today: dt.date | None = None  # the practice's today, highlighted

    def agenda(self) -> list[tuple[str, dt.date, list[Cell]]]:
        """The same visits as a list per column (the grid on a phone)."""
        return [(heading, day, [row.cells[i] for row in self.rows if row.cells[i].kind == "visit"])
                for i, (heading, day, _) in enumerate(self.columns)]


def therapists_of(practice: Practice):
    return StaffMember.objects.filter(practice=practice, role=Role.THERAPIST, is_active=True).select_related(
        "therapist_profile"
    ).order_by("therapist_profile__discipline", "last_name", "first_name")


def _times() -> list[dt.time]:
    start = GRID_START.hour * 60 + GRID_START.minute
    end = GRID_END.hour * 60 + GRID_END.minute
    return [dt.time(m // 60, m % 60) for m in range(start, end, SLOT_MINUTES)]


def _slot_text(start: dt.datetime) -> tuple[str, str]:
    return _formatted(start, translation.get_language())


@lru_cache(maxsize=4096)
def _formatted(start: dt.datetime, language: str | None) -> tuple[str, str]:
    # Formatted once per slot time, not once per therapist's cell: a practice's day grid
    # has thousands of free cells and a few dozen times.
    return dateformat.format(start, "Y-m-d\\TH:i"), dateformat.format(start, "D M j, g:i A")


def build_grid(practice: Practice, columns: list[tuple[str, dt.date, StaffMember]],
               now: dt.datetime | None = None, visits: Iterable[Appointment] | None = None) -> Grid:
    """A time-by-column table: each visit one cell spanning its slots, free slots bookable
    until they have begun.

    Three queries whatever the number of visits: appointments, working hours, closures;
    two when the caller passes the ``visits`` it has loaded already (every visit starting
    on the columns' days, in time order; those not holding time are left out here).
    """
    now = now or timezone.now()
    zone = practice.zone
    today = now.astimezone(zone).date()
    if not columns:
        return Grid(columns, today=today)
    times = _times()
    days = sorted({day for _, day, _ in columns})
    therapist_ids = {t.pk for _, _, t in columns}
    first, last = local_day_bounds(days[0], zone)[0], local_day_bounds(days[-1], zone)[1]
    if visits is None:
        # By start: a visit is drawn on the day it starts. (Bounded below too: a filter on
        # its end reads every visit the therapists ever had.)
        visits = Appointment.objects.filter(
            practice=practice, therapist_id__in=therapist_ids, start_at__gte=first, start_at__lt=last,
            status__in=HOLDING_STATUSES,
        )
        visits = _shown(visits).order_by("start_at")
    hours: dict[tuple[int, int], list[tuple[dt.time, dt.time]]] = {}
    for h in WorkingHours.objects.filter(therapist_id__in=therapist_ids):
        hours.setdefault((h.therapist_id, h.weekday), []).append((h.start, h.end))
    closed = set(Closure.objects.filter(practice=practice, date__in=days).values_list("date", flat=True))
    # Each visit in the slot its local start falls in (the first, when several do), so a
    # cell is a lookup, not a scan of every visit.
    by_slot: dict[tuple[int, dt.date, dt.time], tuple[Appointment, dt.datetime]] = {}
    for visit in visits:
        if visit.status not in HOLDING_STATUSES or visit.therapist_id not in therapist_ids:
            continue
        local = visit.start_at.astimezone(zone)
        minute = (local.hour * 60 + local.minute) // SLOT_MINUTES * SLOT_MINUTES
        by_slot.setdefault((visit.therapist_id, local.date(), dt.time(minute // 60, minute % 60)), (visit, local))
    grid = Grid(columns, today=today)
    covered: dict[int, int] = {}  # column -> slots still covered by a visit above
    for position, time in enumerate(times):
        # A slot's instant, once per day and time, not once per therapist's cell.
        local_starts = {day: local_to_utc(day, time, zone).astimezone(zone) for day in days}
        slot_end = (dt.datetime.combine(days[0], time) + dt.timedelta(minutes=SLOT_MINUTES)).time()
        row = []
        for index, (_, day, therapist) in enumerate(columns):
            if covered.get(index, 0) > 0:
                covered[index] -= 1
                row.append(Cell("covered", therapist.pk))
                continue
            found = by_slot.get((therapist.pk, day, time))
            if found is not None:
                visit, local = found
                span = min(max(1, -(-visit.minutes // SLOT_MINUTES)), len(times) - position)
                covered[index] = span - 1
                row.append(Cell("visit", therapist.pk, local, visit, span, day == today))
                continue
            working = day not in closed and any(
                s <= time and slot_end <= e for s, e in hours.get((therapist.pk, day.weekday()), [])
            )
            local = local_starts[day]
            kind = ("free" if local >= now else "past") if working else "off"
            slot, label = _slot_text(local) if kind == "free" else ("", "")
            row.append(Cell(kind, therapist.pk, local, today=day == today, slot=slot, label=label))
        grid.rows.append(Row(time, row))
    return grid


def therapist_week(practice: Practice, therapist: StaffMember, day: dt.date) -> Grid:
    monday = week_start(day)
    columns = [(f"{d:%a %-d}", d, therapist) for d in (monday + dt.timedelta(days=i) for i in range(6))]
    return build_grid(practice, columns)


def practice_day(practice: Practice, day: dt.date, visits: Iterable[Appointment] | None = None) -> Grid:
    """Every therapist's column for ``day``; ``visits`` as for ``build_grid`` (the front
    desk's list holds them)."""
    columns = [(f"{t.first_name} {t.last_name[:1]}. ({t.therapist_profile.discipline})", day, t)
               for t in therapists_of(practice)]
    return build_grid(practice, columns, visits=visits)


@dataclass(slots=True)
class DeskRow:
    """One visit of the front desk's day list."""

    visit: Appointment
    start: dt.datetime  # local time
    phones: list[str]  # the child's primary contacts, as the desk dials them
    guardian_ids: list[int]  # whose numbers those are, for the audit of the read


def day_list(practice: Practice, day: dt.date) -> list[DeskRow]:
    """The front desk's list for one day, in time order.

    Three queries whatever the number of visits: the visits, their therapists (one instance
    each, not one a visit), and the primary contacts of their children, found by a join (a
    list of the children's ids would outgrow what SQLite takes in one statement on a big
    practice's day). Scoped through the child: SQLite plans a filter on the guardian's
    practice as a walk over every guardian.
    """
    zone = practice.zone
    start, end = local_day_bounds(day, zone)
    visits = Appointment.objects.filter(practice=practice, start_at__gte=start, start_at__lt=end)
    contacts: dict[int, tuple[list[str], list[int]]] = {}
    for patient_id, guardian_id, phone in GuardianOf.objects.filter(
        is_primary_contact=True, patient__practice=practice, patient__in=visits.values("patient_id")
    ).order_by("pk").values_list("patient_id", "guardian_id", "guardian__phone"):
        if phone:
            numbers, ids = contacts.setdefault(patient_id, ([], []))
            numbers.append(display_phone(phone))
            ids.append(guardian_id)
    return [
        DeskRow(visit, visit.start_at.astimezone(zone), *contacts.get(visit.patient_id, ([], [])))
        for visit in _shown(visits).order_by("start_at", "therapist__last_name").prefetch_related(
            Prefetch("therapist", queryset=StaffMember.objects.only("first_name", "last_name", "username")))
    ]


class VisitMinutes(Func):
    """A visit's whole minutes (``Appointment.minutes``), worked out by the database: a big
    practice's week has 10,000 visits, and reading their times into Python costs more than
    the rest of the page (SQLite and PostgreSQL, the databases pedsdesk runs on)."""

    output_field = IntegerField()

    def __init__(self) -> None:
        super().__init__(F("end_at"), F("start_at"))

    def as_sqlite(self, compiler, connection, **extra) -> tuple[str, list]:
        return self.as_sql(compiler, connection, arg_joiner=") - julianday(",
                           template="(CAST(ROUND((julianday(%(expressions)s)) * 86400) AS INTEGER) / 60)", **extra)

    def as_postgresql(self, compiler, connection, **extra) -> tuple[str, list]:
        return self.as_sql(compiler, connection, arg_joiner=" - ",
                           template="CAST(FLOOR(EXTRACT(EPOCH FROM (%(expressions)s)) / 60) AS INTEGER)", **extra)


def density(practice: Practice, day: dt.date) -> list[dict]:
    """Booked minutes ÷ working minutes per therapist for the week of ``day``."""
    monday = week_start(day)
    start, end = local_to_utc(monday, dt.time.min, practice.zone), local_to_utc(
        monday + dt.timedelta(days=7), dt.time.min, practice.zone)
    therapists = list(therapists_of(practice).prefetch_related(
        Prefetch("working_hours", queryset=WorkingHours.objects.all())))
    booked = dict(Appointment.objects.filter(
        practice=practice, start_at__gte=start, start_at__lt=end, status__in=HOLDING_STATUSES
    ).values("therapist_id").annotate(minutes=Sum(VisitMinutes())).order_by().values_list("therapist_id", "minutes"))
    closed_weekdays = {d.weekday() for d in Closure.objects.filter(
        practice=practice, date__gte=monday, date__lt=monday + dt.timedelta(days=7)).values_list("date", flat=True)}
    result = []
    for therapist in therapists:
        working = sum(
            (h.end.hour * 60 + h.end.minute) - (h.start.hour * 60 + h.start.minute)
            for h in therapist.working_hours.all() if h.weekday not in closed_weekdays
        )
        minutes = booked.get(therapist.pk, 0)
        result.append({"therapist": therapist, "booked": minutes, "working": working,
                       "density": round(minutes / working, 2) if working else None})
    return result


def upcoming_for(patient: Patient, now: dt.datetime, limit: int = 20):
    return (
        Appointment.objects.filter(patient=patient, end_at__gte=now)
        .select_related("therapist", "practice")
        .order_by("start_at")[:limit]
    )


def refill_measures(practice: Practice, day: dt.date) -> dict:
    """The week's openings and how they were filled, for the dashboard and the schedule."""
    from statistics import median

    from pedsdesk.scheduling.models import AppointmentKind, Offer, Opening

    monday = week_start(day)
    start = local_to_utc(monday, dt.time.min, practice.zone)
    end = local_to_utc(monday + dt.timedelta(days=7), dt.time.min, practice.zone)
    openings = list(Opening.objects.filter(practice=practice, start_at__gte=start, start_at__lt=end).values_list(
        "status", "created_at", "filled_at"))
    filled = [(created, filled_at) for status, created, filled_at in openings if status == Opening.Status.FILLED]
    minutes = [(f - c).total_seconds() / 60 for c, f in filled if f]
    makeups = Appointment.objects.filter(practice=practice, kind=AppointmentKind.MAKEUP, start_at__gte=start,
                                         start_at__lt=end, status__in=HOLDING_STATUSES,
                                         makeup_for__start_at__gte=start, makeup_for__start_at__lt=end).count()
    offers = Offer.objects.filter(opening__practice=practice, opening__start_at__gte=start,
                                  opening__start_at__lt=end).count()
    return {
        "week_of": monday, "openings": len(openings), "filled": len(filled),
        "fill_rate": round(100 * len(filled) / len(openings)) if openings else None,
        "median_minutes_to_fill": round(median(minutes)) if minutes else None,
        "makeups_within_week": makeups, "offers": offers,
    }

"""Booking, moving, cancelling and the other steps of a visit.

Every booking takes row locks on the therapist and the child (in that order) before
it looks for overlaps, so two people booking one slot at the same moment queue up
and the second sees the first's visit: nobody is double-booked. On SQLite the
IMMEDIATE transactions serialize writers the same way.
"""

import datetime as dt
from collections.abc import Callable, Collection
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

import holidays
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.people.models import Patient, PlanOfCare
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.scheduling.availability import child_windows, closure_on, therapist_windows, time_off_around
from pedsdesk.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    CancelledBy,
    Closure,
    FamilyAvailability,
    SchedulingPolicy,
    TimeOff,
    WorkingHours,
)
from pedsdesk.scheduling.timeslots import contains, local_day_bounds
from pedsdesk.schools.models import School, SchoolDay


@dataclass
class Problem:
    code: str
    message: str


@dataclass
class BookingCheck:
    """What stands in the way of a visit: blocks cannot be overridden, warnings can, with a reason."""

    blocks: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blocks and not self.warnings


class BookingRefused(Exception):
    def __init__(self, check: BookingCheck):
        self.check = check
        problems = check.blocks or check.warnings
        super().__init__(" ".join(p.message for p in problems))


# Guards other domains add (the authorization booking guard): each returns problems.
BOOKING_GUARDS: list = []


class BookingBatch:
    """One caller's run of bookings, such as a series booked weeks ahead.

    A guard may keep what it read for the batch's first visit in ``memo`` and hear of
    each visit booked through ``on_booked``, so it checks the next visit against what
    it holds instead of reading the child's schedule again. Its answers must be those
    it would give without the batch: only the batch's own bookings may change what it
    read while the batch lasts (one caller, under the sweep's lease, or under the locks
    of the people it books: ``hold``).
    """

    def __init__(self) -> None:
        self.memo: dict = {}
        self._listeners: list[Callable[[Appointment], None]] = []
        self._to_remind: list[int] = []
        self._locked: set[tuple[str, int]] = set()

    def on_booked(self, listener: Callable[[Appointment], None]) -> None:
        self._listeners.append(listener)

    def booked(self, appointment: Appointment) -> None:
        for listener in self._listeners:
            listener(appointment)

    def lock(self, *, therapists: Collection[int], patients: Collection[int]) -> None:
        """Lock these people's rows for the rest of the caller's transaction (the batch
        lasts no longer than it): its bookings of them need not lock them one by one."""
        lock_people(therapists=therapists, patients=patients)
        self._locked |= {("therapist", pk) for pk in therapists} | {("child", pk) for pk in patients}

    def has_locked(self, therapist: StaffMember, patient: Patient | None) -> bool:
        return ("therapist", therapist.pk) in self._locked and (
            patient is None or ("child", patient.pk) in self._locked)

    def remind(self, appointment: Appointment) -> None:
        """Reminders follow the batch's bookings once they commit, read together for all."""
        if not self._to_remind:
            transaction.on_commit(self._reminders_follow, robust=True)
        self._to_remind.append(appointment.pk)

    def _reminders_follow(self) -> None:
        from pedsdesk.scheduling.confirmations import visits_booked

        booked, self._to_remind = self._to_remind, []
        visits_booked(appointment_ids=booked)

    def held(self, kind: str, pk: int, start_at: dt.datetime, end_at: dt.datetime) -> list | None:
        """The rows of ``kind`` ("therapist visits", "child visits", "time off") the batch
        holds for one person that overlap ``start_at``..``end_at``; None when it did not
        read that span for them (the caller reads it then)."""
        entry = self.memo.get((kind, pk))
        if entry is None or start_at < entry[0] or end_at > entry[1]:
            return None
        return [row for row in entry[2] if row.start_at < end_at and row.end_at > start_at]

    def _keep(self, kind: str, pks: Collection[int], start_at: dt.datetime, end_at: dt.datetime,
              rows: list, person: str) -> None:
        for pk in pks:
            self.memo[(kind, pk)] = (start_at, end_at, [])
        for row in rows:
            if (kind, getattr(row, person)) in self.memo:
                self.memo[(kind, getattr(row, person))][2].append(row)

    def _join(self, appointment: Appointment) -> None:
        # A visit booked through the batch is one the next visit's check must see.
        for kind, pk in (("therapist visits", appointment.therapist_id), ("child visits", appointment.patient_id)):
            entry = self.memo.get((kind, pk))
            if entry is not None and appointment.start_at < entry[1] and appointment.end_at > entry[0]:
                entry[2].append(appointment)

    def hold(self, *, practice: Practice, bookings: list[tuple[StaffMember, Patient, PlanOfCare | None]],
             start_at: dt.datetime, end_at: dt.datetime) -> None:
        """The batch is about to book visits for these therapists and children between
        ``start_at`` and ``end_at``, holding their row locks (a sweep's series, see
        ``lock``): read their visits, time off, hours, school days, family times and
        what the guards need for all of them at once, so each visit's check costs no query.
        Each visit booked through the batch joins what it holds."""
        zone = practice.zone
        first_day, last_day = start_at.astimezone(zone).date(), end_at.astimezone(zone).date()
        lo, hi = local_day_bounds(first_day, zone)[0], local_day_bounds(last_day, zone)[1]
        therapists = {t.pk: t for t, _, _ in bookings}
        patients = {p.pk: p for _, p, _ in bookings}
        for therapist, _, _ in bookings:
            therapist.practice = practice
        schools = self._share_practice(practice, [patient for _, patient, _ in bookings])
        for school_id in schools:
            for offset in range((last_day - first_day).days + 1):
                self.memo[("school_day", school_id, first_day + dt.timedelta(days=offset))] = None
        for entry in SchoolDay.objects.filter(school__in=list(schools), date__range=(first_day, last_day)):
            self.memo[("school_day", entry.school_id, entry.date)] = entry
        visits = list(Appointment.objects.filter(
            Q(therapist_id__in=list(therapists)) | Q(patient_id__in=list(patients)), practice=practice,
            status__in=HOLDING_STATUSES, start_at__lt=hi, end_at__gt=lo).select_related("therapist"))
        self._keep("therapist visits", therapists, lo, hi, visits, "therapist_id")
        self._keep("child visits", patients, lo, hi, [v for v in visits if v.patient_id in patients], "patient_id")
        self._keep("time off", therapists, lo, hi, list(TimeOff.objects.filter(
            therapist_id__in=list(therapists), start_at__lt=hi, end_at__gt=lo).order_by("pk")), "therapist_id")
        for pk in therapists:
            for weekday in range(7):
                self.memo[("hours", pk, weekday)] = []
        for hours in WorkingHours.objects.filter(therapist_id__in=list(therapists)):
            self.memo[("hours", hours.therapist_id, hours.weekday)].append(hours)
        self._read_family_times(list(patients), range(7))
        self.on_booked(self._join)
        for read in BATCH_READERS:
            read(batch=self, practice=practice, patients=list(patients.values()),
                 plans=[plan for _, _, plan in bookings], day=first_day)

    def _share_practice(self, practice: Practice, patients: list[Patient]) -> dict[int, School]:
        schools = {s.pk: s for s in School.objects.filter(practice=practice,
                                                          pk__in={p.school_id for p in patients if p.school_id})}
        for patient in patients:
            patient.practice = practice  # the same practice: not read again for each child
            if patient.school_id in schools:
                patient.school = schools[patient.school_id]
        return schools

    def _read_family_times(self, patient_ids: list[int], weekdays: Collection[int]) -> None:
        for pk in patient_ids:
            for weekday in weekdays:
                self.memo[("family", pk, weekday)] = []
        for stated in FamilyAvailability.objects.filter(patient_id__in=patient_ids, weekday__in=list(weekdays)):
            self.memo[("family", stated.patient_id, stated.weekday)].append(stated)

    def expect(self, *, practice: Practice, patients: list[Patient], plans: list[PlanOfCare | None],
               start_at: dt.datetime, end_at: dt.datetime, first_problem_only: Collection[int] = ()) -> None:
        """The batch is about to check these children for one time (screening families for
        an opening): read what their checks need for all of them at once, so checking the
        next child costs no query. Nothing is booked through such a batch.

        ``first_problem_only``: the children whose check stops at its first problem; the
        guards read nothing for them when they cannot come then (nor for a child booked then).
        """
        day = start_at.astimezone(practice.zone).date()
        ids = [p.pk for p in patients]
        schools = self._share_practice(practice, patients)
        for school_id in schools:
            self.memo[("school_day", school_id, day)] = None
        for entry in SchoolDay.objects.filter(school__in=list(schools), date=day):
            self.memo[("school_day", entry.school_id, day)] = entry
        self._read_family_times(ids, [day.weekday()])
        # Scoped through the child: SQLite then takes the child's index.
        self._keep("child visits", ids, start_at, end_at, list(Appointment.objects.filter(
            patient__practice=practice, patient_id__in=ids, status__in=HOLDING_STATUSES, start_at__lt=end_at,
            end_at__gt=start_at).select_related("therapist")), "patient_id")
        # As check_booking goes: a clash ends the check before the guards, and so does a
        # child's times for a first-problem check.
        guarded = [(patient, plan) for patient, plan in zip(patients, plans, strict=True)
                   if not self.memo[("child visits", patient.pk)][2] and (
                       patient.pk not in first_problem_only
                       or contains(child_windows(patient, day, self.memo), (start_at, end_at)))]
        for read in BATCH_READERS:
            read(batch=self, practice=practice, patients=[p for p, _ in guarded], plans=[p for _, p in guarded],
                 day=day)


# Readers other domains add with their guard (the authorization guard's): each reads what
# its guard needs for many children at once into a batch (see BookingBatch.expect).
BATCH_READERS: list = []


# Called after a cancellation commits (refilling the time): each takes the cancelled visit.
AFTER_CANCELLATION: list = []


def check_booking(*, practice: Practice, therapist: StaffMember, patient: Patient | None, start_at: dt.datetime,
                  end_at: dt.datetime, kind: str = AppointmentKind.TREATMENT,
                  plan_of_care: PlanOfCare | None = None, exclude: Appointment | None = None,
                  now: dt.datetime | None = None, therapist_checked: bool = False,
                  first_problem_only: bool = False, batch: BookingBatch | None = None,
                  series=None) -> BookingCheck:
    """Everything a front-desk person must know before this visit is booked or moved.

    ``therapist_checked``: the caller already checked this therapist and time (closure,
    clashes, time off, hours) once for many children, so only the child's side is checked.
    ``first_problem_only``: screening many families, one reason is enough to pass one by,
    so the costlier checks (the authorization guard) are skipped once one is found.
    ``batch``: the visit is one of a run of bookings (see BookingBatch). ``series``: the
    visit is that series' occurrence on its day (the guards count it once, not twice).
    """
    check = BookingCheck()
    now = now or timezone.now()
    zone = practice.zone
    local_day = start_at.astimezone(zone).date()
    when = f"{start_at.astimezone(zone):%a %b %-d at %-I:%M %p}"
    if end_at <= start_at:
        check.blocks.append(Problem("bad_time", "The visit must end after it starts."))
        return check
    if start_at < now:
        check.blocks.append(Problem("in_past", f"{when} has already passed; choose a time in the future."))
    if therapist.practice_id != practice.id or therapist.role != Role.THERAPIST:
        check.blocks.append(Problem("not_therapist", f"{therapist} is not a therapist of this practice."))
    if patient is not None and patient.practice_id != practice.id:
        check.blocks.append(Problem("other_practice", "That child is not a patient of this practice."))
    if plan_of_care is not None and patient is not None and plan_of_care.patient_id != patient.pk:
        check.blocks.append(Problem("wrong_plan", "That plan of care belongs to another child."))
    memo = batch.memo if batch is not None else None
    closure = None if therapist_checked else closure_on(practice, local_day, memo)
    if closure:
        check.blocks.append(Problem("closed", f"The practice is closed on {local_day:%b %-d} ({closure.name})."))
    held = batch if batch is not None and exclude is None else None  # a move reads afresh
    clash = None if therapist_checked else _first_overlap(
        held, "therapist visits", "therapist", therapist, start_at, end_at, exclude)
    if clash:
        check.blocks.append(Problem("therapist_busy", f"{therapist} already has a visit at {when}."))
    if patient is not None:
        child_clash = _first_overlap(held, "child visits", "patient", patient, start_at, end_at, exclude)
        if child_clash:
            check.blocks.append(Problem(
                "child_busy", f"{patient.first_name} is already booked with {child_clash.therapist} then."))
    time_off = None
    if not therapist_checked:
        day_start, day_end = local_day_bounds(local_day, zone)
        time_off = held.held("time off", therapist.pk, min(day_start, start_at), max(day_end, end_at)) if held else None
        if time_off is None:
            time_off = time_off_around(therapist, local_day, start_at, end_at, zone)
    off = next((t for t in time_off or [] if t.start_at < end_at and t.end_at > start_at), None)
    if off:
        check.blocks.append(Problem("time_off", f"{therapist} is off then{f' ({off.reason})' if off.reason else ''}."))
    if check.blocks:
        return check
    if not therapist_checked and not contains(therapist_windows(therapist, local_day, memo, time_off),
                                                        (start_at, end_at)):
        check.warnings.append(Problem("outside_hours", f"{when} is outside {therapist}'s working hours."))
    if patient is not None and kind != AppointmentKind.MEETING and not contains(
        child_windows(patient, local_day, memo), (start_at, end_at)
    ):
        check.warnings.append(Problem(
            "outside_child_windows", f"{when} is outside the times {patient.first_name} can usually come."))
    if first_problem_only and check.warnings:
        return check
    for guard in BOOKING_GUARDS:
        guard_check = guard(practice=practice, therapist=therapist, patient=patient, start_at=start_at,
                            end_at=end_at, kind=kind, plan_of_care=plan_of_care, exclude=exclude, batch=batch,
                            series=series)
        check.blocks += guard_check.blocks
        check.warnings += guard_check.warnings
    return check


def _first_overlap(batch: BookingBatch | None, kind: str, field: str, person: StaffMember | Patient,
                   start_at: dt.datetime, end_at: dt.datetime, exclude: Appointment | None) -> Appointment | None:
    """The earliest visit of ``person`` (the visits' ``field``) overlapping the time, from
    what the batch holds, or else read (a batch's run of checks builds no query)."""
    held = batch.held(kind, person.pk, start_at, end_at) if batch is not None else None
    if held is not None:
        return min(held, key=lambda v: (v.start_at, v.pk), default=None)
    others = Appointment.objects.filter(status__in=HOLDING_STATUSES, start_at__lt=end_at, end_at__gt=start_at,
                                        **{field: person}).select_related("therapist")
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    return others.first()


def _lock_people(therapist: StaffMember, patient: Patient | None) -> None:
    lock_people(therapists=[therapist.pk], patients=[patient.pk] if patient is not None else [])


def lock_people(*, therapists: Collection[int], patients: Collection[int]) -> None:
    """Row locks on the therapists, then the children, each in id order: every booking and
    run of bookings takes them so, and none waits on another in a circle."""
    list(StaffMember.objects.select_for_update().filter(pk__in=list(therapists)).order_by("pk").values_list("pk"))
    list(Patient.objects.select_for_update().filter(pk__in=list(patients)).order_by("pk").values_list("pk"))


def _reminders_follow(appointment: Appointment, change: str, actor: StaffMember | str) -> None:
    """After commit, reminders follow the visit (pedsdesk.scheduling.confirmations): a
    rolled-back change sends nothing, and a failure there never undoes the booking."""
    from pedsdesk.scheduling.confirmations import visit_changed

    transaction.on_commit(partial(visit_changed, appointment_id=appointment.pk, change=change,
                                  actor=actor if isinstance(actor, str) else ""), robust=True)


def _refuse_unless_allowed(check: BookingCheck, override_reason: str) -> None:
    if check.blocks or (check.warnings and not override_reason.strip()):
        raise BookingRefused(check)


def book_appointment(*, actor: StaffMember | str, practice: Practice, therapist: StaffMember,
                     patient: Patient | None, start_at: dt.datetime, minutes: int,
                     kind: str = AppointmentKind.TREATMENT, plan_of_care: PlanOfCare | None = None,
                     series=None, makeup_for: Appointment | None = None, title: str = "",
                     override_reason: str = "", request: HttpRequest | None = None,
                     batch: BookingBatch | None = None) -> Appointment:
    """Book one visit, or raise BookingRefused saying why (and whether a reason may override it).
    ``batch``: one of a run of bookings whose guards keep what they read (BookingBatch)."""
    if not 5 <= minutes <= 480:
        raise BookingRefused(BookingCheck(blocks=[Problem("bad_length", "A visit is 5 to 480 minutes long.")]))
    end_at = start_at + dt.timedelta(minutes=minutes)
    held = batch is not None and batch.has_locked(therapist, patient)
    # Inside a batch's transaction and locks a refusal has written nothing, so a visit
    # needs no savepoint of its own (an insert that fails fails the batch).
    with nullcontext() if held else transaction.atomic():
        if not held:
            _lock_people(therapist, patient)
        check = check_booking(practice=practice, therapist=therapist, patient=patient, start_at=start_at,
                              end_at=end_at, kind=kind, plan_of_care=plan_of_care, batch=batch, series=series)
        _refuse_unless_allowed(check, override_reason)
        appointment = Appointment.objects.create(
            practice=practice, patient=patient, therapist=therapist, plan_of_care=plan_of_care, series=series,
            kind=kind, start_at=start_at, end_at=end_at, makeup_for=makeup_for, title=title[:120],
            override_reason=override_reason.strip()[:200] if check.warnings else "",
            booked_by=actor if isinstance(actor, StaffMember) else None,
        )
        record_event(actor=actor, action="create", obj=appointment, practice_id=practice.pk,
                     detail={"warnings_overridden": [w.code for w in check.warnings]}, request=request)
        if batch is None:
            _reminders_follow(appointment, "booked", actor)
        else:
            batch.remind(appointment)
    if batch is not None:  # only once it committed
        batch.booked(appointment)
    return appointment


def move_appointment(*, actor: StaffMember | str, appointment: Appointment, start_at: dt.datetime,
                     minutes: int | None = None, therapist: StaffMember | None = None,
                     override_reason: str = "", request: HttpRequest | None = None) -> Appointment:
    """Move a booked or confirmed visit. The visit row is locked and its state read again under
    the lock, so a cancel or check-in that lands at the same instant is never undone."""
    therapist = therapist or appointment.therapist
    with transaction.atomic():
        _lock_people(therapist, appointment.patient)  # therapist, child, then the visit: one order everywhere
        locked = Appointment.objects.select_for_update(of=("self",)).select_related(
            "practice", "patient", "plan_of_care").get(pk=appointment.pk)
        if locked.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            raise BookingRefused(BookingCheck(blocks=[Problem(
                "not_movable", f"This visit is {locked.get_status_display().lower()} now, so it cannot be moved.")]))
        end_at = start_at + dt.timedelta(minutes=minutes or locked.minutes)
        check = check_booking(practice=locked.practice, therapist=therapist, patient=locked.patient,
                              start_at=start_at, end_at=end_at, kind=locked.kind,
                              plan_of_care=locked.plan_of_care, exclude=locked)
        _refuse_unless_allowed(check, override_reason)
        before = locked.start_at
        # A new time needs a new confirmation, so a confirmed visit is booked again; nothing else
        # (a cancel, a check-in) can have come between the read above and this write.
        locked.start_at, locked.end_at, locked.therapist = start_at, end_at, therapist
        locked.status, locked.sequence = AppointmentStatus.BOOKED, locked.sequence + 1
        locked.updated_at = timezone.now()
        if check.warnings:
            locked.override_reason = override_reason.strip()[:200]
        locked.save(update_fields=["start_at", "end_at", "therapist", "status", "sequence", "updated_at",
                                   "override_reason"])
        record_event(actor=actor, action="update", obj=locked, practice_id=locked.practice_id,
                     detail={"moved_from": before.isoformat(), "fields": ["start_at", "end_at", "therapist"]},
                     request=request)
        _reminders_follow(locked, "moved", actor)
    appointment.refresh_from_db()  # callers holding the visit see the move too
    return locked


def cancel_appointment(*, actor: StaffMember | str, appointment: Appointment, by: str, reason: str,
                       now: dt.datetime | None = None, request: HttpRequest | None = None) -> Appointment:
    """Record a cancellation with its notice; a family's short-notice cancel is a late cancel."""
    if by not in CancelledBy.values:
        raise ValueError("Say who cancelled: the family or the clinic.")
    if not reason.strip():
        raise ValueError("Give the reason for the cancellation.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            raise ValueError(f"This visit is already {locked.get_status_display().lower()}.")
        notice = Decimal((locked.start_at - now).total_seconds() / 3600).quantize(Decimal("0.1"))
        policy = SchedulingPolicy.for_practice(locked.practice)
        late = by == CancelledBy.FAMILY and notice < policy.late_cancel_hours
        locked.status = AppointmentStatus.LATE_CANCEL if late else AppointmentStatus.CANCELLED
        locked.cancelled_at, locked.cancelled_by, locked.cancel_reason = now, by, reason.strip()[:200]
        locked.notice_hours = notice
        locked.sequence += 1
        locked.updated_at = now
        locked.save()
        record_event(actor=actor, action="update", obj=locked, practice_id=locked.practice_id,
                     detail={"fields": ["status"], "status": locked.status, "by": by}, request=request)
        for hook in AFTER_CANCELLATION:
            transaction.on_commit(lambda hook=hook: hook(locked))
        # After the opening's hooks: the first offer goes out before the reminders are tidied.
        _reminders_follow(locked, "cancelled", actor)
    return locked


_DAY_OF_VISIT = {AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW}
_NEXT = {
    AppointmentStatus.BOOKED: {AppointmentStatus.CONFIRMED, *_DAY_OF_VISIT},
    AppointmentStatus.CONFIRMED: _DAY_OF_VISIT,
    AppointmentStatus.CHECKED_IN: {AppointmentStatus.COMPLETED},
}


def set_status(*, actor: StaffMember | str, appointment: Appointment, status: str,
               request: HttpRequest | None = None) -> Appointment:
    """Confirm, check in, complete, or mark a no-show, in that order of the day."""
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if status not in _NEXT.get(locked.status, set()):
            raise ValueError(
                f"A {locked.get_status_display().lower()} visit cannot become "
                f"{AppointmentStatus(status).label.lower()}."
            )
        locked.status = status
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "updated_at"])
        record_event(actor=actor, action="update", obj=locked, practice_id=locked.practice_id,
                     detail={"fields": ["status"], "status": status}, request=request)
        _reminders_follow(locked, "status", actor)
    return locked


def load_federal_holidays(*, practice: Practice, years: list[int]) -> int:
    """Preload US federal holidays as closures (the practice can delete or rename them)."""
    created = 0
    with transaction.atomic():
        for day, name in sorted(holidays.US(years=years, categories=("public",)).items()):
            _, new = Closure.objects.get_or_create(practice=practice, date=day, defaults={"name": name})
            created += new
    return created

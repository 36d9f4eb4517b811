"""The demo practice's schedule and authorizations: working hours, holidays, a weekly
series for every plan of care that fits, four weeks of history with realistic
cancellations and no-shows, two weeks booked ahead, and authorizations sized so that
some run out early, some end with units unused and some are up for renewal."""

import datetime as dt
import itertools
import math
import random
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from pedsdesk.authorizations.models import (
    THERAPIST_DOCUMENTS,
    Authorization,
    AuthorizationStatus,
    Coverage,
    Renewal,
    RenewalItem,
    RenewalLine,
    RenewalState,
    ServiceLine,
    SubmissionChannel,
    UnitType,
)
from pedsdesk.people.models import GuardianOf, Patient, PlanOfCare, PlanOfCareService
from pedsdesk.portal.models import FamilyLink
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.scheduling.actions import load_federal_holidays
from pedsdesk.scheduling.confirmations import LINK_PURPOSE, recipients_for
from pedsdesk.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    CancelledBy,
    CandidateKind,
    Closure,
    FamilyAvailability,
    Offer,
    Opening,
    SchedulingPolicy,
    Series,
    WorkingHours,
)
from pedsdesk.scheduling.series import covered_through
from pedsdesk.scheduling.timeslots import local_to_utc

HISTORY_WEEKS, AHEAD_WEEKS = 52, 2
# A group's practices: two months of history, enough for every page and sweep to have work.
GROUP_HISTORY_WEEKS = 8
_CANCEL_REASONS = ["Sick (fever)", "Sick (stomach bug)", "School event", "Family emergency", "Car trouble",
                   "Sibling sick", "Forgot", "Out of town", "Schedule conflict"]


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _time(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


class _Timetable:
    """Who is busy when, by weekday and minute of the day, while the week is laid out."""

    def __init__(self) -> None:
        self.busy: dict[tuple[str, int, int], list[tuple[int, int]]] = defaultdict(list)

    def free(self, who: tuple[str, int], weekday: int, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.busy[(*who, weekday)])

    def take(self, who: tuple[str, int], weekday: int, start: int, end: int) -> None:
        self.busy[(*who, weekday)].append((start, end))


def seed_schedule(practice: Practice, rng: random.Random, today: dt.date,
                  history_weeks: int = HISTORY_WEEKS) -> dict[str, int]:
    """Working hours, series, ``history_weeks`` of past visits, openings, authorizations
    and renewals (fewer weeks seed faster, for load tests of many practices)."""
    zone = practice.zone
    policy = SchedulingPolicy.for_practice(practice)
    # The demo books its series AHEAD_WEEKS ahead and says so, so each day's sweep has a
    # day's work (a series behind its horizon would catch up a week a day for weeks).
    policy.series_weeks_ahead = AHEAD_WEEKS
    policy.save()
    history_start = today - dt.timedelta(weeks=history_weeks)
    load_federal_holidays(practice=practice, years=sorted({history_start.year, today.year, today.year + 1}))
    closed = set(Closure.objects.filter(practice=practice).values_list("date", flat=True))
    therapists = list(StaffMember.objects.filter(practice=practice, role=Role.THERAPIST).order_by("username"))
    hours: dict[int, dict[int, tuple[int, int]]] = {}
    rows = []
    for therapist in therapists:
        early = rng.random() < 0.5
        days = range(4) if rng.random() < 0.15 else range(5)  # a few work four days
        hours[therapist.pk] = {d: (8 * 60, 17 * 60) if early else (10 * 60, 19 * 60) for d in days}
        if rng.random() < 0.35:
            hours[therapist.pk][5] = (9 * 60, 13 * 60)
        rows += [WorkingHours(therapist=therapist, weekday=d, start=_time(s), end=_time(e))
                 for d, (s, e) in sorted(hours[therapist.pk].items())]
    WorkingHours.objects.bulk_create(rows)

    plans = list(
        PlanOfCare.objects.filter(patient__practice=practice, end_date__gte=history_start)
        .select_related("patient__school").order_by("therapist_id", "pk")
    )
    chains = _earlier_plans(plans, history_start, zone, rng)
    table = _Timetable()
    series_rows: list[Series] = []
    school_release: list[FamilyAvailability] = []
    unscheduled = 0
    for plan in plans:
        slots = _slots_for(plan, hours[plan.therapist_id], table, policy, rng, after_school=True)
        if len(slots) < plan.frequency_per_week and plan.patient.school_id and rng.random() < 0.7:
            # After-school time is what runs out; many families arrange a release from school.
            extra = _slots_for(plan, hours[plan.therapist_id], table, policy, rng, after_school=False,
                               wanted=plan.frequency_per_week - len(slots), avoid={d for d, _ in slots})
            school_release += [FamilyAvailability(
                patient=plan.patient, weekday=d, start=_time(m), end=_time(m + plan.minutes),
                kind=FamilyAvailability.Kind.AVAILABLE, note="School releases for therapy") for d, m in extra]
            slots += extra
        if len(slots) < plan.frequency_per_week:
            unscheduled += 1
        # The family keeps its weekly times from one plan of care to the next.
        for earlier in chains[plan.pk]:
            series_rows += [Series(plan_of_care=earlier, weekday=weekday, start_time=_time(start),
                                   minutes=earlier.minutes, start_date=max(earlier.start_date, history_start),
                                   end_date=earlier.end_date, generated_through=earlier.end_date, active=False,
                                   created_at=_moment(earlier.start_date, zone))
                            for weekday, start in slots]
        start_date = max(plan.start_date, history_start)
        for weekday, start in slots:
            series = Series(plan_of_care=plan, weekday=weekday, start_time=_time(start), minutes=plan.minutes,
                            start_date=start_date, end_date=plan.end_date, created_at=_moment(start_date, zone))
            # Handled through the day before its next occurrence, as the daily sweep leaves it.
            ahead = min(plan.end_date, today + dt.timedelta(weeks=AHEAD_WEEKS))
            series.generated_through = covered_through(series, ahead)
            series_rows.append(series)
    Series.objects.bulk_create(series_rows, batch_size=1000)
    FamilyAvailability.objects.bulk_create(school_release)

    appointments: list[Appointment] = []
    now_local = dt.datetime.combine(today, dt.time(6), zone)
    for series in series_rows:
        plan = series.plan_of_care
        day = series.start_date + dt.timedelta(days=(series.weekday - series.start_date.weekday()) % 7)
        while day <= series.generated_through:
            if day not in closed:
                appointments.append(_visit(practice, plan, series, day, now_local, rng))
            day += dt.timedelta(weeks=1)
    refills = _past_refills(practice, appointments, plans, table, now_local, rng)
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    refill_counts = _save_refills(refills)

    all_plans = plans + [p for chain in chains.values() for p in chain]
    authorizations = _authorizations(practice, all_plans, chains, series_rows, appointments, closed, today, rng)
    renewals = _renewals(practice, today, rng)
    links = _visit_links(practice, rng)  # last: the rows above come out as they always did
    return {"series": len(series_rows), "appointments": len(appointments), "authorizations": authorizations,
            "plans_without_a_full_series": unscheduled, "earlier_plans_of_care": len(all_plans) - len(plans),
            "visit links": links, **refill_counts, **renewals}


def _visit_links(practice: Practice, rng: random.Random) -> int:
    """The family links the last weeks' reminders carried, one per child's guardian to
    remind, still good for a few weeks: the next reminders reuse them, as they would."""
    now = timezone.now()
    days = dt.timedelta(days=settings.PEDSDESK_FAMILY_LINK_DAYS)
    children = Patient.objects.filter(practice=practice, is_active=True).values_list("pk", flat=True)
    rows = []
    for patient_id, guardian in sorted(recipients_for(set(children)).items()):
        created = now - dt.timedelta(days=rng.randint(0, 14), minutes=rng.randint(0, 600))
        rows.append(FamilyLink(practice=practice, guardian=guardian, patient_id=patient_id, purpose=LINK_PURPOSE,
                               created_at=created, expires_at=created + days))
    FamilyLink.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _moment(day: dt.date, zone, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), zone)


def _earlier_plans(plans: list[PlanOfCare], history_start: dt.date, zone,
                   rng: random.Random) -> dict[int, list[PlanOfCare]]:
    """The plans of care before each current one, back past the start of the history, for
    the children who were already coming a year ago (most of them); newer children's
    first plan is their current one. Same therapist, frequency, length and codes: the
    renewal of one plan is the next."""
    chains: dict[int, list[PlanOfCare]] = defaultdict(list)
    services: dict[int, list[PlanOfCareService]] = defaultdict(list)
    for service in PlanOfCareService.objects.filter(plan_of_care__in=plans).order_by("pk"):
        services[service.plan_of_care_id].append(service)
    earlier_rows, patients = [], {}
    for plan in plans:
        if plan.start_date <= history_start or rng.random() < 0.25:
            continue
        length = plan.end_date - plan.start_date
        end = plan.start_date - dt.timedelta(days=1)
        while end >= history_start:
            earlier = PlanOfCare(patient=plan.patient, discipline=plan.discipline, therapist_id=plan.therapist_id,
                                 frequency_per_week=plan.frequency_per_week, minutes=plan.minutes,
                                 start_date=end - length, end_date=end, goals=plan.goals,
                                 created_at=_moment(end - length - dt.timedelta(days=rng.randint(0, 7)), zone))
            chains[plan.pk].insert(0, earlier)
            earlier_rows.append((earlier, services[plan.pk]))
            end = earlier.start_date - dt.timedelta(days=1)
        first = chains[plan.pk][0].start_date
        patient = plan.patient
        if patient.created_at.date() > first:
            patient.created_at = _moment(first - dt.timedelta(days=rng.randint(7, 45)), zone)
            patients[patient.pk] = patient
    PlanOfCare.objects.bulk_create([plan for plan, _ in earlier_rows], batch_size=1000)
    PlanOfCareService.objects.bulk_create(
        [PlanOfCareService(plan_of_care=plan, cpt_code=s.cpt_code, modifier=s.modifier, units=s.units)
         for plan, copies in earlier_rows for s in copies], batch_size=1000)
    Patient.objects.bulk_update(list(patients.values()), ["created_at"], batch_size=500)
    return chains


def _slots_for(plan: PlanOfCare, hours: dict[int, tuple[int, int]], table: _Timetable, policy: SchedulingPolicy,
               rng: random.Random, *, after_school: bool, wanted: int | None = None,
               avoid: frozenset[int] | set[int] = frozenset()) -> list[tuple[int, int]]:
    """Weekly (weekday, start minute) pairs for the plan, spread over the week, after school
    for school-age children (unless ``after_school`` is off) and in the day for the others."""
    patient = plan.patient
    school = patient.school
    wanted = plan.frequency_per_week if wanted is None else wanted
    if after_school and school is not None and not school.is_preschool:
        window = (_minutes(school.dismissal_time) + policy.school_travel_minutes, _minutes(policy.evening_end))
    else:
        window = (_minutes(policy.daytime_start), _minutes(policy.daytime_end))
    weekdays = sorted((d for d in hours if d not in avoid and (after_school or d < 5)), key=lambda d: (rng.random(), d))
    chosen: list[tuple[int, int]] = []
    for weekday in weekdays:
        if len(chosen) == wanted:
            break
        if any(abs(weekday - d) < 2 for d, _ in chosen) and len(hours) > wanted * 2 - 1:
            continue  # not on consecutive days when the week allows
        work_start, work_end = hours[weekday]
        low, high = (9 * 60, 13 * 60) if weekday == 5 else window
        low, high = max(low, work_start), min(high, work_end)
        for start in range(low - low % 15 + (15 if low % 15 else 0), high - plan.minutes + 1, 15):
            end = start + plan.minutes
            if table.free(("t", plan.therapist_id), weekday, start, end) and table.free(
                ("p", patient.pk), weekday, start, end
            ):
                table.take(("t", plan.therapist_id), weekday, start, end)
                table.take(("p", patient.pk), weekday, start, end)
                chosen.append((weekday, start))
                break
    return chosen


def _visit(practice: Practice, plan: PlanOfCare, series: Series, day: dt.date, now_local: dt.datetime,
           rng: random.Random) -> Appointment:
    start_at = local_to_utc(day, series.start_time, practice.zone)
    visit = Appointment(practice=practice, patient=plan.patient, therapist_id=plan.therapist_id, plan_of_care=plan,
                        series=series, start_at=start_at, end_at=start_at + dt.timedelta(minutes=series.minutes),
                        created_at=start_at - dt.timedelta(days=30), updated_at=start_at - dt.timedelta(days=30))
    roll = rng.random()
    if start_at < now_local:
        if roll < 0.05:
            visit.status = AppointmentStatus.NO_SHOW
        elif roll < 0.17:
            _cancel(visit, rng, late=roll < 0.10)
        else:
            visit.status = AppointmentStatus.COMPLETED
    elif roll < 0.06:
        _cancel(visit, rng, late=False, before=now_local)
    elif start_at - now_local < dt.timedelta(days=3) and roll < 0.6:
        visit.status = AppointmentStatus.CONFIRMED
    return visit


def _cancel(visit: Appointment, rng: random.Random, late: bool, before: dt.datetime | None = None) -> None:
    notice = rng.uniform(1, 20) if late else rng.uniform(26, 24 * 7)
    visit.cancelled_at = visit.start_at - dt.timedelta(hours=notice)
    if before is not None and visit.cancelled_at > before:
        visit.cancelled_at = before
        notice = (visit.start_at - before).total_seconds() / 3600
    visit.notice_hours = Decimal(notice).quantize(Decimal("0.1"))
    visit.cancelled_by = CancelledBy.CLINIC if rng.random() < 0.1 else CancelledBy.FAMILY
    late = late and visit.cancelled_by == CancelledBy.FAMILY
    visit.status = AppointmentStatus.LATE_CANCEL if late else AppointmentStatus.CANCELLED
    visit.cancel_reason = "Therapist out sick" if visit.cancelled_by == CancelledBy.CLINIC else rng.choice(
        _CANCEL_REASONS)


def _past_refills(practice: Practice, appointments: list[Appointment], plans: list[PlanOfCare], table: _Timetable,
                  now_local: dt.datetime, rng: random.Random) -> tuple[list[Opening], list[Offer]]:
    """Openings freed by the past year's cancellations, and the offers that went out for
    them: most filled by a family who wanted an earlier or extra visit (the visit is
    added to the schedule), the rest passed unfilled. Times to fill are a front desk's:
    minutes to a few hours, long-tailed."""
    zone = practice.zone
    guardians = dict(GuardianOf.objects.filter(patient__practice=practice).order_by(
        "-is_primary_contact", "pk").values_list("patient_id", "guardian_id").reverse())
    by_discipline: dict[str, list[PlanOfCare]] = defaultdict(list)
    for plan in plans:
        if plan.patient_id in guardians:
            by_discipline[plan.discipline].append(plan)
    extra_busy: set[tuple[int, dt.date]] = set()
    openings, offers = [], []
    for visit in list(appointments):
        if visit.status not in (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL) or \
                visit.start_at >= now_local or visit.notice_hours < 3:
            continue
        local = visit.start_at.astimezone(zone)
        weekday, start = local.weekday(), local.hour * 60 + local.minute
        end = start + visit.series.minutes
        opening = Opening(practice=practice, therapist_id=visit.therapist_id, start_at=visit.start_at,
                          end_at=visit.end_at, freed_by=visit, created_at=visit.cancelled_at,
                          status=Opening.Status.EXPIRED)
        openings.append(opening)
        pool = by_discipline[visit.plan_of_care.discipline]
        fits = [p for p in rng.sample(pool, k=min(8, len(pool)))
                if p.patient_id != visit.patient_id and p.start_date <= local.date() <= p.end_date
                and (p.patient_id, local.date()) not in extra_busy
                and table.free(("p", p.patient_id), weekday, start, end) and _after_school(p, start)][:3]
        # Offers one at a time, each open for a while; one of the families asked takes it, most of the time.
        taker = rng.choices(fits, weights=(55, 30, 15)[:len(fits)])[0] if fits and rng.random() < 0.8 else None
        sent = visit.cancelled_at + dt.timedelta(minutes=rng.randint(1, 4))
        for rank, plan in enumerate(fits, start=1):
            wait = dt.timedelta(minutes=max(2, min(300, round(rng.lognormvariate(2.9, 0.9)))))
            deadline = min(sent + dt.timedelta(minutes=60), visit.start_at - dt.timedelta(hours=2))
            answered = min(sent + wait, deadline)
            offer = Offer(opening=opening, patient_id=plan.patient_id, guardian_id=guardians[plan.patient_id],
                          candidate_kind=CandidateKind.GAP_LIST if rank % 2 else CandidateKind.BELOW_FREQUENCY,
                          plan_of_care=plan, rank=rank, status=Offer.Status.SENT, sent_at=sent,
                          expires_at=deadline, created_at=visit.cancelled_at)
            offers.append(offer)
            if plan is taker and answered < deadline:
                booked = Appointment(practice=practice, patient_id=plan.patient_id, therapist_id=visit.therapist_id,
                                     plan_of_care=plan, start_at=visit.start_at, end_at=visit.end_at,
                                     status=AppointmentStatus.COMPLETED, created_at=answered, updated_at=answered)
                appointments.append(booked)
                extra_busy.add((plan.patient_id, local.date()))
                offer.status, offer.responded_at, offer.booked = Offer.Status.ACCEPTED, answered, booked
                opening.status, opening.filled_by, opening.filled_at = Opening.Status.FILLED, booked, answered
                break
            declined = rng.random() < 0.5 and answered < deadline
            offer.status = Offer.Status.DECLINED if declined else Offer.Status.EXPIRED
            offer.responded_at = answered if declined else None
            sent = answered if declined else deadline
            if sent >= visit.start_at - dt.timedelta(hours=2):
                break
    return openings, offers


def _after_school(plan: PlanOfCare, start: int) -> bool:
    school = plan.patient.school
    return school is None or school.is_preschool or start >= _minutes(school.dismissal_time) + 20


def _save_refills(refills: tuple[list[Opening], list[Offer]]) -> dict[str, int]:
    openings, offers = refills
    Opening.objects.bulk_create(openings, batch_size=1000)
    Offer.objects.bulk_create(offers, batch_size=1000)
    return {"past_openings": len(openings), "past_offers": len(offers),
            "past_openings_filled": sum(o.status == Opening.Status.FILLED for o in openings)}


def _held_days(plans: list[PlanOfCare], series: list[Series], appointments: list[Appointment],
               closed: set[dt.date], zone) -> dict[int, tuple[list[dt.date], list[dt.date]]]:
    """Per plan of care: the days of visits attended, and of visits still to come (booked,
    and the dates its series will book later), as the projection will count them."""
    done: dict[int, list[dt.date]] = defaultdict(list)
    ahead: dict[int, list[dt.date]] = defaultdict(list)
    for visit in appointments:
        if visit.status in HOLDING_STATUSES and visit.plan_of_care_id:
            day = visit.start_at.astimezone(zone).date()
            (done if visit.status == AppointmentStatus.COMPLETED else ahead)[visit.plan_of_care_id].append(day)
    for s in series:
        if not s.active:
            continue
        day = s.generated_through + dt.timedelta(days=1)
        day += dt.timedelta(days=(s.weekday - day.weekday()) % 7)
        while day <= s.end_date:
            if day not in closed:
                ahead[s.plan_of_care_id].append(day)
            day += dt.timedelta(weeks=1)
    return {plan.pk: (done[plan.pk], ahead[plan.pk]) for plan in plans}


def _authorizations(practice: Practice, plans: list[PlanOfCare], chains: dict[int, list[PlanOfCare]],
                    series: list[Series], appointments: list[Appointment], closed: set[dt.date], today: dt.date,
                    rng: random.Random) -> int:
    """One authorization per plan of care whose payer requires one, the earlier ones
    expired and continued by renewals that followed their real order.

    Sized like a well-run practice's: the payer approves what the plan's schedule needs,
    a little more for the visits families miss. A minority are not: a few approved short
    (they run out early, and the visits after are denials), a few for a shorter period
    than the plan (visits after their end), and some ending soon with many units unused.
    """
    from pedsdesk.authorizations.queries import visit_units

    zone = practice.zone
    primary = {c.patient_id: c for c in Coverage.objects.filter(patient__practice=practice, priority=1)
               .select_related("payer").order_by("start_date")}
    services: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for plan_id, code, units in PlanOfCareService.objects.filter(plan_of_care__in=plans).order_by("pk").values_list(
            "plan_of_care_id", "cpt_code", "units"):
        services[plan_id].append((code, units))
    held = _held_days(plans, series, appointments, closed, zone)
    covered = [p for p in sorted(plans, key=lambda p: p.pk)
               if p.patient_id in primary and primary[p.patient_id].payer.requires_authorization]
    scenarios = {plan.pk: _scenario(plan, today, rng) for plan in covered}
    # Even a small demo shows each kind once, so every flag has an example to open.
    for kind, fits in (("generous", lambda p: p.end_date <= today + dt.timedelta(weeks=4)),
                       ("short", lambda p: p.start_date <= today - dt.timedelta(weeks=4)),
                       ("ends_early", lambda p: p.end_date > today + dt.timedelta(days=45))):
        if kind not in scenarios.values():
            spare = next((p for p in covered if p.end_date >= today and scenarios[p.pk] == "fits" and fits(p)), None)
            if spare is not None:
                scenarios[spare.pk] = kind
    made: dict[int, Authorization] = {}
    lines: list[ServiceLine] = []
    for plan in covered:
        coverage = primary[plan.patient_id]
        scenario = scenarios[plan.pk]
        current = plan.end_date >= today
        end = plan.end_date - dt.timedelta(days=rng.randint(14, 28)) if scenario == "ends_early" else plan.end_date
        done_days, ahead_days = held[plan.pk]
        done = sum(1 for d in done_days if plan.start_date <= d <= end)
        needed = done + sum(1 for d in ahead_days if plan.start_date <= d <= end)
        if scenario == "short" and needed - done > 3:
            visits = max(done + 2, int(needed * rng.uniform(0.8, 0.9)))
        elif scenario == "generous":
            visits = math.ceil(needed * rng.uniform(1.3, 1.5)) + 1
        else:
            visits = max(1, math.ceil(needed * rng.uniform(1.0, 1.12)))
        partial = current and rng.random() < 0.08
        status = (AuthorizationStatus.EXPIRED if not current else
                  AuthorizationStatus.PARTIALLY_APPROVED if partial else AuthorizationStatus.APPROVED)
        made[plan.pk] = Authorization(
            coverage=coverage, discipline=plan.discipline, start_date=plan.start_date, end_date=end,
            number=f"{coverage.payer.name[:3].upper()}{plan.pk:06d}", status=status,
            created_at=_moment(plan.start_date - dt.timedelta(days=rng.randint(3, 12)), zone))
        if coverage.payer.unit_type == UnitType.UNITS:
            per_visit = sum(u for _, u in visit_units(services[plan.pk], plan.minutes, coverage.payer.rounding_rule))
            quantity, unit_type = visits * max(1, per_visit), UnitType.UNITS
        else:
            quantity, unit_type = visits, UnitType.VISITS
        lines.append(ServiceLine(authorization=made[plan.pk], cpt_codes=[c for c, _ in services[plan.pk]],
                                 unit_type=unit_type, quantity=quantity,
                                 requested_quantity=round(quantity * 1.3) if partial else None))
    Authorization.objects.bulk_create(list(made.values()), batch_size=1000)
    ServiceLine.objects.bulk_create(lines, batch_size=1000)
    _chain_renewals(practice, made, chains, rng)
    return len(made)


def _scenario(plan: PlanOfCare, today: dt.date, rng: random.Random) -> str:
    """How the payer sized this plan's authorization: to fit (most), generous (units left
    over at the end), short (it runs out), or for a shorter period than the plan."""
    if plan.end_date < today:
        return "fits"
    roll = rng.random()
    if plan.end_date <= today + dt.timedelta(weeks=5) and roll < 0.45:
        return "generous"
    if roll < 0.08:
        return "short"
    if roll < 0.12 and plan.end_date > today + dt.timedelta(days=45):
        return "ends_early"
    return "fits"


def _chain_renewals(practice: Practice, made: dict[int, Authorization], chains: dict[int, list[PlanOfCare]],
                    rng: random.Random) -> None:
    """The renewal that led from each earlier authorization to the next, in its real
    order: the documents in, then the submission inside the payer's window, then the
    decision within its turnaround, before the next period began."""
    from pedsdesk.authorizations.projection import renewal_due

    staff = {m.role: m for m in StaffMember.objects.filter(practice=practice).order_by("-pk")}
    lines = {line.authorization_id: line for line in ServiceLine.objects.filter(
        authorization__in=[a.pk for a in made.values()])}
    renewals, items, renewal_lines, linked = [], [], [], []
    count = 0
    for current_id, chain in sorted(chains.items()):
        links = [made[p.pk] for p in chain if p.pk in made]
        if current_id in made:
            links.append(made[current_id])
        for earlier, following in itertools.pairwise(links):
            count += 1
            payer = earlier.coverage.payer
            state = (RenewalState.DENIED if count % 29 == 0 else
                     RenewalState.PARTIALLY_APPROVED if count % 11 == 0 else RenewalState.APPROVED)
            due, window_opens, _ = renewal_due(end=earlier.end_date, exhausted_on=None,
                                               recommended_days=payer.renewal_recommended_days,
                                               earliest_days=payer.renewal_earliest_days)
            submitted_on = max(window_opens, due - dt.timedelta(days=rng.randint(0, 4)))
            decided_on = submitted_on + dt.timedelta(days=rng.randint(1, max(1, payer.decision_turnaround_days)))
            renewal = Renewal(
                authorization=earlier, state=state, due_date=due, window_opens=window_opens, due_basis="end",
                requested_start=following.start_date, requested_end=following.end_date,
                submitted_on=submitted_on, channel=rng.choice(SubmissionChannel.values),
                payer_reference=f"{payer.payer_id or 'REF'}-{earlier.pk:05d}",
                submitted_by=staff.get(Role.FRONT_DESK), decision_due=submitted_on + dt.timedelta(
                    days=payer.decision_turnaround_days),
                decided_on=decided_on, decided_by=staff.get(Role.BILLING),
                denial_reason=_DENIAL_REASONS[count % len(_DENIAL_REASONS)] if state == RenewalState.DENIED else "",
                created_at=_moment(window_opens - dt.timedelta(days=rng.randint(1, 5)), practice.zone),
                updated_at=_moment(decided_on, practice.zone, 15))
            renewals.append(renewal)
            # Every document arrives before the renewal goes out: the packet needs them.
            items += [RenewalItem(renewal=renewal, document=document,
                                  received_on=submitted_on - dt.timedelta(days=rng.randint(1, 6)))
                      for document in dict.fromkeys(payer.renewal_documents)]
            line = lines[following.pk]
            asked = round(line.quantity / 0.7) if state == RenewalState.PARTIALLY_APPROVED else line.quantity
            renewal_lines.append(RenewalLine(
                renewal=renewal, cpt_codes=line.cpt_codes, unit_type=line.unit_type, requested_quantity=asked,
                approved_quantity=None if state == RenewalState.DENIED else line.quantity))
            if state == RenewalState.PARTIALLY_APPROVED:
                line.requested_quantity = asked
                following.status = (following.status if following.status == AuthorizationStatus.EXPIRED
                                    else AuthorizationStatus.PARTIALLY_APPROVED)
            if state != RenewalState.DENIED:  # after a denial, the next one was a new request
                following.previous = earlier
            linked.append(following)
    Renewal.objects.bulk_create(renewals, batch_size=1000)
    RenewalItem.objects.bulk_create(items, batch_size=1000)
    RenewalLine.objects.bulk_create(renewal_lines, batch_size=1000)
    Authorization.objects.bulk_update(linked, ["previous", "status"], batch_size=1000)
    ServiceLine.objects.bulk_update(list(lines.values()), ["requested_quantity"], batch_size=1000)


_DENIAL_REASONS = ["Progress report does not show measurable progress toward the goals.",
                   "Medical necessity not established for the requested frequency.",
                   "Physician order missing or expired."]


def _renewals(practice: Practice, today: dt.date, rng: random.Random) -> dict[str, int]:
    """Renewals in every state for the authorizations in renewal season, and authorizations
    in every status (requested, pending, denied, expired, exhausted), so each screen of
    the authorizations workflow has something to show. Rows only: the task rules, run
    after seeding, open the tasks these call for."""
    from pedsdesk.authorizations.actions import _state_from_checklist, needs_renewal, renewal_dates
    from pedsdesk.authorizations.queries import summarize

    staff = {m.role: m for m in StaffMember.objects.filter(practice=practice).order_by("-pk")}
    summaries = sorted(summarize(practice, today=today), key=lambda s: (s.authorization.end_date, s.authorization.pk))
    season = [s for s in summaries if needs_renewal(s) and s.authorization.end_date <= today + dt.timedelta(days=60)]
    # The payer takes a renewal only once its window is open: those get the states after submission.
    sent_states = [RenewalState.SUBMITTED, RenewalState.PENDING, RenewalState.DENIED, RenewalState.APPROVED,
                   RenewalState.PARTIALLY_APPROVED]
    preparing = [RenewalState.WAITING_ON_THERAPIST, RenewalState.TO_PREPARE, RenewalState.READY]
    made: dict[str, int] = defaultdict(int)
    sent = preparing_count = 0
    for s in season:
        if renewal_dates(s)[1] <= today - dt.timedelta(days=3):
            state, sent = sent_states[sent % len(sent_states)], sent + 1
        else:
            state, preparing_count = preparing[preparing_count % len(preparing)], preparing_count + 1
        made[_demo_renewal(s, state, today, rng, staff, renewal_dates, _state_from_checklist)] += 1
    in_season = {s.authorization.pk for s in season}
    others = [s for s in summaries if s.renewal is None and s.usable and s.authorization.pk not in in_season
              and s.authorization.end_date > today + dt.timedelta(days=60)]
    for s, status in zip(others[:3], [AuthorizationStatus.REQUESTED, AuthorizationStatus.PENDING,
                                      AuthorizationStatus.DENIED], strict=False):
        _next_authorization(s.authorization, status, suffix={"requested": "Q", "pending": "P", "denied": "D"}[status])
        made[f"authorizations_{status}"] += 1
    spent = next((s for s in others[6:] if s.used and s.scheduled and len(s.authorization.lines.all()) == 1), None)
    if spent is not None:  # used up: what is still booked would be denied
        spent.authorization.lines.update(quantity=spent.used)
        Authorization.objects.filter(pk=spent.authorization.pk).update(status=AuthorizationStatus.EXHAUSTED)
        made["authorizations_exhausted"] += 1
    return {"renewals": sum(v for k, v in made.items() if not k.startswith("authorizations_")),
            **{k: v for k, v in sorted(made.items()) if k.startswith("authorizations_")}}


def _next_authorization(a: Authorization, status: str, suffix: str, quantities: dict | None = None,
                        period: tuple[dt.date, dt.date] | None = None) -> Authorization:
    start = a.end_date + dt.timedelta(days=1)
    start, end = period or (start, start + (a.end_date - a.start_date))
    nxt = Authorization.objects.create(coverage=a.coverage, discipline=a.discipline, number=f"{a.number}-{suffix}",
                                       start_date=start, end_date=end, status=status, previous=a)
    for line in a.lines.all():
        quantity = (quantities or {}).get(line.pk, line.quantity)
        ServiceLine.objects.create(authorization=nxt, cpt_codes=line.cpt_codes, unit_type=line.unit_type,
                                   quantity=quantity, requested_quantity=line.quantity if quantity < line.quantity
                                   else None)
    return nxt


def _demo_renewal(s, state: str, today: dt.date, rng: random.Random, staff: dict, renewal_dates,
                  state_from_checklist) -> str:
    a, payer = s.authorization, s.payer
    due, window_opens, basis = renewal_dates(s)
    decided = state in (RenewalState.APPROVED, RenewalState.PARTIALLY_APPROVED, RenewalState.DENIED)
    sent = decided or state in (RenewalState.SUBMITTED, RenewalState.PENDING)
    if sent and window_opens > today - dt.timedelta(days=3):
        state, sent, decided = RenewalState.READY, False, False  # the payer would not have accepted it yet
    turnaround = payer.decision_turnaround_days
    submitted_on = None
    if sent:
        back = turnaround + 3 if state == RenewalState.PENDING else rng.randint(1, 3) if not decided else 0
        submitted_on = max(window_opens, today - dt.timedelta(days=back or rng.randint(3, 6)))
    length = a.end_date - a.start_date
    start = a.end_date + dt.timedelta(days=1)
    if s.exhausted_on is not None and s.exhausted_on < a.end_date:
        start = s.exhausted_on + dt.timedelta(days=1)
    renewal = Renewal.objects.create(
        authorization=a, state=state, due_date=due, window_opens=window_opens, due_basis=basis, therapist=s.therapist,
        requested_start=start, requested_end=start + length,
        created_at=dt.datetime.combine(min(today, window_opens) - dt.timedelta(days=2), dt.time(9), tzinfo=dt.UTC),
        submitted_on=submitted_on, channel=rng.choice(SubmissionChannel.values) if sent else "",
        payer_reference=f"{payer.payer_id or 'REF'}-{a.pk:05d}" if state == RenewalState.PENDING or decided else "",
        submitted_by=staff.get(Role.FRONT_DESK) if sent else None,
        decision_due=submitted_on + dt.timedelta(days=turnaround) if sent else None)
    received = sent or state == RenewalState.READY
    # Documents come in before the renewal is sent (the packet needs them), never after.
    latest = submitted_on - dt.timedelta(days=1) if submitted_on else today
    items = [RenewalItem(renewal=renewal, document=document,
                         received_on=(latest - dt.timedelta(days=rng.randint(0, 4)))
                         if received or (state == RenewalState.TO_PREPARE and document in THERAPIST_DOCUMENTS)
                         else None)
             for document in dict.fromkeys(payer.renewal_documents)]
    RenewalItem.objects.bulk_create(items)
    lines = [RenewalLine(renewal=renewal, source=line, cpt_codes=line.cpt_codes, unit_type=line.unit_type,
                         requested_quantity=line.requested_quantity or line.quantity) for line in a.lines.all()]
    if not sent:
        Renewal.objects.filter(pk=renewal.pk).update(state=state_from_checklist(items))
    if decided:
        decided_on = min(today, submitted_on + dt.timedelta(days=rng.randint(1, max(1, turnaround))))
        update = {"decided_on": decided_on, "decided_by": staff.get(Role.BILLING)}
        if state == RenewalState.DENIED:
            update["denial_reason"] = rng.choice(_DENIAL_REASONS)
        else:
            for line in lines:
                line.approved_quantity = (line.requested_quantity if state == RenewalState.APPROVED
                                          else max(1, round(line.requested_quantity * 0.7)))
            status = (AuthorizationStatus.APPROVED if state == RenewalState.APPROVED
                      else AuthorizationStatus.PARTIALLY_APPROVED)
            _next_authorization(a, status, suffix="R", period=(renewal.requested_start, renewal.requested_end),
                                quantities={ln.source_id: ln.approved_quantity for ln in lines})
        Renewal.objects.filter(pk=renewal.pk).update(**update)
    RenewalLine.objects.bulk_create(lines)
    return state


def seed_lists(practice: Practice, rng: random.Random, today: dt.date) -> dict[str, int]:
    """The waitlist (children referred without a plan of care yet) and the fill-the-gap list."""
    from pedsdesk.people.models import Patient
    from pedsdesk.scheduling.models import GapListEntry, WaitlistEntry

    waiting = []
    unplanned = Patient.objects.filter(practice=practice, is_active=True).exclude(
        plans_of_care__end_date__gte=today).select_related("school").order_by("pk")
    payers = {c.patient_id: c.payer for c in Coverage.objects.filter(patient__practice=practice, priority=1)
              .select_related("payer")}
    for patient in unplanned:
        in_school = patient.school is not None and not patient.school.is_preschool
        start = "15:30" if in_school else "09:00"
        days = rng.sample(range(5), k=rng.randint(2, 4))
        waiting.append(WaitlistEntry(
            practice=practice, patient=patient, discipline=rng.choice(["OT", "PT", "SLP"]),
            referral_date=today - dt.timedelta(days=rng.randint(3, 120)), priority=rng.choice([1, 2, 2, 2, 3]),
            windows=[{"weekday": d, "start": start, "end": "18:00" if in_school else "12:00"} for d in sorted(days)],
            payer=payers.get(patient.pk), evaluation_authorized=rng.random() < 0.6,
            intake_complete=rng.random() < 0.8, created_at=dt.datetime.combine(today, dt.time(9), practice.zone)))
    WaitlistEntry.objects.bulk_create(waiting)
    plans = list(PlanOfCare.objects.filter(patient__practice=practice, end_date__gt=today + dt.timedelta(days=14),
                                           start_date__lte=today).select_related("patient").order_by("pk"))
    gap = []
    for plan in rng.sample(plans, k=max(1, len(plans) // 30)):
        days = rng.sample(range(5), k=2)
        gap.append(GapListEntry(
            practice=practice, patient=plan.patient, plan_of_care=plan, reason=rng.choice(["earlier", "extra"]),
            windows=[{"weekday": d, "start": "15:30", "end": "18:30"} for d in sorted(days)],
            created_at=dt.datetime.combine(today - dt.timedelta(days=rng.randint(1, 40)), dt.time(10),
                                           practice.zone)))
    GapListEntry.objects.bulk_create(gap)
    return {"waitlist": len(waiting), "gap_list": len(gap)}


def seed_refills(practice: Practice, rng: random.Random) -> dict[str, int]:
    """This week's cancellations, through the real workflow: each frees an opening and
    sends offers (to the console outbox) that wait for the families' answers."""
    from django.utils import timezone

    from pedsdesk.scheduling.actions import cancel_appointment

    now = timezone.now()
    desk = StaffMember.objects.filter(practice=practice, role=Role.FRONT_DESK).first()
    upcoming = list(Appointment.objects.filter(
        practice=practice, status=AppointmentStatus.BOOKED, start_at__gt=now + dt.timedelta(hours=6),
        start_at__lt=now + dt.timedelta(days=6), patient__isnull=False).order_by("start_at", "pk"))
    cancelled = rng.sample(upcoming, k=min(len(upcoming), max(2, len(upcoming) // 40)))
    for visit in cancelled:
        cancel_appointment(actor=desk, appointment=visit, by=CancelledBy.FAMILY,
                           reason=rng.choice(_CANCEL_REASONS))
    return {"demo_cancellations": len(cancelled)}

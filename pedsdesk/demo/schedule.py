"""The demo practice's schedule and authorizations: working hours, holidays, a weekly
series for every plan of care that fits, four weeks of history with realistic
cancellations and no-shows, two weeks booked ahead, and authorizations sized so that
some run out early, some end with units unused and some are up for renewal."""

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

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
from pedsdesk.people.models import PlanOfCare, PlanOfCareService
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.scheduling.actions import load_federal_holidays
from pedsdesk.scheduling.models import (
    Appointment,
    AppointmentStatus,
    CancelledBy,
    Closure,
    FamilyAvailability,
    SchedulingPolicy,
    Series,
    WorkingHours,
)
from pedsdesk.scheduling.timeslots import local_to_utc

HISTORY_WEEKS, AHEAD_WEEKS = 4, 2
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


def seed_schedule(practice: Practice, rng: random.Random, today: dt.date) -> dict[str, int]:
    zone = practice.zone
    policy = SchedulingPolicy.for_practice(practice)
    load_federal_holidays(practice=practice, years=[today.year - 1, today.year, today.year + 1])
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
        PlanOfCare.objects.filter(patient__practice=practice, end_date__gte=today - dt.timedelta(weeks=HISTORY_WEEKS))
        .select_related("patient__school").order_by("therapist_id", "pk")
    )
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
        start_date = max(plan.start_date, today - dt.timedelta(weeks=HISTORY_WEEKS))
        for weekday, start in slots:
            series_rows.append(Series(plan_of_care=plan, weekday=weekday, start_time=_time(start),
                                      minutes=plan.minutes, start_date=start_date, end_date=plan.end_date,
                                      generated_through=min(plan.end_date, today + dt.timedelta(weeks=AHEAD_WEEKS))))
    Series.objects.bulk_create(series_rows)
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
    Appointment.objects.bulk_create(appointments, batch_size=2000)

    authorizations = _authorizations(practice, plans, series_rows, today, rng)
    renewals = _renewals(practice, today, rng)
    return {"series": len(series_rows), "appointments": len(appointments), "authorizations": authorizations,
            "plans_without_a_full_series": unscheduled, **renewals}


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


def _authorizations(practice: Practice, plans: list[PlanOfCare], series: list[Series], today: dt.date,
                    rng: random.Random) -> int:
    """One authorization per current plan of care whose payer requires one."""
    primary = {c.patient_id: c for c in Coverage.objects.filter(patient__practice=practice, priority=1)
               .select_related("payer").order_by("start_date")}
    services: dict[int, list[PlanOfCareService]] = defaultdict(list)
    for service in PlanOfCareService.objects.filter(plan_of_care__in=plans).order_by("pk"):
        services[service.plan_of_care_id].append(service)
    weekly = defaultdict(int)
    for s in series:
        weekly[s.plan_of_care_id] += 1
    made = 0
    for plan in plans:
        coverage = primary.get(plan.patient_id)
        if coverage is None or not coverage.payer.requires_authorization or plan.end_date < today:
            continue
        # Sized to the weeks the demo has visits for (four weeks of history at most), so
        # "used" reads like a real practice's rather than a plan begun with no history.
        visible_start = max(plan.start_date, today - dt.timedelta(weeks=HISTORY_WEEKS))
        weeks = max(1, ((plan.end_date - visible_start).days + 1) // 7)
        per_week = weekly[plan.pk] or plan.frequency_per_week
        # Most are sized to the plan; some run short (early exhaustion), some generous (units left over).
        factor = rng.choice([0.6, 0.75, 0.9, 1.0, 1.0, 1.0, 1.15])
        partial = rng.random() < 0.08
        authorization = Authorization.objects.create(
            coverage=coverage, discipline=plan.discipline, start_date=plan.start_date, end_date=plan.end_date,
            number=f"{coverage.payer.name[:3].upper()}{plan.pk:06d}",
            status=AuthorizationStatus.PARTIALLY_APPROVED if partial else AuthorizationStatus.APPROVED,
        )
        codes = [s.cpt_code for s in services[plan.pk]]
        visits = max(1, round(weeks * per_week * factor))
        if coverage.payer.unit_type == UnitType.UNITS:
            per_visit = sum(s.units for s in services[plan.pk]) or 1
            quantity, unit_type = visits * per_visit, UnitType.UNITS
        else:
            quantity, unit_type = visits, UnitType.VISITS
        requested = round(quantity * 1.3) if partial else None
        ServiceLine.objects.create(authorization=authorization, cpt_codes=codes, unit_type=unit_type,
                                   quantity=quantity, requested_quantity=requested)
        made += 1
    return made


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
    # Earlier authorizations that expired, each with the renewal that led to the current one
    # (approved, partially approved) or was denied before a new request.
    history = [RenewalState.APPROVED, RenewalState.PARTIALLY_APPROVED, RenewalState.DENIED]
    for s, state in zip(others[3:6], history, strict=False):
        _history(s, state, staff, rng)
        made["authorizations_expired"] += 1
        made[state] += 1
    spent = next((s for s in others[6:] if s.used and s.scheduled and len(s.authorization.lines.all()) == 1), None)
    if spent is not None:  # used up: what is still booked would be denied
        spent.authorization.lines.update(quantity=spent.used)
        Authorization.objects.filter(pk=spent.authorization.pk).update(status=AuthorizationStatus.EXHAUSTED)
        made["authorizations_exhausted"] += 1
    return {"renewals": sum(v for k, v in made.items() if not k.startswith("authorizations_")),
            **{k: v for k, v in sorted(made.items()) if k.startswith("authorizations_")}}


def _history(s, state: str, staff: dict, rng: random.Random) -> None:
    a, payer = s.authorization, s.payer
    earlier = Authorization.objects.create(
        coverage=a.coverage, discipline=a.discipline, number=f"{a.number}-0", status=AuthorizationStatus.EXPIRED,
        start_date=a.start_date - dt.timedelta(days=182), end_date=a.start_date - dt.timedelta(days=1))
    ServiceLine.objects.bulk_create(ServiceLine(authorization=earlier, cpt_codes=ln.cpt_codes,
                                                unit_type=ln.unit_type, quantity=ln.quantity) for ln in a.lines.all())
    due = earlier.end_date - dt.timedelta(days=payer.renewal_recommended_days)
    submitted_on = due - dt.timedelta(days=rng.randint(0, 3))
    renewal = Renewal.objects.create(
        authorization=earlier, state=state, due_date=due, window_opens=earlier.end_date - dt.timedelta(
            days=payer.renewal_earliest_days), therapist=s.therapist, requested_start=a.start_date,
        requested_end=a.end_date, submitted_on=submitted_on, channel=SubmissionChannel.FAX,
        payer_reference=f"{payer.payer_id or 'REF'}-{earlier.pk:05d}", submitted_by=staff.get(Role.FRONT_DESK),
        decision_due=submitted_on + dt.timedelta(days=payer.decision_turnaround_days),
        decided_on=submitted_on + dt.timedelta(days=rng.randint(2, 6)), decided_by=staff.get(Role.BILLING),
        denial_reason=_DENIAL_REASONS[0] if state == RenewalState.DENIED else "",
        created_at=dt.datetime.combine(due - dt.timedelta(days=14), dt.time(9), tzinfo=dt.UTC))
    RenewalItem.objects.bulk_create(RenewalItem(renewal=renewal, document=d, received_on=submitted_on)
                                    for d in dict.fromkeys(payer.renewal_documents))
    lines = []
    for line in a.lines.all():
        asked = round(line.quantity / 0.7) if state == RenewalState.PARTIALLY_APPROVED else line.quantity
        lines.append(RenewalLine(renewal=renewal, cpt_codes=line.cpt_codes, unit_type=line.unit_type,
                                 requested_quantity=asked,
                                 approved_quantity=None if state == RenewalState.DENIED else line.quantity))
        if state == RenewalState.PARTIALLY_APPROVED:
            ServiceLine.objects.filter(pk=line.pk).update(requested_quantity=asked)
    RenewalLine.objects.bulk_create(lines)
    if state != RenewalState.DENIED:
        status = (AuthorizationStatus.PARTIALLY_APPROVED if state == RenewalState.PARTIALLY_APPROVED
                  else a.status)
        Authorization.objects.filter(pk=a.pk).update(previous=earlier, status=status)


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
    items = [RenewalItem(renewal=renewal, document=document,
                         received_on=(today - dt.timedelta(days=rng.randint(1, 4)))
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
    sends offers (to the console outbox); about half the first offers are accepted."""
    from django.utils import timezone

    from pedsdesk.scheduling.actions import cancel_appointment
    from pedsdesk.scheduling.models import Offer
    from pedsdesk.scheduling.offers import accept_offer

    now = timezone.now()
    desk = StaffMember.objects.filter(practice=practice, role=Role.FRONT_DESK).first()
    upcoming = list(Appointment.objects.filter(
        practice=practice, status=AppointmentStatus.BOOKED, start_at__gt=now + dt.timedelta(hours=6),
        start_at__lt=now + dt.timedelta(days=6), patient__isnull=False).order_by("start_at", "pk"))
    cancelled = rng.sample(upcoming, k=min(len(upcoming), max(2, len(upcoming) // 40)))
    for visit in cancelled:
        cancel_appointment(actor=desk, appointment=visit, by=CancelledBy.FAMILY,
                           reason=rng.choice(_CANCEL_REASONS))
    accepted = 0
    for visit in cancelled[::2]:
        offer = Offer.objects.filter(opening__freed_by=visit, status=Offer.Status.SENT).order_by("rank").first()
        if offer is not None and accept_offer(offer=offer, actor="demo family") == "booked":
            accepted += 1
    return {"demo_cancellations": len(cancelled), "offers_accepted": accepted}

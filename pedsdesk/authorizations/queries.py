"""Utilization read from the real schedule: appointments, and the occurrences recurring
series will book later. Bulk queries feed the pure arithmetic in projection.py."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Count, Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from pedsdesk.authorizations.models import (
    AWAITING_DECISION_STATES,
    DECIDED_STATES,
    PREPARING_STATES,
    USABLE_STATUSES,
    Authorization,
    AuthorizationStatus,
    BenefitBucket,
    Coverage,
    Payer,
    Renewal,
    RoundingRule,
    ServiceLine,
    UnitType,
)
from pedsdesk.authorizations.projection import (
    Allocation,
    Charge,
    Line,
    LineProjection,
    Projection,
    UnusedRule,
    Visit,
    allocate,
    bucket_use,
    plan_year,
    project,
)
from pedsdesk.codes import CPT_CODES, unit_label, units_for_minutes
from pedsdesk.people.models import PlanOfCare, PlanOfCareService
from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Closure,
    Series,
)
from pedsdesk.scheduling.series import occurrence_dates
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.sweeps import remembered

# Evaluation codes billed when an evaluation has no plan of care yet.
EVALUATION_CODE = {"OT": "97166", "PT": "97162", "SLP": "92523"}


def visit_units(services: Iterable[tuple[str, int]], minutes: int, rounding: str) -> tuple[tuple[str, int], ...]:
    """Units billed per code for one visit of ``minutes``.

    Untimed codes (92507, evaluations) bill one unit a session. Timed codes bill what
    the plan of care says, but never more than the visit's length earns: under the
    8-minute rule the session's total timed units, shared out in the plan's order;
    under a per-session payer, one unit per code.
    """
    services = list(services)
    timed_total = units_for_minutes("97110", minutes)
    result = []
    for code, planned in services:
        entry = CPT_CODES.get(code)
        if entry is None or not entry.timed or rounding == RoundingRule.PER_SESSION:
            result.append((code, 1))
        else:
            units = min(planned, timed_total)
            timed_total -= units
            result.append((code, units))
    return tuple(result)


@dataclass(frozen=True)
class _Booked:
    pk: int
    plan_id: int | None
    discipline: str
    kind: str
    done: bool
    start_at: dt.datetime
    minutes: int


@dataclass(frozen=True)
class _Planned:
    """An active series, as the projection reads it (its weekday and dates are what
    ``occurrence_dates`` needs)."""

    pk: int
    plan_id: int
    discipline: str
    weekday: int
    start_date: dt.date
    end_date: dt.date
    minutes: int
    generated_through: dt.date | None


class _Schedule:
    """Everything needed to turn visits into Visit records for a set of patients.

    Plain rows rather than model instances: projecting a large practice reads tens of
    thousands of visits.
    """

    def __init__(self, patient_ids: set[int], since: dt.date, practice: Practice):
        self.zone = practice.zone
        rows = (
            Appointment.objects.filter(patient_id__in=patient_ids,
                                       start_at__gte=local_to_utc(since, dt.time.min, practice.zone),
                                       status__in=HOLDING_STATUSES)
            .exclude(kind=AppointmentKind.MEETING)
            .order_by("start_at")
            .values_list("pk", "patient_id", "plan_of_care_id", "plan_of_care__discipline",
                         "therapist__therapist_profile__discipline", "kind", "status", "start_at", "end_at")
        )
        self.appointments: dict[int, list[_Booked]] = defaultdict(list)
        plan_ids = set()
        for pk, patient_id, plan_id, plan_discipline, therapist_discipline, kind, status, start, end in rows:
            self.appointments[patient_id].append(_Booked(
                pk, plan_id, plan_discipline or therapist_discipline or "", kind,
                status == AppointmentStatus.COMPLETED, start, int((end - start).total_seconds() // 60)))
            plan_ids.add(plan_id)
        self.series: dict[int, list[_Planned]] = defaultdict(list)
        for patient_id, *planned in Series.objects.filter(
            plan_of_care__patient_id__in=patient_ids, active=True
        ).order_by("pk").values_list("plan_of_care__patient_id", "pk", "plan_of_care_id", "plan_of_care__discipline",
                                     "weekday", "start_date", "end_date", "minutes", "generated_through"):
            series = _Planned(*planned)
            self.series[patient_id].append(series)
            plan_ids.add(series.plan_id)
        self.services: dict[int, list[tuple[str, int]]] = defaultdict(list)
        self._services_read: set[int | None] = set()
        self.read_services(plan_ids)
        self.closed = set(Closure.objects.filter(practice=practice).values_list("date", flat=True))

    def read_services(self, plan_ids: set[int | None]) -> None:
        for plan_id, code, units in PlanOfCareService.objects.filter(plan_of_care_id__in=plan_ids).order_by(
            "pk"
        ).values_list("plan_of_care_id", "cpt_code", "units"):
            self.services[plan_id].append((code, units))
        self._services_read |= plan_ids

    def add(self, appointment: Appointment, discipline: str) -> None:
        """A visit booked since the schedule was read (its plan's codes read if new)."""
        if appointment.plan_of_care_id is not None and appointment.plan_of_care_id not in self._services_read:
            self.read_services({appointment.plan_of_care_id})
        self.appointments[appointment.patient_id].append(_Booked(
            appointment.pk, appointment.plan_of_care_id, discipline, appointment.kind,
            appointment.status == AppointmentStatus.COMPLETED, appointment.start_at,
            int((appointment.end_at - appointment.start_at).total_seconds() // 60)))

    def visits(self, patient_id: int, discipline: str, rounding: str, since: dt.date | None = None) -> list[Visit]:
        """The child's visits of ``discipline``: booked ones (from ``since`` only, when
        given: a schedule read from earlier serves a later question), then the
        occurrences its series will book."""
        result = []
        for a in self.appointments[patient_id]:
            if a.discipline != discipline:
                continue
            services = self.services.get(a.plan_id) or [(EVALUATION_CODE[discipline], 1)]
            if a.kind in (AppointmentKind.EVALUATION, AppointmentKind.RE_EVALUATION):
                services = [(EVALUATION_CODE[discipline], 1)]
            local = a.start_at.astimezone(self.zone)
            if since is not None and local.date() < since:
                continue
            result.append(Visit(f"a{a.pk}", local.date(), visit_units(services, a.minutes, rounding), done=a.done,
                                label=f"The visit on {local:%a %b %-d}"))
        for s in self.series[patient_id]:
            if s.discipline != discipline or s.generated_through is None:
                continue
            units = visit_units(self.services.get(s.plan_id, []), s.minutes, rounding)
            for day in occurrence_dates(s, s.generated_through + dt.timedelta(days=1), s.end_date):
                if day not in self.closed:
                    result.append(Visit(f"s{s.pk}:{day}", day, units, done=False,
                                        label=f"The series visit on {day:%a %b %-d}", series_id=s.pk))
        return result


@dataclass(frozen=True)
class _Usable:
    """A usable authorization line, the child and discipline it serves, and how its payer
    rounds: plain values, not a line, authorization, coverage and payer instance each."""

    line: Line
    patient_id: int
    discipline: str
    rounding: str


def _allocations(practice: Practice, authorizations: Iterable[Authorization] | None = None,
                 extra_visit: tuple[int, str, Visit] | None = None, exclude_appointment: int | None = None,
                 keep_charges: bool = False) -> Iterator[tuple[list[Line], Allocation]]:
    """Per child and discipline: the usable lines and how the visits draw on them."""
    if authorizations is None:
        scope = Authorization.objects.filter(coverage__patient__practice=practice)
    else:
        scope = Authorization.objects.filter(pk__in=[a.pk for a in authorizations])
    keys = set(scope.values_list("coverage__patient_id", "discipline"))
    if extra_visit is not None:
        keys.add(extra_visit[:2])
    if not keys:
        return
    patient_ids = {p for p, _ in keys}
    lines = _usable_lines(patient_ids)
    if not lines and extra_visit is None:
        return
    since = min((u.line.start for u in lines), default=practice.local_now().date())
    schedule = _Schedule(patient_ids, since, practice)
    grouped: dict[tuple[int, str], list[_Usable]] = defaultdict(list)
    for usable in lines:
        grouped[(usable.patient_id, usable.discipline)].append(usable)
    for key, group in grouped.items():
        if key not in keys:
            continue
        extra = extra_visit[2] if extra_visit is not None and extra_visit[:2] == key else None
        yield _allocate_group(key, group, schedule, extra, exclude_appointment, keep_charges)


def _allocate_group(key: tuple[int, str], group: list[_Usable], schedule: _Schedule, extra: Visit | None,
                    exclude_appointment: int | None = None, keep_charges: bool = False,
                    since: dt.date | None = None) -> tuple[list[Line], Allocation]:
    """How one child's visits of one discipline (and ``extra``) draw on its usable lines."""
    visits = [v for v in schedule.visits(key[0], key[1], group[0].rounding, since)
              if v.key != f"a{exclude_appointment}"]
    if extra is not None:
        visits = _with_extra(visits, extra)
    records = [u.line for u in group]
    return records, allocate(records, visits, keep_charges)


def _with_extra(visits: list[Visit], extra: Visit) -> list[Visit]:
    """``visits`` and the proposed ``extra``. A series booking its occurrence on a day has
    handled its occurrences up to that day (booked: they are appointments now; refused:
    they will not happen), so those are not counted a second time."""
    if extra.series_id is not None:
        visits = [v for v in visits if v.series_id != extra.series_id or v.key.startswith("a") or v.day > extra.day]
    return [*visits, extra]


def _usable_lines(patient_ids: set[int]) -> list[_Usable]:
    rows = ServiceLine.objects.filter(
        authorization__coverage__patient_id__in=patient_ids, authorization__status__in=USABLE_STATUSES,
    ).values_list("pk", "authorization_id", "authorization__start_date", "authorization__end_date", "cpt_codes",
                  "unit_type", "quantity", "per_week_cap", "per_month_cap", "authorization__coverage__patient_id",
                  "authorization__discipline", "authorization__coverage__payer__rounding_rule")
    return [_Usable(Line(pk, authorization_id, start, end, frozenset(codes), unit_type, quantity, per_week,
                         per_month), patient_id, discipline, rounding)
            for (pk, authorization_id, start, end, codes, unit_type, quantity, per_week, per_month, patient_id,
                 discipline, rounding) in rows]


def unused_rule(practice: Practice, today: dt.date | None = None) -> UnusedRule:
    """The practice's threshold for flagging units unused, as of ``today``."""
    return UnusedRule(today or practice.local_now().date(), practice.unused_units_percent,
                      practice.unused_units_weeks)


def project_authorizations(practice: Practice, authorizations: Iterable[Authorization] | None = None,
                           extra_visit: tuple[int, str, Visit] | None = None,
                           exclude_appointment: int | None = None,
                           today: dt.date | None = None) -> dict[int, Projection]:
    """Projection of each authorization of the practice (or of the given ones).

    Allocation is per child and discipline across all their usable authorizations, so
    overlapping authorizations share the visits the way the payer will.
    """
    result: dict[int, Projection] = {}
    rule = unused_rule(practice, today)
    for records, allocation in _allocations(practice, authorizations, extra_visit, exclude_appointment):
        result.update(project(records, allocation, rule))
    return result


def project_with_charges(authorization: Authorization,
                         today: dt.date | None = None) -> tuple[Projection | None, list[Charge]]:
    """One authorization's projection and every visit's draw on it (for its burn-down)."""
    practice = authorization.coverage.patient.practice
    for records, allocation in _allocations(practice, [authorization], keep_charges=True):
        if any(r.authorization_id == authorization.pk for r in records):
            line_ids = {r.id for r in records if r.authorization_id == authorization.pk}
            return (project(records, allocation, unused_rule(practice, today))[authorization.pk],
                    [c for c in allocation.charges if c.line_id in line_ids])
    return None, []


def active_coverage(patient_id: int, day: dt.date) -> Coverage | None:
    return (
        Coverage.objects.filter(patient_id=patient_id, start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .select_related("payer")
        .order_by("priority", "pk")
        .first()
    )


#: How far back a benefit bucket's visits are read: a plan year and a few days.
_BUCKET_DAYS = 370


def buckets_for(coverage: Coverage, day: dt.date, extra: Visit | None = None, extra_discipline: str = "",
                exclude_appointment: int | None = None) -> list[tuple[BenefitBucket, object]]:
    """Each benefit bucket of ``coverage`` counted over the plan year containing ``day``."""
    buckets = list(coverage.benefit_buckets.all())
    if not buckets:
        return []
    since = day - dt.timedelta(days=_BUCKET_DAYS)
    schedule = _Schedule({coverage.patient_id}, since, coverage.patient.practice)
    return _bucket_uses(coverage, buckets, schedule, day, extra, extra_discipline, exclude_appointment, since)


def _bucket_uses(coverage: Coverage, buckets: list[BenefitBucket], schedule: _Schedule, day: dt.date,
                 extra: Visit | None, extra_discipline: str, exclude_appointment: int | None,
                 since: dt.date) -> list[tuple[BenefitBucket, object]]:
    result = []
    rounding = coverage.payer.rounding_rule
    for bucket in buckets:
        if bucket.reset == BenefitBucket.Reset.PLAN_YEAR:
            period = plan_year(day, coverage.plan_year_start_month, coverage.plan_year_start_day)
        else:
            period = plan_year(day)
        visits = [v for d in bucket.disciplines for v in schedule.visits(coverage.patient_id, d, rounding, since)
                  if v.key != f"a{exclude_appointment}"]
        if extra is not None and extra_discipline in bucket.disciplines:
            visits = _with_extra(visits, extra)
        result.append((bucket, bucket_use(limit=bucket.limit, unit_type=bucket.unit_type, period=period,
                                          visits=visits)))
    return result


class ChildProjection:
    """One child's coverages, usable authorization lines, benefit buckets and schedule,
    read once and kept up to date with the visits booked since (``add``): what the
    booking guard checks each visit of a series against, instead of reading it all again
    for every visit. Its answers are those of ``project_authorizations``,
    ``active_coverage`` and ``buckets_for`` as long as nothing else changes the child's
    schedule or authorizations meanwhile (one caller's run of bookings)."""

    def __init__(self, practice: Practice, patient_id: int, coverages: list[Coverage],
                 buckets: dict[int, list[BenefitBucket]], usable: list[_Usable]) -> None:
        self.practice, self.patient_id, self.coverages, self.buckets = practice, patient_id, coverages, buckets
        self.lines: dict[str, list[_Usable]] = defaultdict(list)
        for u in usable:
            self.lines[u.discipline].append(u)
        # As _allocations reads it: from the first line's start (today without lines).
        self.since = min((u.line.start for u in usable), default=practice.local_now().date())
        self.services: dict[int, list[tuple[str, int]]] = {}

    @classmethod
    def read(cls, practice: Practice, patient_ids: list[int], day: dt.date) -> dict[int, "ChildProjection"]:
        """Each child's projection, read for all of them in a fixed number of queries."""
        if not patient_ids:
            return {}
        coverages: dict[int, list[Coverage]] = defaultdict(list)
        for coverage in Coverage.objects.filter(patient_id__in=patient_ids).select_related("payer").order_by(
                "priority", "pk"):
            coverages[coverage.patient_id].append(coverage)
        buckets: dict[int, list[BenefitBucket]] = defaultdict(list)
        for bucket in BenefitBucket.objects.filter(coverage__patient_id__in=patient_ids).order_by("pk"):
            buckets[bucket.coverage_id].append(bucket)
        usable: dict[int, list[_Usable]] = defaultdict(list)
        for u in _usable_lines(set(patient_ids)):
            usable[u.patient_id].append(u)
        held = {pk: cls(practice, pk, coverages[pk], buckets, usable[pk]) for pk in patient_ids}
        read_from = min(min(h.since for h in held.values()), day - dt.timedelta(days=_BUCKET_DAYS))
        schedule = _Schedule(set(patient_ids), read_from, practice)
        for h in held.values():  # one read serves each child: its questions filter by date
            h.read_from, h.schedule = read_from, schedule
        return held

    def _read_schedule(self, day: dt.date) -> None:
        self.read_from = min(self.since, day - dt.timedelta(days=_BUCKET_DAYS))
        self.schedule = _Schedule({self.patient_id}, self.read_from, self.practice)

    def coverage_on(self, day: dt.date) -> Coverage | None:
        return next((c for c in self.coverages
                     if c.start_date <= day and (c.end_date is None or c.end_date >= day)), None)

    def plan_services(self, plan: PlanOfCare) -> list[tuple[str, int]]:
        if plan.pk not in self.services:
            self.services[plan.pk] = [(s.cpt_code, s.units) for s in plan.services.all()]
        return self.services[plan.pk]

    def project(self, discipline: str, extra: Visit) -> dict[int, Projection]:
        """``project_authorizations(practice, [], extra_visit=(child, discipline, extra))``."""
        group = self.lines.get(discipline)
        if not group:
            return {}
        records, allocation = _allocate_group((self.patient_id, discipline), group, self.schedule, extra,
                                              since=self.since)
        return project(records, allocation, unused_rule(self.practice))

    def buckets_for(self, coverage: Coverage, day: dt.date, extra: Visit,
                    extra_discipline: str) -> list[tuple[BenefitBucket, object]]:
        buckets = self.buckets.get(coverage.pk)
        if not buckets:
            return []
        since = day - dt.timedelta(days=_BUCKET_DAYS)
        if since < self.read_from:
            self._read_schedule(day)
        return _bucket_uses(coverage, buckets, self.schedule, day, extra, extra_discipline, None, since)

    def add(self, appointment: Appointment, discipline: str) -> None:
        if appointment.patient_id == self.patient_id and appointment.kind != AppointmentKind.MEETING:
            self.schedule.add(appointment, discipline)


# What the board, the detail page, the chart, the API and the report show.

# Stable flag codes: the API, the report and the board's filter use these names.
FLAGS = {
    "runs_out": "Runs out early",
    "unused_units": "Units unused",
    "denials": "Visits not covered",
    "expiring": "Renewal window open",
    "renewal_overdue": "Renewal overdue",
    "decision_overdue": "Decision overdue",
}


@dataclass
class AuthorizationSummary:
    """One authorization with its figures, flags and renewal, as of ``today``."""

    authorization: Authorization
    projection: Projection | None
    therapist: StaffMember | None
    today: dt.date
    lines: list[ServiceLine]

    @property
    def coverage(self) -> Coverage:
        return self.authorization.coverage

    @property
    def patient(self):
        return self.authorization.coverage.patient

    @property
    def payer(self) -> Payer:
        return self.authorization.coverage.payer

    @property
    def renewal(self) -> Renewal | None:
        try:
            return self.authorization.renewal
        except Renewal.DoesNotExist:
            return None

    @property
    def authorized(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def used(self) -> int:
        return self.projection.used if self.projection else 0

    @property
    def scheduled(self) -> int:
        return self.projection.scheduled if self.projection else 0

    @property
    def remaining(self) -> int:
        return self.projection.remaining if self.projection else self.authorized

    @property
    def exhausted_on(self) -> dt.date | None:
        return self.projection.exhausted_on if self.projection else None

    @property
    def days_left(self) -> int:
        return (self.authorization.end_date - self.today).days

    @property
    def days_since_end(self) -> int:
        """Days since it ended (0 while it runs): what an ended authorization shows instead
        of a negative "days left"."""
        return max(0, -self.days_left)

    @property
    def unit_label(self) -> str:
        """"visits", "15-minute units" only when every code is timed, else how units count."""
        return unit_label(self.unit_type, [code for line in self.lines for code in line.cpt_codes])

    @property
    def unit_type(self) -> str:
        return self.lines[0].unit_type if self.lines else UnitType.VISITS

    @property
    def usable(self) -> bool:
        return self.authorization.status in USABLE_STATUSES

    @property
    def window_opens(self) -> dt.date:
        return self.authorization.end_date - dt.timedelta(days=self.payer.renewal_earliest_days)

    @property
    def denials(self) -> list:
        return self.projection.denials if self.projection else []

    @property
    def upcoming_denials(self) -> list:
        """Visits still to come that it will not cover: these can be moved or cancelled."""
        return [d for d in self.denials if not d.visit.done and d.visit.day >= self.today]

    @property
    def past_denials(self) -> list:
        """Visits that already happened without cover: claims to appeal or bill otherwise."""
        return [d for d in self.denials if d.visit.done or d.visit.day < self.today]

    @property
    def flags(self) -> list[str]:
        flags = list(self.projection.flags) if self.projection else []
        renewal = self.renewal
        continued = getattr(self.authorization, "continued", False) or (renewal is not None and renewal.is_decided)
        if (self.usable and not continued and self.payer.requires_authorization
                and self.window_opens <= self.today <= self.authorization.end_date):
            flags.append("expiring")
        if renewal is not None and renewal.is_preparing and renewal.due_date < self.today:
            flags.append("renewal_overdue")
        if renewal is not None and renewal.awaits_decision and renewal.decision_due and \
                renewal.decision_due < self.today:
            flags.append("decision_overdue")
        return flags

    @property
    def flag_labels(self) -> list[tuple[str, str]]:
        return [(flag, FLAGS[flag]) for flag in self.flags]

    @property
    def line_rows(self) -> list[tuple[ServiceLine, LineProjection | None]]:
        by_id = {lp.line_id: lp for lp in self.projection.lines} if self.projection else {}
        return [(line, by_id.get(line.pk)) for line in self.lines]


def _authorization_rows(queryset: QuerySet) -> QuerySet:
    continued = Authorization.objects.filter(previous=OuterRef("pk")).exclude(status=AuthorizationStatus.DENIED)
    return (queryset.select_related("coverage__payer", "coverage__patient", "renewal")
            .annotate(continued=Exists(continued)))


def _therapists(patient_ids: set[int]) -> dict[tuple[int, str], list[PlanOfCare]]:
    plans: dict[tuple[int, str], list[PlanOfCare]] = defaultdict(list)
    for plan in PlanOfCare.objects.filter(patient_id__in=patient_ids).select_related("therapist").order_by(
        "end_date", "pk"
    ):
        plans[(plan.patient_id, plan.discipline)].append(plan)
    return plans


def _plan_for(plans: list[PlanOfCare], authorization: Authorization) -> PlanOfCare | None:
    """The plan of care the authorization pays for: the last one overlapping its period."""
    a = authorization
    overlapping = [p for p in plans if p.start_date <= a.end_date and p.end_date >= a.start_date]
    return (overlapping or plans or [None])[-1]


#: The run memo's name for every authorization projected; what changes a projection
#: forgets it (figures.figures_stale).
PROJECTIONS = "authorizations.projections"
#: The run memo's name for every authorization's summary; forgotten with the projections,
#: and when a renewal is opened or moved.
SUMMARIES = "authorizations.summaries"


def summarize(practice: Practice, *, today: dt.date, authorizations: QuerySet | None = None,
              shared: bool = False) -> list[AuthorizationSummary]:
    """Summaries of the practice's authorizations (or of ``authorizations``) in a fixed
    number of queries, whatever their number. ``shared``: a sweep's question about many
    of them (the statuses, the renewals and three rules each ask one), answered in a
    run from one summary of every authorization, picked by id."""
    every = remembered((SUMMARIES, practice.pk, today), lambda: _summaries(practice, today, None),
                       alone=lambda: None) if shared else None
    if every is None:
        return _summaries(practice, today, authorizations)
    if authorizations is None:
        return list(every)
    wanted = set(authorizations.filter(coverage__patient__practice=practice).values_list("pk", flat=True))
    return [s for s in every if s.authorization.pk in wanted]


def _summaries(practice: Practice, today: dt.date, authorizations: QuerySet | None) -> list[AuthorizationSummary]:
    queryset = authorizations if authorizations is not None else Authorization.objects.all()
    rows = list(_authorization_rows(queryset.filter(coverage__patient__practice=practice)))
    if not rows:
        return []
    # In a sweep's run every authorization is projected once for the statuses, the renewals
    # and the rules alike (a child's projection is the same whichever others are projected).
    # Outside a sweep only these rows' children are projected (a board page, a chart); many
    # rows are projected with the whole practice (no query with a list of every id).
    projections = remembered((PROJECTIONS, practice.pk, today),
                             lambda: project_authorizations(practice, today=today),
                             alone=None if authorizations is None or len(rows) > 500 else
                             lambda: project_authorizations(practice, rows, today=today))
    plans = _therapists({a.coverage.patient_id for a in rows})
    # Lines in one plain query: prefetch_related would clone its IN list once per row.
    lines: dict[int, list[ServiceLine]] = defaultdict(list)
    for line in ServiceLine.objects.filter(authorization__in=[a.pk for a in rows]).order_by("pk"):
        lines[line.authorization_id].append(line)
    result = []
    for authorization in rows:
        plan = _plan_for(plans[(authorization.coverage.patient_id, authorization.discipline)], authorization)
        result.append(AuthorizationSummary(authorization, projections.get(authorization.pk),
                                           plan.therapist if plan else None, today, lines[authorization.pk]))
    return result


BOARD_SORTS = {
    "days_left": ("end_date", "figures__remaining", "pk"),
    "-days_left": ("-end_date", "-figures__remaining", "pk"),
    "units_left": ("figures__remaining", "end_date", "pk"),
    "-units_left": ("-figures__remaining", "end_date", "pk"),
    "patient": ("coverage__patient__last_name", "coverage__patient__first_name", "end_date", "pk"),
}
BOARD_SHOWS = ("current", "ended", "all")
COUNTED_FLAGS = ("runs_out", "unused_units", "denials")


def _continued() -> Exists:
    return Exists(Authorization.objects.filter(previous=OuterRef("pk")).exclude(status=AuthorizationStatus.DENIED))


def _flag_filter(flag: str, practice: Practice, today: dt.date) -> Q:
    """``flag in summary.flags``, as SQL over the stored figures and the dates (the
    queryset carries the ``continued`` and ``unused_share`` annotations)."""
    if flag == "runs_out":
        return Q(figures__runs_out=True)
    if flag == "denials":
        return Q(figures__denials__gt=0)
    if flag == "unused_units":
        rule = unused_rule(practice, today)
        return Q(figures__projected=True, figures__remaining__gt=0, unused_share__gte=0, end_date__gte=today,
                 end_date__lte=today + dt.timedelta(weeks=rule.weeks))
    if flag == "expiring":
        # The window opens a payer's own number of days before the end: one term per payer.
        windows = Q(pk__in=[])
        for payer_id, earliest in Payer.objects.filter(practice=practice, requires_authorization=True).values_list(
                "pk", "renewal_earliest_days"):
            windows |= Q(coverage__payer_id=payer_id, end_date__lte=today + dt.timedelta(days=earliest))
        return (windows & Q(status__in=USABLE_STATUSES, end_date__gte=today, continued=False)
                & ~Q(renewal__state__in=DECIDED_STATES))
    if flag == "renewal_overdue":
        return Q(renewal__state__in=PREPARING_STATES, renewal__due_date__lt=today)
    if flag == "decision_overdue":
        return Q(renewal__state__in=AWAITING_DECISION_STATES, renewal__decision_due__lt=today)
    return Q(pk__in=[])


@dataclass
class Board:
    """The board's rows as one SQL query: filtered, sorted and paged by the database from
    the stored figures (pedsdesk.authorizations.figures), so page 40 costs what page 1 does.
    Only the rows shown are projected afresh, for their details."""

    practice: Practice
    today: dt.date
    queryset: QuerySet

    def count(self) -> int:
        return self.queryset.count()

    def flag_counts(self) -> dict[str, int]:
        return self.queryset.order_by().aggregate(**{
            flag: Count("pk", filter=_flag_filter(flag, self.practice, self.today)) for flag in COUNTED_FLAGS})

    def summaries(self, rows: Iterable[Authorization] | None = None) -> list[AuthorizationSummary]:
        """Summaries of ``rows`` (a page of the queryset; all of them by default), in board order."""
        if rows is None:
            pks = list(self.queryset.values_list("pk", flat=True))
            scope = Authorization.objects.filter(pk__in=self.queryset.values("pk"))
        else:
            pks = [a.pk for a in rows]
            scope = Authorization.objects.filter(pk__in=pks)
        by_pk = {s.authorization.pk: s for s in summarize(self.practice, today=self.today, authorizations=scope)}
        return [by_pk[pk] for pk in pks if pk in by_pk]


def board_query(practice: Practice, *, today: dt.date, payer: int | None = None, discipline: str = "",
                therapist: int | None = None, flag: str = "", show: str = "current",
                sort: str = "days_left") -> Board:
    """The authorizations board: filtered and sorted in SQL.

    "current" is what still needs watching: not yet ended, ended within the last 30
    days with nothing after it (lapsed), or with a renewal still open.
    """
    from pedsdesk.authorizations.figures import fill_missing

    fill_missing(practice)
    rule = unused_rule(practice, today)
    queryset = Authorization.objects.filter(coverage__patient__practice=practice).annotate(
        continued=_continued(),
        unused_share=ExpressionWrapper(F("figures__remaining") * 100 - F("figures__authorized") * rule.share_percent,
                                       output_field=IntegerField()))
    if payer:
        queryset = queryset.filter(coverage__payer_id=payer)
    if discipline:
        queryset = queryset.filter(discipline=discipline)
    recent = today - dt.timedelta(days=30)
    open_renewal = Q(renewal__state__in=PREPARING_STATES + AWAITING_DECISION_STATES)
    if show == "current":
        queryset = queryset.filter(Q(end_date__gte=today) | Q(end_date__gte=recent, continued=False) | open_renewal)
    elif show == "ended":
        queryset = queryset.filter(end_date__lt=today)
    if therapist:
        # The therapist of the plan of care it pays for (_plan_for): the last one overlapping
        # its period, else the child's last plan of that discipline.
        plans = PlanOfCare.objects.filter(patient_id=OuterRef("coverage__patient_id"),
                                          discipline=OuterRef("discipline")).order_by("-end_date", "-pk")
        overlapping = plans.filter(start_date__lte=OuterRef("end_date"), end_date__gte=OuterRef("start_date"))
        queryset = queryset.annotate(therapist_pk=Coalesce(
            Subquery(overlapping.values("therapist_id")[:1]), Subquery(plans.values("therapist_id")[:1])
        )).filter(therapist_pk=therapist)
    if flag:
        queryset = queryset.filter(_flag_filter(flag, practice, today))
    return Board(practice, today, queryset.order_by(*BOARD_SORTS.get(sort, BOARD_SORTS["days_left"])))


def board(practice: Practice, *, today: dt.date, **filters) -> list[AuthorizationSummary]:
    """Every row of the board, summarized (the report and the export want them all)."""
    return board_query(practice, today=today, **filters).summaries()


# The report (`pedsdesk report authorizations`, and interop's export back): the board's figures.

REPORT_COLUMNS = ["patient", "payer", "number", "discipline", "status", "unit", "authorized", "used",
                  "scheduled", "remaining", "start", "end", "days_left", "projected_exhaustion", "flags",
                  "renewal_state", "renewal_due"]


def report_row(s: AuthorizationSummary) -> dict:
    """One authorization as ``pedsdesk report authorizations`` prints it as JSON: the top-level
    figures are the lines' sums."""
    a, renewal = s.authorization, s.renewal
    return {
        "id": a.pk, "patient": str(s.patient), "payer": str(s.payer), "number": a.number,
        "discipline": a.discipline, "status": a.status, "unit": s.unit_type, "authorized": s.authorized,
        "used": s.used, "scheduled": s.scheduled, "remaining": s.remaining, "start": a.start_date.isoformat(),
        "end": a.end_date.isoformat(), "days_left": s.days_left,
        "projected_exhaustion": s.exhausted_on.isoformat() if s.exhausted_on else None, "flags": s.flags,
        "renewal": {"state": renewal.state, "due_date": renewal.due_date.isoformat()} if renewal else None,
        "lines": [{"cpt_codes": line.cpt_codes, "unit": line.unit_type, "authorized": line.quantity,
                   "used": f.used if f else 0, "scheduled": f.scheduled if f else 0,
                   "remaining": f.remaining if f else line.quantity,
                   "projected_exhaustion": f.exhausted_on.isoformat() if f and f.exhausted_on else None}
                  for line, f in s.line_rows],
    }


def flat_report_row(row: dict) -> dict:
    """A report row for CSV and tables: flags joined, the renewal as two columns."""
    renewal = row["renewal"] or {}
    return {**{k: row[k] for k in REPORT_COLUMNS if k in row}, "flags": " ".join(row["flags"]),
            "projected_exhaustion": row["projected_exhaustion"] or "",
            "renewal_state": renewal.get("state", ""), "renewal_due": renewal.get("due_date", "")}


def authorization_for(user: StaffMember, pk: int) -> Authorization:
    """One of the user's practice's authorizations, else 404."""
    return get_object_or_404(
        Authorization.objects.select_related("coverage__payer", "coverage__patient", "previous"),
        pk=pk, coverage__patient__practice=user.practice)


def renewal_for(user: StaffMember, pk: int) -> Renewal:
    return get_object_or_404(
        Renewal.objects.select_related("authorization__coverage__payer", "authorization__coverage__patient",
                                       "therapist", "submitted_by", "decided_by"),
        pk=pk, authorization__coverage__patient__practice=user.practice)


def summary_of(authorization: Authorization, today: dt.date) -> AuthorizationSummary:
    practice = authorization.coverage.patient.practice
    return summarize(practice, today=today, authorizations=Authorization.objects.filter(pk=authorization.pk))[0]


def chain_of(authorization: Authorization) -> list[Authorization]:
    """The authorizations before this one and after it, oldest first (the renewal history)."""
    before: list[Authorization] = []
    current = authorization.previous
    while current is not None and len(before) < 20:
        before.insert(0, current)
        current = current.previous
    after = list(Authorization.objects.filter(previous=authorization).order_by("start_date", "pk"))
    return [*before, authorization, *after]


@dataclass
class CoverageBuckets:
    coverage: Coverage
    buckets: list[tuple[BenefitBucket, object]]


def patient_authorizations(patient, today: dt.date) -> dict:
    """The chart's section: the child's authorizations and each coverage's benefit buckets."""
    summaries = summarize(patient.practice, today=today,
                          authorizations=Authorization.objects.filter(coverage__patient=patient))
    summaries.sort(key=lambda s: (s.authorization.end_date < today, s.authorization.discipline,
                                  -s.authorization.end_date.toordinal()))
    coverages = Coverage.objects.filter(patient=patient).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)).select_related("payer", "patient__practice")
    buckets = [CoverageBuckets(c, buckets_for(c, today)) for c in coverages]
    return {"summaries": summaries, "coverage_buckets": [c for c in buckets if c.buckets]}


def attendance(authorization: Authorization, until: dt.date) -> dict[str, int]:
    """Visits of the authorization's discipline in its period up to ``until``, by outcome."""
    practice = authorization.coverage.patient.practice
    zone = practice.zone
    rows = (Appointment.objects.filter(
        patient_id=authorization.coverage.patient_id,
        start_at__gte=local_to_utc(authorization.start_date, dt.time.min, zone),
        start_at__lt=local_to_utc(min(until, authorization.end_date) + dt.timedelta(days=1), dt.time.min, zone))
        .exclude(kind=AppointmentKind.MEETING)
        .values_list("status", "plan_of_care__discipline", "therapist__therapist_profile__discipline"))
    counts = {"attended": 0, "cancelled": 0, "late_cancel": 0, "no_show": 0, "upcoming": 0}
    for status, plan_discipline, therapist_discipline in rows:
        if (plan_discipline or therapist_discipline) != authorization.discipline:
            continue
        if status == AppointmentStatus.COMPLETED:
            counts["attended"] += 1
        elif status == AppointmentStatus.CANCELLED:
            counts["cancelled"] += 1
        elif status == AppointmentStatus.LATE_CANCEL:
            counts["late_cancel"] += 1
        elif status == AppointmentStatus.NO_SHOW:
            counts["no_show"] += 1
        else:
            counts["upcoming"] += 1
    return counts


def visit_authorization(appointment: Appointment, today: dt.date) -> dict | None:
    """Whether an authorization covers this visit, as the schedule is allocated to the
    payer's lines (the board's arithmetic): ``covered`` True/False, the ``summary`` of the
    authorization it draws on (or would), and the ``message`` of a denial; ``covered`` None
    when the child has no coverage that day. None for a
    meeting or a visit no longer on the schedule."""
    if appointment.patient_id is None or appointment.status not in HOLDING_STATUSES:
        return None
    coverage = active_coverage(appointment.patient_id, appointment.local_start.date())
    if coverage is None:
        return {"covered": None, "summary": None, "message": "No coverage on file for the visit's date (self-pay?)."}
    if not coverage.payer.requires_authorization:
        return {"covered": True, "summary": None, "message": f"{coverage.payer} needs no authorization."}
    key = f"a{appointment.pk}"
    scope = list(Authorization.objects.filter(coverage__patient_id=appointment.patient_id))
    for records, allocation in _allocations(appointment.practice, scope):
        denial = next((d for d in allocation.denials if d.visit.key == key), None)
        line_ids = allocation.covered.get(key)
        if not line_ids and denial is None:
            continue
        authorization_id = (next(r.authorization_id for r in records if r.id == line_ids[0]) if line_ids
                            else denial.authorization_id)
        summary = (summarize(appointment.practice, today=today,
                             authorizations=Authorization.objects.filter(pk=authorization_id))
                   if authorization_id else [])
        return {"covered": denial is None, "summary": summary[0] if summary else None,
                "message": denial.message if denial else ""}
    return {"covered": False, "summary": None,
            "message": "No authorization on file for this visit's discipline; the payer may deny it."}

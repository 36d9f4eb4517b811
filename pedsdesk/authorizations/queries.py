"""Utilization read from the real schedule: appointments, and the occurrences recurring
series will book later. Bulk queries feed the pure arithmetic in projection.py."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from pedsdesk.authorizations.models import (
    USABLE_STATUSES,
    Authorization,
    BenefitBucket,
    Coverage,
    RoundingRule,
    ServiceLine,
)
from pedsdesk.authorizations.projection import Line, Projection, Visit, allocate, bucket_use, plan_year, project
from pedsdesk.codes import CPT_CODES, units_for_minutes
from pedsdesk.people.models import PlanOfCareService
from pedsdesk.practices.models import Practice
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
        self.series: dict[int, list[Series]] = defaultdict(list)
        for series in Series.objects.filter(plan_of_care__patient_id__in=patient_ids, active=True).select_related(
            "plan_of_care"
        ):
            self.series[series.plan_of_care.patient_id].append(series)
            plan_ids.add(series.plan_of_care_id)
        self.services: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for plan_id, code, units in PlanOfCareService.objects.filter(plan_of_care_id__in=plan_ids).order_by(
            "pk"
        ).values_list("plan_of_care_id", "cpt_code", "units"):
            self.services[plan_id].append((code, units))
        self.closed = set(Closure.objects.filter(practice=practice).values_list("date", flat=True))

    def visits(self, patient_id: int, discipline: str, rounding: str) -> list[Visit]:
        result = []
        for a in self.appointments[patient_id]:
            if a.discipline != discipline:
                continue
            services = self.services.get(a.plan_id) or [(EVALUATION_CODE[discipline], 1)]
            if a.kind in (AppointmentKind.EVALUATION, AppointmentKind.RE_EVALUATION):
                services = [(EVALUATION_CODE[discipline], 1)]
            local = a.start_at.astimezone(self.zone)
            result.append(Visit(f"a{a.pk}", local.date(), visit_units(services, a.minutes, rounding), done=a.done,
                                label=f"The visit on {local:%a %b %-d}"))
        for s in self.series[patient_id]:
            plan = s.plan_of_care
            if plan.discipline != discipline or s.generated_through is None:
                continue
            units = visit_units(self.services.get(plan.pk, []), s.minutes, rounding)
            for day in occurrence_dates(s, s.generated_through + dt.timedelta(days=1), s.end_date):
                if day not in self.closed:
                    result.append(Visit(f"s{s.pk}:{day}", day, units, done=False,
                                        label=f"The series visit on {day:%a %b %-d}"))
        return result


def _line(line: ServiceLine) -> Line:
    a = line.authorization
    return Line(line.pk, a.pk, a.start_date, a.end_date, frozenset(line.cpt_codes), line.unit_type, line.quantity,
                line.per_week_cap, line.per_month_cap)


def project_authorizations(practice: Practice, authorizations: Iterable[Authorization] | None = None,
                           extra_visit: tuple[int, str, Visit] | None = None,
                           exclude_appointment: int | None = None) -> dict[int, Projection]:
    """Projection of each authorization of the practice (or of the given ones).

    Allocation is per child and discipline across all their usable authorizations, so
    overlapping authorizations share the visits the way the payer will.
    """
    if authorizations is None:
        scope = Authorization.objects.filter(coverage__patient__practice=practice)
    else:
        scope = Authorization.objects.filter(pk__in=[a.pk for a in authorizations])
    keys = set(scope.values_list("coverage__patient_id", "discipline"))
    if extra_visit is not None:
        keys.add(extra_visit[:2])
    if not keys:
        return {}
    patient_ids = {p for p, _ in keys}
    lines = list(
        ServiceLine.objects.filter(authorization__coverage__patient_id__in=patient_ids,
                                   authorization__status__in=USABLE_STATUSES)
        .select_related("authorization__coverage__payer")
    )
    if not lines and extra_visit is None:
        return {}
    since = min((ln.authorization.start_date for ln in lines), default=practice.local_now().date())
    schedule = _Schedule(patient_ids, since, practice)
    grouped: dict[tuple[int, str], list[ServiceLine]] = defaultdict(list)
    for line in lines:
        grouped[(line.authorization.coverage.patient_id, line.authorization.discipline)].append(line)
    result: dict[int, Projection] = {}
    for key, group in grouped.items():
        if key not in keys:
            continue
        rounding = group[0].authorization.coverage.payer.rounding_rule
        visits = [v for v in schedule.visits(key[0], key[1], rounding) if v.key != f"a{exclude_appointment}"]
        if extra_visit is not None and extra_visit[:2] == key:
            visits.append(extra_visit[2])
        records = [_line(ln) for ln in group]
        result.update(project(records, allocate(records, visits)))
    return result


def active_coverage(patient_id: int, day: dt.date) -> Coverage | None:
    return (
        Coverage.objects.filter(patient_id=patient_id, start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .select_related("payer")
        .order_by("priority")
        .first()
    )


def buckets_for(coverage: Coverage, day: dt.date, extra: Visit | None = None, extra_discipline: str = "",
                exclude_appointment: int | None = None) -> list[tuple[BenefitBucket, object]]:
    """Each benefit bucket of ``coverage`` counted over the plan year containing ``day``."""
    result = []
    practice = coverage.patient.practice
    buckets = list(coverage.benefit_buckets.all())
    if not buckets:
        return result
    schedule = _Schedule({coverage.patient_id}, day - dt.timedelta(days=370), practice)
    rounding = coverage.payer.rounding_rule
    for bucket in buckets:
        if bucket.reset == BenefitBucket.Reset.PLAN_YEAR:
            period = plan_year(day, coverage.plan_year_start_month, coverage.plan_year_start_day)
        else:
            period = plan_year(day)
        visits = [v for d in bucket.disciplines for v in schedule.visits(coverage.patient_id, d, rounding)
                  if v.key != f"a{exclude_appointment}"]
        if extra is not None and extra_discipline in bucket.disciplines:
            visits.append(extra)
        result.append((bucket, bucket_use(limit=bucket.limit, unit_type=bucket.unit_type, period=period,
                                          visits=visits)))
    return result

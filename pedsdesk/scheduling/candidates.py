"""Who could take an opening, in the order a good front desk would weigh them.

Candidates are: children owed a makeup this week, children below their plan-of-care
frequency this week, the gap list, and the waitlist. Each must fit the therapist's
discipline, the child's times, the authorization and benefit bucket, the week's cap,
the minimum notice, and not be booked elsewhere. Whoever does not fit is kept with the
reason, so the front desk can see why a family was not asked.
"""

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Collate

from pedsdesk.people.models import Guardian, GuardianOf, Patient, PlanOfCare
from pedsdesk.scheduling.actions import BookingBatch, check_booking
from pedsdesk.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    CandidateKind,
    GapListEntry,
    Opening,
    SchedulingPolicy,
    WaitlistEntry,
)
from pedsdesk.scheduling.timeslots import local_to_utc, treatment_week

# Families whose fit is read and checked together (a page of the ranked list at a time).
CHECK_PAGE = 20
# Children below their plan's frequency read at a time (there can be hundreds).
BELOW_FREQUENCY_SLICE = 60
KIND_ORDER = [CandidateKind.MAKEUP, CandidateKind.BELOW_FREQUENCY, CandidateKind.GAP_LIST, CandidateKind.WAITLIST]


@dataclass
class Candidate:
    patient: Patient
    kind: str
    plan_of_care: PlanOfCare | None
    days_waiting: int
    guardian: Guardian | None = None
    makeup_for: Appointment | None = None
    gap_entry: GapListEntry | None = None
    waitlist_entry: WaitlistEntry | None = None
    priority: int = 2
    skipped: str = ""  # why this family is not asked
    checked: bool = False  # fit was evaluated (lazily, only as far down the list as offers need)

    @property
    def appointment_kind(self) -> str:
        if self.kind == CandidateKind.WAITLIST and self.plan_of_care is None:
            return AppointmentKind.EVALUATION
        return AppointmentKind.MAKEUP if self.kind == CandidateKind.MAKEUP else AppointmentKind.TREATMENT


def _in_windows(windows: list[dict], opening: Opening) -> bool:
    zone = opening.practice.zone
    local_start, local_end = opening.start_at.astimezone(zone), opening.end_at.astimezone(zone)
    for w in windows:
        if int(w.get("weekday", -1)) != local_start.weekday():
            continue
        if w.get("start", "") <= f"{local_start:%H:%M}" and f"{local_end:%H:%M}" <= w.get("end", ""):
            return True
    return False


def find_candidates(opening: Opening, now: dt.datetime, wanted: int | None = None) -> list[Candidate]:
    """Everyone who might take ``opening``, ranked, with the unfit ones marked skipped.

    Checking a family's fit costs a booking check each, so only the first ``wanted``
    that fit (and those ranked above them) are checked, and the list is read only that
    far (a kind at a time, the children below frequency a slice at a time); None reads
    and checks everyone.
    """
    practice = opening.practice
    zone = practice.zone
    therapist = opening.therapist
    discipline = therapist.therapist_profile.discipline
    local_day = opening.start_at.astimezone(zone).date()
    policy = SchedulingPolicy.for_practice(practice)
    monday, last = treatment_week(local_day, policy.treatment_week_days)
    week_start, week_end = local_to_utc(monday, dt.time.min, zone), local_to_utc(
        last + dt.timedelta(days=1), dt.time.min, zone)
    today = now.astimezone(zone).date()
    if opening.recurring:
        return _rank_and_check(opening, iter([_needing_a_regular_time(opening, discipline, local_day, today)]),
                               now, wanted, policy)
    # A child comes once, under the first kind that has them. The family who just
    # cancelled this time is not offered it back.
    seen: set[int | None] = {getattr(opening.freed_by, "patient_id", None)}

    def makeups() -> list[Candidate]:
        cancelled = (
            Appointment.objects.filter(
                practice=practice, start_at__gte=week_start, start_at__lt=week_end, patient__isnull=False,
                status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL],
                plan_of_care__discipline=discipline,
            )
            .exclude(makeups__status__in=HOLDING_STATUSES)
            .exclude(pk=opening.freed_by_id)
            .select_related("patient", "plan_of_care")
            .order_by("cancelled_at")
        )
        return [Candidate(visit.patient, CandidateKind.MAKEUP, visit.plan_of_care,
                          (today - visit.cancelled_at.astimezone(zone).date()).days, makeup_for=visit)
                for visit in cancelled if _first(seen, visit.patient_id)]

    def below_frequency() -> Iterator[list[Candidate]]:
        # Only the plans below their frequency come back: the week's visits are counted in
        # SQL, each plan's through its (plan, start) index. They rank by name then child
        # (as _rank sorts them: same kind, priority and wait), so a slice at a time is read.
        this_week = (Appointment.objects.filter(plan_of_care=OuterRef("pk"), start_at__gte=week_start,
                                                start_at__lt=week_end, status__in=HOLDING_STATUSES)
                     .order_by().values("plan_of_care").annotate(n=Count("pk")).values("n"))
        plans = (
            PlanOfCare.objects.filter(patient__practice=practice, patient__is_active=True, discipline=discipline,
                                      start_date__lte=local_day, end_date__gte=local_day)
            .annotate(this_week=Coalesce(Subquery(this_week, output_field=IntegerField()), Value(0)))
            .filter(this_week__lt=F("frequency_per_week"))
            .select_related("patient").order_by(_code_point_order("patient__last_name"), "patient_id", "pk")
        )
        for offset in itertools.count(0, BELOW_FREQUENCY_SLICE):
            chunk = list(plans[offset:offset + BELOW_FREQUENCY_SLICE])
            yield [Candidate(plan.patient, CandidateKind.BELOW_FREQUENCY, plan, 0)
                   for plan in chunk if _first(seen, plan.patient_id)]
            if len(chunk) < BELOW_FREQUENCY_SLICE:
                return

    def gap_list() -> list[Candidate]:
        entries = GapListEntry.objects.filter(practice=practice, active=True, plan_of_care__discipline=discipline,
                                              plan_of_care__end_date__gte=local_day).select_related(
                                                  "patient", "plan_of_care")
        return [Candidate(entry.patient, CandidateKind.GAP_LIST, entry.plan_of_care,
                          (today - entry.created_at.astimezone(zone).date()).days, gap_entry=entry)
                for entry in entries if entry.patient_id not in seen and _in_windows(entry.windows, opening)
                and _first(seen, entry.patient_id)]

    def waitlist() -> list[Candidate]:
        waiting = WaitlistEntry.objects.filter(practice=practice, status=WaitlistEntry.Status.WAITING,
                                               discipline=discipline).filter(
            Q(preferred_therapist__isnull=True) | Q(preferred_therapist=therapist)).select_related("patient", "payer")
        found = []
        for entry in waiting:
            if not _first(seen, entry.patient_id):
                continue
            candidate = Candidate(entry.patient, CandidateKind.WAITLIST, None, entry.days_waiting(today),
                                  waitlist_entry=entry, priority=entry.priority)
            if not entry.intake_complete:
                candidate.skipped = "Intake paperwork is not complete."
            elif entry.payer and entry.payer.evaluation_requires_authorization and not entry.evaluation_authorized:
                candidate.skipped = "The evaluation needs an authorization that is not in place yet."
            elif entry.windows and not _in_windows(entry.windows, opening):
                candidate.skipped = "Outside the times the family gave."
            found.append(candidate)
        return found

    def in_kind_order() -> Iterator[list[Candidate]]:
        yield makeups()
        yield from below_frequency()
        yield gap_list()
        yield waitlist()

    return _rank_and_check(opening, in_kind_order(), now, wanted, policy)


def _first(seen: set[int | None], patient_id: int) -> bool:
    """True the first time a child comes up (and remembers them)."""
    if patient_id in seen:
        return False
    seen.add(patient_id)
    return True


def _code_point_order(field: str):
    """Order by ``field`` as Python compares strings (SQLite's default; PostgreSQL's "C")."""
    return Collate(F(field), "C") if connection.vendor == "postgresql" else F(field)


def _needing_a_regular_time(opening: Opening, discipline: str, day: dt.date, today: dt.date) -> list[Candidate]:
    """For a freed recurring slot: current plans with fewer weekly series than their
    frequency, the waitlist's newly evaluated children first (longest waiting first)."""
    plans = (PlanOfCare.objects.filter(patient__practice=opening.practice, patient__is_active=True,
                                       discipline=discipline, start_date__lte=day, end_date__gt=day)
             .annotate(weekly=Count("series", filter=Q(series__active=True))).select_related("patient"))
    referred = dict(WaitlistEntry.objects.filter(
        practice=opening.practice, discipline=discipline, status=WaitlistEntry.Status.EVALUATION_BOOKED,
    ).values_list("patient_id", "referral_date"))
    found = []
    for plan in plans:
        if plan.weekly >= plan.frequency_per_week:
            continue
        waited = (today - referred[plan.patient_id]).days if plan.patient_id in referred else 0
        found.append(Candidate(plan.patient, CandidateKind.WAITLIST if plan.patient_id in referred
                               else CandidateKind.BELOW_FREQUENCY, plan, waited))
    return found


def _rank(c: Candidate) -> tuple:
    return KIND_ORDER.index(c.kind), c.priority, -c.days_waiting, c.patient.last_name, c.patient.pk


def _rank_and_check(opening: Opening, chunks: Iterator[list[Candidate]], now: dt.datetime, wanted: int | None,
                    policy: SchedulingPolicy) -> list[Candidate]:
    """``chunks``: the candidates in rank order a chunk at a time (each chunk ranks after
    the one before), read only as far as the checks get."""
    practice, therapist = opening.practice, opening.therapist
    ranked: list[Candidate] = []

    def read_to(length: int | None) -> None:
        while length is None or len(ranked) < length:
            chunk = next(chunks, None)
            if chunk is None:
                return
            ranked.extend(sorted(chunk, key=_rank))

    minimum_notice = dt.timedelta(hours=float(policy.minimum_notice_hours))
    # The therapist's side of the time is the same for every family: check it once.
    therapist_side = check_booking(practice=practice, therapist=therapist, patient=None, start_at=opening.start_at,
                                   end_at=opening.end_at, kind=AppointmentKind.MEETING, now=now)
    closed = " ".join(p.message for p in therapist_side.blocks + therapist_side.warnings)
    short_notice = opening.start_at - now < minimum_notice
    guardians: dict[int, Guardian] = {}
    batch = BookingBatch()  # nothing is booked while screening: what it reads holds throughout
    fitting = index = 0
    while wanted is None or fitting < wanted:
        if index % CHECK_PAGE == 0:  # read a page of families at a time, only as far as we look
            read_to(index + CHECK_PAGE)
            page = ranked[index:index + CHECK_PAGE]
            guardians.update(primary_guardians([c.patient.pk for c in page]))
            to_check = [] if short_notice or closed else [
                c for c in page if not c.skipped and c.patient.pk in guardians]
            if to_check:
                batch.expect(practice=practice, patients=[c.patient for c in to_check],
                             plans=[c.plan_of_care for c in to_check], start_at=opening.start_at,
                             end_at=opening.end_at,
                             first_problem_only={c.patient.pk for c in to_check if _first_problem_only(c)})
        if index == len(ranked):
            break
        candidate = ranked[index]
        index += 1
        candidate.guardian = guardians.get(candidate.patient.pk)
        candidate.checked = True
        if candidate.skipped:
            continue
        if short_notice:
            candidate.skipped = f"Less than {policy.minimum_notice_hours} hours' notice."
        elif closed:
            candidate.skipped = closed
        elif candidate.guardian is None:
            candidate.skipped = "No guardian to send the offer to."
        else:
            candidate.skipped = _fit(opening, candidate, now, batch)
        fitting += not candidate.skipped
    if wanted is None:
        read_to(None)
    return ranked


def _first_problem_only(candidate: Candidate) -> bool:
    """One reason is enough to pass by a current patient; the gap list and the waitlist get
    every reason (their own windows decide, see _fit)."""
    return candidate.kind not in (CandidateKind.GAP_LIST, CandidateKind.WAITLIST)


def _fit(opening: Opening, candidate: Candidate, now: dt.datetime, batch: BookingBatch) -> str:
    check = check_booking(practice=opening.practice, therapist=opening.therapist, patient=candidate.patient,
                          start_at=opening.start_at, end_at=opening.end_at, kind=candidate.appointment_kind,
                          plan_of_care=candidate.plan_of_care, now=now, therapist_checked=True, batch=batch,
                          first_problem_only=_first_problem_only(candidate))
    problems = check.blocks + [
        w for w in check.warnings
        # The family's own windows decide for the gap list and the waitlist.
        if not (w.code == "outside_child_windows" and candidate.kind in (CandidateKind.GAP_LIST,
                                                                          CandidateKind.WAITLIST))
    ]
    return " ".join(p.message for p in problems)


def primary_guardians(patient_ids: list[int]) -> dict[int, Guardian]:
    chosen: dict[int, Guardian] = {}
    links = GuardianOf.objects.filter(patient_id__in=patient_ids).select_related("guardian").order_by(
        "-is_primary_contact", "-legal_authority", "pk")
    for link in links:
        chosen.setdefault(link.patient_id, link.guardian)
    return chosen

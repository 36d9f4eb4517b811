"""Reads of home programs, each scoped to one practice, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Count, Max, Prefetch, Q, Sum

from pedsdesk.hep import adherence
from pedsdesk.hep.models import (
    Delivery,
    DeliveryState,
    Feedback,
    FeedbackItem,
    FeedbackRequest,
    HepPolicy,
    HomeProgram,
    ProgramItem,
    ProgramVersion,
    ReviewTime,
)
from pedsdesk.people.models import Patient
from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.reports import report
from pedsdesk.scheduling.models import Appointment, AppointmentKind, AppointmentStatus
from pedsdesk.scheduling.timeslots import local_day_bounds

REPORT_COLUMNS = ("patient", "program_version", "activities", "sent_at", "delivery_state", "opened_at",
                  "last_feedback_at", "days_practised", "days_prescribed", "adherence", "open_question")
#: The most advanced state among a version's deliveries is the child's.
_RANK = {DeliveryState.FAILED: 0, DeliveryState.QUEUED: 1, DeliveryState.SENT: 2, DeliveryState.DELIVERED: 3,
         DeliveryState.OPENED: 4}


@dataclass
class ProgramRow:
    patient: Patient
    version: ProgramVersion
    therapist: StaffMember | None
    activities: int
    figures: adherence.Figures
    sent_at: dt.datetime | None
    delivery_state: str
    opened_at: dt.datetime | None
    last_feedback_at: dt.datetime | None
    open_question: bool


def _by_version(version_ids: list[int], patient_ids: list[int]) -> tuple[dict, dict, dict, dict, set]:
    answers = {row["version_id"]: row for row in Feedback.objects.filter(version_id__in=version_ids)
               .values("version_id").annotate(practised=Sum("days_practised"), prescribed=Sum("days_prescribed"),
                                              answered=Count("pk"), last=Max("submitted_at"))}
    deliveries: dict[int, list[Delivery]] = {}
    for delivery in Delivery.objects.filter(version_id__in=version_ids).only(
            "version_id", "state", "sent_at", "opened_at", "delivered_at"):
        deliveries.setdefault(delivery.version_id, []).append(delivery)
    requests = dict(FeedbackRequest.objects.filter(version_id__in=version_ids).values("version_id")
                    .annotate(n=Count("pk")).values_list("version_id", "n"))
    items = dict(ProgramItem.objects.filter(version_id__in=version_ids).values("version_id")
                 .annotate(n=Count("pk")).values_list("version_id", "n"))
    questions = set(Feedback.objects.filter(patient_id__in=patient_ids, answered_at__isnull=True)
                    .exclude(question="").values_list("patient_id", flat=True))
    return answers, deliveries, requests, items, questions


def current_figures(practice: Practice, *, therapist: StaffMember | None = None,
                    patient_ids: Collection[int] | None = None) -> list[ProgramRow]:
    """One row per child with a current program: its figures, delivery and feedback
    (only the children ``patient_ids`` names, when given). Six queries."""
    if patient_ids is not None and not patient_ids:
        return []
    programs = (HomeProgram.objects.filter(practice=practice, current_version__isnull=False,
                                           patient__is_active=True)
                .select_related("patient", "current_version__created_by", "current_version__program"))
    if patient_ids is not None:
        programs = programs.filter(patient_id__in=patient_ids)
    if therapist is not None:
        programs = programs.filter(Q(current_version__created_by=therapist)
                                   | Q(patient__plans_of_care__therapist=therapist)).distinct()
    programs = list(programs)
    answers, deliveries, requests, items, questions = _by_version([p.current_version_id for p in programs],
                                                                  [p.patient_id for p in programs])
    rows = []
    for program in programs:
        version = program.current_version
        answer = answers.get(version.pk, {})
        sent = deliveries.get(version.pk, [])
        delivered = sum(1 for d in sent if d.delivered_at or d.opened_at)
        opened = sum(1 for d in sent if d.opened_at)
        figures = adherence.Figures(
            answer.get("practised") or 0, answer.get("prescribed") or 0,
            adherence.share(answer.get("practised") or 0, answer.get("prescribed") or 0) if answer else None,
            requests.get(version.pk, 0), answer.get("answered", 0), delivered, opened)
        best = max(sent, key=lambda d: _RANK[d.state], default=None)
        rows.append(ProgramRow(
            patient=program.patient, version=version, therapist=version.created_by, activities=items.get(version.pk, 0),
            figures=figures, sent_at=min((d.sent_at for d in sent if d.sent_at), default=None),
            delivery_state=best.state if best else "", opened_at=min((d.opened_at for d in sent if d.opened_at),
                                                                       default=None),
            last_feedback_at=answer.get("last"), open_question=program.patient_id in questions))
    return rows


def caseload(practice: Practice, *, therapist: StaffMember | None = None) -> list[ProgramRow]:
    return lowest_first(current_figures(practice, therapist=therapist))


def lowest_first(rows: list[ProgramRow]) -> list[ProgramRow]:
    """Lowest adherence first; children with no answers yet after them."""
    return sorted(rows, key=lambda r: (r.figures.adherence is None, r.figures.adherence or 0,
                                       r.patient.last_name, r.patient.first_name))


# What a visit's home program needs before the session (Today).
NO_PROGRAM, NOT_SENT, NOT_OPENED, LOW, QUESTION = "no program", "not sent", "not opened", "low practice", "question"


@dataclass
class VisitProgram:
    """A visit today and where its child's home program stands."""

    visit: Appointment
    row: ProgramRow | None
    needs: list[str]


def program_needs(row: ProgramRow | None, threshold: float) -> list[str]:
    if row is None:
        return [NO_PROGRAM]
    needs = []
    if not row.delivery_state:
        needs.append(NOT_SENT)
    elif row.opened_at is None:
        needs.append(NOT_OPENED)
    if row.figures.adherence is not None and row.figures.adherence < threshold:
        needs.append(LOW)
    if row.open_question:
        needs.append(QUESTION)
    return needs


def visits_today(practice: Practice, day: dt.date, *, therapist: StaffMember | None = None) -> list[VisitProgram]:
    """The day's visits with a child (not cancelled, in the practice's calendar), each with
    the child's program row and what it needs. Eight queries, whatever the number of visits."""
    start, end = local_day_bounds(day, practice.zone)
    visits = (Appointment.objects.filter(practice=practice, start_at__gte=start, start_at__lt=end,
                                         patient__isnull=False, patient__is_active=True)
              .exclude(status__in=(AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL))
              .exclude(kind=AppointmentKind.MEETING))
    if therapist is not None:
        visits = visits.filter(therapist=therapist)
    visits = list(visits.select_related("patient").order_by("start_at"))
    rows = {row.patient.pk: row for row in current_figures(practice, patient_ids={v.patient_id for v in visits})}
    threshold = float(HepPolicy.for_practice(practice).low_adherence)
    return [VisitProgram(visit, rows.get(visit.patient_id), program_needs(rows.get(visit.patient_id), threshold))
            for visit in visits]


def program_for(patient: Patient) -> HomeProgram | None:
    return (HomeProgram.objects.filter(patient=patient)
            .select_related("current_version__created_by")
            .prefetch_related(Prefetch("current_version__items",
                                       queryset=ProgramItem.objects.select_related("activity")))
            .first())


@dataclass
class Summary:
    """What the therapist sees before a session (visit panel and chart)."""

    program: HomeProgram | None
    version: ProgramVersion | None
    last_feedback: Feedback | None
    open_questions: list[Feedback]
    trend: list[tuple[int, float | None]]  # (version number, adherence), oldest first
    deliveries: list[Delivery]


def summary(patient: Patient) -> Summary:
    program = program_for(patient)
    if program is None or program.current_version is None:
        return Summary(program, None, None, [], [], [])
    version = program.current_version
    last = (Feedback.objects.filter(patient=patient).select_related("guardian", "version")
            .prefetch_related(Prefetch("items", queryset=FeedbackItem.objects.select_related("item__activity")))
            .first())
    questions = list(Feedback.objects.filter(patient=patient, answered_at__isnull=True).exclude(question="")
                     .select_related("guardian")[:5])
    trend_rows = (ProgramVersion.objects.filter(program=program).order_by("-number")
                  .annotate(practised=Sum("feedback__days_practised"), prescribed=Sum("feedback__days_prescribed"))
                  .values_list("number", "practised", "prescribed")[:6])
    trend = [(number, adherence.share(practised or 0, prescribed or 0) if prescribed else None)
             for number, practised, prescribed in reversed(trend_rows)]
    deliveries = list(Delivery.objects.filter(version=version).select_related("guardian"))
    return Summary(program, version, last, questions, trend, deliveries)


def version_figures(version: ProgramVersion) -> adherence.Figures:
    answers = [adherence.Answer(f.submitted_at, f.days_practised, f.days_prescribed)
               for f in version.feedback.all()]
    sent = list(version.deliveries.all())
    return adherence.figures(answers, forms_sent=version.feedback_requests.count(),
                             delivered=sum(1 for d in sent if d.delivered_at or d.opened_at),
                             opened=sum(1 for d in sent if d.opened_at))


def monitoring(patient: Patient, *, today: dt.date, windows: int = 3) -> list[adherence.MonitoringWindow]:
    """The last ``windows`` 30-day windows ending today: days with reported data, review minutes."""
    zone = patient.practice.zone
    first = today - dt.timedelta(days=30 * windows - 1)
    since = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
    days = {at.astimezone(zone).date() for at in
            Feedback.objects.filter(patient=patient, submitted_at__gte=since).values_list("submitted_at", flat=True)}
    reviews = [(at.astimezone(zone).date(), minutes, live) for at, minutes, live in
               ReviewTime.objects.filter(patient=patient, reviewed_at__gte=since)
               .values_list("reviewed_at", "minutes", "real_time_interaction")]
    return adherence.monitoring_windows(first_day=first, last_day=today, report_days=days, reviews=reviews)


@report("hep", columns=REPORT_COLUMNS, noun="child with a home program")
def report_rows(practice: Practice) -> list[dict]:
    """``pedsdesk report hep``: one row per child with an active program."""
    rows = []
    for row in sorted(current_figures(practice), key=lambda r: (r.patient.last_name, r.patient.first_name)):
        rows.append({
            "patient": str(row.patient), "program_version": row.version.number, "activities": row.activities,
            "sent_at": row.sent_at.isoformat() if row.sent_at else None, "delivery_state": row.delivery_state,
            "opened_at": row.opened_at.isoformat() if row.opened_at else None,
            "last_feedback_at": row.last_feedback_at.isoformat() if row.last_feedback_at else None,
            "days_practised": row.figures.days_practised, "days_prescribed": row.figures.days_prescribed,
            "adherence": row.figures.adherence, "open_question": row.open_question,
        })
    return rows


def summary_adherence(patient: Patient, period_from: dt.date, period_to: dt.date) -> list[dict] | None:
    """What a school summary says of the home program over its period (registered with
    pedsdesk.schools.queries): days practised of those prescribed, as the family reported."""
    zone = patient.practice.zone
    start = dt.datetime.combine(period_from, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(period_to + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    answers = [adherence.Answer(at, practised, prescribed) for at, practised, prescribed in
               Feedback.objects.filter(patient=patient, submitted_at__gte=start, submitted_at__lt=end)
               .values_list("submitted_at", "days_practised", "days_prescribed")]
    if not answers:
        return None
    totals = adherence.figures(answers, forms_sent=len(answers), delivered=0, opened=0)
    share = f" ({totals.adherence:.0%})" if totals.adherence is not None else ""
    return [{"label": "Home program, as the family reported",
             "value": f"practised {totals.days_practised} of {totals.days_prescribed} prescribed days{share}, "
                      f"{totals.forms_answered} check-in{'s' if totals.forms_answered != 1 else ''} answered"}]

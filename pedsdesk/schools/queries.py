"""Reads of school coordination: the summary's pre-filled sections, the requests board,
a child's consents and record of disclosures. Callers scope by practice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db.models import Exists, OuterRef, QuerySet

from pedsdesk.people.models import Patient, PlanOfCare
from pedsdesk.reports import report
from pedsdesk.schools.models import (
    OUTSTANDING_REQUEST_STATES,
    ConsentState,
    Disclosure,
    DisclosureAuthorization,
    DocumentRequest,
    FerpaConsent,
    StudentPlan,
)

#: Sources of home-program adherence for a summary, which the home-program app fills:
#: ``source(patient, period_from, period_to) -> [{"label": ..., "value": ...}] or None``.
ADHERENCE_SOURCES: list[Callable[[Patient, dt.date, dt.date], list[dict] | None]] = []


def register_adherence_source(source: Callable[[Patient, dt.date, dt.date], list[dict] | None]) -> None:
    if source not in ADHERENCE_SOURCES:
        ADHERENCE_SOURCES.append(source)


def attendance(patient: Patient, period_from: dt.date, period_to: dt.date) -> dict[str, int]:
    """Visits in the period, from the schedule: attended, cancelled, no-show, still scheduled."""
    from pedsdesk.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

    zone = patient.practice.zone
    start = dt.datetime.combine(period_from, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(period_to + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    counts = {"attended": 0, "cancelled": 0, "no_show": 0, "scheduled": 0}
    bucket = {AppointmentStatus.COMPLETED: "attended", AppointmentStatus.CHECKED_IN: "attended",
              AppointmentStatus.CANCELLED: "cancelled", AppointmentStatus.LATE_CANCEL: "cancelled",
              AppointmentStatus.NO_SHOW: "no_show", AppointmentStatus.BOOKED: "scheduled",
              AppointmentStatus.CONFIRMED: "scheduled"}
    statuses = (Appointment.objects.filter(patient=patient, start_at__gte=start, start_at__lt=end)
                .exclude(kind=AppointmentKind.MEETING).values_list("status", flat=True))
    for status in statuses:
        counts[bucket[status]] += 1
    return counts


def prefill(patient: Patient, period_from: dt.date, period_to: dt.date) -> dict:
    """What the records already say, frozen into the draft when it is made."""
    plans = (PlanOfCare.objects.filter(patient=patient, start_date__lte=period_to, end_date__gte=period_from)
             .select_related("therapist").order_by("discipline", "-start_date"))
    adherence = []
    for source in ADHERENCE_SOURCES:
        adherence += source(patient, period_from, period_to) or []
    return {
        "demographics": {
            "name": f"{patient.first_name} {patient.last_name}",
            "born": f"{patient.date_of_birth:%m/%d/%Y}",
            "school": patient.school.name if patient.school_id else "",
            "grade": patient.grade,
        },
        "diagnoses": [f"{d.code} {d.description}".strip() for d in patient.diagnoses.all()],
        "plans": [{"label": f"{plan.get_discipline_display()}, {plan.frequency_per_week}x/week, "
                            f"{plan.start_date:%m/%d/%Y} - {plan.end_date:%m/%d/%Y}",
                   "goals": plan.goal_list} for plan in plans],
        "attendance": attendance(patient, period_from, period_to),
        "adherence": adherence,
    }


def outstanding_requests(practice) -> QuerySet:
    return (DocumentRequest.objects.filter(practice=practice, state__in=OUTSTANDING_REQUEST_STATES)
            .select_related("patient", "assignee", "contact__school").order_by("due_on", "pk"))


def authorizations_ending(practice, today: dt.date, days: int) -> QuerySet:
    """Signed authorizations that end by date within ``days`` with no later one for the
    same child signed or sent for signature: the ones to renew."""
    later = DisclosureAuthorization.objects.filter(patient=OuterRef("patient"), created_at__gt=OuterRef("created_at"),
                                                   state__in=[ConsentState.DRAFT, ConsentState.SIGNED])
    return (DisclosureAuthorization.objects.filter(
        practice=practice, state=ConsentState.SIGNED, expires_on__gte=today,
        expires_on__lte=today + dt.timedelta(days=days), expiry_event_at__isnull=True)
        .filter(~Exists(later)).select_related("patient").order_by("expires_on", "pk"))


def consents_of(patient: Patient) -> dict:
    return {
        "authorizations": list(DisclosureAuthorization.objects.filter(patient=patient)
                               .select_related("recipient_school", "signer").prefetch_related("recipient_contacts")
                               .order_by("-created_at")),
        "ferpa_consents": list(FerpaConsent.objects.filter(patient=patient).select_related("school", "signer")
                               .order_by("-created_at")),
    }


def with_status(disclosures) -> list[Disclosure]:
    """Each disclosure with ``status_text``: queued, sent, opened or stopped, in local time."""
    rows = list(disclosures)
    for row in rows:
        row.status_text = row.status_label(row.practice.zone)
    return rows


def disclosures_of(patient: Patient) -> list[Disclosure]:
    return with_status(Disclosure.objects.filter(patient=patient)
                       .select_related("contact__school", "message", "practice").order_by("-created_at", "-pk"))


def chart_summary(chart) -> dict:
    """The chart's "School" section: plan status, the newest authorization, what is open."""
    patient = chart.patient
    plan = StudentPlan.objects.filter(patient=patient).select_related("case_manager").first()
    authorization = (DisclosureAuthorization.objects.filter(patient=patient).exclude(state=ConsentState.DRAFT)
                     .order_by("-created_at").first())
    return {
        "patient_id": patient.pk, "plan": plan, "authorization": authorization,
        "open_requests": DocumentRequest.objects.filter(patient=patient,
                                                        state__in=OUTSTANDING_REQUEST_STATES).count(),
    }


@report("school-requests", columns=("patient", "requester", "kind", "due", "state", "assignee", "overdue"),
        noun="open school request")
def school_requests_report(practice) -> list[dict]:
    """``pedsdesk report school-requests``: the outstanding requests, by due date."""
    today = practice.local_now().date()
    return [{
        "patient": str(doc.patient),
        "requester": doc.get_requester_display() + (f" ({doc.requested_by})" if doc.requested_by else ""),
        "kind": doc.get_kind_display(), "due": doc.due_on.isoformat(), "state": doc.state,
        "assignee": doc.assignee.get_full_name() or doc.assignee.username, "overdue": doc.due_on < today,
    } for doc in outstanding_requests(practice)]

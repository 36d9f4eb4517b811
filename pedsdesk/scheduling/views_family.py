"""What a family does with a visit from the family link: confirm, cancel, ask for another
time. The link is checked exactly as the portal page checks it; the visit must be the
link's child's, and still the visit the family saw (its ``sequence``): a visit moved or
cancelled since gets a clear answer, never a change to the wrong time."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.portal.actions import link_actor
from pedsdesk.portal.models import FamilyLink
from pedsdesk.portal.views import render_for_family, resolve_family_link
from pedsdesk.scheduling import confirmations
from pedsdesk.scheduling import visit_messages as texts
from pedsdesk.scheduling.models import Appointment, AppointmentKind

#: Reasons a family may give (stored in English for the front desk; shown translated).
CANCEL_REASONS = {
    "sick": "Child is sick",
    "school": "School event",
    "transport": "No transportation",
    "schedule": "Family schedule conflict",
    "other": "Other",
}
MOVED, MISSING, NEEDS_REASON = "moved", "missing", "needs_reason"
_STATUS = {texts.CONFIRMED: 200, texts.ALREADY_CONFIRMED: 200, texts.CANCELLED_NOW: 200, texts.RESCHEDULE: 200,
           texts.NOT_ACTIVE: 409, MOVED: 409, MISSING: 404, NEEDS_REASON: 400}


def _sequence(request: HttpRequest) -> int:
    raw = request.POST.get("sequence", "")
    # A form without the sequence it was shown cannot prove it saw this version of the visit.
    return int(raw) if raw.isdigit() and len(raw) < 10 else -1


def _act(request: HttpRequest, token: str, pk: int, what: str) -> HttpResponse:
    link, problem = resolve_family_link(request, token, count_open=False)
    if problem is not None:
        return problem
    appointment = (Appointment.objects.select_related("patient", "practice", "therapist")
                   .filter(pk=pk, patient_id=link.patient_id, practice_id=link.practice_id)
                   .exclude(kind=AppointmentKind.MEETING).first())
    actor = link_actor(link)
    outcome = MISSING
    if appointment is not None:
        try:
            outcome = _change(request, link, appointment, what, actor)
        except confirmations.VisitChanged as changed:
            appointment = changed.appointment
            outcome = MOVED if appointment.status in confirmations.ACTIVE else texts.NOT_ACTIVE
        appointment.refresh_from_db()
        if outcome in (MOVED, texts.NOT_ACTIVE, texts.ALREADY_CONFIRMED):
            record_event(actor=actor, action="family_visit_unchanged", obj=appointment, request=request,
                         detail={"asked": what, "outcome": outcome})
    return render_for_family(request, link, "portal/visit_answer.html", lambda: {
        "outcome": outcome, "asked": what, "practice": link.practice, "guardian": link.guardian,
        "child_name": link.patient.preferred_name or link.patient.first_name,
        "when": texts.visit_when(appointment.start_at, link.practice.zone) if appointment else "",
        "active": bool(appointment and appointment.status in confirmations.ACTIVE
                       and appointment.start_at > timezone.now())}, status=_STATUS[outcome])


def _change(request: HttpRequest, link: FamilyLink, appointment: Appointment, what: str, actor: str) -> str:
    sequence = _sequence(request)
    if what == "confirm":
        return confirmations.family_confirm(appointment=appointment, actor=actor, sequence=sequence,
                                            request=request)
    if what == "cancel":
        reason = CANCEL_REASONS.get(request.POST.get("reason", ""))
        if reason is None:
            return NEEDS_REASON
        details = " ".join(request.POST.get("details", "").split())[:150]
        return confirmations.family_cancel(appointment=appointment, actor=actor, sequence=sequence,
                                           reason=f"{reason}: {details}" if details else reason, request=request)
    return confirmations.family_reschedule(appointment=appointment, guardian=link.guardian, actor=actor,
                                           words=request.POST.get("note", "")[:500], via="the family page",
                                           sequence=sequence, request=request)


@never_cache
@require_POST
def family_visit_confirm(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    return _act(request, token, pk, "confirm")


@never_cache
@require_POST
def family_visit_cancel(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    return _act(request, token, pk, "cancel")


@never_cache
@require_POST
def family_visit_reschedule(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    return _act(request, token, pk, "reschedule")

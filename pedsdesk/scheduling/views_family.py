"""What a family does with a visit from the family link: confirm, cancel, ask for another
time. The link is checked exactly as the portal page checks it; the visit must be the
link's child's, and still the visit the family saw (its ``sequence``): a visit moved or
cancelled since gets a clear answer, never a change to the wrong time."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.people.models import GuardianOf
from pedsdesk.portal.actions import link_actor, refuse_family_link
from pedsdesk.portal.models import FamilyLink
from pedsdesk.portal.tokens import BadToken, ExpiredToken, link_for_token
from pedsdesk.portal.views import _private, _problem, _throttle
from pedsdesk.practices.clients import client_ip
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


def live_link(request: HttpRequest, token: str) -> FamilyLink | HttpResponse:
    """The link a token opens, or the portal's own answer for a bad, expired or revoked one."""
    ip = client_ip(request)
    throttle = _throttle()
    if throttle.blocked(ip):
        return _problem(request, "throttled")
    try:
        link = link_for_token(token)
    except BadToken:
        throttle.fail(ip)
        return _problem(request, "invalid")
    except ExpiredToken as exc:
        refuse_family_link(link=exc.link, reason="expired", request=request)
        return _problem(request, "expired")
    if link.revoked_at is not None:
        refuse_family_link(link=link, reason="revoked", request=request)
        return _problem(request, "revoked")
    if not GuardianOf.objects.filter(guardian_id=link.guardian_id, patient_id=link.patient_id).exists():
        refuse_family_link(link=link, reason="guardian_unlinked", request=request)
        return _problem(request, "revoked")
    return link


def _sequence(request: HttpRequest) -> int:
    raw = request.POST.get("sequence", "")
    # A form without the sequence it was shown cannot prove it saw this version of the visit.
    return int(raw) if raw.isdigit() and len(raw) < 10 else -1


def _act(request: HttpRequest, token: str, pk: int, what: str) -> HttpResponse:
    link = live_link(request, token)
    if isinstance(link, HttpResponse):
        return link
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
    language = link.guardian.language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {"outcome": outcome, "asked": what, "practice": link.practice, "guardian": link.guardian,
                   "child_name": link.patient.preferred_name or link.patient.first_name,
                   "when": texts.visit_when(appointment.start_at, link.practice.zone) if appointment else "",
                   "active": bool(appointment and appointment.status in confirmations.ACTIVE
                                  and appointment.start_at > timezone.now())}
        response = render(request, "portal/visit_answer.html", context, status=_STATUS[outcome])
    response["Content-Language"] = language
    return _private(response)


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

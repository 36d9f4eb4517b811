"""What a family does with the home program from their family link: answer how practice
went, choose when reminders come, print the program. The link is checked exactly as
the portal page checks it."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from pedsdesk.files.responses import document_response
from pedsdesk.hep import actions, printable
from pedsdesk.hep.family import portal_program
from pedsdesk.hep.models import QuestionKind
from pedsdesk.people.phones import display_phone
from pedsdesk.portal.actions import link_actor
from pedsdesk.portal.sections import PortalPage
from pedsdesk.portal.views import render_for_family, resolve_family_link


def _answer(request: HttpRequest, link, outcome: str, message: str, status: int) -> HttpResponse:
    return render_for_family(request, link, "hep/family_answer.html", lambda: {
        "outcome": outcome, "message": message, "practice": link.practice,
        "child_name": link.patient.preferred_name or link.patient.first_name}, status=status)


def _int(raw: str, default: int = -1) -> int:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 6 else default


@never_cache
@require_POST
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    link, problem = resolve_family_link(request, token, count_open=False)
    if problem is not None:
        return problem
    ratings = {}
    for name, value in request.POST.items():
        if name.startswith("rating-") and name[7:].isdigit():
            ratings[int(name[7:])] = value
    kind = QuestionKind.LOGISTICS if request.POST.get("question_kind") == QuestionKind.LOGISTICS else (
        QuestionKind.THERAPY)
    with translation.override(link.guardian.language or "en"):
        try:
            _, created = actions.submit_feedback(
                link=link, version_number=_int(request.POST.get("version")), form_id=request.POST.get("form_id", ""),
                days_practised=_int(request.POST.get("days_practised")), ratings=ratings,
                question=request.POST.get("question", ""), question_kind=kind, request=request)
        except ValidationError as exc:
            return _answer(request, link, "error", " ".join(exc.messages), 400)
    return _answer(request, link, "saved" if created else "already", "", 200)


@never_cache
@require_POST
def reminders(request: HttpRequest, token: str) -> HttpResponse:
    link, problem = resolve_family_link(request, token, count_open=False)
    if problem is not None:
        return problem
    off = request.POST.get("reminders") == "off"
    raw = request.POST.get("reminder_time", "").strip()
    chosen = None
    if raw and not off:
        try:
            chosen = dt.time.fromisoformat(raw[:5])
        except ValueError:
            with translation.override(link.guardian.language or "en"):
                return _answer(request, link, "error", _("Choose a time of day, like 18:30."), 400)
    actions.set_family_preference(link=link, reminder_time=chosen, reminders_off=off, request=request)
    return _answer(request, link, "reminders_off" if off else "reminders_on", "", 200)


@never_cache
@require_safe
def program_pdf(request: HttpRequest, token: str) -> HttpResponse:
    link, problem = resolve_family_link(request, token)
    if problem is not None:
        return problem
    language = link.guardian.language or "en"
    with translation.override(language):
        program = portal_program(PortalPage(link), language)
        if program is None:
            return _answer(request, link, "error", _("There is no home program to print yet."), 404)
        actions.mark_opened(link=link, request=request)
        content = printable.program_pdf(
            practice_name=link.practice.name, practice_phone=display_phone(link.practice.phone),
            heading=_("Home practice for %(child)s") % {"child": program["child"]},
            updated_label=_("Updated %(date)s") % {"date": program["updated"]}, note=program["note"],
            activities=program["activities"], watch_label=_("Watch for:"))
    response = document_response(request, content, actor=link_actor(link), obj=program["program"],
                                 download_name="home-practice", detail={"document": "home program",
                                                                        "version": program["version"]})
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response

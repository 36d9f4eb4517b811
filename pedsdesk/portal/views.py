"""The family portal behind a signed link, and the staff views that manage links."""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from pedsdesk.people.models import Guardian, GuardianOf, Patient
from pedsdesk.portal import actions
from pedsdesk.portal.models import FamilyLink
from pedsdesk.portal.sections import portal_context
from pedsdesk.portal.tokens import BadToken, ExpiredToken, link_for_token
from pedsdesk.practices.clients import client_ip
from pedsdesk.practices.throttle import Throttle
from pedsdesk.practices.web import practice_object, requires

FAILURE_WINDOW_MINUTES = 15
_PROBLEM_STATUS = {"invalid": 404, "expired": 410, "revoked": 410, "throttled": 429}


def _throttles() -> tuple[Throttle, Throttle]:
    """Bad tries of one token from one address, and (ten times as many) of any token from it.
    Built per request so a changed setting (or a test override) takes effect."""
    limit, window = settings.PEDSDESK_FAMILY_LINK_FAILURES, FAILURE_WINDOW_MINUTES * 60
    return Throttle("family-link", limit, window), Throttle("family-link-ip", limit * 10, window)


def _guess_key(ip: str, token: str) -> str:
    return f"{ip}:{hashlib.sha256(token.encode('utf-8', 'replace')).hexdigest()[:32]}"


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    # same-origin, not no-referrer: the token never leaves for another site, and the
    # family's own form posts still carry an Origin that CSRF protection can check.
    response["Referrer-Policy"] = "same-origin"
    return response


def link_problem(request: HttpRequest, problem: str) -> HttpResponse:
    """A page in English and Spanish, since the reader's language may be unknown; never any data."""
    current = translation.get_language() or "en"
    first = "es" if current.startswith("es") else "en"
    context = {"problem": problem, "languages": [first, "en" if first == "es" else "es"],
               "minutes": FAILURE_WINDOW_MINUTES}
    response = render(request, "portal/link_problem.html", context, status=_PROBLEM_STATUS[problem])
    if problem == "throttled":
        response["Retry-After"] = str(FAILURE_WINDOW_MINUTES * 60)
    return _private(response)


def resolve_family_link(request: HttpRequest, token: str, *,
                        count_open: bool = True) -> tuple[FamilyLink | None, HttpResponse | None]:
    """The link behind ``token`` after every check (throttle, signature, expiry, revocation,
    custody), or the problem page to answer with. Opening a page is counted and audited
    (``count_open``); an action taken from one audits itself.

    Every page behind a family link (the portal, visit and offer actions) starts here.
    """
    # The throttle keys on the bad token and the address together, and only ever refuses bad
    # tokens: a school's or a carrier's shared address full of typos never locks out a family
    # whose link is real (a signed token cannot be guessed; the throttle only slows the trying).
    ip = client_ip(request)
    per_token, per_ip = _throttles()
    try:
        link = link_for_token(token)
    except BadToken:
        # Only bad tokens count: expired or revoked ones carry a genuine signature, not a guess.
        key = _guess_key(ip, token)
        if per_token.blocked(key) or per_ip.blocked(ip):
            return None, link_problem(request, "throttled")
        per_token.fail(key)
        per_ip.fail(ip)
        return None, link_problem(request, "invalid")
    except ExpiredToken as exc:
        actions.refuse_family_link(link=exc.link, reason="expired", request=request)
        return None, link_problem(request, "expired")
    if link.revoked_at is not None:
        actions.refuse_family_link(link=link, reason="revoked", request=request)
        return None, link_problem(request, "revoked")
    # Custody changes: a guardian taken off the chart loses the link at once.
    if not GuardianOf.objects.filter(guardian_id=link.guardian_id, patient_id=link.patient_id).exists():
        actions.refuse_family_link(link=link, reason="guardian_unlinked", request=request)
        return None, link_problem(request, "revoked")
    if count_open and not actions.open_family_link(link=link, request=request):
        return None, link_problem(request, "expired" if link.expires_at <= timezone.now() else "revoked")
    return link, None


def render_for_family(request: HttpRequest, link: FamilyLink, template: str,
                      context: dict | Callable[[], dict], status: int = 200) -> HttpResponse:
    """Render a family page in the guardian's language and on the practice's clock, private
    and uncached. A callable context is built inside both, so times and labels it formats
    come out right (format them with pedsdesk.local_time)."""
    language = link.guardian.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(link.practice.zone):
        response = render(request, template, context() if callable(context) else context, status=status)
    response["Content-Language"] = language
    return _private(response)


@never_cache
@require_safe
def family_portal(request: HttpRequest, token: str) -> HttpResponse:
    link, problem = resolve_family_link(request, token)
    if problem is not None:
        return problem
    return render_for_family(request, link, "portal/portal.html", lambda: portal_context(link))


@require_POST
@requires("family_links.manage")
def family_link_create(request: HttpRequest, pk: int) -> HttpResponse:
    patient = practice_object(request, Patient, pk)
    raw = request.POST.get("guardian", "").strip()
    # An unknown id and another practice's id get the same answer, so ids reveal nothing.
    guardian = None
    if raw.isdigit() and len(raw) <= 18:
        guardian = Guardian.objects.filter(pk=int(raw), practice=request.user.practice).first()
    if guardian is None:
        messages.error(request, f"Choose one of {patient.first_name}’s guardians to receive the family link.")
        return redirect(patient)
    try:
        link, url = actions.create_family_link(actor=request.user, guardian=guardian, patient=patient,
                                               request=request)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(patient)
    expires = formats.date_format(timezone.localtime(link.expires_at, request.user.practice.zone), "M j, Y")
    messages.success(request, f"Family link for {guardian} about {patient.first_name}, valid until {expires}: "
                              f"{url} — copy it now; it is shown only once.")
    return redirect(patient)


@require_POST
@requires("family_links.manage")
def family_link_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(FamilyLink.objects.select_related("guardian", "patient"), pk=pk,
                             practice=request.user.practice)
    if actions.revoke_family_link(actor=request.user, link=link, request=request):
        messages.success(request, f"Revoked the family link for {link.guardian}; it no longer opens.")
    else:
        messages.info(request, f"The family link for {link.guardian} was already revoked.")
    return redirect(link.patient)

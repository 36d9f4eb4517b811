"""The family's side: the school forms on the family link, in the guardian's language.

The portal page shows a "School forms" section when something waits for a signature
or can be revoked; its page lists the authorization to disclose (164.508) and the
school's consent to send records back (FERPA), each signable on its own or both at
once with one typed name, and each revocable.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from pedsdesk.portal.actions import link_actor
from pedsdesk.portal.sections import PortalPage
from pedsdesk.portal.views import render_for_family, resolve_family_link
from pedsdesk.practices.clients import client_ip
from pedsdesk.schools import actions
from pedsdesk.schools.consent_text import FERPA_STATEMENTS, TEMPLATES
from pedsdesk.schools.models import (
    ConsentState,
    DisclosureAuthorization,
    FerpaConsent,
    FerpaRecord,
    InfoCategory,
)


def _consents(link) -> tuple[list[DisclosureAuthorization], list[FerpaConsent]]:
    live = [ConsentState.DRAFT, ConsentState.SIGNED]
    authorizations = list(DisclosureAuthorization.objects.filter(patient_id=link.patient_id, state__in=live)
                          .select_related("recipient_school").prefetch_related("recipient_contacts")
                          .order_by("-created_at"))
    ferpa = list(FerpaConsent.objects.filter(patient_id=link.patient_id, state__in=live).select_related("school")
                 .order_by("-created_at"))
    return authorizations, ferpa


def consent_section(page: PortalPage) -> dict | None:
    """The portal page's "School forms": shown while a form waits or can be revoked."""
    authorizations, ferpa = _consents(page.link)
    if not authorizations and not ferpa:
        return None
    waiting = sum(c.state == ConsentState.DRAFT for c in [*authorizations, *ferpa])
    return {"waiting": waiting, "signed": len(authorizations) + len(ferpa) - waiting}


def _ended(authorization: DisclosureAuthorization, practice) -> str:
    """Why a signed form no longer holds, in the guardian's language ('' while it does)."""
    if authorization.state != ConsentState.SIGNED:
        return ""
    day_format = pgettext("date with year, Django date format", "F j, Y")
    if authorization.expiry_event_on:
        return _("This form ended on %(date)s (%(event)s). Nothing more is shared under it.") % {
            "date": date_format(authorization.expiry_event_on, day_format), "event": authorization.expiry_event}
    if authorization.expires_on and authorization.expires_on < practice.local_now().date():
        return _("This form ended on %(date)s. Nothing more is shared under it.") % {
            "date": date_format(authorization.expires_on, day_format)}
    return ""


def _authorization_view(authorization: DisclosureAuthorization, practice) -> dict:
    template = TEMPLATES[authorization.template]
    return {
        "ended": _ended(authorization, practice),
        "object": authorization, "kind": "authorization", "title": template.title,
        "categories": [InfoCategory(c).label for c in authorization.categories],
        "recipients": authorization.recipient_label,
        "statements": [s % {"practice": practice.name} for s in template.statements],
        "state_clauses": template.state_clauses, "sensitive": template.sensitive,
        "initials": authorization.sensitive_initials,
        "until": (date_format(authorization.expires_on, pgettext("date with year, Django date format", "F j, Y"))
                  if authorization.expires_on else authorization.expiry_event),
    }


def _ferpa_view(consent: FerpaConsent, practice) -> dict:
    return {
        "object": consent, "kind": "ferpa", "title": _("Consent for the school to send records to us (FERPA)"),
        "records": [FerpaRecord(r).label for r in consent.records],
        "statements": [s % {"school": consent.school.name, "practice": practice.name} for s in FERPA_STATEMENTS],
    }


@never_cache
@require_http_methods(["GET", "POST"])
def school_forms(request: HttpRequest, token: str) -> HttpResponse:
    link, problem = resolve_family_link(request, token, count_open=request.method == "GET")
    if problem is not None:
        return problem
    practice = link.practice
    errors: list[str] = []
    signed = 0
    if request.method == "POST":
        signed, errors = _sign(request, link)
        if signed and not errors:
            return redirect(request.path + "?signed=" + str(signed))
    authorizations, ferpa = _consents(link)

    def context() -> dict:
        return {
            "practice": practice, "guardian": link.guardian,
            "child_name": link.patient.preferred_name or link.patient.first_name,
            "forms": [_authorization_view(a, practice) for a in authorizations]
            + [_ferpa_view(c, practice) for c in ferpa],
            "has_drafts": any(c.state == ConsentState.DRAFT for c in [*authorizations, *ferpa]),
            "errors": errors, "typed_name": request.POST.get("typed_name", ""),
            "just_signed": request.GET.get("signed", ""),
            "revoked": request.GET.get("revoked", ""),
        }

    return render_for_family(request, link, "schools/family/forms.html", context, status=400 if errors else 200)


def _sign(request: HttpRequest, link) -> tuple[int, list[str]]:
    """Sign every form the guardian ticked, with the one typed name; all or none."""
    chosen_authorizations = [int(v) for v in request.POST.getlist("authorization") if v.isdigit() and len(v) < 12]
    chosen_ferpa = [int(v) for v in request.POST.getlist("ferpa") if v.isdigit() and len(v) < 12]
    # The actions' reasons come out in the guardian's language.
    with translation.override(link.guardian.language or "en"):
        if not chosen_authorizations and not chosen_ferpa:
            return 0, [_("Tick the form or forms you want to sign.")]
        name = request.POST.get("typed_name", "")
        agreed = request.POST.get("agreed") == "yes"
        common = {"guardian": link.guardian, "typed_name": name, "agreed": agreed, "ip": client_ip(request),
                  "user_agent": request.META.get("HTTP_USER_AGENT", ""), "actor": link_actor(link),
                  "request": request}
        try:
            with transaction.atomic():
                for pk in chosen_authorizations:
                    authorization = DisclosureAuthorization.objects.filter(pk=pk, patient_id=link.patient_id).first()
                    if authorization is None:
                        return 0, [_("That form is not for this child.")]
                    initials = {key: request.POST.get(f"initials-{pk}-{key}", "")
                                for key, _label in TEMPLATES[authorization.template].sensitive}
                    actions.sign_authorization(authorization=authorization, initials=initials, **common)
                for pk in chosen_ferpa:
                    consent = FerpaConsent.objects.filter(pk=pk, patient_id=link.patient_id).first()
                    if consent is None:
                        return 0, [_("That form is not for this child.")]
                    actions.sign_ferpa_consent(consent=consent, **common)
        except actions.SchoolError as exc:
            return 0, list(exc.messages)
    return len(chosen_authorizations) + len(chosen_ferpa), []


@require_POST
def revoke_form(request: HttpRequest, token: str, kind: str, pk: int) -> HttpResponse:
    link, problem = resolve_family_link(request, token, count_open=False)
    if problem is not None:
        return problem
    model = DisclosureAuthorization if kind == "authorization" else FerpaConsent
    consent = model.objects.filter(pk=pk, patient_id=link.patient_id).first()
    if consent is not None and consent.state == ConsentState.SIGNED:
        reason = "Revoked by the family on the family page"
        if model is DisclosureAuthorization:
            actions.revoke_authorization(actor=link_actor(link), authorization=consent, reason=reason,
                                         request=request)
        else:
            actions.revoke_ferpa_consent(actor=link_actor(link), consent=consent, reason=reason, request=request)
    return redirect(reverse("school_family_forms", args=[token]) + f"?revoked={kind}")

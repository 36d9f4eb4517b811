"""Family links: create, revoke, open. Each in a transaction, each audited."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.people.models import Guardian, GuardianOf, Patient
from pedsdesk.portal.models import FamilyLink
from pedsdesk.portal.tokens import make_token
from pedsdesk.practices.models import StaffMember

MAX_LINK_DAYS = 365


def family_link_url(link: FamilyLink) -> str:
    """Absolute URL of a freshly signed token for ``link``."""
    path = reverse("family_portal", args=[make_token(link)])
    return settings.PEDSDESK_BASE_URL.rstrip("/") + path


def link_actor(link: FamilyLink) -> str:
    return f"family link #{link.pk}"


def create_family_link(
    *,
    actor: StaffMember | str,
    guardian: Guardian,
    patient: Patient,
    purpose: str = "portal",
    days: int | None = None,
    request: HttpRequest | None = None,
) -> tuple[FamilyLink, str]:
    """A link for ``guardian`` about ``patient``, and its URL (shown once: only the id is stored).

    ``actor`` is a staff member or a system actor name such as "worker".
    """
    days = settings.PEDSDESK_FAMILY_LINK_DAYS if days is None else days
    if not 1 <= days <= MAX_LINK_DAYS:
        raise ValueError(f"A family link lasts 1 to {MAX_LINK_DAYS} days, not {days}.")
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > 40:
        raise ValueError("Give the link a purpose of 1 to 40 characters, e.g. 'portal'.")
    if guardian.practice_id != patient.practice_id:
        raise ValueError(f"This guardian belongs to another practice, so cannot get a link about "
                         f"{patient.first_name}.")
    if isinstance(actor, StaffMember) and actor.practice_id != patient.practice_id:
        raise ValueError("You can only create family links for your own practice's patients.")
    with transaction.atomic():
        if not GuardianOf.objects.filter(guardian=guardian, patient=patient).exists():
            raise ValueError(f"{guardian} is not recorded as a guardian of {patient.first_name}. "
                             f"Add them to {patient.first_name}'s chart first.")
        now = timezone.now()
        link = FamilyLink.objects.create(
            practice_id=patient.practice_id,
            guardian=guardian,
            patient=patient,
            created_by=actor if isinstance(actor, StaffMember) else None,
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        record_event(actor=actor, action="family_link_created", obj=link, request=request,
                     detail={"guardian_id": guardian.pk, "purpose": purpose,
                             "expires_at": link.expires_at.isoformat()})
    return link, family_link_url(link)


def revoke_family_link(*, actor: StaffMember | str, link: FamilyLink, request: HttpRequest | None = None) -> bool:
    """Turn the link off for good. False when it was already revoked."""
    with transaction.atomic():
        now = timezone.now()
        # Conditional update: a second click or a racing request changes nothing.
        changed = FamilyLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=now)
        if changed:
            record_event(actor=actor, action="family_link_revoked", obj=link, request=request,
                         detail={"guardian_id": link.guardian_id})
    link.refresh_from_db(fields=["revoked_at"])
    return bool(changed)


def open_family_link(*, link: FamilyLink, request: HttpRequest | None = None) -> bool:
    """Count one open and audit it; False if the link was revoked or expired meanwhile."""
    with transaction.atomic():
        now = timezone.now()
        opened = FamilyLink.objects.filter(pk=link.pk, revoked_at__isnull=True, expires_at__gt=now).update(
            open_count=F("open_count") + 1, last_opened_at=now
        )
        if opened:
            record_event(actor=link_actor(link), action="family_link_opened", obj=link, request=request,
                         detail={"guardian_id": link.guardian_id, "purpose": link.purpose})
    if opened:
        link.refresh_from_db(fields=["open_count", "last_opened_at"])
    return bool(opened)


def refuse_family_link(*, link: FamilyLink, reason: str, request: HttpRequest | None = None) -> None:
    """Audit a genuine link that no longer works (expired, revoked, guardian unlinked)."""
    with transaction.atomic():
        record_event(actor=link_actor(link), action="family_link_refused", obj=link, request=request,
                     detail={"reason": reason, "guardian_id": link.guardian_id})

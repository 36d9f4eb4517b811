"""The disclosure gate: the one check every send to a school goes through.

It passes only with a signed authorization of the child's family that is not revoked,
not expired, covers this kind of record, names this recipient (the contact, their
school or their district) at this address, and accepts this way of delivering. It runs
when a send is queued, again right before the outbox hands the email over (a
pre-send check registered with messaging), and again when the contact opens the link.

A refusal lists everything missing in words the office can act on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from pedsdesk.schools.models import (
    ConsentState,
    Delivery,
    DisclosureAuthorization,
    InfoCategory,
    SchoolContact,
)


@dataclass(frozen=True)
class GateResult:
    authorization: DisclosureAuthorization | None
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.authorization is not None and not self.missing

    @property
    def reason(self) -> str:
        return " ".join(self.missing)


def day_label(value: dt.date) -> str:
    """A date as the office writes it: Dec 2, 2026."""
    return f"{value:%b} {value.day}, {value.year}"


def is_expired(authorization: DisclosureAuthorization, today: dt.date) -> str:
    """Why ``authorization`` has run out ('' while it runs)."""
    if authorization.expiry_event_at is not None:
        on = f" on {day_label(authorization.expiry_event_on)}" if authorization.expiry_event_on else ""
        return f"its expiry event ({authorization.expiry_event}) happened{on}"
    if authorization.expires_on and authorization.expires_on < today:
        return f"it expired on {day_label(authorization.expires_on)}"
    return ""


def names_recipient(authorization: DisclosureAuthorization, contact: SchoolContact) -> bool:
    named = {c.pk for c in authorization.recipient_contacts.all()}
    if contact.pk in named:
        return True
    if authorization.recipient_school_id and contact.school_id == authorization.recipient_school_id:
        return True
    district = (authorization.recipient_district or "").strip().lower()
    return bool(district) and (contact.district_name or "").strip().lower() == district


def _problems(authorization: DisclosureAuthorization, *, contact: SchoolContact, category: str, address: str,
              attachment: bool, today: dt.date, zone: dt.tzinfo) -> list[str]:
    def local_day(moment: dt.datetime) -> str:  # the practice's calendar day, not UTC's
        return day_label(moment.astimezone(zone).date())

    when = local_day(authorization.signed_at) if authorization.signed_at else "unsigned"
    label = f"The authorization signed {when}"
    problems = []
    if authorization.state == ConsentState.REVOKED:
        revoked = local_day(authorization.revoked_at) if authorization.revoked_at else "?"
        return [f"{label} was revoked on {revoked}."]
    if authorization.state != ConsentState.SIGNED:
        drafted = local_day(authorization.created_at)
        return [f"The family has not signed the authorization drafted {drafted} yet."]
    expired = is_expired(authorization, today)
    if expired:
        problems.append(f"{label} no longer holds: {expired}.")
    if category not in authorization.categories:
        problems.append(f"{label} does not cover {InfoCategory(category).label.lower()}.")
    if not names_recipient(authorization, contact):
        problems.append(f"{label} does not name {contact.name} ({contact.organization}) as a recipient.")
    elif authorization.recipient_contacts.filter(pk=contact.pk).exists() and \
            address.lower() not in [e.lower() for e in authorization.named_emails]:
        problems.append(f"{label} names {contact.name} at another address, not {address}.")
    if attachment and authorization.delivery != Delivery.ATTACHMENT:
        problems.append(f"{label} accepts a secure link only, not an attachment.")
    return problems


def check_disclosure(*, patient, contact: SchoolContact, category: str, address: str = "",
                     attachment: bool = False, authorization: DisclosureAuthorization | None = None,
                     now: dt.datetime | None = None) -> GateResult:
    """May the practice disclose ``category`` records of ``patient`` to ``contact`` at
    ``address`` (default: the contact's address) now? With ``authorization``, only under
    that one (a link opened later answers to the authorization it was sent under)."""
    if category not in InfoCategory.values:
        return GateResult(None, [f"Unknown kind of record {category!r}."])
    now = now or timezone.now()
    today = now.astimezone(patient.practice.zone).date()
    address = (address or contact.email or "").strip().lower()
    if contact.practice_id != patient.practice_id:
        return GateResult(None, ["That contact belongs to another practice."])
    if not contact.is_active:
        return GateResult(None, [f"{contact.name} is no longer an active school contact."])
    if address != (contact.email or "").lower():
        return GateResult(None, [f"{address} is not {contact.name}'s address on file; nothing is sent to an "
                                 "address the family did not authorize."])
    if authorization is not None:
        candidates = [authorization]
    else:
        candidates = list(
            DisclosureAuthorization.objects.filter(patient=patient).select_related("recipient_school")
            .prefetch_related("recipient_contacts").order_by("-created_at", "-pk"))
    best: list[str] | None = None
    for candidate in candidates:
        problems = _problems(candidate, contact=contact, category=category, address=address,
                             attachment=attachment, today=today, zone=patient.practice.zone)
        if not problems:
            return GateResult(candidate)
        if best is None or (candidate.state == ConsentState.SIGNED and len(problems) < len(best)):
            best = problems
    if best is None:
        child = patient.preferred_name or patient.first_name
        best = [f"No family of {child} has signed an authorization to disclose to {contact.organization}."]
    return GateResult(None, best)

"""State changes of practices and staff: each in a transaction, each audited."""

import hashlib
import secrets
import time

import pyotp
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.practices.models import ApiToken, StaffMember

TOTP_ISSUER = "pedsdesk"


def begin_second_factor_enrolment(*, staff_member: StaffMember) -> str:
    """A fresh secret, kept unconfirmed until the first good code."""
    with transaction.atomic():
        staff_member.totp_secret = pyotp.random_base32()
        staff_member.totp_confirmed_at = None
        staff_member.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return staff_member.totp_secret


def provisioning_uri(staff_member: StaffMember) -> str:
    issuer = f"{TOTP_ISSUER} ({staff_member.practice.name})" if staff_member.practice else TOTP_ISSUER
    return pyotp.TOTP(staff_member.totp_secret).provisioning_uri(name=staff_member.username, issuer_name=issuer)


def check_second_factor(*, staff_member: StaffMember, code: str, request: HttpRequest | None = None) -> bool:
    """True for a current code not used before; the first good code confirms enrolment.

    Codes of the previous and next 30-second step are accepted for clock drift; a
    step once used is refused afterwards so an overheard code cannot be replayed.
    """
    code = "".join(ch for ch in code if ch.isdigit())
    if not staff_member.totp_secret or len(code) != 6:
        return False
    totp = pyotp.TOTP(staff_member.totp_secret)
    now = time.time()
    for offset in (0, -1, 1):
        step = int(now // totp.interval) + offset
        if step <= staff_member.totp_last_step:
            continue
        if secrets.compare_digest(totp.at(step * totp.interval), code):
            with transaction.atomic():
                # Conditional update: two requests racing with one code, one wins.
                won = StaffMember.objects.filter(pk=staff_member.pk, totp_last_step__lt=step).update(
                    totp_last_step=step,
                    totp_confirmed_at=staff_member.totp_confirmed_at or timezone.now(),
                )
                if won:
                    enrolled = staff_member.totp_confirmed_at is None
                    staff_member.refresh_from_db(fields=["totp_last_step", "totp_confirmed_at"])
                    if enrolled:
                        record_event(actor=staff_member, action="second_factor_enrolled", obj=staff_member,
                                     request=request)
            return bool(won)
    return False


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(*, staff_member: StaffMember, name: str, request: HttpRequest | None = None) -> str:
    """Create a token and return it; only its hash is kept, so it is shown once."""
    name = name.strip()
    if not name:
        raise ValueError("Give the token a name, e.g. the integration that will use it.")
    token = "pd_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiToken.objects.create(staff_member=staff_member, name=name[:100], prefix=token[:10],
                                      token_hash=_hash_token(token))
        record_event(actor=staff_member, action="api_token_created", obj=row, request=request)
    return token


def revoke_api_token(*, staff_member: StaffMember, token: ApiToken, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        record_event(actor=staff_member, action="api_token_revoked", obj=token, request=request)


def staff_for_token(token: str) -> StaffMember | None:
    row = (
        ApiToken.objects.select_related("staff_member__practice")
        .filter(token_hash=_hash_token(token), revoked_at__isnull=True, staff_member__is_active=True)
        .first()
    )
    if row is None:
        return None
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.staff_member

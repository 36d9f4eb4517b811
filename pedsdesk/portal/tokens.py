"""Signed family-link tokens. A token holds only the link id, signed with its own
salt and a timestamp; the row decides whether the link still works."""

from django.core import signing
from django.utils import timezone

from pedsdesk.portal.models import FamilyLink

SALT = "pedsdesk.portal.family-link"


class BadToken(Exception):
    """Tampered, malformed or naming no link: answered as not found."""


class ExpiredToken(Exception):
    """A genuine token older than its link's lifetime."""

    def __init__(self, link: FamilyLink):
        super().__init__(f"family link #{link.pk} has expired")
        self.link = link


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def make_token(link: FamilyLink) -> str:
    return _signer().sign_object(link.pk)


def link_for_token(token: str) -> FamilyLink:
    """The link a token names, with guardian, patient and practice loaded.

    Raises BadToken or ExpiredToken; revocation is for the caller to check.
    """
    signer = _signer()
    try:
        pk = signer.unsign_object(token)
    except (signing.BadSignature, ValueError):
        raise BadToken from None
    if type(pk) is not int:
        raise BadToken
    link = FamilyLink.objects.select_related("guardian", "patient", "practice").filter(pk=pk).first()
    if link is None:
        raise BadToken
    # A token signed before its row existed names an earlier row with a reused id.
    signed_at = signing.b62_decode(token.rsplit(signer.sep, 2)[1])
    if signed_at < int(link.created_at.timestamp()) - 1:
        raise BadToken
    try:
        signer.unsign_object(token, max_age=link.expires_at - link.created_at)
    except signing.SignatureExpired:
        raise ExpiredToken(link) from None
    if link.expires_at <= timezone.now():
        raise ExpiredToken(link)
    return link

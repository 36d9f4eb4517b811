"""Signed, expiring links to one stored file, for people without a staff login
(families on the portal, a school team): django.core.signing with its own salt."""

import datetime as dt
import time

from django.core import signing
from django.urls import reverse

from pedsdesk.files.models import StoredFile

_SALT = "pedsdesk.files.link"
# The signature's own age check backs up the expiry the link carries.
_LONGEST = dt.timedelta(days=90)


def signed_url(stored: StoredFile, *, audience: str, valid_for: dt.timedelta) -> str:
    """A path that serves ``stored`` to whoever holds it until ``valid_for`` has passed.

    ``audience`` names who it was made for ("guardian 12", "school contact 4"); it is
    written to the audit event of every open."""
    if valid_for > _LONGEST:
        raise ValueError(f"a file link may live at most {_LONGEST.days} days")
    token = signing.dumps({"f": stored.pk, "p": stored.practice_id, "a": audience,
                           "x": int(time.time() + valid_for.total_seconds())}, salt=_SALT, compress=True)
    return reverse("private_file", args=[token])


def read_link(token: str) -> tuple[int, int, str] | None:
    """(file id, practice id, audience) of a good, unexpired link; None otherwise."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=_LONGEST)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("x", 0) < time.time():
        return None
    return data["f"], data["p"], str(data.get("a", ""))

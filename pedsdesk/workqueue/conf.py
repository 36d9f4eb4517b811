"""Work-queue settings, each from Django settings, else the environment, else a default.

PEDSDESK_DIGEST_HOUR            local hour (0-23) the daily digest goes out (7)
PEDSDESK_ESCALATION_GRACE_HOURS hours past due before a task escalates (24)
PEDSDESK_TASK_RECHECK_DAYS      days before a rule reopens a task someone marked done
                                while its condition still held (7)
"""

import datetime as dt
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _number(name: str, default: float) -> float:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, "")
    if value in ("", None):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None


def digest_hour() -> int:
    hour = int(_number("PEDSDESK_DIGEST_HOUR", 7))
    if not 0 <= hour <= 23:
        raise ImproperlyConfigured(f"PEDSDESK_DIGEST_HOUR must be 0 to 23, not {hour}.")
    return hour


def escalation_grace() -> dt.timedelta:
    return dt.timedelta(hours=_number("PEDSDESK_ESCALATION_GRACE_HOURS", 24))


def recheck_after() -> dt.timedelta:
    return dt.timedelta(days=_number("PEDSDESK_TASK_RECHECK_DAYS", 7))

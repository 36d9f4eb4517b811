"""Times as their reader sees them: on the practice's clock, in the active language.

Family pages and message rendering activate the practice's zone and the reader's
language (``portal.views.render_for_family``, ``messaging.kinds.render``); these format
with Django's localisation, never ``strftime``, which only knows English. Clock times
follow each language's TIME_FORMAT (pedsdesk/formats): "3:55 PM", "15:55".
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import pgettext


def local(value: dt.datetime, zone: ZoneInfo | None = None) -> dt.datetime:
    """``value`` on ``zone``'s clock, or on the active zone's (the practice's on family pages)."""
    return timezone.localtime(value, zone)


def day(value: dt.date | dt.datetime, zone: ZoneInfo | None = None) -> str:
    """'Saturday, December 5' / 'sábado 5 de diciembre'."""
    if isinstance(value, dt.datetime):
        value = local(value, zone)
    return date_format(value, pgettext("weekday and date, Django date format", "l, F j"))


def clock(value: dt.datetime | dt.time, zone: ZoneInfo | None = None) -> str:
    """'3:55 PM' / '15:55'."""
    if isinstance(value, dt.datetime):
        value = local(value, zone)
    return time_format(value)


def when(value: dt.datetime | None, zone: ZoneInfo | None = None) -> str:
    """'Saturday, December 5 at 3:55 PM' / 'sábado 5 de diciembre a las 15:55'; '' for None."""
    if value is None:
        return ""
    return pgettext("a day and a clock time", "%(day)s at %(time)s") % {
        "day": day(value, zone), "time": clock(value, zone)}


#: Staff pages write every time one way: "Sat Dec 5, 9:00 AM", a clock alone "9:00 AM"
#: (templates: ``|date:"D M j, g:i A"``, ``|time:"g:i A"``).
STAFF_WHEN = "D M j, g:i A"
STAFF_CLOCK = "g:i A"


def staff_when(value: dt.datetime, zone: ZoneInfo | None = None) -> str:
    return date_format(local(value, zone), STAFF_WHEN)


def staff_clock(value: dt.time) -> str:
    return time_format(value, STAFF_CLOCK)

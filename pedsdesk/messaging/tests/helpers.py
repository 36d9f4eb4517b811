import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from pedsdesk.messaging.delivery import deliver_due

CHICAGO = ZoneInfo("America/Chicago")


def local(year, month, day, hour, minute=0, fold=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CHICAGO, fold=fold)


def daytime() -> dt.datetime:
    """A weekday noon in Chicago after the real now: due messages are due, no quiet hours."""
    today = timezone.now().astimezone(CHICAGO).date() + dt.timedelta(days=1)
    return dt.datetime.combine(today, dt.time(12, 0), tzinfo=CHICAGO)


def deliver(now=None, **kwargs):
    return deliver_due(now=now or daytime(), **kwargs)

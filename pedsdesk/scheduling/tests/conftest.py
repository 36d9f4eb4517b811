import datetime as dt

import pytest
from django.utils import timezone

from pedsdesk.scheduling.models import WorkingHours


def next_weekday(weekday: int, weeks_ahead: int = 1) -> dt.date:
    """A date safely in the future: ``weekday`` of a coming week, in Chicago."""
    today = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=-6))).date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks_ahead)
    return monday + dt.timedelta(days=weekday)


@pytest.fixture
def working_week(staff):
    """Theo (OT) works Monday to Friday 8:00–18:00 and Saturday 9:00–13:00."""
    therapist = staff["therapist"]
    for weekday in range(5):
        WorkingHours.objects.create(therapist=therapist, weekday=weekday, start=dt.time(8), end=dt.time(18))
    WorkingHours.objects.create(therapist=therapist, weekday=5, start=dt.time(9), end=dt.time(13))
    return therapist

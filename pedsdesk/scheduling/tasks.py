"""Scheduling sweeps: series booked ahead, offers that ran out, holidays preloaded."""

import logging

from huey.contrib.djhuey import db_task

from pedsdesk.practices.models import Practice
from pedsdesk.scheduling.actions import load_federal_holidays
from pedsdesk.scheduling.models import Closure
from pedsdesk.scheduling.offers import expire_offers
from pedsdesk.scheduling.series import extend_due_series
from pedsdesk.sweeps import sweep

logger = logging.getLogger(__name__)


@sweep("scheduling.offers_expire", "minute")
def offers_expire() -> int:
    return expire_offers()


@sweep("scheduling.series_extend", "daily", per_practice=True)
def series_extend(*, practice: Practice) -> dict[str, int]:
    """Keep the practice's active series booked its number of weeks ahead (catching up a
    week a day when they are further behind)."""
    booked, skipped = extend_due_series(practice=practice)
    return {"booked": booked, "skipped": skipped}


@sweep("scheduling.federal_holidays", "daily", per_practice=True)
def federal_holidays(*, practice: Practice) -> int:
    """Preload this year's and next year's US federal holidays as closures, in a year
    that has no closures yet (so a holiday the practice removed on purpose is not put
    back)."""
    created = 0
    year = practice.local_now().year
    for y in (year, year + 1):
        if not Closure.objects.filter(practice=practice, date__year=y).exists():
            created += load_federal_holidays(practice=practice, years=[y])
    return created


@db_task()
def offer_makeup_later(appointment_id: int) -> None:
    from pedsdesk.scheduling.models import Appointment
    from pedsdesk.scheduling.offers import offer_makeup

    cancelled = Appointment.objects.select_related("plan_of_care__patient__practice", "practice").filter(
        pk=appointment_id).first()
    if cancelled is not None:
        offer_makeup(cancelled=cancelled)

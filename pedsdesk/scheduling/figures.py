"""The schedule's figure for ``/metrics``: how fast a freed time reaches a family."""

import datetime as dt
import statistics

from django.db.models import Min
from django.utils import timezone

from pedsdesk.operations.metrics import gauge
from pedsdesk.scheduling.models import Opening


@gauge("pedsdesk_offer_latency_seconds", "From a cancellation's opening to its first offer sent, last 24 hours",
       ("quantile",))
def offer_latency():
    since = timezone.now() - dt.timedelta(hours=24)
    rows = (Opening.objects.filter(created_at__gte=since, source=Opening.Source.CANCELLATION,
                                   offers__sent_at__isnull=False)
            .annotate(first_sent=Min("offers__sent_at")).values_list("created_at", "first_sent"))
    waits = sorted(max(0.0, (sent - created).total_seconds()) for created, sent in rows)
    if not waits:
        return
    yield ("0.5",), statistics.median(waits)
    yield ("0.95",), waits[min(len(waits) - 1, int(0.95 * len(waits)))]

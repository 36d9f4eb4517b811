"""``/metrics`` in Prometheus' text format, for operators' dashboards.

Each app registers the figures it knows with ``@gauge(name, help, labels)`` on a
function returning ``[(label values, value), ...]``; the figures are read from the
database at scrape time, so any web process answers for the whole installation.
The page needs ``Authorization: Bearer $PEDSDESK_METRICS_TOKEN``; without a token
set it does not exist (404).
"""

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

Samples = Iterable[tuple[tuple[str, ...], float]]


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str
    labels: tuple[str, ...]
    read: Callable[[], Samples]


_GAUGES: dict[str, Gauge] = {}


def gauge(name: str, help: str, labels: tuple[str, ...] = ()) -> Callable:
    def register(read: Callable[[], Samples]) -> Callable[[], Samples]:
        _GAUGES[name] = Gauge(name, help, labels, read)
        return read

    return register


class _DatabaseCollector:
    def collect(self):
        for each in _GAUGES.values():
            family = GaugeMetricFamily(each.name, each.help, labels=list(each.labels))
            for label_values, value in each.read():
                family.add_metric(list(label_values), float(value))
            yield family


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseCollector())
    return generate_latest(registry)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = getattr(settings, "METRICS_TOKEN", "")
    if not token:
        raise Http404("metrics are off: set PEDSDESK_METRICS_TOKEN")
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return HttpResponse("a valid Authorization: Bearer token is required\n", status=401,
                            content_type="text/plain", headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)

"""``GET /healthz`` for load balancers and uptime checks: no sign-in, no patient data."""

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from huey.contrib import djhuey

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_queue() -> None:
    # Looked up on each call so a test (or a reconfigured HUEY) is seen.
    storage = djhuey.HUEY.storage
    redis_client = getattr(storage, "conn", None)
    if redis_client is not None and hasattr(redis_client, "ping"):
        redis_client.ping()
    else:
        storage.queue_size()


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 ``{"status": "ok", "database": "ok", "queue": "ok"}``, or 503 naming the failing part."""
    body = {"status": "ok"}
    for part, check in (("database", check_database), ("queue", check_queue)):
        try:
            check()
        except Exception:
            # The reason goes to the log, never to an unauthenticated caller.
            logger.exception("health check: %s failed", part)
            body[part] = "error"
            body["status"] = "error"
        else:
            body[part] = "ok"
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)

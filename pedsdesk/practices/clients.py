"""Who is asking: the client's address, also behind trusted reverse proxies."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or with ``PEDSDESK_TRUSTED_PROXIES=N`` the address the N-th proxy
    from us saw, so throttles do not lock out every family behind one proxy."""
    hops = settings.PEDSDESK_TRUSTED_PROXIES
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")

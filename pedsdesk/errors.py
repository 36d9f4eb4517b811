"""The site's error pages: 400, 403, 404, 500 and a refused form (CSRF), in its own style.

Family pages (``/f/...``) answer in English and Spanish, since the reader's language may
be unknown when the link itself is the problem; a family URL that finds nothing gets the
same "this link does not work" page as a bad link. Staff pages answer in English.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils import translation

FAMILY_PREFIX = "/f/"


def _languages(request: HttpRequest) -> list[str]:
    if not request.path.startswith(FAMILY_PREFIX):
        return ["en"]
    first = "es" if (translation.get_language() or "en").startswith("es") else "en"
    return [first, "en" if first == "es" else "es"]


def _page(request: HttpRequest, status: int, *, detail: str = "", csrf: bool = False) -> HttpResponse:
    context = {"status": status, "languages": _languages(request), "detail": detail, "csrf": csrf,
               "family": request.path.startswith(FAMILY_PREFIX)}
    # No RequestContext for a 500: whatever failed may be in a context processor.
    body = loader.render_to_string("errors/error.html", context, request=None if status == 500 else request)
    response = HttpResponse(body, status=status)
    if context["family"]:
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "same-origin"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Our own refusals say which permission is missing ("Your role does not allow …").
    detail = str(exception) if exception and str(exception).startswith("Your role") else ""
    return _page(request, 403, detail=detail)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(FAMILY_PREFIX):
        from pedsdesk.portal.views import link_problem

        return link_problem(request, "invalid")
    return _page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(request, 403, csrf=True)

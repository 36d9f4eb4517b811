"""The JSON API at /api/v1: the NinjaAPI instance, token auth and error handling.

Every error is JSON ``{"code", "message"}`` (plus ``fields`` for invalid input) so an
integration can branch on ``code`` and show ``message`` to a person.
"""

import json
import logging
from pathlib import Path
from typing import Any

import ninja
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import DocsBase
from ninja.operation import Operation
from ninja.parser import Parser

from pedsdesk.authorizations.api import coverages_router, payers_router
from pedsdesk.fields import find_unstorable, unstorable_problem
from pedsdesk.hep.api import router as hep_router
from pedsdesk.people.api import guardians_router, patients_router, plans_router
from pedsdesk.practices.api import NO_TOKEN, BearerToken
from pedsdesk.practices.api import router as staff_router
from pedsdesk.practices.schemas import ErrorOut
from pedsdesk.schools.api import router as schools_router
from pedsdesk.workqueue.api import router as tasks_router

logger = logging.getLogger(__name__)

# Swagger UI from django-ninja's own files, served by this app: the CSP allows no CDN and
# no inline script, and the swagger settings travel in a JSON data block, not a script.
_DOCS_ASSETS_DIR = Path(ninja.__file__).parent / "static" / "ninja"
_DOCS_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
    "favicon.png": "image/png",
}


def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in _DOCS_ASSETS:
        raise Http404(f"No docs asset {name!r}.")
    response = FileResponse((_DOCS_ASSETS_DIR / name).open("rb"), content_type=_DOCS_ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response


class SelfHostedSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        def asset(name: str) -> str:
            return reverse("api:docs-asset", args=[name])

        settings = {"url": self.get_openapi_url(api, kwargs), "layout": "BaseLayout", "deepLinking": True}
        page = format_html(
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{} API</title>\n'
            '<link rel="stylesheet" href="{}">\n<link rel="icon" href="{}" type="image/svg+xml">\n</head>\n'
            '<body data-csrf-token="" data-api-csrf="">\n'
            '<script type="application/json" id="swagger-settings">{}</script>\n'
            '<div id="swagger-ui"></div>\n<script src="{}"></script>\n<script src="{}"></script>\n'
            "</body>\n</html>\n",
            api.title,
            asset("swagger-ui.css"),
            asset("favicon.svg"),
            # Raw JSON (a data block is not entity-decoded); "<" escaped so it cannot close the block.
            mark_safe(json.dumps(settings).replace("<", "\\u003c")),  # noqa: S308
            asset("swagger-ui-bundle.js"),
            asset("swagger-ui-init.js"),
        )
        return HttpResponse(page)


# A wall-clock time on the practice's clock ("15:05", "15:05:00"): JSON Schema's "time"
# format means RFC 3339 with an offset, which these times rightly do not carry.
LOCAL_TIME = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$",
              "description": "A local time on the practice's clock, HH:MM or HH:MM:SS, without an offset.",
              "example": "15:05"}


def _local_times(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            title = node.get("title")
            node.clear()
            node.update(LOCAL_TIME, **({"title": title} if title else {}))
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


class UnstorableInput(ValueError):
    """A string in the request that no database can store (NUL, a lone surrogate)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(problem)
        self.where, self.problem = where, problem


class CheckedParser(Parser):
    """JSON bodies and query strings, refused whole when a string holds an unstorable character,
    so no endpoint ever passes one on to the database."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if found := find_unstorable(data):
            path, problem = found
            raise UnstorableInput(".".join(str(p) for p in path) or "body", problem)
        return data

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> Any:
        for key, values in data.lists():
            for value in [key, *values]:
                if problem := unstorable_problem(value):
                    raise UnstorableInput(key, problem)
        return super().parse_querydict(data, list_fields, request)


class PedsdeskAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = ErrorOut.json_schema()
        _local_times(schema)
        return schema

    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Short ids (list_patients) read better in generated clients; names are unique.
        return operation.view_func.__name__


api = PedsdeskAPI(
    title="pedsdesk",
    version="1",
    description=(
        "JSON API of pedsdesk. Authenticate with a personal API token: "
        "`Authorization: Bearer <token>`. Every record is limited to your practice, and each "
        "endpoint needs the permission it names. Errors are JSON with a stable `code` and a `message`."
    ),
    urls_namespace="api",
    auth=BearerToken(),
    docs=SelfHostedSwagger(),
    docs_url="/docs",
    parser=CheckedParser(),
)
api.add_router("", staff_router)
api.add_router("", patients_router)
api.add_router("", guardians_router)
api.add_router("", plans_router)
api.add_router("", payers_router)
api.add_router("", coverages_router)
api.add_router("", schools_router)
api.add_router("", tasks_router)
api.add_router("", hep_router)


def error(request: HttpRequest, status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    response = api.create_response(request, {"code": code, "message": message, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def _summary(fields: dict[str, list[str]]) -> str:
    parts = [f"{name}: {' '.join(messages).rstrip('.')}" for name, messages in fields.items()]
    return "Fix the input: " + "; ".join(parts) + "."


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = exc.message if exc.message != "Unauthorized" else NO_TOKEN
    return error(request, 401, "not_authenticated", message)


@api.exception_handler(AuthorizationError)
def forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return error(request, 403, "permission_denied", exc.message)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error(request, 403, "permission_denied", str(exc) or "Your role does not allow this.")


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(request, 404, "not_found", str(exc) or "Not found; check the id and the path.")


def _location(loc: tuple | list) -> str:
    # ninja locations look like ("body", "payload", "date_of_birth") or ("query", "limit").
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
        source, parts = parts[0], parts[1:]
        if source == "body" and len(parts) > 1:
            parts = parts[1:]  # the view's parameter name means nothing to a client
    return ".".join(parts) or "non_field_errors"


@api.exception_handler(NinjaValidationError)
def invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for item in exc.errors:
        msg = item.get("msg", "Invalid value.").removeprefix("Value error, ")
        if item.get("type") == "json_invalid" or msg.startswith("Cannot parse request body"):
            msg = "The request body is not valid JSON."
        fields.setdefault(_location(item.get("loc", ())), []).append(msg)
    return error(request, 422, "invalid", _summary(fields), fields=fields)


_CONFLICT_CODES = {"unique", "unique_together"}


@api.exception_handler(DjangoValidationError)
def invalid_record(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        fields = {("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()}
        codes = {e.code for errors in exc.error_dict.values() for e in errors}
    else:
        fields = {"non_field_errors": exc.messages}
        codes = {e.code for e in exc.error_list}
    if codes and codes <= _CONFLICT_CODES:
        # Only duplicates: the input is well-formed but collides with a stored record.
        return error(request, 409, "conflict", _summary(fields).replace("Fix the input", "Conflict"), fields=fields)
    return error(request, 422, "invalid", _summary(fields), fields=fields)


@api.exception_handler(IntegrityError)
def conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    logger.info("API integrity error: %s", exc)
    return error(
        request, 409, "conflict",
        "The change conflicts with a record saved meanwhile (for example a duplicate); reload and try again.",
    )


@api.exception_handler(UnstorableInput)
def _unstorable(request: HttpRequest, exc: UnstorableInput) -> HttpResponse:
    fields = {exc.where: [exc.problem]}
    return error(request, 422, "invalid", _summary(fields), fields=fields)


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The last line of defence: a number or date the schema let through but the database
    # (or Python's datetime) cannot hold. Schemas bound ids and offsets so this stays rare.
    logger.info("API value out of range on %s %s: %s", request.method, request.path, exc)
    return error(
        request, 422, "invalid",
        "A number or date in the request is out of range; use ids and counts below 2^63 and dates "
        "between 1900 and 2100.",
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, UnstorableInput):  # ninja wraps what the body parser raises
        return _unstorable(request, exc.__cause__)
    codes = {400: "bad_request", 405: "method_not_allowed", 429: "throttled"}
    message = exc.message
    if message == "Cannot parse request body":
        message = "The request body is not valid JSON; send a JSON object with Content-Type: application/json."
    return error(request, exc.status_code, codes.get(exc.status_code, "error"), message)


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return error(request, 500, "server_error", "Something went wrong on the server; it has been logged.")


def api_root(request: HttpRequest) -> HttpResponse:
    """Where to start: the OpenAPI spec and its docs page."""
    return api.create_response(request, {
        "title": api.title, "version": api.version,
        "openapi": reverse("api:openapi-json"), "docs": reverse("api:openapi-view"),
    }, status=200)


@csrf_exempt  # token-authenticated like the rest of the API, so a POST gets the JSON 404, not the CSRF page
def unknown_path(request: HttpRequest, path: str = "") -> HttpResponse:
    """JSON 404 for paths under /api/v1 that name no endpoint."""
    return error(request, 404, "not_found", f"No API endpoint at {request.path}; see /api/v1/docs.")

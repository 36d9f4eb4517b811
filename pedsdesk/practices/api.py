"""Shared pieces of the JSON API (permission checks, practice scoping, paging,
validation, audit), and the staff endpoints.

Each endpoint is a thin adapter: it names one permission from
``permissions.PERMISSIONS`` with ``@requires``, fetches only through the token
user's practice, validates with ``model.full_clean()`` inside a transaction and
writes the audit event in that same transaction.
"""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import Operation
from ninja.security import HttpBearer
from ninja.utils import contribute_operation_callback

from pedsdesk.audit.actions import record_event
from pedsdesk.practices.actions import staff_for_token
from pedsdesk.practices.models import StaffMember
from pedsdesk.practices.permissions import PERMISSIONS, has_permission
from pedsdesk.practices.schemas import MeOut, Page, Paging, Search, StaffOut

F = TypeVar("F", bound=Callable[..., Any])

_ERROR_DESCRIPTIONS = {
    400: "The request body is not JSON (or not UTF-8).",
    401: "No API token, or one that is unknown or revoked.",
    403: "The token's role lacks the permission this endpoint needs.",
    404: "No such record in the token user's practice.",
    409: "The change conflicts with an existing record.",
    422: "Invalid input; `fields` says what to fix.",
}


def _error_responses(operation: Operation) -> dict[str, Any]:
    codes = [401, 403, 422]
    if "{" in operation.path:
        codes.append(404)
    if set(operation.methods) & {"POST", "PUT", "PATCH", "DELETE"}:
        codes.append(409)
    if set(operation.methods) & {"POST", "PUT", "PATCH"}:
        codes.append(400)  # a body that does not parse
    schema = {"$ref": "#/components/schemas/ErrorOut"}  # added to the components by pedsdesk.api
    return {
        str(code): {"description": _ERROR_DESCRIPTIONS[code], "content": {"application/json": {"schema": schema}}}
        for code in sorted(codes)
    }


NO_TOKEN = "Send your API token in the header 'Authorization: Bearer <token>'; create one on your account page."  # noqa: S105
BAD_TOKEN = "That API token is unknown or revoked; create a new one on your account page."  # noqa: S105


def _check_permission(staff: StaffMember, permission: str) -> None:
    if not staff.practice_id:
        raise PermissionDenied("Your account belongs to no practice, so it cannot use the API.")
    if not has_permission(staff, permission):
        raise PermissionDenied(
            f"Your role ({staff.get_role_display()}) does not allow {permission}; "
            "ask the practice owner if you need it."
        )


class BearerToken(HttpBearer):
    """Personal API tokens (only their hash is stored) of active staff members.

    With a ``permission`` it also checks the role, so a role lacking it gets 403 before
    the request body is even read (ninja authenticates before it parses input).
    """

    def __init__(self, permission: str | None = None) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, token: str) -> StaffMember:
        staff = staff_for_token(token.strip()) if token.strip() else None
        if staff is None:
            raise AuthenticationError(message=BAD_TOKEN)
        if self.permission:
            _check_permission(staff, self.permission)
        return staff


def _query_names(operation: Operation) -> set[str]:
    names: set[str] = set()
    for model in operation.models:
        if model.__ninja_param_source__ == "query":
            flat = getattr(model, "__ninja_flatten_map__", None)
            names |= set(flat) if flat else {f.alias or n for n, f in model.model_fields.items()}
    return names


def _refuse_unknown_query(request: HttpRequest, allowed: set[str]) -> None:
    """A misspelt filter (``?payerid=3``) would silently return everything: say so instead."""
    unknown = sorted(set(request.GET) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "no query parameters"
        raise NinjaValidationError([{"loc": ("query", name), "type": "extra_forbidden",
                                     "msg": f"Unknown query parameter; this endpoint takes {takes}."}
                                    for name in unknown])


def requires(permission: str) -> Callable[[F], F]:
    """Endpoint decorator (placed under ``@router.get`` etc.): the token user must hold
    ``permission``. The permission is kept on the function and in the OpenAPI spec."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(func: F) -> F:
        query_names: set[str] = set()

        @wraps(func)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            _check_permission(request.auth, permission)  # again, should the operation's auth be replaced
            _refuse_unknown_query(request, query_names)
            return func(request, *args, **kwargs)

        def configure(operation: Operation) -> None:
            query_names.update(_query_names(operation))
            operation.auth_param = [BearerToken(permission)]
            operation.auth_callbacks = operation.auth_param
            extra = operation.openapi_extra or {}
            operation.openapi_extra = {
                **extra,
                "x-permission": permission,
                "responses": {**_error_responses(operation), **extra.get("responses", {})},
            }

        wrapped.permission = permission
        wrapped.__doc__ = f"{(func.__doc__ or '').strip()}\n\nRequires the `{permission}` permission.".strip()
        contribute_operation_callback(wrapped, configure)
        return wrapped  # type: ignore[return-value]

    return decorate


def get_or_404(request: HttpRequest, queryset: QuerySet, pk: int, practice_path: str = "practice") -> Any:
    """Row ``pk`` of ``queryset`` only if it belongs to the user's practice.

    Another practice's id gets the same 404 as an id that does not exist, so ids
    reveal nothing across practices.
    """
    obj = queryset.filter(pk=pk, **{practice_path: request.auth.practice_id}).first()
    if obj is None:
        noun = queryset.model._meta.verbose_name
        raise Http404(f"No {noun} with id {pk} in your practice; check the id.")
    return obj


def related_or_invalid(
    request: HttpRequest, queryset: QuerySet, pk: int, field: str, practice_path: str = "practice"
) -> Any:
    """Resolve an id given in a request body, scoped like ``get_or_404`` but a 422."""
    obj = queryset.filter(pk=pk, **{practice_path: request.auth.practice_id}).first()
    if obj is None:
        noun = queryset.model._meta.verbose_name
        raise ValidationError({field: [f"No {noun} with id {pk} in your practice."]})
    return obj


def search(queryset: QuerySet, q: str, fields: Iterable[str]) -> QuerySet:
    """Every word of ``q`` must match one of ``fields`` (case-insensitive)."""
    condition = Q()
    for term in q.split():
        term_condition = Q()
        for field in fields:
            term_condition |= Q(**{f"{field}__icontains": term})
        condition &= term_condition
    return queryset.filter(condition)


def paginate(queryset: QuerySet, paging: Paging) -> dict[str, Any]:
    """One page in two queries (count and rows) whatever the page size; the caller
    select_related/prefetch_related what the schema reads."""
    return {
        "count": queryset.count(),
        "limit": paging.limit,
        "offset": paging.offset,
        "items": list(queryset[paging.offset : paging.offset + paging.limit]),
    }


def audit(request: HttpRequest, action: str, obj: Model | None = None, **kwargs: Any) -> None:
    record_event(actor=request.auth, action=action, obj=obj, request=request, **kwargs)


def _api_field(instance: Model, name: str, prefix: str) -> str:
    if name == NON_FIELD_ERRORS:
        name = "non_field_errors"
    else:
        try:
            field = instance._meta.get_field(name)
        except FieldDoesNotExist:  # a clean() may key errors by other names
            field = None
        if field is not None and field.many_to_one:
            name = f"{name}_id"  # the API takes related records by id
    return f"{prefix}{name}"


def validation_errors(instance: Model, *, prefix: str = "", exclude: list[str] | None = None) -> dict[str, list]:
    """``full_clean()`` errors keyed by API field names (``school`` → ``school_id``),
    optionally under ``prefix`` (``services.0.``). Empty when valid."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            return {f"{prefix}non_field_errors": exc.error_list}
        return {_api_field(instance, key, prefix): errors for key, errors in exc.error_dict.items()}
    return {}


def raise_invalid(errors: dict[str, list]) -> None:
    if errors:
        raise ValidationError(errors)


def clean(instance: Model, *, exclude: list[str] | None = None) -> None:
    raise_invalid(validation_errors(instance, exclude=exclude))


def assign(instance: Model, data: dict[str, Any]) -> list[str]:
    """Set ``data`` on ``instance``; return the names whose value changed (for the audit detail)."""
    nulls = {}
    for name, value in data.items():
        try:
            field = instance._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if value is None and not field.null:  # PATCH bodies may send null for any field
            nulls[name] = ["Give a value; this field cannot be null (leave it out to keep the current one)."]
    raise_invalid(nulls)
    changed = []
    for name, value in data.items():
        if getattr(instance, name) != value:
            changed.append(name)
        setattr(instance, name, value)
    return sorted(changed)


# Staff endpoints

router = Router(tags=["staff"])


def _staff(request: HttpRequest) -> QuerySet:
    return StaffMember.objects.filter(practice=request.auth.practice_id).select_related("therapist_profile")


@router.get("/staff", response=Page[StaffOut], summary="List staff")
@requires("staff.view")
def list_staff(request: HttpRequest, params: Query[Search]) -> dict[str, Any]:
    """Staff members of your practice, searchable by name, username and email."""
    rows = search(_staff(request), params.q, ["first_name", "last_name", "username", "email"])
    return paginate(rows.order_by("last_name", "first_name", "pk"), params)


@router.get("/staff/me", response=MeOut, summary="Your own account")
@requires("account.manage")
def me(request: HttpRequest) -> dict[str, Any]:
    """The token's staff member, practice and permissions."""
    staff = _staff(request).select_related("practice").get(pk=request.auth.pk)
    return {
        **StaffOut.from_orm(staff).dict(),
        "practice": staff.practice,
        "permissions": sorted(p for p in PERMISSIONS if has_permission(staff, p)),
    }

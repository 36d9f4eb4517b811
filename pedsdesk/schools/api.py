"""API endpoints for schools and their calendars of non-school and early-release days."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router

from pedsdesk.practices.api import get_or_404, paginate, requires, search
from pedsdesk.practices.schemas import Page, Search
from pedsdesk.schools.models import School
from pedsdesk.schools.schemas import CalendarRange, SchoolDetailOut, SchoolOut

router = Router(tags=["schools"])


def _schools(request: HttpRequest) -> QuerySet:
    return School.objects.filter(practice=request.auth.practice_id)


@router.get("/schools", response=Page[SchoolOut], summary="List and search schools")
@requires("schools.view")
def list_schools(request: HttpRequest, params: Query[Search]) -> dict[str, Any]:
    """`q` matches the name and the district."""
    rows = search(_schools(request), params.q, ["name", "district"])
    return paginate(rows.order_by("name", "pk"), params)


@router.get("/schools/{school_id}", response=SchoolDetailOut, summary="Get a school with its calendar")
@requires("schools.view")
def get_school(request: HttpRequest, school_id: int, dates: Query[CalendarRange]) -> dict[str, Any]:
    school = get_or_404(request, _schools(request), school_id)
    days = school.calendar.order_by("date")
    if dates.calendar_from:
        days = days.filter(date__gte=dates.calendar_from)
    if dates.calendar_to:
        days = days.filter(date__lte=dates.calendar_to)
    return {**SchoolOut.from_orm(school).dict(), "calendar": list(days)}

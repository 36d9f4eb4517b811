"""The owner's page: how the practice's background work is doing."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pedsdesk.operations.queries import sweep_status
from pedsdesk.practices.web import requires


@requires("sweeps.view")
def sweep_status_page(request: HttpRequest) -> HttpResponse:
    rows = sweep_status(practice=request.user.practice)
    return render(request, "operations/sweeps.html", {
        "rows": rows, "practice": request.user.practice,
        "troubled": sum(1 for row in rows if row.failing or row.late),
    })

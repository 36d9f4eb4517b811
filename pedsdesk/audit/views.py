import datetime as dt

from django.core.paginator import Paginator
from django.shortcuts import render

from pedsdesk.audit.describe import action_label, describe
from pedsdesk.audit.queries import search_events
from pedsdesk.practices.web import requires


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@requires("audit.view")
def audit_search(request):
    """The owner's view of the audit log: who read or changed what, when, from where."""
    params = request.GET
    errors = []
    start, end = _date(params.get("start", "")), _date(params.get("end", ""))
    if params.get("start") and start is None:
        errors.append("Start date must look like 2026-11-27.")
    if params.get("end") and end is None:
        errors.append("End date must look like 2026-11-27.")
    patient_id = params.get("patient", "")
    if patient_id and not patient_id.isdigit():
        errors.append("Patient must be the patient's number, as in the chart's address.")
        patient_id = ""
    zone = request.user.practice.zone
    events = search_events(
        practice_id=request.user.practice_id,
        text=params.get("q", "").strip(),
        action=params.get("action", ""),
        patient_id=int(patient_id) if patient_id else None,
        start=dt.datetime.combine(start, dt.time.min, zone) if start else None,
        end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone) if end else None,
    )
    page = Paginator(events, 100).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    actions = ["view", "list", "create", "update", "delete", "login", "family_link_opened", "family_link_created",
               "family_link_revoked", "api_token_created", "api_token_revoked"]
    return render(request, "audit/search.html", {
        "page": page, "rows": describe(list(page), practice_id=request.user.practice_id), "errors": errors,
        "params": params, "query": query.urlencode(), "title": "Audit log",
        "actions": [(action, action_label(action)) for action in actions],
    })

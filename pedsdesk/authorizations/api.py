"""API endpoints for payers, patients' coverages with their benefit buckets, and
authorizations with their figures and renewals."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from ninja import PatchDict, Query, Router, Status

from pedsdesk.authorizations import queries
from pedsdesk.authorizations.actions import (
    RenewalError,
    decide_renewal,
    open_renewal,
    save_authorization,
    set_document,
    submit_renewal,
)
from pedsdesk.authorizations.models import (
    AWAITING_DECISION_STATES,
    PREPARING_STATES,
    Authorization,
    BenefitBucket,
    Coverage,
    Payer,
    Renewal,
)
from pedsdesk.authorizations.schemas import (
    AuthorizationDetailOut,
    AuthorizationFilters,
    AuthorizationIn,
    AuthorizationOut,
    BucketUsageOut,
    CoverageIn,
    CoverageOut,
    PayerIn,
    PayerOut,
    RenewalDecisionIn,
    RenewalDocumentIn,
    RenewalFilters,
    RenewalOut,
    RenewalSubmitIn,
)
from pedsdesk.fields import SaneDate
from pedsdesk.people.models import Patient
from pedsdesk.practices.api import (
    assign,
    audit,
    clean,
    get_or_404,
    paginate,
    raise_invalid,
    related_or_invalid,
    requires,
    search,
    validation_errors,
)
from pedsdesk.practices.schemas import Page, Paging, Search

payers_router = Router(tags=["payers"])
coverages_router = Router(tags=["coverages"])


# Payers (practice records, not patient data: changes are audited, reads are not)


def _payers(request: HttpRequest) -> QuerySet:
    return Payer.objects.filter(practice=request.auth.practice_id)


def _save_payer(request: HttpRequest, payer: Payer, data: dict[str, Any]) -> Payer:
    creating = payer.pk is None
    with transaction.atomic():
        changed = assign(payer, data)
        clean(payer)
        payer.save()
        audit(request, "create" if creating else "update", payer, detail={"fields": sorted(changed)})
    return payer


@payers_router.get("/payers", response=Page[PayerOut], summary="List and search payers")
@requires("payers.view")
def list_payers(request: HttpRequest, params: Query[Search]) -> dict[str, Any]:
    """`q` matches the name and the claims payer ID."""
    rows = search(_payers(request), params.q, ["name", "payer_id"])
    return paginate(rows.order_by("name", "pk"), params)


@payers_router.post("/payers", response={201: PayerOut}, summary="Create a payer")
@requires("payers.edit")
def create_payer(request: HttpRequest, payload: PayerIn) -> Status[Payer]:
    return Status(201, _save_payer(request, Payer(practice_id=request.auth.practice_id), payload.dict()))


@payers_router.get("/payers/{payer_id}", response=PayerOut, summary="Get a payer")
@requires("payers.view")
def get_payer(request: HttpRequest, payer_id: int) -> Payer:
    return get_or_404(request, _payers(request), payer_id)


@payers_router.put("/payers/{payer_id}", response=PayerOut, summary="Replace a payer")
@requires("payers.edit")
def replace_payer(request: HttpRequest, payer_id: int, payload: PayerIn) -> Payer:
    return _save_payer(request, get_or_404(request, _payers(request), payer_id), payload.dict())


@payers_router.patch("/payers/{payer_id}", response=PayerOut, summary="Update some fields of a payer")
@requires("payers.edit")
def update_payer(request: HttpRequest, payer_id: int, payload: PatchDict[PayerIn]) -> Payer:
    return _save_payer(request, get_or_404(request, _payers(request), payer_id), payload)


# Coverages


def _coverages(request: HttpRequest) -> QuerySet:
    return Coverage.objects.filter(patient__practice=request.auth.practice_id).select_related(
        "payer").prefetch_related("benefit_buckets")


def _save_coverage(request: HttpRequest, coverage: Coverage, data: dict[str, Any]) -> Coverage:
    """Validate the coverage and every benefit bucket, then write all of it or nothing."""
    creating = coverage.pk is None
    buckets = data.pop("benefit_buckets", None)
    with transaction.atomic():
        if data.get("payer_id") is not None:
            related_or_invalid(request, Payer.objects.all(), data["payer_id"], "payer_id")
        changed = assign(coverage, data)
        errors = validation_errors(coverage)
        rows = [BenefitBucket(**b) for b in buckets or []]
        counted_by: dict[str, str] = {}
        for i, bucket in enumerate(rows):
            errors.update(validation_errors(bucket, prefix=f"benefit_buckets.{i}.", exclude=["coverage"]))
            for discipline in bucket.disciplines or []:
                if discipline in counted_by:
                    errors.setdefault(f"benefit_buckets.{i}.disciplines", []).append(
                        f"{discipline} is already counted by {counted_by[discipline]!r}; "
                        "a discipline belongs to one limit.")
                counted_by.setdefault(discipline, bucket.name)
        raise_invalid(errors)
        coverage.save()
        if buckets is not None:
            coverage.benefit_buckets.all().delete()
            for bucket in rows:
                bucket.coverage = coverage
            BenefitBucket.objects.bulk_create(rows)
            changed.append("benefit_buckets")
        audit(request, "create" if creating else "update", coverage, detail={"fields": sorted(changed)})
    return _coverages(request).get(pk=coverage.pk)


@coverages_router.get("/patients/{patient_id}/coverages", response=Page[CoverageOut],
                      summary="List a patient's coverages")
@requires("patients.view")
def list_coverages(request: HttpRequest, patient_id: int, params: Query[Paging]) -> dict[str, Any]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    page = paginate(_coverages(request).filter(patient=patient).order_by("priority", "start_date", "pk"), params)
    audit(request, "list", object_type="authorizations.coverage", patient_id=patient.pk)
    return page


@coverages_router.post("/patients/{patient_id}/coverages", response={201: CoverageOut},
                       summary="Add a coverage with its benefit buckets")
@requires("coverages.edit")
def create_coverage(request: HttpRequest, patient_id: int, payload: CoverageIn) -> Status[Coverage]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    return Status(201, _save_coverage(request, Coverage(patient=patient), payload.dict()))


@coverages_router.get("/coverages/{coverage_id}", response=CoverageOut, summary="Get a coverage")
@requires("patients.view")
def get_coverage(request: HttpRequest, coverage_id: int) -> Coverage:
    coverage = get_or_404(request, _coverages(request), coverage_id, "patient__practice")
    audit(request, "view", coverage)
    return coverage


@coverages_router.put("/coverages/{coverage_id}", response=CoverageOut, summary="Replace a coverage")
@requires("coverages.edit")
def replace_coverage(request: HttpRequest, coverage_id: int, payload: CoverageIn) -> Coverage:
    coverage = get_or_404(request, Coverage.objects.select_related("patient"), coverage_id, "patient__practice")
    return _save_coverage(request, coverage, payload.dict())


@coverages_router.patch("/coverages/{coverage_id}", response=CoverageOut, summary="Update some fields of a coverage")
@requires("coverages.edit")
def update_coverage(request: HttpRequest, coverage_id: int, payload: PatchDict[CoverageIn]) -> Coverage:
    """Fields left out keep their values; `benefit_buckets`, when given, replaces all buckets."""
    coverage = get_or_404(request, Coverage.objects.select_related("patient"), coverage_id, "patient__practice")
    return _save_coverage(request, coverage, payload)


# Authorizations and renewals (mounted under the coverages router: same /api/v1 root)

authorizations_router = Router(tags=["authorizations"])
coverages_router.add_router("", authorizations_router)


def _today(request: HttpRequest) -> dt.date:
    return request.auth.practice.local_now().date()


def _ref(obj) -> dict | None:
    if obj is None:
        return None
    name = obj.get_full_name() if hasattr(obj, "get_full_name") else str(obj)
    return {"id": obj.pk, "name": name or str(obj)}


def _summary_out(s: queries.AuthorizationSummary, detail: bool = False) -> dict[str, Any]:
    a = s.authorization
    renewal = s.renewal
    out = {
        "id": a.pk, "patient": _ref(s.patient), "coverage_id": a.coverage_id, "payer": s.payer,
        "discipline": a.discipline, "number": a.number, "start_date": a.start_date, "end_date": a.end_date,
        "status": a.status, "previous_id": a.previous_id, "therapist": _ref(s.therapist), "unit": s.unit_type,
        "authorized": s.authorized, "used": s.used, "scheduled": s.scheduled, "remaining": s.remaining,
        "days_left": s.days_left, "projected_exhaustion": s.exhausted_on, "flags": s.flags,
        "renewal": {"id": renewal.pk, "state": renewal.state, "due_date": renewal.due_date} if renewal else None,
        "lines": [{
            "id": line.pk, "cpt_codes": line.cpt_codes, "modifier": line.modifier, "unit_type": line.unit_type,
            "authorized": line.quantity, "requested_quantity": line.requested_quantity,
            "per_week_cap": line.per_week_cap, "per_month_cap": line.per_month_cap,
            "used": figures.used if figures else 0, "scheduled": figures.scheduled if figures else 0,
            "remaining": figures.remaining if figures else line.quantity,
            "projected_exhaustion": figures.exhausted_on if figures else None,
        } for line, figures in s.line_rows],
    }
    if detail:
        out["denials"] = [{"date": d.visit.day, "reason": d.reason, "message": d.message} for d in s.denials]
        out["notes"] = a.notes
    return out


def _authorization(request: HttpRequest, authorization_id: int) -> Authorization:
    return get_or_404(request, Authorization.objects.select_related("coverage__patient", "coverage__payer"),
                      authorization_id, "coverage__patient__practice")


def _detail(request: HttpRequest, authorization: Authorization) -> dict[str, Any]:
    return _summary_out(queries.summary_of(authorization, _today(request)), detail=True)


@authorizations_router.get("/authorizations", response=Page[AuthorizationOut], summary="List authorizations")
@requires("authorizations.view")
def list_authorizations(request: HttpRequest, params: Query[AuthorizationFilters]) -> dict[str, Any]:
    """Every authorization with used, scheduled and remaining units, the projected last unit
    and flags, filtered like the board and sorted by days or units left. The figures come
    from the schedule: attended visits, booked visits and future series occurrences."""
    board = queries.board_query(request.auth.practice, today=_today(request), payer=params.payer_id,
                                discipline=params.discipline or "", therapist=params.therapist_id, flag=params.flag,
                                show=params.show, sort=params.sort)
    items = board.summaries(board.queryset[params.offset : params.offset + params.limit])
    audit(request, "list", object_type="authorizations.authorization",
          detail={"patient_ids": sorted({s.patient.pk for s in items})})
    return {"count": board.count(), "limit": params.limit, "offset": params.offset,
            "items": [_summary_out(s) for s in items]}


def _save(request: HttpRequest, authorization: Authorization | None, data: dict[str, Any]) -> Authorization:
    lines = data.pop("lines", None)
    coverage_id = data.pop("coverage_id", None)
    coverage = authorization.coverage if authorization is not None else None
    if coverage_id is not None:
        coverage = related_or_invalid(request, Coverage.objects.select_related("patient"), coverage_id,
                                      "coverage_id", "patient__practice")
        data["coverage"] = coverage
    return save_authorization(actor=request.auth, coverage=coverage, data=data, lines=lines,
                              authorization=authorization, request=request)


@authorizations_router.post("/authorizations", response={201: AuthorizationDetailOut},
                            summary="Create an authorization with its service lines")
@requires("authorizations.edit")
def create_authorization(request: HttpRequest, payload: AuthorizationIn) -> Status[dict]:
    """Validated whole before anything is written: an end before the start, a quantity
    below 1, a code the discipline does not bill, a code on two lines or the same number
    twice for overlapping dates is a 422 naming the field (`lines.0.quantity`)."""
    return Status(201, _detail(request, _save(request, None, payload.dict())))


@authorizations_router.get("/authorizations/{authorization_id}", response=AuthorizationDetailOut,
                           summary="Get an authorization with its figures and future denials")
@requires("authorizations.view")
def get_authorization(request: HttpRequest, authorization_id: int) -> dict[str, Any]:
    authorization = _authorization(request, authorization_id)
    audit(request, "view", authorization)
    return _detail(request, authorization)


@authorizations_router.put("/authorizations/{authorization_id}", response=AuthorizationDetailOut,
                           summary="Replace an authorization and its lines")
@requires("authorizations.edit")
def replace_authorization(request: HttpRequest, authorization_id: int, payload: AuthorizationIn) -> dict[str, Any]:
    return _detail(request, _save(request, _authorization(request, authorization_id), payload.dict()))


@authorizations_router.patch("/authorizations/{authorization_id}", response=AuthorizationDetailOut,
                             summary="Update some fields of an authorization")
@requires("authorizations.edit")
def update_authorization(request: HttpRequest, authorization_id: int,
                         payload: PatchDict[AuthorizationIn]) -> dict[str, Any]:
    """Fields left out keep their values; `lines`, when given, replaces every line."""
    return _detail(request, _save(request, _authorization(request, authorization_id), dict(payload)))


# Renewals


def _renewal_out(renewal: Renewal) -> dict[str, Any]:
    a = renewal.authorization
    return {
        "id": renewal.pk, "authorization_id": a.pk, "patient": _ref(a.coverage.patient), "payer": a.coverage.payer,
        "state": renewal.state, "due_date": renewal.due_date, "window_opens": renewal.window_opens,
        "due_basis": renewal.due_basis, "therapist": _ref(renewal.therapist),
        "requested_start": renewal.requested_start, "requested_end": renewal.requested_end,
        "expedited": renewal.expedited, "submitted_on": renewal.submitted_on, "channel": renewal.channel,
        "payer_reference": renewal.payer_reference, "decision_due": renewal.decision_due,
        "decided_on": renewal.decided_on, "denial_reason": renewal.denial_reason,
        "decision_note": renewal.decision_note, "items": list(renewal.items.all()), "lines": list(renewal.lines.all()),
        "next_authorization_id": renewal.next_id if renewal.is_decided else None,
    }


def _renewals(request: HttpRequest) -> QuerySet:
    following = Authorization.objects.filter(previous=OuterRef("authorization")).exclude(status="denied")
    return (Renewal.objects.filter(authorization__coverage__patient__practice=request.auth.practice_id)
            .select_related("authorization__coverage__patient", "authorization__coverage__payer", "therapist")
            .annotate(next_id=Subquery(following.order_by("pk").values("pk")[:1])))


def _renewal(request: HttpRequest, renewal_id: int) -> Renewal:
    return get_or_404(request, _renewals(request), renewal_id, "authorization__coverage__patient__practice")


def _step(step) -> Any:
    """Run a renewal action; a step that cannot be taken now is a 422 saying why."""
    try:
        return step()
    except RenewalError as exc:
        raise ValidationError({"state": [str(exc)]}) from exc


@authorizations_router.post("/authorizations/{authorization_id}/renewal", response={201: RenewalOut},
                            summary="Open the renewal of an authorization")
@requires("renewals.work")
def open_authorization_renewal(request: HttpRequest, authorization_id: int) -> Status[dict]:
    """The daily sweep opens renewals when they come due; this opens one now (or returns
    the open one). The due date, checklist and request follow the payer's policy."""
    authorization = _authorization(request, authorization_id)
    renewal, _ = _step(lambda: open_renewal(authorization=authorization, actor=request.auth,
                                            today=_today(request), request=request))
    return Status(201, _renewal_out(_renewal(request, renewal.pk)))


@authorizations_router.get("/renewals", response=Page[RenewalOut], summary="List renewals")
@requires("authorizations.view")
def list_renewals(request: HttpRequest, params: Query[RenewalFilters]) -> dict[str, Any]:
    rows = _renewals(request).prefetch_related("items", "lines")
    if params.state == "open":
        rows = rows.filter(state__in=PREPARING_STATES + AWAITING_DECISION_STATES)
    elif params.state != "all":
        rows = rows.filter(state=params.state)
    page = paginate(rows.order_by("due_date", "pk"), params)
    audit(request, "list", object_type="authorizations.renewal",
          detail={"patient_ids": sorted({r.authorization.coverage.patient_id for r in page["items"]})})
    page["items"] = [_renewal_out(r) for r in page["items"]]
    return page


@authorizations_router.get("/renewals/{renewal_id}", response=RenewalOut, summary="Get a renewal")
@requires("authorizations.view")
def get_renewal(request: HttpRequest, renewal_id: int) -> dict[str, Any]:
    renewal = _renewal(request, renewal_id)
    audit(request, "view", renewal)
    return _renewal_out(renewal)


@authorizations_router.post("/renewals/{renewal_id}/documents", response=RenewalOut,
                            summary="Tick a document on the renewal's checklist")
@requires("renewals.documents")
def set_renewal_document(request: HttpRequest, renewal_id: int, payload: RenewalDocumentIn) -> dict[str, Any]:
    renewal = _renewal(request, renewal_id)
    _step(lambda: set_document(actor=request.auth, renewal=renewal, today=_today(request), request=request,
                               **payload.dict()))
    return _renewal_out(_renewal(request, renewal_id))


@authorizations_router.post("/renewals/{renewal_id}/submit", response=RenewalOut,
                            summary="Record that the renewal was sent to the payer")
@requires("renewals.work")
def submit_renewal_endpoint(request: HttpRequest, renewal_id: int, payload: RenewalSubmitIn) -> dict[str, Any]:
    """Needs a complete checklist and a date inside the payer's window."""
    renewal = _renewal(request, renewal_id)
    _step(lambda: submit_renewal(actor=request.auth, renewal=renewal, today=_today(request), request=request,
                                 **payload.dict()))
    return _renewal_out(_renewal(request, renewal_id))


@authorizations_router.post("/renewals/{renewal_id}/decision", response=RenewalOut,
                            summary="Record the payer's decision")
@requires("renewals.decide")
def decide_renewal_endpoint(request: HttpRequest, renewal_id: int, payload: RenewalDecisionIn) -> dict[str, Any]:
    """An approval creates the next authorization (`next_authorization_id`), linked to this
    one; less than was asked for (units or period) is recorded as a partial approval."""
    renewal = _renewal(request, renewal_id)
    data = payload.dict()
    _step(lambda: decide_renewal(
        actor=request.auth, renewal=renewal, approved=data["decision"] == "approved", decided_on=data["decided_on"],
        number=data["number"], start_date=data["start_date"], end_date=data["end_date"],
        quantities={line["id"]: line["approved_quantity"] for line in data["lines"]}, reason=data["reason"],
        note=data["note"], today=_today(request), request=request))
    return _renewal_out(_renewal(request, renewal_id))


@authorizations_router.get("/coverages/{coverage_id}/benefit-usage", response=list[BucketUsageOut],
                           summary="Benefit buckets of a coverage, counted over the plan year")
@requires("authorizations.view")
def benefit_usage(request: HttpRequest, coverage_id: int, date: SaneDate | None = None) -> list[dict[str, Any]]:
    """Used, scheduled and remaining per bucket for the plan year containing `date` (today
    by default), with the day the schedule uses the last of it."""
    coverage = get_or_404(request, Coverage.objects.select_related("patient__practice", "payer"), coverage_id,
                          "patient__practice")
    audit(request, "view", coverage, detail={"benefit_usage": True})
    return [{"id": bucket.pk, "name": bucket.name, "disciplines": bucket.disciplines, "unit_type": bucket.unit_type,
             "limit": bucket.limit, "reset": bucket.reset, "period_start": use.period[0], "period_end": use.period[1],
             "used": use.used, "scheduled": use.scheduled, "remaining": use.remaining,
             "projected_exhaustion": use.exhausted_on, "over_limit": len(use.over_limit)}
            for bucket, use in queries.buckets_for(coverage, date or _today(request))]

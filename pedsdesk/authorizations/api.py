"""API endpoints for payers and for patients' coverages with their benefit buckets."""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import PatchDict, Query, Router, Status

from pedsdesk.authorizations.models import BenefitBucket, Coverage, Payer
from pedsdesk.authorizations.schemas import CoverageIn, CoverageOut, PayerIn, PayerOut
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

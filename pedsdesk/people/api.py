"""API endpoints for patients, their diagnoses, guardians and plans of care.

Every read and change of patient data writes an audit event in the request's
transaction; every write is validated by ``full_clean()`` before anything is saved.
"""

from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import PatchDict, Query, Router, Status

from pedsdesk.codes import COMMON_DIAGNOSES
from pedsdesk.people.models import Diagnosis, Guardian, GuardianOf, Patient, PlanOfCare, PlanOfCareService
from pedsdesk.people.schemas import (
    DiagnosisIn,
    DiagnosisOut,
    GuardianDetailOut,
    GuardianIn,
    GuardianLinkIn,
    GuardianOut,
    PatientGuardianOut,
    PatientIn,
    PatientOut,
    PatientSearch,
    PlanOfCareIn,
    PlanOfCareOut,
)
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
from pedsdesk.practices.models import StaffMember
from pedsdesk.practices.schemas import Page, Paging, Search
from pedsdesk.schools.models import School

patients_router = Router(tags=["patients"])
guardians_router = Router(tags=["guardians"])
plans_router = Router(tags=["plans of care"])


# Patients


def _patients(request: HttpRequest) -> QuerySet:
    return Patient.objects.filter(practice=request.auth.practice_id).select_related("school")


def _save_patient(request: HttpRequest, patient: Patient, data: dict[str, Any]) -> Patient:
    creating = patient.pk is None
    with transaction.atomic():
        if data.get("school_id") is not None:
            related_or_invalid(request, School.objects.all(), data["school_id"], "school_id")
        changed = assign(patient, data)
        clean(patient)
        patient.save()
        audit(request, "create" if creating else "update", patient, detail={"fields": sorted(changed)})
    return _patients(request).get(pk=patient.pk)


@patients_router.get("/patients", response=Page[PatientOut], summary="List and search patients")
@requires("patients.view")
def list_patients(request: HttpRequest, params: Query[PatientSearch]) -> dict[str, Any]:
    """Patients of your practice by last and first name. `q` matches the child's names and
    the guardians' last names and phone numbers."""
    rows = search(_patients(request), params.q,
                  ["first_name", "last_name", "preferred_name", "guardians__last_name", "guardians__phone"])
    if params.is_active is not None:
        rows = rows.filter(is_active=params.is_active)
    page = paginate(rows.distinct().order_by("last_name", "first_name", "pk"), params)
    audit(request, "list", object_type="people.patient",
          detail={"search": params.q, "patient_ids": [p.pk for p in page["items"]]})
    return page


@patients_router.post("/patients", response={201: PatientOut}, summary="Create a patient")
@requires("patients.edit")
def create_patient(request: HttpRequest, payload: PatientIn) -> Status[Patient]:
    return Status(201, _save_patient(request, Patient(practice_id=request.auth.practice_id), payload.dict()))


@patients_router.get("/patients/{patient_id}", response=PatientOut, summary="Get a patient")
@requires("patients.view")
def get_patient(request: HttpRequest, patient_id: int) -> Patient:
    patient = get_or_404(request, _patients(request), patient_id)
    audit(request, "view", patient)
    return patient


@patients_router.put("/patients/{patient_id}", response=PatientOut, summary="Replace a patient")
@requires("patients.edit")
def replace_patient(request: HttpRequest, patient_id: int, payload: PatientIn) -> Patient:
    return _save_patient(request, get_or_404(request, _patients(request), patient_id), payload.dict())


@patients_router.patch("/patients/{patient_id}", response=PatientOut, summary="Update some fields of a patient")
@requires("patients.edit")
def update_patient(request: HttpRequest, patient_id: int, payload: PatchDict[PatientIn]) -> Patient:
    return _save_patient(request, get_or_404(request, _patients(request), patient_id), payload)


# Diagnoses


@patients_router.get("/patients/{patient_id}/diagnoses", response=Page[DiagnosisOut], summary="List diagnoses")
@requires("patients.view")
def list_diagnoses(request: HttpRequest, patient_id: int, params: Query[Paging]) -> dict[str, Any]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    page = paginate(patient.diagnoses.order_by("-is_primary", "code", "pk"), params)
    audit(request, "list", object_type="people.diagnosis", patient_id=patient.pk)
    return page


@patients_router.post("/patients/{patient_id}/diagnoses", response={201: DiagnosisOut}, summary="Add a diagnosis")
@requires("patients.edit")
def add_diagnosis(request: HttpRequest, patient_id: int, payload: DiagnosisIn) -> Status[Diagnosis]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    with transaction.atomic():
        diagnosis = Diagnosis(patient=patient, **payload.dict())
        clean(diagnosis)  # also normalises the code, e.g. f802 → F80.2
        if not diagnosis.description:
            diagnosis.description = COMMON_DIAGNOSES.get(diagnosis.code, "")
        diagnosis.save()
        audit(request, "create", diagnosis, detail={"code": diagnosis.code})
    return Status(201, diagnosis)


@patients_router.delete("/patients/{patient_id}/diagnoses/{diagnosis_id}", response={204: None},
                        summary="Remove a diagnosis")
@requires("patients.edit")
def delete_diagnosis(request: HttpRequest, patient_id: int, diagnosis_id: int) -> Status[None]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    with transaction.atomic():
        diagnosis = get_or_404(request, patient.diagnoses.all(), diagnosis_id, "patient__practice")
        audit(request, "delete", diagnosis, detail={"code": diagnosis.code})
        diagnosis.delete()
    return Status(204, None)


# Guardians


def _guardians(request: HttpRequest) -> QuerySet:
    return Guardian.objects.filter(practice=request.auth.practice_id)


def _apply_guardian(guardian: Guardian, data: dict[str, Any]) -> list[str]:
    consent = data.pop("sms_consent", None)
    changed = assign(guardian, data)
    if consent is not None and consent != (guardian.sms_consent_at is not None):
        guardian.sms_consent_at = timezone.now() if consent else None
        changed.append("sms_consent")
    return changed


def _patient_guardians(patient: Patient) -> QuerySet:
    # filter() then annotate() over one join: the link fields are those to this child.
    return Guardian.objects.filter(children__patient=patient).annotate(
        relationship=F("children__relationship"),
        legal_authority=F("children__legal_authority"),
        is_primary_contact=F("children__is_primary_contact"),
    )


@guardians_router.get("/guardians", response=Page[GuardianOut], summary="List and search guardians")
@requires("patients.view")
def list_guardians(request: HttpRequest, params: Query[Search]) -> dict[str, Any]:
    """`q` matches names, phone, email and the children's last names."""
    rows = search(_guardians(request), params.q, ["first_name", "last_name", "phone", "email", "patients__last_name"])
    page = paginate(rows.distinct().order_by("last_name", "first_name", "pk"), params)
    audit(request, "list", object_type="people.guardian",
          detail={"search": params.q, "guardian_ids": [g.pk for g in page["items"]]})
    return page


@guardians_router.get("/guardians/{guardian_id}", response=GuardianDetailOut, summary="Get a guardian")
@requires("patients.view")
def get_guardian(request: HttpRequest, guardian_id: int) -> Guardian:
    guardian = get_or_404(request, _guardians(request).prefetch_related("children__patient"), guardian_id)
    patient_ids = sorted(link.patient_id for link in guardian.children.all())
    audit(request, "view", guardian, patient_id=patient_ids[0] if len(patient_ids) == 1 else None,
          detail={"patient_ids": patient_ids})
    return guardian


def _update_guardian(request: HttpRequest, guardian_id: int, data: dict[str, Any]) -> Guardian:
    with transaction.atomic():
        guardian = get_or_404(request, _guardians(request), guardian_id)
        changed = _apply_guardian(guardian, data)
        clean(guardian)
        guardian.save()
        audit(request, "update", guardian, detail={"fields": sorted(changed)})
    return guardian


@guardians_router.put("/guardians/{guardian_id}", response=GuardianOut, summary="Replace a guardian")
@requires("guardians.edit")
def replace_guardian(request: HttpRequest, guardian_id: int, payload: GuardianIn) -> Guardian:
    return _update_guardian(request, guardian_id, payload.dict())


@guardians_router.patch("/guardians/{guardian_id}", response=GuardianOut, summary="Update some fields of a guardian")
@requires("guardians.edit")
def update_guardian(request: HttpRequest, guardian_id: int, payload: PatchDict[GuardianIn]) -> Guardian:
    return _update_guardian(request, guardian_id, payload)


@guardians_router.get("/patients/{patient_id}/guardians", response=Page[PatientGuardianOut],
                      summary="List a patient's guardians")
@requires("patients.view")
def list_patient_guardians(request: HttpRequest, patient_id: int, params: Query[Paging]) -> dict[str, Any]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    page = paginate(_patient_guardians(patient).order_by("-is_primary_contact", "last_name", "pk"), params)
    audit(request, "list", object_type="people.guardian", patient_id=patient.pk)
    return page


@guardians_router.post("/patients/{patient_id}/guardians", response={201: PatientGuardianOut},
                       summary="Add a guardian to a patient")
@requires("guardians.edit")
def create_patient_guardian(request: HttpRequest, patient_id: int, payload: GuardianLinkIn) -> Status[Guardian]:
    """Creates the guardian and links them to the patient with their relationship."""
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    data = payload.dict()
    link = GuardianOf(patient=patient, **{k: data.pop(k) for k in ("relationship", "legal_authority",
                                                                   "is_primary_contact")})
    with transaction.atomic():
        guardian = Guardian(practice_id=request.auth.practice_id)
        _apply_guardian(guardian, data)
        errors = validation_errors(guardian)
        errors.update(validation_errors(link, exclude=["guardian", "patient"]))
        raise_invalid(errors)
        guardian.save()
        link.guardian = guardian
        link.save()
        audit(request, "create", guardian, patient_id=patient.pk, detail={"relationship": link.relationship})
    return Status(201, _patient_guardians(patient).get(pk=guardian.pk))


# Plans of care


def _plans(request: HttpRequest) -> QuerySet:
    return PlanOfCare.objects.filter(patient__practice=request.auth.practice_id).select_related(
        "therapist").prefetch_related("services")


def _save_plan(request: HttpRequest, plan: PlanOfCare, data: dict[str, Any]) -> PlanOfCare:
    """Validate the plan and every service line, then write all of it or nothing."""
    creating = plan.pk is None
    services = data.pop("services", None)
    goals = data.pop("goals", None)
    if goals is not None:
        data["goals"] = "\n".join(g.strip() for g in goals if g.strip())
    with transaction.atomic():
        if data.get("therapist_id") is not None:
            related_or_invalid(request, StaffMember.objects.all(), data["therapist_id"], "therapist_id")
        changed = assign(plan, data)
        lines = plan.services.all() if services is None else [PlanOfCareService(**s) for s in services]
        if creating and services is None:
            lines = []
        errors = validation_errors(plan)
        if services is not None and not services:
            errors["services"] = ["A plan of care needs at least one service line (a CPT code billed per visit)."]
        seen: set[tuple[str, str]] = set()
        for i, line in enumerate(lines):
            line.plan_of_care = plan  # the line's clean() checks its code against the plan's discipline
            errors.update(validation_errors(line, prefix=f"services.{i}.", exclude=["plan_of_care"]))
            key = (line.cpt_code.strip(), line.modifier.strip())
            if key in seen:
                errors.setdefault(f"services.{i}.cpt_code", []).append(
                    f"{line.cpt_code} is listed twice; list each code and modifier once.")
            seen.add(key)
        raise_invalid(errors)
        plan.save()
        if services is not None:
            plan.services.all().delete()
            PlanOfCareService.objects.bulk_create(lines)
            changed.append("services")
        audit(request, "create" if creating else "update", plan, detail={"fields": sorted(changed)})
    return _plans(request).get(pk=plan.pk)


@plans_router.get("/patients/{patient_id}/plans-of-care", response=Page[PlanOfCareOut],
                  summary="List a patient's plans of care")
@requires("patients.view")
def list_plans(request: HttpRequest, patient_id: int, params: Query[Paging]) -> dict[str, Any]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    page = paginate(_plans(request).filter(patient=patient).order_by("-start_date", "pk"), params)
    audit(request, "list", object_type="people.planofcare", patient_id=patient.pk)
    return page


@plans_router.post("/patients/{patient_id}/plans-of-care", response={201: PlanOfCareOut},
                   summary="Create a plan of care with its services")
@requires("plans_of_care.edit")
def create_plan(request: HttpRequest, patient_id: int, payload: PlanOfCareIn) -> Status[PlanOfCare]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    return Status(201, _save_plan(request, PlanOfCare(patient=patient), payload.dict()))


@plans_router.get("/plans-of-care/{plan_id}", response=PlanOfCareOut, summary="Get a plan of care")
@requires("patients.view")
def get_plan(request: HttpRequest, plan_id: int) -> PlanOfCare:
    plan = get_or_404(request, _plans(request), plan_id, "patient__practice")
    audit(request, "view", plan)
    return plan


@plans_router.put("/plans-of-care/{plan_id}", response=PlanOfCareOut, summary="Replace a plan of care")
@requires("plans_of_care.edit")
def replace_plan(request: HttpRequest, plan_id: int, payload: PlanOfCareIn) -> PlanOfCare:
    plan = get_or_404(request, PlanOfCare.objects.select_related("patient"), plan_id, "patient__practice")
    return _save_plan(request, plan, payload.dict())


@plans_router.patch("/plans-of-care/{plan_id}", response=PlanOfCareOut, summary="Update some fields of a plan of care")
@requires("plans_of_care.edit")
def update_plan(request: HttpRequest, plan_id: int, payload: PatchDict[PlanOfCareIn]) -> PlanOfCare:
    """Fields left out keep their values; `services`, when given, replaces all service lines."""
    plan = get_or_404(request, PlanOfCare.objects.select_related("patient"), plan_id, "patient__practice")
    return _save_plan(request, plan, payload)

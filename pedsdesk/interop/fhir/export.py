"""A child's record as a FHIR R4 (4.0.1) Bundle, every resource checked in both layers.

Patient, RelatedPerson (each guardian), Coverage, ClaimResponse with use
preauthorization (each authorization), Appointment, CarePlan (each plan of care) and
Task (open work). Apps built beside this one (home programs, school consents) add
their CarePlan and Consent resources through ``fhir_resources`` in
pedsdesk/interop/fhir/registry.py, so this module never imports them.
"""

import datetime as dt

from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.authorizations.models import Authorization, Coverage
from pedsdesk.interop.fhir import codes
from pedsdesk.interop.fhir.registry import contributed
from pedsdesk.interop.fhir.validation import FHIR_VERSION, check
from pedsdesk.interop.models import ExternalId
from pedsdesk.people.models import GuardianOf, Patient, PlanOfCare
from pedsdesk.practices.models import StaffMember
from pedsdesk.scheduling.models import Appointment
from pedsdesk.workqueue.models import OPEN_STATUSES, Task

META = {"tag": [{"system": "http://hl7.org/fhir/FHIR-version", "code": FHIR_VERSION}]}


class ExportInvalid(Exception):
    """A resource pedsdesk made is not valid FHIR R4: a bug, never sent out."""


def _ref(kind: str, pk: int, display: str = "") -> dict:
    return {"reference": f"{kind}/{pk}", **({"display": display} if display else {})}


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _ext(name: str, value: object, kind: str = "valueCode") -> dict:
    return {"url": f"{codes.EXTENSION_BASE}/{name}", kind: value}


def patient_resource(patient: Patient) -> dict:
    identifiers = [{"system": codes.PEDSDESK_PATIENT, "value": str(patient.pk)}]
    for external in ExternalId.objects.filter(practice_id=patient.practice_id, record_type="patients",
                                              object_id=patient.pk).order_by("source"):
        identifiers.append({"system": codes.external_system(external.source), "value": external.external_id})
    return {"resourceType": "Patient", "id": str(patient.pk), "meta": META, "identifier": identifiers,
            "active": patient.is_active,
            "name": [{"family": patient.last_name, "given": [patient.first_name]}],
            "birthDate": patient.date_of_birth.isoformat()}


def related_person(link: GuardianOf) -> dict:
    guardian = link.guardian
    telecom = []
    if guardian.phone:
        telecom.append({"system": "phone", "value": guardian.phone, "use": "mobile"})
    if guardian.email:
        telecom.append({"system": "email", "value": guardian.email})
    return {
        "resourceType": "RelatedPerson", "id": f"{guardian.pk}-{link.patient_id}", "meta": META,
        "identifier": [{"system": codes.PEDSDESK_GUARDIAN, "value": str(guardian.pk)}],
        "patient": _ref("Patient", link.patient_id),
        "relationship": [codes.relationship_concept(link.relationship)],
        "name": [{"family": guardian.last_name, "given": [guardian.first_name]}],
        **({"telecom": telecom} if telecom else {}),
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": guardian.language}]},
                           "preferred": True}],
    }


def coverage_resource(coverage: Coverage) -> dict:
    resource = {
        "resourceType": "Coverage", "id": str(coverage.pk), "meta": META, "status": "active",
        "subscriberId": coverage.member_id, "beneficiary": _ref("Patient", coverage.patient_id),
        "period": {"start": coverage.start_date.isoformat(),
                   **({"end": coverage.end_date.isoformat()} if coverage.end_date else {})},
        "payor": [{"display": coverage.payer.name}], "order": coverage.priority,
    }
    if coverage.group_number:
        resource["class"] = [{"type": {"coding": [{"system": codes.COVERAGE_CLASS, "code": "group"}]},
                              "value": coverage.group_number}]
    return resource


def claim_response(authorization: Authorization) -> dict:
    """An authorization as the payer's answer to a pre-authorization request (Da Vinci PAS shape)."""
    items = []
    for line in authorization.lines.all():
        extensions = [_ext("unit-type", line.unit_type)]
        if line.per_week_cap:
            extensions.append(_ext("per-week-cap", line.per_week_cap, "valuePositiveInt"))
        if line.per_month_cap:
            extensions.append(_ext("per-month-cap", line.per_month_cap, "valuePositiveInt"))
        item = {"extension": extensions,
                "productOrService": {"coding": [{"system": codes.CPT, "code": c} for c in line.cpt_codes]},
                "adjudication": [{"category": {"coding": [{"system": codes.ADJUDICATION, "code": "eligible"}]},
                                  "value": line.quantity}]}
        if line.modifier:
            item["modifier"] = [{"coding": [{"system": codes.CPT, "code": line.modifier}]}]
        items.append(item)
    coverage = authorization.coverage
    return {
        "resourceType": "ClaimResponse", "id": str(authorization.pk), "meta": META,
        "extension": [_ext("discipline", authorization.discipline), _ext("authorization-status",
                                                                         authorization.status)],
        "status": "active", "type": {"coding": [{"system": codes.CLAIM_TYPE, "code": "professional"}]},
        "use": "preauthorization", "patient": _ref("Patient", coverage.patient_id),
        "created": _instant(authorization.created_at), "insurer": {"display": coverage.payer.name},
        "outcome": codes.AUTHORIZATION_OUTCOME[authorization.status],
        "preAuthRef": authorization.number,
        "preAuthPeriod": {"start": authorization.start_date.isoformat(), "end": authorization.end_date.isoformat()},
        "addItem": items,
        "insurance": [{"sequence": 1, "focal": True, "coverage": _ref("Coverage", coverage.pk)}],
    }


def appointment_resource(appointment: Appointment) -> dict:
    therapist = appointment.therapist
    resource = {
        "resourceType": "Appointment", "id": str(appointment.pk), "meta": META,
        "extension": [_ext("appointment-status", appointment.status), _ext("appointment-kind", appointment.kind)],
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{appointment.uid}"}],
        "status": codes.APPOINTMENT_STATUS[appointment.status],
        "start": _instant(appointment.start_at), "end": _instant(appointment.end_at),
        "minutesDuration": appointment.minutes, "created": appointment.created_at.date().isoformat(),
        "participant": [
            {"actor": _ref("Patient", appointment.patient_id), "status": "accepted"},
            {"type": [{"coding": [{"system": codes.PARTICIPATION_TYPE, "code": "PPRF"}]}],
             "actor": {"display": f"{therapist.first_name} {therapist.last_name}".strip()}, "status": "accepted"},
        ],
    }
    if appointment.cancel_reason:
        resource["cancelationReason"] = {"text": appointment.cancel_reason}
    return resource


def care_plan(plan: PlanOfCare, today: dt.date) -> dict:
    therapist = plan.therapist
    return {
        "resourceType": "CarePlan", "id": f"plan-{plan.pk}", "meta": META,
        "extension": [_ext("discipline", plan.discipline)],
        "status": "active" if plan.end_date >= today else "completed", "intent": "plan",
        "category": [{"coding": [{"system": codes.PEDSDESK_CATEGORY, "code": "plan-of-care"}]}],
        "subject": _ref("Patient", plan.patient_id),
        "period": {"start": plan.start_date.isoformat(), "end": plan.end_date.isoformat()},
        "author": {"display": f"{therapist.first_name} {therapist.last_name}".strip()},
        "activity": [{"detail": {
            "code": {"coding": [{"system": codes.CPT, "code": s.cpt_code} for s in plan.services.all()]},
            "status": "in-progress" if plan.end_date >= today else "completed",
            "scheduledTiming": {"repeat": {"frequency": plan.frequency_per_week, "period": 1, "periodUnit": "wk",
                                           "duration": plan.minutes, "durationUnit": "min"}},
            "performer": [{"display": f"{therapist.first_name} {therapist.last_name}".strip()}],
        }}],
        "note": [{"text": goal} for goal in plan.goal_list],
    }


def task_resource(task: Task) -> dict:
    resource = {
        "resourceType": "Task", "id": f"task-{task.pk}", "meta": META, "status": codes.TASK_STATUS[task.status],
        "intent": "order", "description": task.title, "for": _ref("Patient", task.patient_id),
        "authoredOn": _instant(task.created_at), "lastModified": _instant(task.updated_at),
    }
    if task.business_status:
        resource["businessStatus"] = {"text": task.business_status}
    if task.due_at:
        resource["restriction"] = {"period": {"end": _instant(task.due_at)}}
    return resource


def patient_resources(patient: Patient, today: dt.date | None = None) -> list[dict]:
    today = today or patient.practice.local_now().date()
    resources = [patient_resource(patient)]
    resources += [related_person(link) for link in GuardianOf.objects.filter(patient=patient).select_related(
        "guardian").order_by("pk")]
    coverages = list(Coverage.objects.filter(patient=patient).select_related("payer").order_by("pk"))
    resources += [coverage_resource(c) for c in coverages]
    resources += [claim_response(a) for a in Authorization.objects.filter(coverage__patient=patient).select_related(
        "coverage__payer").prefetch_related("lines").order_by("pk")]
    resources += [care_plan(p, today) for p in PlanOfCare.objects.filter(patient=patient).select_related(
        "therapist").prefetch_related("services").order_by("pk")]
    resources += [appointment_resource(a) for a in Appointment.objects.filter(patient=patient).select_related(
        "therapist").order_by("start_at", "pk")]
    resources += [task_resource(t) for t in Task.objects.filter(practice_id=patient.practice_id,
                                                                patient_id=patient.pk,
                                                                status__in=OPEN_STATUSES).order_by("pk")]
    resources += contributed(patient=patient)
    return resources


def patient_bundle(*, patient: Patient, actor: StaffMember | str) -> dict:
    """The child's Bundle (type collection), each resource checked, the export audited."""
    resources = patient_resources(patient)
    seen: set[str] = set()
    for resource in resources:
        name = f"{resource['resourceType']}/{resource.get('id')}"
        problems = check(resource)
        if problems:
            raise ExportInvalid(f"{name}: {'; '.join(problems)}")
        if name in seen:  # two contributors (or one and the export) chose the same id
            raise ExportInvalid(f"{name}: two resources have this type and id.")
        seen.add(name)
    record_event(actor=actor, action="export", obj=patient, practice_id=patient.practice_id,
                 detail={"format": "fhir", "resources": len(resources)})
    return {"resourceType": "Bundle", "meta": META, "type": "collection", "timestamp": _instant(timezone.now()),
            "entry": [{"fullUrl": f"urn:pedsdesk:{r['resourceType']}/{r['id']}", "resource": r}
                      for r in resources]}

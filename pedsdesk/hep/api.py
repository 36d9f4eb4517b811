"""API endpoints of home programs: a child's program and its versions, a new version
(sent to guardians or not), deliveries and resending, the family's answers. The same
actions and checks as the pages: bad input is 422 with what to fix."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from pedsdesk.fields import Ranged
from pedsdesk.hep import actions
from pedsdesk.hep.actions import MAX_ITEMS, NOTE_MAX
from pedsdesk.hep.models import Delivery, Feedback, FeedbackItem, HomeProgram, ProgramItem, ProgramVersion
from pedsdesk.people.models import Guardian, Patient
from pedsdesk.practices.api import audit, get_or_404, paginate, related_or_invalid, requires
from pedsdesk.practices.schemas import InputSchema, Page, Paging

router = Router(tags=["home programs"])


class ItemIn(InputSchema):
    activity_id: int
    repetitions: Ranged(ProgramItem, "repetitions") | None = None
    sets: Ranged(ProgramItem, "sets") | None = None
    minutes: Ranged(ProgramItem, "minutes") | None = None
    days_per_week: Ranged(ProgramItem, "days_per_week") = 5


class VersionIn(InputSchema):
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS)
    note: str = Field("", max_length=NOTE_MAX)
    send_to: list[int] = Field(default_factory=list, description="Guardian ids to send the new version to.")


class ItemOut(Schema):
    activity_id: int
    title: str = Field(alias="activity.title_en")
    title_es: str = Field(alias="activity.title_es")
    discipline: str = Field(alias="activity.discipline")
    repetitions: int | None
    sets: int | None
    minutes: int | None
    days_per_week: int


class VersionOut(Schema):
    id: int
    patient_id: int = Field(alias="program.patient_id")
    number: int
    note: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    items: list[ItemOut]


class ProgramOut(Schema):
    patient_id: int
    current_version: VersionOut | None
    version_numbers: list[int]


class DeliveryOut(Schema):
    id: int
    version_id: int
    guardian_id: int
    state: str
    channel: str
    status_reason: str
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    opened_at: dt.datetime | None
    failed_at: dt.datetime | None


class RatingOut(Schema):
    activity_id: int = Field(alias="item.activity_id")
    rating: str


class FeedbackOut(Schema):
    id: int
    version_id: int
    guardian_id: int | None
    days_practised: int
    days_prescribed: int
    question: str
    question_kind: str
    submitted_at: dt.datetime
    answered_at: dt.datetime | None
    items: list[RatingOut]


class PatientFilter(Paging):
    patient_id: int | None = None


def _versions():
    return ProgramVersion.objects.select_related("program").prefetch_related(
        Prefetch("items", queryset=ProgramItem.objects.select_related("activity")))


@router.get("/patients/{patient_id}/home-program", response=ProgramOut, summary="Get a child's home program")
@requires("hep.view")
def get_home_program(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    program = HomeProgram.objects.filter(patient=patient).first()
    audit(request, "view", program or patient)
    current = _versions().filter(pk=program.current_version_id).first() if program else None
    numbers = list(program.versions.order_by("number").values_list("number", flat=True)) if program else []
    return {"patient_id": patient.pk, "current_version": current, "version_numbers": numbers}


@router.get("/home-programs/versions/{version_id}", response=VersionOut, summary="Get a program version")
@requires("hep.view")
def get_program_version(request: HttpRequest, version_id: int) -> ProgramVersion:
    version = get_or_404(request, _versions(), version_id, practice_path="program__practice")
    audit(request, "view", version, practice_id=version.program.practice_id)
    return version


@router.post("/patients/{patient_id}/home-program/versions", response={201: VersionOut},
             summary="Save a new program version, and send it")
@requires("hep.edit")
def create_program_version(request: HttpRequest, patient_id: int, payload: VersionIn):
    """A new version becomes the child's program; with ``send_to`` it goes to those guardians
    (each on their preferred channel) in the same transaction."""
    patient = get_or_404(request, Patient.objects.all(), patient_id)
    guardians = [related_or_invalid(request, Guardian.objects.all(), pk, "send_to") for pk in payload.send_to]
    items = [actions.ItemInput(**item.dict()) for item in payload.items]
    try:
        if guardians:
            version, _ = actions.update_and_send(actor=request.auth, patient=patient, items=items,
                                                 note=payload.note, guardians=guardians, request=request)
        else:
            version = actions.save_version(actor=request.auth, patient=patient, items=items, note=payload.note,
                                           request=request)
    except ValidationError as exc:
        raise ValidationError({"items": exc.messages}) from None
    except actions.HepError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]}) from None
    return 201, _versions().get(pk=version.pk)


@router.get("/home-programs/deliveries", response=Page[DeliveryOut], summary="List program deliveries")
@requires("hep.view")
def list_program_deliveries(request: HttpRequest, params: Query[PatientFilter]) -> dict[str, Any]:
    rows = Delivery.objects.filter(practice=request.auth.practice_id).order_by("-created_at", "-pk")
    if params.patient_id is not None:
        rows = rows.filter(version__program__patient_id=params.patient_id)
    page = paginate(rows, params)
    audit(request, "list", object_type="hep.delivery", detail={"ids": [d.pk for d in page["items"]]})
    return page


@router.post("/home-programs/deliveries/{delivery_id}/resend", response=DeliveryOut,
             summary="Send a delivery again")
@requires("hep.follow_up")
def resend_program_delivery(request: HttpRequest, delivery_id: int) -> Delivery:
    delivery = get_or_404(request, Delivery.objects.all(), delivery_id)
    try:
        actions.resend_delivery(actor=request.auth, delivery=delivery, request=request)
    except actions.HepError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]}) from None
    return Delivery.objects.get(pk=delivery.pk)


@router.get("/home-programs/feedback", response=Page[FeedbackOut], summary="List families' answers")
@requires("hep.view")
def list_program_feedback(request: HttpRequest, params: Query[PatientFilter]) -> dict[str, Any]:
    rows = (Feedback.objects.filter(practice=request.auth.practice_id).order_by("-submitted_at", "-pk")
            .prefetch_related(Prefetch("items", queryset=FeedbackItem.objects.select_related("item"))))
    if params.patient_id is not None:
        rows = rows.filter(patient_id=params.patient_id)
    page = paginate(rows, params)
    audit(request, "list", object_type="hep.feedback", detail={"ids": [f.pk for f in page["items"]]})
    return page

"""Home programs in what pedsdesk hands back: each version of a child's program as a FHIR
R4 CarePlan in the child's export (``fhir_resources``), and a log of programs sent and
the family's answers for the EMR (``export_report``). Registered from AppConfig.ready;
interop never imports hep."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Sum

from pedsdesk.hep import adherence
from pedsdesk.hep.models import Delivery, Feedback, HomeProgram, ProgramItem, ProgramVersion
from pedsdesk.interop.exports import export_report
from pedsdesk.interop.fhir import codes
from pedsdesk.interop.fhir.export import META, _ext, _instant, _ref
from pedsdesk.interop.fhir.registry import fhir_resources
from pedsdesk.practices.models import Practice

#: The CarePlan category the importer skips (not a plan of care).
CATEGORY = "home-program"


def _name(staff) -> str:
    return f"{staff.first_name} {staff.last_name}".strip() if staff else ""


def _activity(item: ProgramItem, status: str) -> dict:
    repeat = {"frequency": item.days_per_week, "period": 1, "periodUnit": "wk"}
    if item.minutes:
        repeat.update(duration=item.minutes, durationUnit="min")
    detail = {
        "code": {"text": item.activity.title_en},
        "status": status,
        "scheduledTiming": {"repeat": repeat},
        "description": " ".join(item.activity.steps_in("en")),
    }
    if item.repetitions:
        detail["quantity"] = {"value": item.repetitions, "unit": "repetitions"}
    if item.sets:
        detail["extension"] = [_ext("sets", item.sets, "valuePositiveInt")]
    return {"detail": detail}


def care_plan(version: ProgramVersion, *, current: bool, previous: ProgramVersion | None,
              replaced_at: dt.datetime | None, share: float | None) -> dict:
    """One program version: active while it is the family's (draft until sent), completed
    once a later version replaced it (revoked if it was never sent)."""
    if current:
        status, activity_status = ("active", "in-progress") if version.sent_at else ("draft", "not-started")
    else:
        status, activity_status = ("completed", "completed") if version.sent_at else ("revoked", "cancelled")
    extensions = [_ext("home-program-version", version.number, "valuePositiveInt")]
    if share is not None:
        extensions.append(_ext("reported-adherence", share, "valueDecimal"))
    period = {"start": _instant(version.sent_at or version.created_at)}
    if replaced_at is not None:
        period["end"] = _instant(replaced_at)
    resource = {
        "resourceType": "CarePlan", "id": f"hep-{version.pk}", "meta": META, "extension": extensions,
        "status": status, "intent": "plan",
        "category": [{"coding": [{"system": codes.PEDSDESK_CATEGORY, "code": CATEGORY,
                                  "display": "Home exercise program"}]}],
        "title": f"Home program, version {version.number}",
        "subject": _ref("Patient", version.program.patient_id),
        "period": period, "created": _instant(version.created_at),
        "activity": [_activity(item, activity_status) for item in version.items.all()],
    }
    if version.created_by:
        resource["author"] = {"display": _name(version.created_by)}
    if previous is not None:
        resource["replaces"] = [_ref("CarePlan", f"hep-{previous.pk}")]
    if version.note:
        resource["note"] = [{"text": version.note}]
    return resource


@fhir_resources("hep.home_programs")
def home_program_care_plans(*, patient) -> list[dict]:
    """Every version of the child's program, oldest first. Three queries."""
    program = HomeProgram.objects.filter(patient=patient).first()
    if program is None:
        return []
    versions = list(program.versions.select_related("created_by", "program").order_by("number").prefetch_related(
        Prefetch("items", queryset=ProgramItem.objects.select_related("activity"))))
    shares = {pk: adherence.share(practised or 0, prescribed or 0) if prescribed else None
              for pk, practised, prescribed in Feedback.objects.filter(version__program=program)
              .values("version_id").annotate(p=Sum("days_practised"), q=Sum("days_prescribed"))
              .values_list("version_id", "p", "q")}
    return [care_plan(version, current=version.pk == program.current_version_id,
                      previous=versions[i - 1] if i else None,
                      replaced_at=versions[i + 1].created_at if i + 1 < len(versions) else None,
                      share=shares.get(version.pk))
            for i, version in enumerate(versions)]


LOG_COLUMNS = ["date", "time", "patient", "event", "program_version", "therapist", "guardian", "activities",
               "delivery_state", "days_practised", "days_prescribed", "adherence", "question"]


@export_report("home-programs", "Home program log")
def home_program_log(*, practice: Practice, since: dt.date, today: dt.date) -> tuple[list[str], list[dict]]:
    """Since ``since`` (the practice's calendar): each program version sent to a guardian and
    each answer the family gave, for the EMR's record of home-program follow-up. Free text
    (names, the family's question) is neutralised by the sheet writers."""
    zone = practice.zone
    start = dt.datetime.combine(since, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    rows = []

    def row(at: dt.datetime, patient, event: str, version: ProgramVersion, **values) -> dict:
        local = at.astimezone(zone)
        return {"date": local.date(), "time": f"{local:%H:%M}", "patient": f"{patient.last_name}, {patient.first_name}",
                "event": event, "program_version": version.number, "therapist": _name(version.created_by),
                **values}

    # A sending is logged when the therapist sent it; its state now is in its own column.
    sent = (Delivery.objects.filter(practice=practice, created_at__gte=start, created_at__lt=end)
            .select_related("guardian", "version__created_by", "version__program__patient")
            .prefetch_related(Prefetch("version__items", queryset=ProgramItem.objects.select_related("activity"))))
    for delivery in sent:
        version = delivery.version
        rows.append(row(delivery.created_at, version.program.patient, "program sent", version,
                        guardian=str(delivery.guardian), delivery_state=delivery.state,
                        activities="; ".join(item.activity.title_en for item in version.items.all())))
    answers = (Feedback.objects.filter(practice=practice, submitted_at__gte=start, submitted_at__lt=end)
               .select_related("guardian", "patient", "version__created_by"))
    for feedback in answers:
        rows.append(row(feedback.submitted_at, feedback.patient, "family answered", feedback.version,
                        guardian=str(feedback.guardian or ""), days_practised=feedback.days_practised,
                        days_prescribed=feedback.days_prescribed,
                        adherence=adherence.share(feedback.days_practised, feedback.days_prescribed),
                        question=feedback.question))
    rows.sort(key=lambda r: (r["date"], r["time"], r["patient"], r["event"]))
    return LOG_COLUMNS, rows

"""Handing results back to the EMR or the billing office: the authorization report, the
schedule changes made in pedsdesk, and other apps' logs (``export_report``), as CSV or
XLSX; visits as iCalendar. Every export is audited."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.interop.models import ExternalId
from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.scheduling.models import Appointment, Opening
from pedsdesk.sheets import csv_bytes, xlsx_bytes


@dataclass(frozen=True)
class ExportReport:
    name: str
    title: str
    build: Callable[..., tuple[list[str], list[dict]]]


_REPORTS: dict[str, ExportReport] = {}


def export_report(name: str, title: str) -> Callable:
    """Register ``fn(*, practice, since, today) -> (columns, rows)`` as an export (hep and
    school logs register theirs from their AppConfig.ready)."""

    def register(function: Callable[..., tuple[list[str], list[dict]]]) -> Callable:
        _REPORTS[name] = ExportReport(name, title, function)
        return function

    return register


def reports() -> dict[str, ExportReport]:
    return dict(sorted(_REPORTS.items()))


@export_report("authorizations", "Authorizations")
def authorization_report(*, practice: Practice, since: dt.date, today: dt.date) -> tuple[list[str], list[dict]]:
    """The board's figures for every authorization (the same query as the report command)."""
    from pedsdesk.authorizations.queries import REPORT_COLUMNS, board, flat_report_row, report_row

    return REPORT_COLUMNS, [flat_report_row(report_row(s))
                            for s in board(practice, today=today, show="all", sort="patient")]


SCHEDULE_COLUMNS = ["change", "date", "start", "end", "patient", "therapist", "emr_appointment_id",
                    "replaces_date", "replaces_start", "replaces_emr_appointment_id"]


@export_report("schedule-changes", "Schedule changes")
def schedule_changes(*, practice: Practice, since: dt.date, today: dt.date) -> tuple[list[str], list[dict]]:
    """Makeups booked and openings filled in pedsdesk since ``since``, for the front desk to
    enter in the EMR (with the EMR's id of the visit each replaces, where pedsdesk knows it)."""
    zone = practice.zone
    start = dt.datetime.combine(since, dt.time(), tzinfo=zone)
    emr_ids = {object_id: f"{source}:{external_id}" for object_id, source, external_id in ExternalId.objects.filter(
        practice=practice, record_type="appointments").values_list("object_id", "source", "external_id")}
    rows = []

    def row(change: str, visit: Appointment, replaces: Appointment | None) -> dict:
        local = visit.start_at.astimezone(zone)
        before = replaces.start_at.astimezone(zone) if replaces else None
        return {"change": change, "date": local.date(), "start": f"{local:%H:%M}",
                "end": f"{visit.end_at.astimezone(zone):%H:%M}",
                "patient": f"{visit.patient.last_name}, {visit.patient.first_name}" if visit.patient_id else "",
                "therapist": visit.therapist.get_full_name(), "emr_appointment_id": emr_ids.get(visit.pk, ""),
                "replaces_date": before.date() if before else "", "replaces_start": f"{before:%H:%M}" if before else "",
                "replaces_emr_appointment_id": emr_ids.get(replaces.pk, "") if replaces else ""}

    makeups = Appointment.objects.filter(practice=practice, makeup_for__isnull=False, created_at__gte=start)
    for visit in makeups.select_related("patient", "therapist", "makeup_for").order_by("start_at"):
        rows.append(row("makeup booked", visit, visit.makeup_for))
    filled = Opening.objects.filter(practice=practice, status=Opening.Status.FILLED, filled_by__isnull=False,
                                    filled_by__created_at__gte=start).exclude(filled_by__makeup_for__isnull=False)
    for opening in filled.select_related("filled_by__patient", "filled_by__therapist", "freed_by"):
        rows.append(row("opening filled", opening.filled_by, opening.freed_by))
    rows.sort(key=lambda r: (r["date"], r["start"], r["patient"]))
    return SCHEDULE_COLUMNS, rows


def export_file(*, practice: Practice, name: str, file_format: str, actor: StaffMember | str,
                since: dt.date | None = None) -> bytes:
    """One registered report as CSV or XLSX bytes, audited."""
    report = reports()[name]
    today = practice.local_now().date()
    columns, rows = report.build(practice=practice, since=since or today - dt.timedelta(days=7), today=today)
    data = xlsx_bytes(columns, rows, report.title) if file_format == "xlsx" else csv_bytes(columns, rows)
    record_event(actor=actor, action="export", object_type="interop.report", object_id=name,
                 practice_id=practice.pk, detail={"format": file_format, "rows": len(rows)})
    return data


def visits_ics(*, practice: Practice, start: dt.date, end: dt.date, actor: StaffMember | str) -> bytes:
    """Every visit of the practice between two dates, in the therapist feed's words (child's
    first name and last initial, no clinical detail), cancelled ones STATUS:CANCELLED."""
    from pedsdesk.scheduling.calendar import visits_calendar

    zone = practice.zone
    visits = list(Appointment.objects.filter(
        practice=practice, start_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=zone),
        start_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    ).select_related("patient").order_by("start_at"))
    calendar = visits_calendar(visits, name=f"{practice.name} visits")
    record_event(actor=actor, action="export", object_type="interop.report", object_id="visits",
                 practice_id=practice.pk,
                 detail={"format": "ics", "rows": len(visits), "at": timezone.now().isoformat()})
    return calendar.to_ical()

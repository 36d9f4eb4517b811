"""Exports back to the EMR: CSV and XLSX with formula-injection cells neutralised, the
schedule changes made in pedsdesk, visits as iCalendar; every export audited."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import call_command
from icalendar import Calendar

from conftest import make_patient, next_weekday
from pedsdesk.audit.models import AuditEvent
from pedsdesk.interop.exports import export_file, visits_ics
from pedsdesk.interop.models import ExternalId
from pedsdesk.scheduling.actions import book_appointment, cancel_appointment
from pedsdesk.scheduling.models import Opening
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.sheets import csv_bytes, neutralize, xlsx_bytes

pytestmark = pytest.mark.django_db

EVIL = ["=HYPERLINK(\"http://x.invalid\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]


def test_every_formula_start_is_neutralised_in_csv_and_xlsx():
    assert [neutralize(v) for v in EVIL] == ["'" + v for v in EVIL]
    assert neutralize("Muñoz") == "Muñoz" and neutralize(-3) == -3 and neutralize(None) == ""
    rows = [{"name": v, "n": 1} for v in EVIL]
    text = csv_bytes(["name", "n"], rows).decode("utf-8-sig")
    assert [r[0] for r in csv.reader(io.StringIO(text))][1:] == ["'" + v for v in EVIL]
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(["name", "n"], rows)))
    cells = [row for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert cells == [("'" + v.replace("\r", "\n"), 1) for v in EVIL]  # XML keeps a lone CR as LF
    assert all(cell.data_type == "s" for row in workbook.active.iter_rows(min_row=2, max_col=1) for cell in row)


def test_the_authorization_report_neutralises_a_name_typed_as_a_formula(practice, patient, office_manager):
    patient.first_name = "=cmd|' /C calc'!A0"
    patient.save()
    text = export_file(practice=practice, name="authorizations", file_format="csv", actor=office_manager)
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[0]["patient"] == "'=cmd|' /C calc'!A0 Lopez"
    assert rows[0]["number"].startswith("PA-OT-") and rows[0]["authorized"] == "48"
    workbook = openpyxl.load_workbook(io.BytesIO(export_file(practice=practice, name="authorizations",
                                                             file_format="xlsx", actor=office_manager)))
    assert workbook.active["A1"].value == "patient" and workbook.active.max_row == 2
    assert AuditEvent.objects.filter(action="export", object_id="authorizations").count() == 2


def test_schedule_changes_list_makeups_and_filled_openings_with_the_emr_ids(
        practice, patient, working_week, front_desk, django_capture_on_commit_callbacks):
    tuesday = next_weekday(1)
    visit = book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                             start_at=local_to_utc(tuesday, dt.time(16), practice.zone), minutes=45,
                             plan_of_care=patient.plans_of_care.get())
    ExternalId.objects.create(practice=practice, source="webpt", record_type="appointments", external_id="88102",
                              object_id=visit.pk)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_appointment(actor=front_desk, appointment=visit, by="family", reason="Sick")
    ben = make_patient(practice, "Ben", "Ruiz")
    opening = Opening.objects.get(freed_by=visit, source="cancellation")
    filler = book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=ben,
                              start_at=opening.start_at, minutes=45, override_reason="Filled by phone")
    Opening.objects.filter(pk=opening.pk).update(status=Opening.Status.FILLED, filled_by=filler)
    text = export_file(practice=practice, name="schedule-changes", file_format="csv", actor=front_desk)
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows == [{"change": "opening filled", "date": tuesday.isoformat(), "start": "16:00", "end": "16:45",
                     "patient": "Ruiz, Ben", "therapist": "Theo Tester", "emr_appointment_id": "",
                     "replaces_date": tuesday.isoformat(), "replaces_start": "16:00",
                     "replaces_emr_appointment_id": "webpt:88102"}]


def test_visits_as_icalendar_carry_no_clinical_detail(practice, patient, working_week, front_desk, office_manager):
    tuesday = next_weekday(1)
    book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                     start_at=local_to_utc(tuesday, dt.time(16), practice.zone), minutes=45,
                     plan_of_care=patient.plans_of_care.get())
    data = visits_ics(practice=practice, start=tuesday, end=tuesday, actor=office_manager)
    events = [c for c in Calendar.from_ical(data).walk("VEVENT")]
    assert len(events) == 1 and str(events[0]["summary"]) == "Ava L."
    for clinical in (b"OT", b"Occupational", b"97530", b"Zips coat"):
        assert clinical not in data
    assert AuditEvent.objects.filter(action="export", object_id="visits").exists()


def test_the_export_command_writes_csv_xlsx_and_ics(practice, patient, tmp_path, capsys):
    call_command("export", "authorizations")
    assert capsys.readouterr().out.splitlines()[0].startswith("patient,payer,number")
    out = tmp_path / "auths.xlsx"
    call_command("export", "authorizations", "--format", "xlsx", "--output", str(out))
    assert openpyxl.load_workbook(out).active["C2"].value.startswith("PA-OT-")
    call_command("export", "visits")
    assert capsys.readouterr().out.startswith("BEGIN:VCALENDAR")

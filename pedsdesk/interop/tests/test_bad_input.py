"""Every bad input the issue lists gets a precise rejection (row, column, what to fix), and
after every rejected import the database is exactly as it was."""

import openpyxl
import pytest

from pedsdesk.interop.actions import run_import
from pedsdesk.interop.mapping import presets
from pedsdesk.interop.models import ImportRun
from pedsdesk.interop.tests.conftest import SAMPLES, snapshot
from pedsdesk.interop.tests.test_presets import load

pytestmark = pytest.mark.django_db

PATIENTS_HEADER = "Patient ID,First Name,Last Name,Date of Birth,Guardian First Name,Guardian Phone"


def rejected(practice, actor, preset, tmp_path, text, name="file.csv", **kwargs):
    """Import ``text`` (None: the file ``name`` already made), check nothing changed, and return
    the rejections as (row, column, message)."""
    path = tmp_path / name
    if text is not None:
        path.write_bytes(text.encode() if isinstance(text, str) else text)
    before = snapshot()
    run, report = run_import(practice=practice, mapping=presets()[preset], path=str(path), actor=actor,
                             dry_run=False, **kwargs)
    assert snapshot() == before
    assert run.status == ImportRun.Status.REJECTED and not report.applied
    return [(p.row, p.column, p.message) for p in sorted(report.problems, key=lambda p: (p.row, p.column))]


def test_one_bad_row_among_good_ones_imports_nothing(practice, office_manager, tmp_path):
    text = (f"{PATIENTS_HEADER}\nW1,Ava,Lopez,04/12/2018,Rosa,(512) 555-0142\n"
            "W2,Ben,Ruiz,02/30/2018,Marta,(512) 555-0143\nW3,Cleo,Diaz,2019-01-05,Ines,(512) 555-0144\n")
    assert rejected(practice, office_manager, "generic-patients", tmp_path, text) == [
        (3, 'D "Date of Birth"', "02/30/2018 is not a date that exists; check the day and the month.")]


def test_wrong_columns_name_what_the_file_needs(practice, office_manager, tmp_path):
    text = "Client,Name,Birthday\n1,Ava Lopez,04/12/2018\n"
    problems = rejected(practice, office_manager, "generic-patients", tmp_path, text)
    assert problems[0] == (1, "header", 'No column for the patient id: the file needs "Patient ID" or "Client ID" '
                                        'or "MRN" or "EMR ID". Its columns are Client, Name, Birthday.')
    assert [p[2].split(":")[0] for p in problems] == [
        "No column for the patient id", "No column for the first name", "No column for the last name",
        "No column for the date of birth"]


def test_missing_required_fields_and_a_bad_phone(practice, office_manager, tmp_path):
    text = f"{PATIENTS_HEADER}\nW1,Ava,,04/12/2018,Rosa,(512) 555-0142\nW2,Ben,Ruiz,,Marta,555\n"
    assert rejected(practice, office_manager, "generic-patients", tmp_path, text) == [
        (2, 'C "Last Name"', "The last name is empty; fill it in."),
        (3, 'D "Date of Birth"', "The date of birth is empty; fill it in."),
    ]
    text = f"{PATIENTS_HEADER}\nW2,Ben,Ruiz,2019-01-05,Marta,555\n"
    assert rejected(practice, office_manager, "generic-patients", tmp_path, text) == [
        (2, 'F "Guardian Phone"', "'555' is not a valid phone number; check the area code and the number of digits.")]


def test_a_birth_date_in_the_future(practice, office_manager, tmp_path):
    text = f"{PATIENTS_HEADER}\nW1,Ava,Lopez,04/12/2099,Rosa,(512) 555-0142\n"
    assert rejected(practice, office_manager, "generic-patients", tmp_path, text) == [
        (2, 'D "Date of Birth"', "Date of birth cannot be in the future.")]


def test_duplicate_rows_and_one_id_with_two_sets_of_values(practice, office_manager, tmp_path):
    row = "W1,Ava,Lopez,04/12/2018,Rosa,(512) 555-0142"
    assert rejected(practice, office_manager, "generic-patients", tmp_path, f"{PATIENTS_HEADER}\n{row}\n{row}\n") == [
        (3, 'A "Patient ID"', 'Row 3 repeats row 2 ("Patient ID" W1); delete one of them.')]
    other = "W1,Ava,Lopez,04/13/2018,Rosa,(512) 555-0142"
    assert rejected(practice, office_manager, "generic-patients", tmp_path, f"{PATIENTS_HEADER}\n{row}\n{other}\n") == [
        (3, 'A "Patient ID"', 'Rows 2 and 3 both have "Patient ID" W1 but different D "Date of Birth"; '
                              "keep the right one.")]


def test_an_authorization_that_ends_before_it_starts(practice, office_manager, tmp_path):
    load(practice, "webpt-patients", office_manager)
    text = ("authorization_id,patient_id,ins_name,policy_number,auth_number,auth_start_date,auth_end_date,"
            "visit_authorized_for,authorization_status\n"
            "AU-1,W1001,Lone Star Medicaid,M1,PA-1,2026-09-01,2026-08-01,24,A\n")
    assert rejected(practice, office_manager, "webpt-extract-authorizations", tmp_path, text,
                    resolutions={"payer": {"Lone Star Medicaid": "create"}}) == [
        (2, 'G "auth_end_date"', "The end date 08/01/2026 is before the start date 09/01/2026.")]


def test_a_visit_that_ends_before_it_starts_or_at_a_time_that_does_not_exist(practice, office_manager, dana,
                                                                             tmp_path):
    load(practice, "webpt-patients", office_manager)
    text = ("appointmnet_id,patient_id,therapist_id,start_date,end_date,appointment_status\n"
            "1,W1001,Dana Whitfield,2027-03-15 15:30:00,2027-03-15 15:00:00,Active\n"
            "2,W1001,Dana Whitfield,2027-03-14 02:30:00,2027-03-14 03:15:00,Active\n"
            "3,W1001,Dana Whitfield,2027-03-16 15:30:00,2027-03-16 16:15:00,Deleted\n")
    assert rejected(practice, office_manager, "webpt-extract-appointments", tmp_path, text) == [
        (2, 'E "end_date"', "The visit ends (03/15/2027 03:00 PM) before it starts (03/15/2027 03:30 PM)."),
        (3, 'D "start_date"', "03/14/2027 02:30 AM does not exist in America/Chicago (the clocks spring forward "
                              "then); check the time."),
        (4, 'F "appointment_status"', '"Deleted" is not a status this mapping knows ("Active", "Inactive", "A", '
                                      '"I"); add it to the mapping\'s translations for status.'),
    ]


def test_a_patient_the_emr_knows_but_pedsdesk_does_not(practice, office_manager, dana, tmp_path):
    text = ("appointmnet_id,patient_id,therapist_id,start_date,end_date,appointment_status\n"
            "1,W9999,Dana Whitfield,2027-03-15 15:30:00,2027-03-15 16:15:00,Active\n")
    assert rejected(practice, office_manager, "webpt-extract-appointments", tmp_path, text) == [
        (2, 'B "patient_id"', "WebPT patient W9999 is not in pedsdesk yet: import the patient list first.")]


def test_a_visit_pedsdesk_cannot_book_rejects_the_whole_file(practice, office_manager, dana, tmp_path):
    load(practice, "webpt-patients", office_manager)
    text = ("appointmnet_id,patient_id,therapist_id,start_date,end_date,appointment_status\n"
            "1,W1001,Dana Whitfield,2027-03-15 15:30:00,2027-03-15 16:15:00,Active\n"
            "2,W1002,Dana Whitfield,2027-03-15 15:45:00,2027-03-15 16:30:00,Active\n")
    assert rejected(practice, office_manager, "webpt-extract-appointments", tmp_path, text) == [
        (3, 'D "start_date"', "Dana Whitfield already has a visit at Mon Mar 15 at 3:45 PM. "
                              "(WebPT has this visit; pedsdesk cannot book it.)")]


def test_malformed_files_are_refused_whole(practice, office_manager, tmp_path):
    binary = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    assert rejected(practice, office_manager, "generic-patients", tmp_path, binary, name="photo.csv") == [
        (0, "file", "photo.csv is not a text file (it holds binary data). Export the report as CSV again.")]
    assert rejected(practice, office_manager, "generic-patients", tmp_path, b"", name="empty.csv") == [
        (0, "file", "empty.csv is empty. Export it again from the EMR.")]
    assert rejected(practice, office_manager, "generic-patients", tmp_path, b"PK\x03\x04junk", name="p.xlsx") == [
        (0, "file", "p.xlsx is not a real XLSX workbook (it is not a zip archive). Open it in Excel and save it as "
                    ".xlsx again, or export CSV.")]


def test_an_xlsx_sample_imports_like_its_csv(practice, office_manager, tmp_path):
    import csv

    path = tmp_path / "patients.xlsx"
    workbook = openpyxl.Workbook()
    with open(SAMPLES / "webpt-patients.csv", encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            workbook.active.append(row)
    workbook.save(path)
    _, report = load(practice, "webpt-patients", office_manager, path=path)
    assert not report.problems and report.counts["created"] == 3
    _, again = load(practice, "webpt-patients", office_manager)
    assert again.counts["unchanged"] == 3


def test_staff_import_without_logins_and_a_bad_npi_rejected(practice, office_manager, tmp_path):
    from pedsdesk.practices.models import StaffMember

    header = "Staff ID,First Name,Last Name,Email,Role,Discipline,Credentials,NPI"
    good = "S1,Dana,Whitfield,dana@example.org,Therapist,Occupational Therapy,OTR/L,1234567893"
    assert rejected(practice, office_manager, "generic-staff", tmp_path,
                    f"{header}\n{good}\nS2,Lee,Park,,Therapist,PT,DPT,1234567890\nS3,Ann,Lo,,Therapist,,,\n") == [
        (3, 'H "NPI"', "1234567890 is not a valid NPI: its check digit does not match."),
        (4, 'F "Discipline"', "A therapist needs the discipline and credentials and the NPI; fill them in."),
    ]
    path = tmp_path / "staff.csv"
    path.write_text(f"{header}\n{good}\nS4,Rita,Mendez,rita@example.org,Front Desk,,,\n")
    _, report = run_import(practice=practice, mapping=presets()["generic-staff"], path=str(path),
                           actor=office_manager, dry_run=False)
    assert report.counts["created"] == 2
    dana = StaffMember.objects.get(last_name="Whitfield")
    assert not dana.is_active and not dana.has_usable_password() and dana.therapist_profile.discipline == "OT"
    assert StaffMember.objects.get(last_name="Mendez").role == "front_desk"


def test_a_200_mb_file_a_zip_bomb_and_an_entity_bomb_change_nothing(practice, office_manager, tmp_path):
    from pedsdesk.interop.tests.test_reading import _xlsx_with

    with open(tmp_path / "everything.csv", "wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: nothing is written
    assert rejected(practice, office_manager, "generic-patients", tmp_path, None, name="everything.csv") == [
        (0, "file", "everything.csv is 200 MB; imports take files up to 100 MB. Export a shorter date range, or one "
                    "table at a time.")]
    padding = b"<!-- " + b"0" * (12 * 1024 * 1024) + b" -->"
    _xlsx_with(tmp_path, "bomb.xlsx", lambda name, data: data + padding if name.endswith("sheet1.xml") else data)
    [(row, column, message)] = rejected(practice, office_manager, "generic-patients", tmp_path, None,
                                        name="bomb.xlsx")
    assert (row, column) == (0, "file") and message.startswith("bomb.xlsx is refused: xl/worksheets/sheet1.xml "
                                                               "would expand ")
    assert message.endswith(" times (a zip bomb). Export the report again from the EMR.")
    entities = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>')
    _xlsx_with(tmp_path, "lol.xlsx", lambda name, data: entities if name.endswith("sheet1.xml") else data)
    [(row, column, message)] = rejected(practice, office_manager, "generic-patients", tmp_path, None, name="lol.xlsx")
    assert (row, column) == (0, "file") and "xl/worksheets/sheet1.xml declares XML entities (an entity bomb)" in message


def test_a_200_mb_fhir_bundle_changes_nothing(practice, office_manager, tmp_path):
    from pedsdesk.interop.fhir.importing import import_bundle_file

    path = tmp_path / "bundle.json"
    with open(path, "wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    before = snapshot()
    run, report = import_bundle_file(practice=practice, path=str(path), actor=office_manager, dry_run=False)
    assert snapshot() == before and run.status == ImportRun.Status.REJECTED
    assert [(p.row, p.column, p.message) for p in report.problems] == [
        (0, "file", "The bundle is 200 MB; send at most 50 MB at a time.")]


def test_the_imports_page_refuses_a_200_mb_upload_before_storing_it(practice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from pedsdesk.interop.forms import UploadForm

    upload = SimpleUploadedFile("everything.csv", b"Patient ID\n1\n")
    upload.size = 200 * 1024 * 1024  # what Django reports for a 200 MB upload, without making one
    form = UploadForm(practice, {"mapping": "generic-patients"}, {"file": upload})
    assert not form.is_valid() and form.errors["file"] == [
        "The file is 200 MB; imports take up to 100 MB. Export a shorter date range."]

"""The reading layer: encodings, delimiters, quoted newlines, blank rows, repeated headers,
Excel dates, XLSX streamed and every malformed file refused with what to fix. No database."""

import datetime as dt
import io
import zipfile

import openpyxl
import openpyxl.xml
import pytest

from pedsdesk.interop import reading
from pedsdesk.interop.mapping import MappingError, mapping_from_dict, parse_date, parse_datetime, presets
from pedsdesk.interop.reading import FileRefused, open_table, read_csv, read_xlsx

NAIVE_START = dt.datetime.fromisoformat("2027-03-08T15:30")  # wall-clock, as a spreadsheet holds it


def rows(table):
    return list(table.rows)


def test_utf8_with_and_without_bom_and_windows_1252_all_read_munoz():
    text = "Patient ID,Last Name\n1,Muñoz\n"
    for data, encoding in ((text.encode("utf-8"), "utf-8-sig"), (b"\xef\xbb\xbf" + text.encode("utf-8"), "utf-8-sig"),
                           (text.encode("cp1252"), "cp1252")):
        table = read_csv(io.BytesIO(data))
        assert table.encoding == encoding
        assert table.headers == ["Patient ID", "Last Name"]  # no BOM left on the first header
        assert rows(table) == [(2, ["1", "Muñoz"])]


def test_the_mapping_may_name_the_encoding_and_a_wrong_one_is_explained():
    data = "Patient ID,Last Name\n1,Muñoz\n".encode("cp1252")
    assert rows(read_csv(io.BytesIO(data), encoding="latin-1"))[0][1][1] == "Muñoz"
    with pytest.raises(FileRefused, match=r"not valid utf-8, the encoding the mapping names"):
        read_csv(io.BytesIO(data), encoding="utf-8")
    with pytest.raises(FileRefused, match=r'names the encoding "klingon"'):
        read_csv(io.BytesIO(data), encoding="klingon")


def test_neither_utf8_nor_windows_1252_is_refused_with_a_hint():
    # 0x81 and 0x8D are undefined in Windows-1252 and invalid as UTF-8 here.
    with pytest.raises(FileRefused, match=r"neither UTF-8 nor Windows-1252.*Save it again as CSV UTF-8"):
        read_csv(io.BytesIO(b"ID,Name\n1,\x81\x8d\x81\n"))


@pytest.mark.parametrize("delimiter,name", [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_delimiters_are_sniffed(delimiter, name):
    data = delimiter.join(["Patient ID", "Last Name", "Date of Birth"]) + "\n"
    data += delimiter.join(["1", "Peña", "03/14/2018"]) + "\n"
    table = read_csv(io.BytesIO(data.encode()))
    assert table.delimiter == delimiter and f"separated by {name}" in " ".join(table.notes)
    assert rows(table) == [(2, ["1", "Peña", "03/14/2018"])]


def test_quoted_newlines_stay_in_their_cell_and_rows_are_numbered_as_a_spreadsheet_shows_them():
    data = b'ID,Comment,Name\r\n1,"two\r\nlines",Ava\r\n2,plain,Ben\r\n,,\r\n\r\n,,\r\n'
    assert rows(read_csv(io.BytesIO(data))) == [(2, ["1", "two\r\nlines", "Ava"]), (3, ["2", "plain", "Ben"])]


def test_repeated_and_blank_headers_get_names_and_a_note():
    table = read_csv(io.BytesIO(b"Therapist,Date,Therapist,\n1,2,3,4\n"))
    assert table.headers == ["Therapist", "Date", "Therapist (2)", "Column D"]
    assert 'The header "Therapist" appears 2 times (columns A, C)' in " ".join(table.notes)


def test_binary_files_renamed_csv_are_refused(tmp_path):
    pdf = tmp_path / "schedule.csv"
    pdf.write_bytes(b"%PDF-1.7\n\x00\x01\x02binary")
    with pytest.raises(FileRefused, match=r"not a text file"):
        open_table(str(pdf))
    xlsx = tmp_path / "visits.csv"
    workbook = openpyxl.Workbook()
    workbook.active.append(["ID"])
    workbook.save(xlsx)
    with pytest.raises(FileRefused, match=r"is an Excel workbook or another zip file, not CSV text"):
        open_table(str(xlsx))


def test_a_200_mb_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "everything.csv"
    with open(big, "wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: nothing is written
    with pytest.raises(FileRefused, match=r"everything.csv is 200 MB; imports take files up to 100 MB"):
        open_table(str(big))


def test_an_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileRefused, match=r"empty.csv is empty"):
        open_table(str(empty))


def test_xlsx_is_streamed_read_only_with_native_types(tmp_path):
    path = tmp_path / "visits.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Appointment ID", "Start", "Patient ID"])
    sheet.append([5001, NAIVE_START, "W1001"])
    sheet.append([None, None, None])
    workbook.save(path)
    table = read_xlsx(str(path))
    assert table.headers == ["Appointment ID", "Start", "Patient ID"]
    assert rows(table) == [(2, [5001, NAIVE_START, "W1001"])]


def test_openpyxl_uses_defusedxml():
    assert openpyxl.xml.DEFUSEDXML is True


def _xlsx_with(tmp_path, name, replace):
    source = tmp_path / "good.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["ID"])
    workbook.save(source)
    target = tmp_path / name
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            out.writestr(item, replace(item.filename, src.read(item.filename)))
    return target


def test_an_xml_entity_bomb_inside_an_xlsx_is_refused(tmp_path):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>')
    path = _xlsx_with(tmp_path, "lol.xlsx", lambda name, data: bomb if name.endswith("sheet1.xml") else data)
    with pytest.raises(FileRefused, match=r"xl/worksheets/sheet1.xml declares XML entities \(an entity bomb\)"):
        read_xlsx(str(path))


def test_a_zip_bomb_xlsx_is_refused(tmp_path, monkeypatch):
    padding = b"<!-- " + b"0" * (40 * 1024 * 1024) + b" -->"
    path = _xlsx_with(tmp_path, "bomb.xlsx",
                      lambda name, data: data + padding if name.endswith("sheet1.xml") else data)
    with pytest.raises(FileRefused, match=r"would expand .* times \(a zip bomb\)"):
        read_xlsx(str(path))
    monkeypatch.setattr(reading, "MAX_XLSX_RATIO", 10**9)
    monkeypatch.setattr(reading, "MAX_XLSX_UNCOMPRESSED", 1024 * 1024)
    with pytest.raises(FileRefused, match=r"would expand to 40 MB \(a zip bomb"):
        read_xlsx(str(path))


def test_a_csv_renamed_xlsx_is_refused(tmp_path):
    path = tmp_path / "visits.xlsx"
    path.write_text("ID,Name\n1,Ava\n")
    with pytest.raises(FileRefused, match=r"not a real XLSX workbook"):
        open_table(str(path))


def test_dates_excel_serials_us_and_iso_and_dates_that_do_not_exist():
    formats = ["%m/%d/%Y", "%Y-%m-%d"]
    assert parse_date("03/14/2018", formats) == dt.date(2018, 3, 14)
    assert parse_date("2018-03-14", formats) == dt.date(2018, 3, 14)
    assert parse_date("45123", formats) == dt.date(2023, 7, 16)
    assert parse_date(45123, formats) == dt.date(2023, 7, 16)
    assert parse_datetime(46089.6458333333, formats, []) == dt.datetime.fromisoformat("2026-03-08T15:30")
    with pytest.raises(ValueError, match=r"02/30/2026 is not a date that exists"):
        parse_date("02/30/2026", formats)
    with pytest.raises(ValueError, match=r"March 14 is not a date in the expected form \(03/14/2026 or 2026-03-14\)"):
        parse_date("March 14", formats)
    with pytest.raises(ValueError, match=r"13/45/2026 10:00 AM is not a date and time that exists"):
        parse_datetime("13/45/2026 10:00 AM", formats, ["%m/%d/%Y %I:%M %p"])


def test_every_preset_loads_and_says_to_verify_it():
    shipped = presets()
    assert {"webpt-scheduled-visits", "webpt-extract-appointments", "webpt-extract-authorizations",
            "webpt-analytics-authorizations", "therabill-clients", "therabill-sessions",
            "theralytics-authorizations", "generic-patients", "generic-coverages", "generic-authorizations",
            "generic-appointments"} <= set(shipped)
    for name, mapping in shipped.items():
        if not name.startswith("generic"):
            assert mapping.verify.startswith("Verify against your own export"), name


def test_a_broken_mapping_names_the_key_to_fix():
    base = {"name": "x", "source": "webpt", "record_type": "appointments",
            "columns": {"external_id": "ID", "patient_external_id": "P", "therapist": "T", "start": "S"}}
    mapping_from_dict(base)
    with pytest.raises(MappingError, match=r'appointments have no field "colour"'):
        mapping_from_dict({**base, "columns": {**base["columns"], "colour": "C"}})
    with pytest.raises(MappingError, match=r"translate.status: gone is not one of booked"):
        mapping_from_dict({**base, "translate": {"status": {"Gone": "gone"}}})
    with pytest.raises(MappingError, match=r'record_type "visits" is not one of'):
        mapping_from_dict({**base, "record_type": "visits"})
    with pytest.raises(MappingError, match=r'encoding: "klingon" is not an encoding pedsdesk knows; leave it empty'):
        mapping_from_dict({**base, "encoding": "klingon"})
    assert mapping_from_dict({**base, "encoding": "cp1252"}).encoding == "cp1252"

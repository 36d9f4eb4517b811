"""Writing rows for a spreadsheet (CSV or XLSX), with every cell safe to open (no Django).

Every CSV or XLSX pedsdesk writes goes through here: the exports back to the EMR, the
``pedsdesk report ... --format csv`` reports and ``pedsdesk authorizations report``.

A cell that starts with =, +, -, @, a tab or a carriage return would run as a formula in
Excel or LibreOffice (OWASP "CSV injection"), so it is written with a leading apostrophe,
which spreadsheets show as text. Numbers stay numbers.
"""

import csv
import datetime as dt
import decimal
import io
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """The value as a spreadsheet cell: text starting like a formula gets an apostrophe."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("yes" if value else "no")
    if isinstance(value, int | float | decimal.Decimal | dt.date):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(columns: list[str], rows: Iterable[dict], handle: IO[str]) -> int:
    """The rows' ``columns`` (others ignored) as CSV, neutralised; returns how many rows.
    Lines end in CRLF (RFC 4180), which also makes the writer quote a cell holding a lone CR."""
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow([neutralize(c) for c in columns])
    count = 0
    for row in rows:
        writer.writerow([neutralize(row.get(c)) for c in columns])
        count += 1
    return count


def csv_bytes(columns: list[str], rows: Iterable[dict]) -> bytes:
    """UTF-8 with a BOM, so Excel opens accented names correctly."""
    buffer = io.StringIO()
    write_csv(columns, rows, buffer)
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def xlsx_bytes(columns: list[str], rows: Iterable[dict], title: str = "Report") -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append([neutralize(c) for c in columns])
    for row in rows:
        sheet.append([neutralize(row.get(c)) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

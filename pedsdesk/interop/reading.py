"""Reading an EMR export (CSV or XLSX) as rows of cells, streamed, with no Django.

Everything a spreadsheet or an EMR does to a file is handled here: encodings (strict
UTF-8 with or without a BOM, else Windows-1252, or the encoding the mapping names),
delimiters, quoted newlines, blank rows, repeated header names, binary files with the
wrong name, XLSX zip bombs and XML entity bombs. Rows are numbered as a spreadsheet
shows them: the header is row 1.
"""

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

# A nightly export of a large practice is a few MB; anything this big is a mistake.
MAX_FILE_BYTES = int(os.environ.get("PEDSDESK_IMPORT_MAX_BYTES", 100 * 1024 * 1024))
# Limits on what an XLSX may expand to (the zip-bomb checks).
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 200
SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


class FileRefused(Exception):
    """The file as a whole cannot be read; the message says what to do about it."""


@dataclass
class Table:
    """A file's header and a stream of its data rows as (row number, cells)."""

    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    kind: str
    encoding: str = ""
    delimiter: str = ""
    notes: list[str] = field(default_factory=list)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA, as a spreadsheet labels its columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _check_size(size: int, name: str) -> None:
    if size > MAX_FILE_BYTES:
        raise FileRefused(
            f"{name} is {size / 1024 / 1024:.0f} MB; imports take files up to "
            f"{MAX_FILE_BYTES / 1024 / 1024:.0f} MB. Export a shorter date range, or one table at a time."
        )
    if size == 0:
        raise FileRefused(f"{name} is empty. Export it again from the EMR.")


def _unique_headers(raw: list[Any]) -> tuple[list[str], list[str]]:
    """Blank headers become "Column C"; a repeated header becomes "Name (2)", with a note."""
    headers, notes, seen = [], [], {}
    for index, value in enumerate(raw):
        name = " ".join(str(value if value is not None else "").split()) or f"Column {column_letter(index)}"
        key = name.casefold()
        if key in seen:
            seen[key].append(index)
            headers.append(f"{name} ({len(seen[key])})")
        else:
            seen[key] = [index]
            headers.append(name)
    for indexes in seen.values():
        if len(indexes) > 1:
            first = headers[indexes[0]]
            letters = ", ".join(column_letter(i) for i in indexes)
            notes.append(f'The header "{first}" appears {len(indexes)} times (columns {letters}); '
                         f'the first is "{first}", the others "{first} (2)" and so on.')
    return headers, notes


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# CSV


def decode_check(handle: IO[bytes], encoding: str) -> bool:
    """Whether the whole stream decodes strictly as ``encoding`` (read in chunks, not held)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    handle.seek(0)
    try:
        while chunk := handle.read(1024 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def choose_encoding(handle: IO[bytes], named: str = "") -> tuple[str, str]:
    """The encoding to read with, and a note for the dry run.

    Strict UTF-8 first (a BOM is dropped), then Windows-1252, the encoding Excel on
    Windows saves in. Detection guesses wrong on Spanish names (it reads Windows-1252
    as cp1250, "Muñoz" as "Muńoz"), so it is only quoted in the message when both fail.
    """
    if named:
        try:
            codecs.lookup(named)
        except LookupError:
            raise FileRefused(f'The mapping names the encoding "{named}", which Python does not know; '
                              "use one like utf-8 or cp1252.") from None
        if not decode_check(handle, named):
            raise FileRefused(f"The file is not valid {named}, the encoding the mapping names. "
                              "Remove the encoding from the mapping or save the file again in that encoding.")
        return named, f"Read as {named}, as the mapping says."
    if decode_check(handle, "utf-8-sig"):
        return "utf-8-sig", "Read as UTF-8."
    if decode_check(handle, "cp1252"):
        return "cp1252", "Read as Windows-1252 (it is not UTF-8)."
    handle.seek(0)
    hint = ""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(handle.read(SNIFF_BYTES)).best()
        hint = f" It may be {best.encoding}." if best else ""
    except ImportError:  # pragma: no cover - charset-normalizer is a pinned dependency
        pass
    raise FileRefused("The file is neither UTF-8 nor Windows-1252." + hint +
                      " Save it again as CSV UTF-8, or name its encoding in the mapping.")


def _refuse_binary(head: bytes, name: str) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise FileRefused(f"{name} is an Excel workbook or another zip file, not CSV text. "
                          "Upload it with the .xlsx name, or export it again as CSV.")
    if b"\x00" in head[:SNIFF_BYTES] and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(f"{name} is not a text file (it holds binary data). Export the report as CSV again.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(f"{name} is saved as UTF-16 (Excel's \"Unicode text\"). "
                          "Save it as \"CSV UTF-8\" instead, or name utf-16 as the mapping's encoding.")


def sniff_delimiter(sample: str) -> str:
    """Comma, semicolon or tab, from the first lines of the file."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        return max(DELIMITERS, key=first.count)


def read_csv(handle: IO[bytes], *, name: str = "The file", encoding: str = "", delimiter: str = "") -> Table:
    handle.seek(0, io.SEEK_END)
    _check_size(handle.tell(), name)
    handle.seek(0)
    head = handle.read(SNIFF_BYTES)
    if not encoding.lower().startswith("utf-16"):
        _refuse_binary(head, name)
    chosen, note = choose_encoding(handle, encoding)
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding=chosen, newline="")
    sample = text.read(SNIFF_BYTES)
    text.seek(0)
    delimiter = delimiter or sniff_delimiter(sample)
    reader = csv.reader(text, delimiter=delimiter)
    try:
        raw = next(reader)
    except StopIteration:
        raise FileRefused(f"{name} has no header row.") from None
    except csv.Error as exc:
        raise FileRefused(f"{name} cannot be read as CSV: {exc}.") from None
    headers, notes = _unique_headers(raw)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        number = 1
        try:
            for cells in reader:
                number += 1
                if not _blank(cells):
                    yield number, cells
        except csv.Error as exc:
            raise FileRefused(f"Row {number + 1} cannot be read as CSV ({exc}); "
                              "check for an unclosed quote.") from None

    notes = [note, f"Columns separated by {DELIMITER_NAMES.get(delimiter, repr(delimiter))}.", *notes]
    return Table(headers=headers, rows=rows(), kind="csv", encoding=chosen, delimiter=delimiter, notes=notes)


# XLSX


def check_xlsx_archive(path_or_handle: Any, name: str = "The file") -> None:
    """Refuse a zip bomb or an XML entity bomb before openpyxl opens the workbook."""
    try:
        archive = zipfile.ZipFile(path_or_handle)
    except zipfile.BadZipFile:
        raise FileRefused(f"{name} is not a real XLSX workbook (it is not a zip archive). "
                          "Open it in Excel and save it as .xlsx again, or export CSV.") from None
    with archive:
        total = 0
        for member in archive.infolist():
            total += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > MAX_XLSX_RATIO and member.file_size > 10 * 1024 * 1024:
                raise FileRefused(f"{name} is refused: {member.filename} would expand {ratio:.0f} times "
                                  "(a zip bomb). Export the report again from the EMR.")
        if total > MAX_XLSX_UNCOMPRESSED:
            raise FileRefused(f"{name} is refused: it would expand to {total / 1024 / 1024:.0f} MB "
                              "(a zip bomb, or far more rows than an export holds).")
        if "xl/workbook.xml" not in archive.namelist():
            raise FileRefused(f"{name} is a zip archive but not an Excel workbook (no xl/workbook.xml).")
        for member in archive.infolist():
            if member.filename.endswith((".xml", ".rels")):
                with archive.open(member) as part:
                    head = part.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise FileRefused(f"{name} is refused: {member.filename} declares XML entities "
                                      "(an entity bomb). Excel never writes these; export the report again.")


def read_xlsx(path_or_handle: Any, *, name: str = "The file", sheet: str = "") -> Table:
    import openpyxl
    from defusedxml import DefusedXmlException

    if hasattr(path_or_handle, "seek"):
        path_or_handle.seek(0, io.SEEK_END)
        size = path_or_handle.tell()
        path_or_handle.seek(0)
    else:
        size = os.path.getsize(path_or_handle)
    _check_size(size, name)
    check_xlsx_archive(path_or_handle, name)
    if hasattr(path_or_handle, "seek"):
        path_or_handle.seek(0)
    try:
        workbook = openpyxl.load_workbook(path_or_handle, read_only=True, data_only=True)
    except DefusedXmlException:
        raise FileRefused(f"{name} is refused: it declares XML entities. Export the report again.") from None
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileRefused(f"{name} cannot be opened as a workbook ({exc.__class__.__name__}). "
                          "Open it in Excel and save it as .xlsx again.") from None
    if sheet and sheet not in workbook.sheetnames:
        raise FileRefused(f'{name} has no sheet "{sheet}"; it has {", ".join(workbook.sheetnames)}.')
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    stream = worksheet.iter_rows(values_only=True)
    raw: list[Any] = []
    number = 0
    for number, cells in enumerate(stream, start=1):  # noqa: B007 - number is used after the loop
        if not _blank(list(cells)):
            raw = list(cells)
            break
    if not raw:
        workbook.close()
        raise FileRefused(f"{name} has no header row on its first sheet.")
    while raw and (raw[-1] is None or str(raw[-1]).strip() == ""):
        raw.pop()  # read-only mode reports the sheet's whole dimension; trailing empties are not columns
    headers, notes = _unique_headers(raw)
    header_row = number

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for offset, cells in enumerate(stream, start=header_row + 1):
                values = list(cells[: len(headers)])
                if not _blank(values):
                    yield offset, values
        except DefusedXmlException:
            raise FileRefused(f"{name} is refused: it declares XML entities.") from None
        finally:
            workbook.close()

    return Table(headers=headers, rows=rows(), kind="xlsx", notes=[f'Read sheet "{worksheet.title}".', *notes])


def open_table(path: str, *, encoding: str = "", sheet: str = "", name: str = "") -> Table:
    """A CSV or XLSX file by its name; the caller keeps the file until the rows are read."""
    name = name or os.path.basename(path)
    _check_size(os.path.getsize(path), name)
    if path.lower().endswith((".xlsx", ".xlsm")):
        return read_xlsx(path, name=name, sheet=sheet)
    if path.lower().endswith(".xls"):
        raise FileRefused(f"{name} is an old Excel .xls file; save it as .xlsx or CSV.")
    return read_csv(open(path, "rb"), name=name, encoding=encoding)

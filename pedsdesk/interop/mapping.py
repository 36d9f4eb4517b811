"""Mappings: which column of an export fills which pedsdesk field, declared in a small file.

A mapping (TOML, see pedsdesk/interop/presets/) names its source EMR and record type,
and for each field the header and its aliases, with date formats, value translations
(the EMR's status words → pedsdesk states) and optionally the file's encoding.
Pure Python: a mapping turns one row of cells into typed values, or into
problems that name the row, the column and what to fix.
"""

import codecs
import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pedsdesk.interop.reading import Table, column_letter

PRESET_DIR = Path(__file__).parent / "presets"
DEFAULT_DATE_FORMATS = ["%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y"]
DEFAULT_TIME_FORMATS = ["%I:%M %p", "%I:%M:%S %p", "%H:%M", "%H:%M:%S"]
EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 in the 1900 system (after its 1900 leap-year bug)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, date, datetime, time, int, choice, codes
    label: str
    required: bool = False
    choices: tuple[str, ...] = ()


def _f(name: str, kind: str, label: str, required: bool = False, choices: tuple[str, ...] = ()) -> Field:
    return Field(name, kind, label, required, choices)


APPOINTMENT_STATUSES = ("booked", "confirmed", "checked_in", "completed", "cancelled", "late_cancel", "no_show")
AUTHORIZATION_STATUSES = ("requested", "pending", "approved", "partially_approved", "denied", "expired",
                          "exhausted")
DISCIPLINES = ("OT", "PT", "SLP")

# The fields each record type takes. ``external_id`` is the EMR's stable id for the row.
RECORD_TYPES: dict[str, list[Field]] = {
    "patients": [
        _f("external_id", "text", "patient id", True),
        _f("first_name", "text", "first name", True),
        _f("last_name", "text", "last name", True),
        _f("full_name", "text", "name (Last, First)"),
        _f("date_of_birth", "date", "date of birth", True),
        _f("guardian_first_name", "text", "guardian first name"),
        _f("guardian_last_name", "text", "guardian last name"),
        _f("guardian_relationship", "choice", "guardian relationship",
           choices=("mother", "father", "grandparent", "foster_parent", "legal_guardian", "other")),
        _f("guardian_phone", "text", "guardian phone"),
        _f("guardian_email", "text", "guardian email"),
        _f("guardian_language", "choice", "guardian language", choices=("en", "es")),
    ],
    "coverages": [
        _f("external_id", "text", "coverage id", True),
        _f("patient_external_id", "text", "patient id", True),
        _f("payer", "text", "payer", True),
        _f("member_id", "text", "member id", True),
        _f("group_number", "text", "group number"),
        _f("priority", "choice", "priority", choices=("1", "2", "3")),
        _f("start_date", "date", "coverage start", True),
        _f("end_date", "date", "coverage end"),
    ],
    "authorizations": [
        _f("external_id", "text", "authorization id", True),
        _f("patient_external_id", "text", "patient id", True),
        _f("payer", "text", "payer", True),
        _f("member_id", "text", "member id"),
        _f("number", "text", "authorization number", True),
        _f("discipline", "choice", "discipline", True, DISCIPLINES),
        _f("start_date", "date", "start date", True),
        _f("end_date", "date", "end date", True),
        _f("status", "choice", "status", choices=AUTHORIZATION_STATUSES),
        _f("cpt_codes", "codes", "CPT codes"),
        _f("modifier", "text", "modifier"),
        _f("unit_type", "choice", "unit type", choices=("visits", "units")),
        _f("quantity", "int", "authorized visits or units", True),
        _f("per_week_cap", "int", "per-week cap"),
        _f("per_month_cap", "int", "per-month cap"),
        _f("cap", "cap", "units per period (like 8/week)"),
        _f("notes", "text", "notes"),
        _f("export_flag", "choice", "export flag", choices=("1", "2", "3")),
    ],
    "appointments": [
        _f("external_id", "text", "appointment id", True),
        _f("patient_external_id", "text", "patient id", True),
        _f("therapist", "text", "therapist", True),
        _f("start", "datetime", "start"),
        _f("date", "date", "appointment date"),
        _f("start_time", "time", "start time"),
        _f("end", "datetime", "end"),
        _f("end_time", "time", "end time"),
        _f("minutes", "int", "length in minutes"),
        _f("status", "choice", "status", choices=APPOINTMENT_STATUSES),
        _f("cancelled_by", "choice", "cancelled by", choices=("family", "clinic")),
        _f("cancel_reason", "text", "cancel reason"),
        _f("kind", "choice", "appointment type", choices=("evaluation", "treatment", "re_evaluation")),
        _f("export_flag", "choice", "export flag", choices=("1", "2", "3")),
    ],
    "plans_of_care": [
        _f("external_id", "text", "plan of care id", True),
        _f("patient_external_id", "text", "patient id", True),
        _f("therapist", "text", "therapist", True),
        _f("discipline", "choice", "discipline", True, DISCIPLINES),
        _f("frequency_per_week", "int", "visits a week", True),
        _f("minutes", "int", "minutes a visit", True),
        _f("start_date", "date", "start date", True),
        _f("end_date", "date", "end date", True),
        _f("cpt_codes", "codes", "CPT codes"),
        _f("goals", "text", "goals", True),
    ],
    "staff": [
        _f("external_id", "text", "staff id", True),
        _f("first_name", "text", "first name", True),
        _f("last_name", "text", "last name", True),
        _f("email", "text", "email"),
        _f("role", "choice", "role", True, ("office_manager", "front_desk", "therapist", "billing")),
        _f("discipline", "choice", "discipline", choices=DISCIPLINES),
        _f("credentials", "text", "credentials"),
        _f("npi", "text", "NPI"),
    ],
}
RECORD_LABELS = {"patients": "patients and guardians", "coverages": "coverages",
                 "authorizations": "authorizations", "appointments": "appointments",
                 "plans_of_care": "plans of care", "staff": "staff"}


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the key to fix."""


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    aliases: tuple[str, ...] = ()
    default: str = ""


@dataclass
class Mapping:
    name: str
    source: str
    record_type: str
    columns: dict[str, Column]
    date_formats: list[str] = field(default_factory=lambda: list(DEFAULT_DATE_FORMATS))
    datetime_formats: list[str] = field(default_factory=list)
    translate: dict[str, dict[str, str]] = field(default_factory=dict)
    encoding: str = ""
    sheet: str = ""
    verify: str = ""
    preset: str = ""

    @property
    def fields(self) -> list[Field]:
        return RECORD_TYPES[self.record_type]

    def to_dict(self) -> dict:
        return {
            "name": self.name, "source": self.source, "record_type": self.record_type,
            "encoding": self.encoding, "sheet": self.sheet, "verify": self.verify, "preset": self.preset,
            "date_formats": self.date_formats, "datetime_formats": self.datetime_formats,
            "columns": {c.field: {"header": c.header, "aliases": list(c.aliases), "default": c.default}
                        for c in self.columns.values()},
            "translate": self.translate,
        }


def mapping_from_dict(data: dict, preset: str = "") -> Mapping:
    """Check a mapping's structure, naming the key at fault."""
    for key in ("name", "source", "record_type", "columns"):
        if not data.get(key):
            raise MappingError(f'The mapping needs "{key}".')
    record_type = data["record_type"]
    if record_type not in RECORD_TYPES:
        raise MappingError(f'record_type "{record_type}" is not one of {", ".join(RECORD_TYPES)}.')
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", str(data["source"])):
        raise MappingError("source is a short lower-case name such as webpt; external ids are kept per source.")
    known = {f.name: f for f in RECORD_TYPES[record_type]}
    columns = {}
    for name, spec in data["columns"].items():
        if name not in known:
            raise MappingError(f'columns.{name}: {record_type} have no field "{name}"; '
                               f'the fields are {", ".join(known)}.')
        spec = {"header": spec} if isinstance(spec, str) else spec
        if not spec.get("header") and not spec.get("default"):
            raise MappingError(f"columns.{name} needs a header (or a default value).")
        columns[name] = Column(name, str(spec.get("header", "")), tuple(str(a) for a in spec.get("aliases", [])),
                               str(spec.get("default", "")))
    for name, translations in (data.get("translate") or {}).items():
        target = known.get(name)
        if target is None:
            raise MappingError(f'translate.{name}: {record_type} have no field "{name}".')
        if target.choices:
            wrong = sorted(v for v in translations.values() if v not in target.choices)
            if wrong:
                raise MappingError(f"translate.{name}: {', '.join(wrong)} is not one of "
                                   f"{', '.join(target.choices)}.")
    for spec in ("date_formats", "datetime_formats"):
        for fmt in data.get(spec, []):
            if "%" not in fmt:
                raise MappingError(f'{spec}: "{fmt}" is not a date format; write it like %m/%d/%Y.')
    if data.get("encoding"):
        try:
            codecs.lookup(str(data["encoding"]))
        except LookupError:
            raise MappingError(f'encoding: "{data["encoding"]}" is not an encoding pedsdesk knows; leave it empty '
                               "(UTF-8, else Windows-1252) or write one like cp1252.") from None
    has_start = {"start"} & set(columns) or {"date", "start_time"} <= set(columns)
    if record_type == "appointments" and not has_start:
        raise MappingError("An appointments mapping needs start, or date and start_time.")
    return Mapping(
        name=str(data["name"]), source=str(data["source"]), record_type=record_type, columns=columns,
        date_formats=list(data.get("date_formats") or DEFAULT_DATE_FORMATS),
        datetime_formats=list(data.get("datetime_formats") or []),
        translate={k: {str(a): str(b) for a, b in v.items()} for k, v in (data.get("translate") or {}).items()},
        encoding=str(data.get("encoding", "")), sheet=str(data.get("sheet", "")),
        verify=str(data.get("verify", "")), preset=preset or str(data.get("preset", "")),
    )


def load_mapping(path: Path | str) -> Mapping:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path.name} is not valid TOML: {exc}.") from None
    return mapping_from_dict(data, preset=path.stem)


def presets() -> dict[str, Mapping]:
    """Every shipped mapping by its file name: the generic templates and the EMR presets."""
    return {p.stem: load_mapping(p) for p in sorted(PRESET_DIR.glob("*.toml"))}


# Turning a row into values


@dataclass
class Problem:
    """One reason a row cannot be imported."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


def normalize_header(text: str) -> str:
    return re.sub(r"[\s_\-./#]+", " ", str(text)).strip().casefold()


@dataclass
class BoundMapping:
    """A mapping matched against one file's header: field → column index."""

    mapping: Mapping
    headers: list[str]
    index: dict[str, int]

    def where(self, name: str) -> str:
        if name in self.index:
            i = self.index[name]
            return f'{column_letter(i)} "{self.headers[i]}"'
        return f'"{self.mapping.columns[name].header}"' if name in self.mapping.columns else name


def bind(mapping: Mapping, table: Table) -> tuple[BoundMapping, list[Problem]]:
    """Find each mapped column by its header or an alias; missing required columns are problems on row 1."""
    lookup = {normalize_header(h): i for i, h in reversed(list(enumerate(table.headers)))}
    index, problems = {}, []
    for column in mapping.columns.values():
        for candidate in (column.header, *column.aliases):
            if candidate and normalize_header(candidate) in lookup:
                index[column.field] = lookup[normalize_header(candidate)]
                break
    for f in mapping.fields:
        column = mapping.columns.get(f.name)
        if f.required and f.name not in index and not (column and column.default):
            if f.name in ("first_name", "last_name") and "full_name" in index:
                continue
            names = [column.header, *column.aliases] if column else []
            wanted = " or ".join(f'"{n}"' for n in names if n) or f"a {f.label} column"
            problems.append(Problem(1, "header", f"No column for the {f.label}: the file needs {wanted}. "
                                                 f"Its columns are {', '.join(table.headers)}."))
    return BoundMapping(mapping, table.headers, index), problems


def excel_serial(value: float) -> dt.datetime:
    # Excel keeps a time as a fraction of a day; round to the second it meant.
    return dt.datetime.combine(EXCEL_EPOCH, dt.time()) + dt.timedelta(seconds=round(float(value) * 86400))


def _as_serial(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\d{4,5}(\.\d+)?", value.strip()):
        return float(value)
    return None


def _example(fmt: str) -> str:
    return dt.datetime(2026, 3, 14, 15, 30, tzinfo=dt.UTC).strftime(fmt)


def parse_date(value: Any, formats: list[str]) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    serial = _as_serial(value)
    if serial is not None:
        if not 1 <= serial <= 2958465:
            raise ValueError(f"{value} is not an Excel date serial number.")
        return excel_serial(serial).date()
    text = str(value).strip()
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no instant
        except ValueError:
            continue
    # A well-formed date that does not exist (02/30/2026) gets its own message.
    for fmt in formats:
        if _shape(fmt).fullmatch(text):
            raise ValueError(f"{text} is not a date that exists; check the day and the month.")
    raise ValueError(f"{text} is not a date in the expected form ({' or '.join(_example(f) for f in formats)}).")


def _shape(fmt: str) -> re.Pattern:
    pattern = re.escape(fmt)
    for code, part in (("%Y", r"\d{4}"), ("%m", r"\d{1,2}"), ("%d", r"\d{1,2}"), ("%y", r"\d{2}"),
                       ("%H", r"\d{1,2}"), ("%I", r"\d{1,2}"), ("%M", r"\d{2}"), ("%S", r"\d{2}"),
                       ("%p", r"[AaPp][Mm]")):
        pattern = pattern.replace(re.escape(code), part)
    return re.compile(pattern)


def parse_time(value: Any) -> dt.time:
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if isinstance(value, float) and 0 <= value < 1:  # Excel stores a time as a fraction of a day
        return excel_serial(value).time()
    text = str(value).strip().upper()
    for fmt in DEFAULT_TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).time()  # noqa: DTZ007 - a wall-clock time
        except ValueError:
            continue
    raise ValueError(f"{value} is not a time (write it like 3:30 PM or 15:30).")


def parse_datetime(value: Any, date_formats: list[str], datetime_formats: list[str]) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value
    serial = _as_serial(value)
    if serial is not None:
        return excel_serial(serial)
    text = " ".join(str(value).split())
    formats = datetime_formats or [f"{d} {t}" for d in date_formats for t in DEFAULT_TIME_FORMATS]
    for fmt in [*formats, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]:
        try:
            # Wall-clock time in the practice's zone; the engine makes it aware (and catches DST gaps).
            return dt.datetime.strptime(text.upper() if "%p" in fmt else text, fmt)  # noqa: DTZ007
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(text)
        return parsed
    except ValueError:
        pass
    for fmt in formats:
        if _shape(fmt).fullmatch(text.upper()):
            raise ValueError(f"{text} is not a date and time that exists; check the day, month and hour.")
    raise ValueError(f"{text} is not a date and time in the expected form "
                     f"(like {_example(formats[0]) if formats else '2026-03-14T15:30'}).")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # ids read from XLSX as 12345.0
    return " ".join(str(value).split())


def convert(bound: BoundMapping, number: int, cells: list[Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Typed values for one row, or the problems with it (row, column, what to fix)."""
    mapping = bound.mapping
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for f in mapping.fields:
        column = mapping.columns.get(f.name)
        raw: Any = None
        if f.name in bound.index and bound.index[f.name] < len(cells):
            raw = cells[bound.index[f.name]]
        if (raw is None or _text(raw) == "") and column and column.default:
            raw = column.default
        where = bound.where(f.name)
        if raw is None or _text(raw) == "":
            values[f.name] = None
            continue
        try:
            values[f.name] = _convert_one(f, raw, mapping)
        except ValueError as exc:
            problems.append(Problem(number, where, f"{exc}"))
    if mapping.record_type == "patients" and values.get("full_name") and not values.get("first_name"):
        last, _, first = values["full_name"].partition(",")
        if not first.strip():
            problems.append(Problem(number, bound.where("full_name"),
                                    f'"{values["full_name"]}" is not written "Last, First".'))
        values["first_name"], values["last_name"] = first.strip(), last.strip()
    for f in mapping.fields:
        if (f.required and values.get(f.name) in (None, "")
                and not any(p.column == bound.where(f.name) for p in problems)
                and (f.name in bound.index or f.name in ("first_name", "last_name"))):
                problems.append(Problem(number, bound.where(f.name), f"The {f.label} is empty; fill it in."))
    return values, problems


def _convert_one(f: Field, raw: Any, mapping: Mapping) -> Any:
    if f.kind == "date":
        return parse_date(raw, mapping.date_formats)
    if f.kind == "datetime":
        return parse_datetime(raw, mapping.date_formats, mapping.datetime_formats)
    if f.kind == "time":
        return parse_time(raw)
    text = _text(raw)
    translations = mapping.translate.get(f.name, {})
    folded = {k.casefold(): v for k, v in translations.items()}
    if text.casefold() in folded:
        text = folded[text.casefold()]
    if f.kind == "int":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f'"{text}" is not a whole number.') from None
        if number != number.to_integral_value() or number < 0:
            raise ValueError(f'"{text}" is not a whole number of zero or more.')
        return int(number)
    if f.kind == "cap":
        match = re.fullmatch(r"(\d+)\s*(?:/|per|a|every)\s*(week|wk|month|mo)", text.casefold())
        if not match:
            raise ValueError(f'"{text}" is not a cap pedsdesk can keep; write it like 8/week or 12/month.')
        return (int(match.group(1)), "week" if match.group(2).startswith("w") else "month")
    if f.kind == "codes":
        codes = [c for c in re.split(r"[\s,;/]+", text) if c]
        wrong = [c for c in codes if not re.fullmatch(r"\d{4}[0-9A-Z]", c)]
        if wrong:
            raise ValueError(f"{', '.join(wrong)} is not a CPT code (five characters, like 97530).")
        return codes
    if f.kind == "choice":
        for choice in f.choices:
            if text.casefold() == choice.casefold():
                return choice
        words = ", ".join(f'"{k}"' for k in translations) if translations else ", ".join(f.choices)
        raise ValueError(f'"{text}" is not a {f.label} this mapping knows ({words}); '
                         f"add it to the mapping's translations for {f.name}.")
    return text

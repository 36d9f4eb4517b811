"""One set of field rules for every form, API schema and model of pedsdesk.

The rules are plain functions that return what is wrong with a value (or ``None``).
They reach the three places input arrives through one adapter each:

- models: ``FieldRules`` (a mixin before ``models.Model``) checks every text and date
  field in ``clean_fields``, so ModelForms, the admin and the API (which all call
  ``full_clean``) refuse the same values with the same message;
- plain Django forms: ``validate_date`` / ``validate_line`` / ``validate_text`` as validators;
- API schemas: the ``Name``, ``Phone``, ``Line``, ``Note`` and ``SaneDate`` annotated types.

The rules:
- text carries no control characters (multi-line text may hold newlines and tabs),
  no NUL and no lone surrogate (neither can be stored or sent as UTF-8);
- a value that is typed is not only spaces; a phone number has its digits;
- multi-line text (notes, goals) has a length limit per field, said in the message;
- dates lie between ``DATE_MIN`` and ``DATE_MAX``, said in the message;
- numbers listed in ``NUMBER_LIMITS`` lie in their range, said in the message (plain
  forms: ``NumberFormField``; API schemas: ``Ranged``).
"""

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from pydantic import AfterValidator, BeforeValidator, Field

DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
DATE_WINDOW = f"between {DATE_MIN:%Y-%m-%d} and {DATE_MAX:%Y-%m-%d}"

LINE_MAX = 200  # one-line free text (a reason, a title) when the model gives no max_length
TEXT_MAX = 4000  # multi-line text unless TEXT_LIMITS says otherwise
# Per-field limits of multi-line text, by model field name.
TEXT_LIMITS = {
    "goals": 4000,
    "notes": 4000,
    "decision_note": 2000,
    "question": 2000,
}
_MULTILINE_OK = {"\n", "\r", "\t"}
# Ranges of numbers, by "app_label.Model.field": the same limits for the model, its
# forms and the API. A home program's dose is the same whether from the library or a program.
_DOSE = {"repetitions": (1, 200), "sets": (1, 20), "minutes": (1, 120), "days_per_week": (1, 7)}
NUMBER_LIMITS: dict[str, tuple[int | Decimal, int | Decimal]] = {
    **{f"hep.{model}.{name}": limits for model in ("Activity", "ProgramItem", "TemplateItem")
       for name, limits in _DOSE.items()},
    "hep.ReviewTime.minutes": (1, 240),
    "hep.HepPolicy.open_within_hours": (1, 336),
    "hep.HepPolicy.low_adherence": (Decimal("0.05"), Decimal("1.00")),
    "hep.HepPolicy.feedback_days_before": (1, 14),
    "hep.HepPolicy.nudge_days": (1, 30),
}


def _unstorable(char: str) -> str | None:
    if char == "\x00":
        return "Remove the NUL character (U+0000); it cannot be stored."
    if "\ud800" <= char <= "\udfff":
        return f"Remove the broken character (U+{ord(char):04X}, half of a surrogate pair); it cannot be stored."
    return None


def unstorable_problem(value: str) -> str | None:
    """NUL and lone surrogates: no database or channel takes them, in any field."""
    for char in value:
        if problem := _unstorable(char):
            return problem
    return None


def find_unstorable(data: Any, path: tuple = ()) -> tuple[tuple, str] | None:
    """The first string (or key) in parsed JSON that holds an unstorable character, with its path."""
    if isinstance(data, str):
        problem = unstorable_problem(data)
        return (path, problem) if problem else None
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for key, value in items:
        if isinstance(key, str) and (problem := unstorable_problem(key)):
            return (*path, key), problem
        if found := find_unstorable(value, (*path, key)):
            return found
    return None


def _control_problem(value: str, *, multiline: bool) -> str | None:
    for char in value:
        if problem := _unstorable(char):
            return problem
        if multiline and char in _MULTILINE_OK:
            continue
        if unicodedata.category(char) == "Cc":
            return f"Remove the control character U+{ord(char):04X}; only printable text is allowed here."
    return None


def line_problem(value: str) -> str | None:
    """One line of text: a name, a phone number, a member id, a reason."""
    if problem := _control_problem(value, multiline=False):
        return problem
    if value and not value.strip():
        return "Type a value, not only spaces (or leave it empty where that is allowed)."
    return None


def text_problem(value: str, limit: int = TEXT_MAX) -> str | None:
    """Multi-line text (notes, goals): printable, not only spaces, at most ``limit`` characters."""
    if problem := _control_problem(value, multiline=True):
        return problem
    if value and not value.strip():
        return "Type some text, not only spaces (or leave it empty where that is allowed)."
    if len(value) > limit:
        return f"Keep this to {limit:,} characters or fewer; it has {len(value):,}."
    return None


PHONE_FIELDS = {"phone", "fax", "mobile"}


def phone_problem(value: str) -> str | None:
    """A phone number as typed (formats vary: extensions, letters for words are not numbers)."""
    if problem := line_problem(value):
        return problem
    if value and not any(c.isdigit() for c in value):  # whether the digits make a number is the model's check
        return "A phone number needs its digits, e.g. (512) 555-0100; leave it empty if there is none."
    return None


def date_problem(value: dt.date) -> str | None:
    day = value.date() if isinstance(value, dt.datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        return f"Use a date {DATE_WINDOW}; {day.isoformat()} is outside that window."
    return None


def text_limit(field_name: str) -> int:
    return TEXT_LIMITS.get(field_name, TEXT_MAX)


def number_limits(model: Any, field_name: str) -> tuple[Any, Any] | None:
    """The range ``NUMBER_LIMITS`` gives ``model``'s field (a model class or instance), if any."""
    return NUMBER_LIMITS.get(f"{model._meta.label}.{field_name}")


def number_problem(value: Any, limits: tuple[Any, Any]) -> str | None:
    low, high = limits
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return f"Use a number from {low} to {high}."
    if not low <= number <= high:
        return f"Use a number from {low} to {high}; {value} is outside that range."
    return None


def field_problem(field: models.Field, value: Any) -> str | None:
    """What is wrong with ``value`` for the model field ``field``, by the rules above."""
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        limits = number_limits(field.model, field.name)
        return number_problem(value, limits) if limits else None
    if isinstance(value, str):
        if isinstance(field, models.TextField):
            return text_problem(value, text_limit(field.name))
        if isinstance(field, models.CharField):
            return phone_problem(value) if field.name in PHONE_FIELDS else line_problem(value)
    elif isinstance(value, dt.date) and isinstance(field, models.DateField | models.DateTimeField):
        return date_problem(value)
    return None


class FieldRules:
    """Model mixin: ``full_clean`` also applies the field rules to every text and date field.

    Put it first: ``class Patient(FieldRules, models.Model)``.
    """

    def clean_fields(self, exclude: Any = None) -> None:
        errors: dict[str, list] = {}
        try:
            super().clean_fields(exclude=exclude)  # type: ignore[misc]
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        excluded = set(exclude or ())
        for field in self._meta.concrete_fields:  # type: ignore[attr-defined]
            if field.name in excluded or field.name in errors:
                continue
            problem = field_problem(field, getattr(self, field.attname))
            if problem:
                errors[field.name] = [ValidationError(problem, code="field_rule")]
        if errors:
            raise ValidationError(errors)


# Validators for plain Django form fields.


def _django(check):
    def validate(value: Any) -> None:
        if value is not None and (problem := check(value)):
            raise ValidationError(problem, code="field_rule")

    validate.__name__ = f"validate_{check.__name__.removesuffix('_problem')}"
    return validate


validate_line = _django(line_problem)
validate_text = _django(text_problem)
validate_date = _django(date_problem)


# Annotated types for API schemas (pydantic): the same rules, and the limits in the OpenAPI spec.


def _pydantic(check):
    def validate(value: Any) -> Any:
        if value is not None and (problem := check(value)):
            raise ValueError(problem)
        return value

    return AfterValidator(validate)


# No min_length: the model says a required name is blank together with every other problem.
Name = Annotated[str, Field(max_length=100), _pydantic(line_problem)]
Phone = Annotated[str, Field(max_length=32), _pydantic(phone_problem)]


def Line(max_length: int = LINE_MAX) -> Any:
    return Annotated[str, Field(max_length=max_length), _pydantic(line_problem)]


def Note(limit: int = TEXT_MAX) -> Any:
    return Annotated[str, Field(max_length=limit), _pydantic(lambda v: text_problem(v, limit))]


def Ranged(model: Any, field_name: str, kind: type = int) -> Any:
    """A number in the range ``NUMBER_LIMITS`` gives the model's field; the spec declares it."""
    limits = number_limits(model, field_name)
    if limits is None:
        raise KeyError(f"no NUMBER_LIMITS entry for {model._meta.label}.{field_name}")
    low, high = limits
    return Annotated[kind, Field(json_schema_extra={"minimum": float(low) if kind is not int else low,
                                                    "maximum": float(high) if kind is not int else high}),
                     _pydantic(lambda v: number_problem(v, limits))]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_date(value: Any) -> Any:
    # pydantic would read a number ("0.0") as seconds since 1970; a person means a date.
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("Give a date as YYYY-MM-DD, e.g. 2026-09-01.")


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_DATETIME.match(value)):
        return value
    raise ValueError("Give a date and time as YYYY-MM-DDTHH:MM, e.g. 2026-09-01T15:30 (an offset such as -05:00 "
                     "may follow).")


SaneDate = Annotated[dt.date, BeforeValidator(_iso_date), Field(description=f"A date {DATE_WINDOW}, YYYY-MM-DD."),
                     _pydantic(date_problem)]
SaneDateTime = Annotated[dt.datetime, BeforeValidator(_iso_datetime), _pydantic(date_problem)]

# Whole numbers the databases can store (a 64-bit signed integer); larger ones are refused
# at the edge instead of overflowing in SQLite or PostgreSQL.
BIGINT_MAX = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=BIGINT_MAX, description="A record id.")]


# Form fields for plain (non-model) Django forms: the same rules as the models.


class DateFormField(forms.DateField):
    default_validators = [validate_date]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(**kwargs)


class LineFormField(forms.CharField):
    default_validators = [validate_line]


class NumberFormField(forms.IntegerField):
    """A whole number in the range ``NUMBER_LIMITS`` gives ``model``'s field, for a plain form."""

    def __init__(self, *, model: Any, field_name: str, **kwargs: Any) -> None:
        limits = number_limits(model, field_name)
        if limits is None:
            raise KeyError(f"no NUMBER_LIMITS entry for {model._meta.label}.{field_name}")
        kwargs.setdefault("widget", forms.NumberInput(attrs={"inputmode": "numeric", "min": limits[0],
                                                             "max": limits[1]}))
        super().__init__(**kwargs)
        self.validators.append(_django(lambda value: number_problem(value, limits)))


class TextFormField(forms.CharField):
    def __init__(self, *, limit: int = TEXT_MAX, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(**kwargs)
        self.validators.append(_django(lambda value: text_problem(value, limit)))

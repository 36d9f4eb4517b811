"""The schedule's repeated markup as one string per row or list: a practice's day has
thousands of grid cells and visits, and a template tag or variable per cell costs more
than the page's whole budget. Each value is worked out once (one reverse per link kind,
one clock text per time of day), and text is escaped by the standard library's
``html.escape`` (what Django's ``escape`` calls, without its lazy-string wrapper)."""

import datetime as dt
from collections.abc import Callable, Iterable
from functools import lru_cache
from html import escape

from django import template
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.safestring import SafeString, mark_safe

from pedsdesk.scheduling.models import Appointment, AppointmentStatus
from pedsdesk.scheduling.queries import Cell, DeskRow, Row

register = template.Library()
_MARK = 987654321
_STATUS = {status: escape(label) for status, label in AppointmentStatus.choices}  # get_status_display, escaped


def _link(name: str) -> Callable[[int], str]:
    """``name``'s URL for any id, reversed once (reversing costs as much as a whole row)."""
    head, tail = reverse(name, args=[_MARK]).split(str(_MARK))
    return lambda pk: f"{head}{pk}{tail}"


@lru_cache(maxsize=1024)
def _formatted_clock(hour: int, minute: int, language: str | None) -> str:
    return dateformat.time_format(dt.time(hour, minute), "g:i A")


def _clock(start: dt.datetime, language: str | None) -> str:
    """As the ``time:"g:i A"`` filter writes it: "3:30 PM"."""
    return _formatted_clock(start.hour, start.minute, language)


def _who(visit: Appointment) -> str:
    """ "Ava L.", from the child's name loaded with the visit (``queries._shown``)."""
    if visit.patient_id is None:
        return escape(visit.title or "Meeting")
    return f"{escape(visit.child_first_name)} {escape(visit.child_last_name[:1])}."


def _visit(cell: Cell, visit_url: Callable[[int], str]) -> str:
    visit = cell.appointment
    url = visit_url(visit.pk)
    start = cell.start
    today = " today" if cell.today else ""
    return (f'<td rowspan="{cell.rows}" class="visit{today}"><a href="{url}" hx-get="{url}" hx-target="#panel" '
            f'class="block span-{cell.rows} status-{visit.status}"><span>{start.hour % 12 or 12}:{start.minute:02d} '
            f'{_who(visit)}</span> <small>{_STATUS[visit.status]}</small></a></td>')


def _cell(cell: Cell, slot_url: str, can_book: bool, visit_url: Callable[[int], str]) -> str:
    today = " today" if cell.today else ""
    if cell.kind == "visit":
        return _visit(cell, visit_url)
    if cell.kind == "free":
        if not can_book:
            return f'<td class="free{today}"></td>'
        url = f"{slot_url}?therapist={cell.therapist_id}&amp;start={cell.slot}"
        return (f'<td class="free{today}"><a href="{url}" hx-get="{url}" hx-target="#panel" class="slot" '
                f'aria-label="Book {escape(cell.label)}"><span aria-hidden="true">+</span></a></td>')
    if cell.kind == "past":
        return f'<td class="past{today}"></td>'
    if cell.kind == "off":
        return '<td class="off"></td>'
    return ""  # covered by a visit above


@register.simple_tag
def grid_cells(row: Row, slot_url: str, granted) -> SafeString:
    can_book = "schedule.edit" in granted
    visit_url = _link("appointment_detail")
    return mark_safe("".join(_cell(cell, slot_url, can_book, visit_url) for cell in row.cells))  # noqa: S308 -- escaped above


@register.simple_tag
def agenda_items(cells: Iterable[Cell]) -> SafeString:
    """A column's visits as list items (the grid on a phone)."""
    visit_url, language = _link("appointment_detail"), translation.get_language()
    items = []
    for cell in cells:
        visit = cell.appointment
        items.append(f'<li class="block status-{visit.status}"><a href="{visit_url(visit.pk)}">'
                     f'{_clock(cell.start, language)} {_who(visit)}</a> '
                     f'<small>{visit.minutes} min · {_STATUS[visit.status]}</small></li>')
    return mark_safe("".join(items) or '<li class="muted">No visits.</li>')  # noqa: S308 -- escaped above


@register.simple_tag
def desk_rows(rows: list[DeskRow]) -> SafeString:
    """The front desk's list of the day's visits, one table row each."""
    if not rows:
        return mark_safe('<tr><td colspan="5">No visits this day.</td></tr>')
    visit_url, patient_url = _link("appointment_detail"), _link("patient_detail")
    language = translation.get_language()
    out = []
    for row in rows:
        visit = row.visit
        child = (f'<a href="{patient_url(visit.patient_id)}">'
                 f'{escape(visit.child_first_name)} {escape(visit.child_last_name)}</a>' if visit.patient_id is not None
                 else escape(visit.title or "Meeting"))
        out.append(f'<tr><td><a href="{visit_url(visit.pk)}">{_clock(row.start, language)}</a></td><td>{child}</td>'
                   f'<td>{escape(str(visit.therapist))}</td><td>{escape(", ".join(row.phones))}</td>'
                   f'<td><span class="badge">{_STATUS[visit.status]}</span></td></tr>')
    return mark_safe("".join(out))  # noqa: S308 -- escaped above

"""The grid's cells as one string per row: a practice's day grid has thousands of cells,
and a template tag per cell costs more than the page's whole budget."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from pedsdesk.scheduling.queries import Cell, Row

register = template.Library()


def _visit(cell: Cell) -> str:
    visit = cell.appointment
    url = visit.get_absolute_url()
    start = cell.start
    patient = visit.patient
    who = f"{escape(patient.first_name)} {escape(patient.last_name[:1])}." if patient else escape(
        visit.title or "Meeting")
    today = " today" if cell.today else ""
    return (f'<td rowspan="{cell.rows}" class="visit{today}"><a href="{url}" hx-get="{url}" hx-target="#panel" '
            f'class="block span-{cell.rows} status-{visit.status}"><span>{start.hour % 12 or 12}:{start.minute:02d} '
            f'{who}</span> <small>{escape(visit.get_status_display())}</small></a></td>')


def _cell(cell: Cell, slot_url: str, can_book: bool) -> str:
    today = " today" if cell.today else ""
    if cell.kind == "visit":
        return _visit(cell)
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
    return mark_safe("".join(_cell(cell, slot_url, can_book) for cell in row.cells))  # noqa: S308 -- escaped above

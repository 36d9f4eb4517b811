"""The registry of ``pedsdesk report <subject>`` reports other apps add.

A report is a function ``rows(practice) -> list[dict]`` and its column names; the
command prints the rows as JSON (values as they are), CSV (through ``pedsdesk.sheets``,
formula-like cells neutralised) or an aligned table.
Workflow apps register theirs from AppConfig.ready, so the command imports none.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from pedsdesk.sheets import write_csv


@dataclass(frozen=True)
class Report:
    name: str
    columns: tuple[str, ...]
    rows: Callable[..., list[dict]]
    noun: str  # "child with an active home program", for the table's last line


_REPORTS: dict[str, Report] = {}


def report(name: str, *, columns: tuple[str, ...], noun: str) -> Callable:
    """Register ``rows(practice) -> list[dict]`` as ``pedsdesk report <name>``."""

    def register(rows: Callable[..., list[dict]]) -> Callable[..., list[dict]]:
        _REPORTS[name] = Report(name, columns, rows, noun)
        return rows

    return register


def registered() -> dict[str, Report]:
    return dict(_REPORTS)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write(spec: Report, rows: list[dict], fmt: str, out: IO[str]) -> None:
    if fmt == "json":
        out.write(json.dumps(rows, indent=2, default=str) + "\n")
    elif fmt == "csv":
        # Booleans as JSON spells them; the shared writer neutralises formula-like cells.
        write_csv(list(spec.columns), ({c: _cell(v) if isinstance(v := row.get(c), bool) else v
                                        for c in spec.columns} for row in rows), out)
    else:
        cells = [list(spec.columns)] + [[_cell(row.get(c))[:32] for c in spec.columns] for row in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(spec.columns))]
        for r in cells:
            out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
        out.write(f"{len(rows)} {spec.noun}{'' if len(rows) == 1 else 's'}.\n")

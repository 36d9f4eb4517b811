"""Geometry of the burn-down chart. The template draws it as inline SVG (no script, no
style attribute: the CSP allows neither); this module only turns dates and units
into coordinates and labels, and into the table that is the chart's text alternative.
"""

import datetime as dt
from dataclasses import dataclass

from pedsdesk.authorizations.projection import BurnPoint, Charge, burn_down

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 18, 36
# A generous average width of one character at the chart's 11 px font, so a label
# placed by it never runs past the edge of the drawing.
CHAR_WIDTH = 6.6


@dataclass(frozen=True)
class Marker:
    x: float
    label: str
    kind: str  # "today", "exhaustion", "end"
    anchor: str = "middle"  # the label's text-anchor: turned inward near either edge

    @property
    def label_extent(self) -> tuple[float, float]:
        """Left and right of the label as drawn (estimated from its length)."""
        width = len(self.label) * CHAR_WIDTH
        return {"start": (self.x, self.x + width), "end": (self.x - width, self.x),
                "middle": (self.x - width / 2, self.x + width / 2)}[self.anchor]


def _marker(x: float, label: str, kind: str, anchor: str = "middle") -> Marker:
    """A marker whose label stays inside the drawing: centred (or as asked) where it
    fits, else anchored to run inward from its line."""
    marker = Marker(x, label, kind, anchor)
    left, right = marker.label_extent
    if left < 0:
        return Marker(x, label, kind, "start")
    if right > WIDTH:
        return Marker(x, label, kind, "end")
    return marker


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass
class BurnDownChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    authorized: int
    unit: str
    remaining_actual: str  # SVG points, start to today
    remaining_projected: str  # today onward
    used: str
    scheduled: str
    pace: str
    markers: list[Marker]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    table: list[BurnPoint]
    summary: str


def _step(points: list[tuple[float, float]]) -> str:
    """A step line: each change happens on its day, flat in between."""
    out: list[tuple[float, float]] = []
    for x, y in points:
        if out and out[-1][1] != y:
            out.append((x, out[-1][1]))
        out.append((x, y))
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in out)


def _weekly(points: list[BurnPoint], start: dt.date, end: dt.date) -> list[BurnPoint]:
    """The figures at the end of each week (Sunday) and on the last day: the table version."""
    rows = []
    day = start + dt.timedelta(days=6 - start.weekday())
    index, current = 0, points[0]
    while True:
        day = min(day, end)
        while index < len(points) and points[index].day <= day:
            current = points[index]
            index += 1
        rows.append(BurnPoint(day, current.used, current.scheduled, current.remaining))
        if day >= end:
            return rows
        day += dt.timedelta(days=7)


def burn_down_chart(*, authorized: int, start: dt.date, end: dt.date, today: dt.date, charges: list[Charge],
                    exhausted_on: dt.date | None, unit: str) -> BurnDownChart:
    points = burn_down(authorized=authorized, start=start, end=end, charges=charges)
    span = max((end - start).days, 1)
    top_units = max(authorized, 1)
    plot_right, plot_bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def x(day: dt.date) -> float:
        return LEFT + (plot_right - LEFT) * min(max((day - start).days, 0), span) / span

    def y(units: float) -> float:
        return plot_bottom - (plot_bottom - TOP) * max(min(units, top_units), 0) / top_units

    actual = [(x(p.day), y(p.remaining)) for p in points if p.day <= today]
    projected = [(x(p.day), y(p.remaining)) for p in points if p.day > today]
    if actual and projected:
        projected.insert(0, actual[-1])
    used, scheduled = [], []
    for p in points:
        used.append((x(p.day), y(p.used)))
        scheduled.append((x(p.day), y(p.scheduled)))
    markers = []
    if start <= today <= end:
        markers.append(_marker(x(today), f"today {today:%b} {today.day}", "today"))
    if exhausted_on is not None:
        markers.append(_marker(x(exhausted_on), f"runs out {exhausted_on:%b} {exhausted_on.day}", "exhaustion"))
    markers.append(_marker(x(end), f"ends {end:%b} {end.day}", "end", anchor="end"))
    x_ticks = []
    month = dt.date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            x_ticks.append(Tick(x(month), f"{month:%b}"))
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    y_ticks = [Tick(y(value), str(value)) for value in sorted({0, authorized // 2, authorized})]
    last = points[-1]
    summary = (f"{authorized} {unit} authorized from {start:%b} {start.day} to {end:%b} {end.day}, {end.year}: "
               f"{last.used} used, {last.scheduled} scheduled, {last.remaining} left at the end"
               + (f"; the schedule uses the last on {exhausted_on:%b} {exhausted_on.day}" if exhausted_on else "")
               + ".")
    return BurnDownChart(
        width=WIDTH, height=HEIGHT, plot_left=LEFT, plot_right=plot_right, plot_top=TOP, plot_bottom=plot_bottom,
        authorized=authorized, unit=unit, remaining_actual=_step(actual), remaining_projected=_step(projected),
        used=_step(used), scheduled=_step(scheduled),
        pace=f"{x(start):.1f},{y(authorized):.1f} {x(end):.1f},{y(0):.1f}",
        markers=markers, x_ticks=x_ticks, y_ticks=y_ticks, table=_weekly(points, start, end), summary=summary,
    )

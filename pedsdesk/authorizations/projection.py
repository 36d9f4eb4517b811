"""Utilization and projection of authorizations and benefit buckets, without Django.

The inputs are plain records: authorization lines, and visits (done and still to come,
including future occurrences of recurring series). Each visit, in date order, takes
its units from the line covering its date and codes on the authorization that ends
first. What cannot be covered is a future denial, and says why.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

VISITS, UNITS = "visits", "units"


@dataclass(frozen=True)
class Line:
    id: int
    authorization_id: int
    start: dt.date
    end: dt.date
    codes: frozenset[str]
    unit_type: str
    quantity: int
    per_week_cap: int | None = None
    per_month_cap: int | None = None


@dataclass(frozen=True)
class Visit:
    key: str  # "a123" for an appointment, "s45:2026-12-01" for a series occurrence
    day: dt.date
    units: tuple[tuple[str, int], ...]  # (CPT code, units) billed on this visit
    done: bool  # attended: counts as used, not scheduled
    label: str = ""
    proposed: bool = False  # a booking being considered: charged after everything already scheduled
    series_id: int | None = None  # an occurrence a series will book, or (proposed) one it is booking


@dataclass
class LineUse:
    used: int = 0
    scheduled: int = 0
    exhausted_on: dt.date | None = None
    by_week: dict = field(default_factory=lambda: defaultdict(int))
    by_month: dict = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class Denial:
    visit: Visit
    reason: str  # "after_end", "beyond_units", "weekly_cap", "monthly_cap", "no_authorization", "code"
    authorization_id: int | None
    message: str


@dataclass(frozen=True)
class Charge:
    """One visit's draw on one line: what the burn-down chart plots."""

    visit: Visit
    line_id: int
    cost: int


@dataclass
class Allocation:
    lines: dict[int, LineUse]
    covered: dict[str, list[int]]  # visit key -> line ids it used
    denials: list[Denial]
    charges: list[Charge] = field(default_factory=list)


def _charge_order(visit: Visit) -> tuple:
    return (visit.proposed, visit.day, not visit.done, visit.key)


def _cost(line: Line, units: int) -> int:
    return 1 if line.unit_type == VISITS else units


def _fits(line: Line, use: LineUse, day: dt.date, cost: int) -> str:
    """'' when the line can take ``cost`` more on ``day``, else why not."""
    if use.used + use.scheduled + cost > line.quantity:
        return "beyond_units"
    week = day.isocalendar()[:2]
    if line.per_week_cap is not None and use.by_week[week] + cost > line.per_week_cap:
        return "weekly_cap"
    if line.per_month_cap is not None and use.by_month[(day.year, day.month)] + cost > line.per_month_cap:
        return "monthly_cap"
    return ""


def allocate(lines: Sequence[Line], visits: Iterable[Visit], keep_charges: bool = False) -> Allocation:
    """Walk the visits in date order and charge each to the authorization that ends first
    (with ``keep_charges``, also keep every draw, for a burn-down)."""
    uses = {line.id: LineUse() for line in lines}
    covered: dict[str, list[int]] = {}
    denials: list[Denial] = []
    charges: list[Charge] = []
    by_end = sorted(lines, key=lambda ln: (ln.end, ln.authorization_id, ln.id))
    for visit in sorted(visits, key=_charge_order):
        plan = _plan_visit(by_end, uses, visit)
        if isinstance(plan, Denial):
            denials.append(plan)
            continue
        for line, cost in plan:
            use = uses[line.id]
            if visit.done:
                use.used += cost
            else:
                use.scheduled += cost
            use.by_week[visit.day.isocalendar()[:2]] += cost
            use.by_month[(visit.day.year, visit.day.month)] += cost
            if use.used + use.scheduled >= line.quantity and use.exhausted_on is None:
                use.exhausted_on = visit.day
            if keep_charges:
                charges.append(Charge(visit, line.id, cost))
        covered[visit.key] = [line.id for line, _ in plan]
    return Allocation(uses, covered, denials, charges)


def _plan_visit(by_end: list[Line], uses: dict[int, LineUse], visit: Visit) -> list[tuple[Line, int]] | Denial:
    """The lines one visit would use, all on the earliest-ending authorization that can
    take every code of it, or the reason none can."""
    dated = [ln for ln in by_end if ln.start <= visit.day <= ln.end]
    codes = [code for code, units in visit.units if units > 0]
    if not codes:
        return []
    if not dated:
        return _denial(by_end, visit)
    worst = ""
    for authorization_id in dict.fromkeys(ln.authorization_id for ln in dated):
        plan, charged_visit_lines, why = [], set(), ""
        for code, units in visit.units:
            if units <= 0:
                continue
            line = next((ln for ln in dated if ln.authorization_id == authorization_id and code in ln.codes), None)
            if line is None:
                why = why or "code"
                break
            if line.unit_type == VISITS and line.id in charged_visit_lines:
                continue  # one visit counts once on a visit line, whatever its codes
            cost = _cost(line, units)
            why = _fits(line, uses[line.id], visit.day, cost)
            if why:
                break
            plan.append((line, cost))
            charged_visit_lines.add(line.id)
        if not why:
            return plan
        worst = worst if worst and worst != "code" else why
        last_authorization = authorization_id
    messages = {
        "beyond_units": "uses more than the units left",
        "weekly_cap": "goes over the weekly cap",
        "monthly_cap": "goes over the monthly cap",
        "code": "has a code the authorization does not cover",
    }
    return Denial(visit, worst, last_authorization, f"{visit.label or visit.day} {messages[worst]}")


def _denial(by_end: list[Line], visit: Visit) -> Denial:
    earlier = [ln for ln in by_end if ln.end < visit.day]
    if earlier:
        last = max(earlier, key=lambda ln: ln.end)
        return Denial(visit, "after_end", last.authorization_id,
                      f"{visit.label or visit.day} is after the authorization ends on {last.end:%b %-d}")
    return Denial(visit, "no_authorization", None, f"{visit.label or visit.day} has no authorization")


@dataclass(frozen=True)
class UnusedRule:
    """When units nothing is booked for are worth a flag: a meaningful share of those
    authorized (the practice's threshold), and only in the last weeks before the end.
    Earlier, the schedule can still use them, and a flag would be noise."""

    today: dt.date
    share_percent: int = 20
    weeks: int = 4

    def applies(self, *, authorized: int, unused: int, end: dt.date) -> bool:
        return (unused > 0 and unused * 100 >= self.share_percent * authorized
                and self.today <= end <= self.today + dt.timedelta(weeks=self.weeks))


@dataclass(frozen=True)
class LineProjection:
    """One service line's figures; an authorization's are their sums."""

    line_id: int
    authorized: int
    used: int
    scheduled: int
    remaining: int
    exhausted_on: dt.date | None


@dataclass
class Projection:
    """One authorization, projected from the real schedule."""

    authorization_id: int
    end: dt.date
    authorized: int
    used: int
    scheduled: int
    remaining: int
    unit_type: str
    exhausted_on: dt.date | None
    runs_out_before_end: bool
    unused_at_end: int
    denials: list[Denial]
    lines: list[LineProjection] = field(default_factory=list)
    leaves_units_unused: bool = False  # unused_at_end is over the practice's threshold, near the end

    @property
    def flags(self) -> list[str]:
        flags = []
        if self.runs_out_before_end:
            flags.append("runs_out")
        if self.leaves_units_unused:
            flags.append("unused_units")
        if self.denials:
            flags.append("denials")
        return flags


def project(lines: Sequence[Line], allocation: Allocation, unused: UnusedRule | None = None) -> dict[int, Projection]:
    """Per authorization: used, scheduled, remaining, when the last unit goes, and flags
    (units unused only under an ``unused`` rule)."""
    grouped: dict[int, list[Line]] = defaultdict(list)
    for line in lines:
        grouped[line.authorization_id].append(line)
    denials_for: dict[int | None, list[Denial]] = defaultdict(list)
    for denial in allocation.denials:
        denials_for[denial.authorization_id].append(denial)
    result = {}
    for authorization_id, auth_lines in grouped.items():
        uses = [allocation.lines[ln.id] for ln in auth_lines]
        authorized = sum(ln.quantity for ln in auth_lines)
        used, scheduled = sum(u.used for u in uses), sum(u.scheduled for u in uses)
        remaining = authorized - used - scheduled
        exhausted = [u.exhausted_on for u in uses]
        exhausted_on = max(exhausted) if all(exhausted) else None  # the last line to run out
        end = auth_lines[0].end
        result[authorization_id] = Projection(
            authorization_id=authorization_id, end=end, authorized=authorized, used=used, scheduled=scheduled,
            remaining=remaining, unit_type=auth_lines[0].unit_type, exhausted_on=exhausted_on,
            runs_out_before_end=bool(exhausted_on and exhausted_on < end),
            unused_at_end=remaining, denials=denials_for[authorization_id],
            leaves_units_unused=unused is not None and unused.applies(authorized=authorized, unused=remaining,
                                                                      end=end),
            lines=[LineProjection(ln.id, ln.quantity, u.used, u.scheduled, ln.quantity - u.used - u.scheduled,
                                  u.exhausted_on) for ln, u in zip(auth_lines, uses, strict=True)],
        )
    return result


def plan_year(day: dt.date, start_month: int = 1, start_day: int = 1) -> tuple[dt.date, dt.date]:
    """[first, last] day of the plan year containing ``day``."""
    start = dt.date(day.year, start_month, start_day)
    if start > day:
        start = dt.date(day.year - 1, start_month, start_day)
    return start, dt.date(start.year + 1, start_month, start_day) - dt.timedelta(days=1)


@dataclass
class BucketUse:
    limit: int
    used: int
    scheduled: int
    remaining: int
    exhausted_on: dt.date | None
    period: tuple[dt.date, dt.date]
    over_limit: list[Visit]


def bucket_use(*, limit: int, unit_type: str, period: tuple[dt.date, dt.date], visits: Iterable[Visit]) -> BucketUse:
    """A benefit limit counted over one plan year: visits count once, units by their units."""
    used = scheduled = 0
    exhausted_on = None
    over: list[Visit] = []
    for visit in sorted(visits, key=_charge_order):
        if not period[0] <= visit.day <= period[1]:
            continue
        cost = 1 if unit_type == VISITS else sum(units for _, units in visit.units)
        if used + scheduled + cost > limit:
            over.append(visit)
            continue
        if visit.done:
            used += cost
        else:
            scheduled += cost
        if used + scheduled >= limit and exhausted_on is None:
            exhausted_on = visit.day
    return BucketUse(limit, used, scheduled, limit - used - scheduled, exhausted_on, period, over)


def renewal_due(*, end: dt.date, exhausted_on: dt.date | None, recommended_days: int,
                earliest_days: int) -> tuple[dt.date, dt.date, str]:
    """(due date, first day the payer accepts a renewal, what the due date counts from).

    The lead time counts from whichever comes first, expiry or the projected last unit:
    an authorization that runs out in October needs its renewal before October, not
    before its December expiry.
    """
    basis, date = ("end", end)
    if exhausted_on is not None and exhausted_on < end:
        basis, date = ("exhaustion", exhausted_on)
    window_opens = end - dt.timedelta(days=earliest_days)
    # Never before the payer's window opens: a payer such as Texas Medicaid returns a
    # renewal sent more than 30 days before expiry unread, so an earlier due date would
    # ask the front desk for a submission the payer refuses.
    due = max(date - dt.timedelta(days=recommended_days), window_opens)
    return due, window_opens, basis


@dataclass(frozen=True)
class BurnPoint:
    day: dt.date
    used: int  # cumulative units of attended visits up to and including ``day``
    scheduled: int  # cumulative units of visits still to come
    remaining: int


def burn_down(*, authorized: int, start: dt.date, end: dt.date, charges: Iterable[Charge]) -> list[BurnPoint]:
    """Remaining units after each day that draws on the authorization, from its start
    (everything left) to its end."""
    by_day: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for charge in charges:
        by_day[charge.visit.day][0 if charge.visit.done else 1] += charge.cost
    points = [BurnPoint(start, 0, 0, authorized)]
    used = scheduled = 0
    for day in sorted(by_day):
        used += by_day[day][0]
        scheduled += by_day[day][1]
        points.append(BurnPoint(day, used, scheduled, authorized - used - scheduled))
    if points[-1].day < end:
        points.append(BurnPoint(end, used, scheduled, authorized - used - scheduled))
    return points

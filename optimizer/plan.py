"""Whom to offer which opening, in what order and how many at once.

``plan_offers`` is the one function the live scheduling code and the simulator call.
It proposes; the booking layer disposes (it re-checks everything when a family says
yes). Two guarantees hold for every plan:

* every proposed visit fits: discipline, the child's windows, the week's frequency,
  minimum notice, and (unless the policy says not to check) an authorization with
  units left after everything already booked, on its dates, and room in every benefit
  bucket, by the same rules as ``pedsdesk.authorizations.projection``;
* offers still pending count against the child: one child never holds two unexpired
  offers on one day, nor more than their week, authorization or bucket could take, so
  any set of yeses to unexpired offers can all be booked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from optimizer.model import (
    AuthorizationRoom,
    Candidate,
    CandidateKind,
    OfferPlan,
    OfferPolicy,
    Opening,
    PlannedOffer,
    Skip,
    default_notice_factor,
)

MINUTE = dt.timedelta(minutes=1)
_SHOWN_REASONS = frozenset({"no_authorization", "authorization_after_end", "authorization_units",
                            "authorization_weekly_cap", "benefit_limit"})


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass
class _Load:
    """What offers still pending (or proposed earlier in this plan) already claim."""

    days: set[tuple[str, dt.date]] = field(default_factory=set)  # (child, day)
    evaluations: set[str] = field(default_factory=set)  # waitlisted children already offered one
    weeks: dict[tuple[str, dt.date], int] = field(default_factory=lambda: defaultdict(int))  # (child, monday)
    units: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # authorization id
    auth_weeks: dict[tuple[str, dt.date], int] = field(default_factory=lambda: defaultdict(int))
    buckets: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, opening: Opening, candidate: Candidate, check_authorization: bool) -> None:
        week = monday(opening.day)
        self.days.add((candidate.child_id, opening.day))
        if candidate.kind != CandidateKind.WAITLIST:
            self.weeks[(candidate.child_id, week)] += 1
        else:
            self.evaluations.add(candidate.child_id)
        if not (check_authorization and candidate.requires_authorization):
            return
        auth = _charged_authorization(opening.day, candidate, self)
        if auth is not None:
            self.units[auth.id] += auth.units_per_visit
            self.auth_weeks[(auth.id, week)] += auth.units_per_visit
        for bucket in candidate.buckets:
            if bucket.start <= opening.day <= bucket.end:
                self.buckets[bucket.id] += bucket.units_per_visit


def _auth_fits(auth: AuthorizationRoom, day: dt.date, load: _Load) -> str:
    if auth.units_left - load.units[auth.id] < auth.units_per_visit:
        return "authorization_units"
    if auth.week_cap_left is not None:
        week = monday(day)
        if auth.week_cap_left.get(week, 0) - load.auth_weeks[(auth.id, week)] < auth.units_per_visit:
            return "authorization_weekly_cap"
    return ""


def _charged_authorization(day: dt.date, candidate: Candidate, load: _Load) -> AuthorizationRoom | None:
    """The authorization the visit would be charged to: among those dated for ``day``, the
    one that ends first and still has room (projection.allocate's rule)."""
    dated = sorted((a for a in candidate.authorizations if a.start <= day <= a.end), key=lambda a: (a.end, a.id))
    return next((a for a in dated if not _auth_fits(a, day, load)), None)


def coverage_problem(day: dt.date, candidate: Candidate, load: _Load | None = None) -> str:
    """'' when an authorization and every benefit bucket would cover one more visit on
    ``day`` after what is booked and pending, else the reason."""
    load = load or _Load()
    if candidate.requires_authorization:
        dated = [a for a in candidate.authorizations if a.start <= day <= a.end]
        if not dated:
            ended = any(a.end < day for a in candidate.authorizations)
            return "authorization_after_end" if ended else "no_authorization"
        if _charged_authorization(day, candidate, load) is None:
            return min((_auth_fits(a, day, load) for a in dated), key=lambda r: r != "authorization_units")
    for bucket in candidate.buckets:
        if bucket.start <= day <= bucket.end and bucket.remaining - load.buckets[bucket.id] < bucket.units_per_visit:
            return "benefit_limit"
    return ""


def fit_problem(opening: Opening, candidate: Candidate, now: dt.datetime, policy: OfferPolicy,
                load: _Load | None = None) -> str:
    """'' when ``candidate`` may be offered ``opening`` now, else the first reason not."""
    if candidate.discipline != opening.discipline:
        return "discipline"
    if opening.start - now < policy.min_notice:
        return "notice"
    return _fit(opening, opening.minutes, monday(opening.day), candidate, policy, load or _Load())


def _fit(opening: Opening, minutes: int, week: dt.date, candidate: Candidate, policy: OfferPolicy,
         load: _Load) -> str:
    """fit_problem after the per-opening checks (discipline, notice), cheapest first: the
    planner calls it for every opening and candidate."""
    if candidate.minutes > minutes:
        return "too_short"
    if candidate.therapist_ids is not None and opening.therapist_id not in candidate.therapist_ids:
        return "therapist"
    if candidate.id in opening.offered:
        return "already_offered"
    if (candidate.child_id, opening.day) in load.days:
        return "offer_pending_that_day"
    if candidate.kind == CandidateKind.WAITLIST:
        if candidate.child_id in load.evaluations:
            return "evaluation_offer_pending"  # one evaluation each: never two offers out at once
    elif candidate.week_room.get(week, 0) - load.weeks.get((candidate.child_id, week), 0) < 1:
        return "weekly_frequency"
    start = opening.start
    end = start + candidate.minutes * MINUTE
    for w_start, w_end in candidate.windows:
        if w_start <= start and end <= w_end:
            break
    else:
        return "availability"
    if policy.check_authorization:
        return coverage_problem(opening.day, candidate, load)
    return ""


def acceptance(opening: Opening, candidate: Candidate, now: dt.datetime,
               notice_factor: Callable[[float], float] = default_notice_factor) -> float:
    """Estimated probability that the family says yes to this time if asked now."""
    hours = (opening.start - now).total_seconds() / 3600
    p = candidate.response_rate * notice_factor(hours)
    if candidate.preferred_therapist_id is not None and candidate.preferred_therapist_id != opening.therapist_id:
        p *= candidate.other_therapist_factor
    return min(0.99, max(0.01, p))


def baseline_key(candidate: Candidate) -> tuple:
    """Issue 5, item 7: makeup owed this week, below frequency, gap list, waitlist; then
    longest waiting; then a stable tie-break."""
    return (int(candidate.kind), -candidate.days_waiting, candidate.id)


def baseline_rank(opening: Opening, candidates: Iterable[Candidate], now: dt.datetime,
                  policy: OfferPolicy | None = None) -> list[Candidate]:
    """Eligible candidates for one opening in the baseline order (no solver)."""
    policy = policy or OfferPolicy(mode="sequential")
    fitting = [c for c in candidates if not fit_problem(opening, c, now, policy)]
    return sorted(fitting, key=baseline_key)


def _pending_load(openings: Sequence[Opening], by_id: dict[str, Candidate], policy: OfferPolicy) -> _Load:
    load = _Load()
    for opening in openings:
        for candidate_id in sorted(opening.pending):
            candidate = by_id.get(candidate_id)
            if candidate is not None:
                load.add(opening, candidate, policy.check_authorization)
    return load


def _book_by(opening: Opening, policy: OfferPolicy) -> dt.datetime:
    return opening.start - policy.book_by


def hold_for(opening: Opening, now: dt.datetime, policy: OfferPolicy) -> dt.timedelta:
    """Optimized mode: wait longer for replies when there is time, so fewer families are
    asked; a few minutes when the time is close."""
    left = (_book_by(opening, policy) - now).total_seconds() / 60
    minutes = 15 if left <= 6 * 60 else 30 if left <= 24 * 60 else 60 if left <= 72 * 60 else 120
    return dt.timedelta(minutes=max(5, min(minutes, left / 2)))


def plan_offers(openings: Sequence[Opening], candidates: Sequence[Candidate], policy: OfferPolicy,
                now: dt.datetime) -> OfferPlan:
    """The offers to send now for ``openings`` (unfilled), among ``candidates``.

    "optimized" solves one min-cost flow over every opening and child at once: each
    child gets at most one new offer per call, each opening at most the batch its
    urgency needs (enough estimated yeses to reach ``target_fill_probability`` before
    ``book_by`` over the review rounds left), and the flow maximises the expected value
    (minutes + kind bonus, times the chance of a yes, weighted toward openings that have
    few rounds left). A child wanted by two openings goes where it matters most, which a
    per-opening ranking cannot see. Other modes rank by ``baseline_key``.
    """
    plan = OfferPlan(solver="min_cost_flow" if policy.mode == "optimized" else "ranked")
    by_id = {c.id: c for c in candidates}
    load = _pending_load(openings, by_id, policy)
    by_discipline: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_discipline[candidate.discipline].append(candidate)
    live = [o for o in openings if o.start - now >= policy.min_notice]
    live.sort(key=lambda o: (o.start, o.id))  # earliest first: it has the least time left
    eligible: dict[str, list[tuple[Candidate, float, float]]] = {}
    for opening in live:
        rows = []
        minutes, week = opening.minutes, monday(opening.day)
        for candidate in by_discipline.get(opening.discipline, ()):
            why = _fit(opening, minutes, week, candidate, policy, load)
            if why:
                if why in _SHOWN_REASONS:
                    plan.skipped.append(Skip(opening.id, candidate.id, why))
                continue
            p = acceptance(opening, candidate, now)
            value = candidate.minutes + policy.bonus.get(candidate.kind, 0)
            rows.append((candidate, p, value))
        eligible[opening.id] = rows
    if policy.mode == "optimized":
        _plan_optimized(plan, live, eligible, by_id, policy, now)
    else:
        _plan_ranked(plan, live, eligible, policy, now, load)
    return plan


def _plan_ranked(plan: OfferPlan, live: list[Opening], eligible: dict, policy: OfferPolicy, now: dt.datetime,
                 load: _Load) -> None:
    hold = dt.timedelta(minutes=policy.hold_minutes)
    for opening in live:
        rows = sorted(eligible[opening.id], key=lambda row: baseline_key(row[0]))
        plan.ranked[opening.id] = [c.id for c, _, _ in rows]
        want = {"sequential": 1, "batch": policy.batch_size}.get(policy.mode, len(rows))
        plan.batch_size[opening.id] = want
        room = want - len(opening.pending) if policy.mode != "broadcast" else len(rows)
        rank = 0
        for candidate, p, _ in rows:
            if room <= 0:
                break
            # Earlier openings in this plan may have claimed the child's day or week.
            if fit_problem(opening, candidate, now, policy, load):
                continue
            rank += 1
            room -= 1
            load.add(opening, candidate, policy.check_authorization)
            plan.offers.append(PlannedOffer(opening.id, candidate.id, candidate.child_id, rank, p, now + hold))
        plan.review_at[opening.id] = now + hold


def sendable_minutes(now: dt.datetime, until: dt.datetime, policy: OfferPolicy) -> float:
    """Minutes between ``now`` and ``until`` outside quiet hours: an evening cancellation
    has fewer rounds of offers before tomorrow's visit than the clock says."""
    total = (until - now) / MINUTE
    if total <= 0 or policy.quiet_start is None or policy.quiet_end is None:
        return max(0.0, total)
    zone = ZoneInfo(policy.time_zone)
    quiet = 0.0
    day = now.astimezone(zone).date() - dt.timedelta(days=1)
    last = until.astimezone(zone).date()
    while day <= last:
        start = dt.datetime.combine(day, policy.quiet_start, tzinfo=zone)
        end_day = day + dt.timedelta(days=1) if policy.quiet_end <= policy.quiet_start else day
        end = dt.datetime.combine(end_day, policy.quiet_end, tzinfo=zone)
        overlap = (min(end, until) - max(start, now)) / MINUTE
        quiet += max(0.0, overlap)
        day += dt.timedelta(days=1)
    return max(0.0, total - quiet)


def _before_quiet(now: dt.datetime, until: dt.datetime, policy: OfferPolicy) -> dt.datetime | None:
    """When the next quiet hours start, if before ``until`` and an overnight wait would cost
    enough yeses (families say yes less the closer the time) that tonight's rounds are the
    ones that count."""
    if policy.quiet_start is None or policy.quiet_end is None:
        return None
    zone = ZoneInfo(policy.time_zone)
    local = now.astimezone(zone)
    start = dt.datetime.combine(local.date(), policy.quiet_start, tzinfo=zone)
    if start <= local:
        return None  # already quiet (the planner is not called then) or past today's start
    if start >= until:
        return None
    end_day = start.date() + dt.timedelta(days=1) if policy.quiet_end <= policy.quiet_start else start.date()
    reopens = dt.datetime.combine(end_day, policy.quiet_end, tzinfo=zone)
    visit = until + policy.book_by
    later = default_notice_factor((visit - reopens) / dt.timedelta(hours=1))
    if later >= 0.85 * default_notice_factor((visit - now) / dt.timedelta(hours=1)):
        return None
    return start


def _in_time(candidate: Candidate, minutes_left: float) -> float:
    """Chance the family answers within ``minutes_left`` (replies are log-normal around
    their median, spread ~e)."""
    if minutes_left <= 0:
        return 0.0
    return 0.5 * (1.0 + math.erf(math.log(minutes_left / max(1.0, candidate.reply_minutes)) / math.sqrt(2)))


def _urgency(rounds: float) -> float:
    """Weight of one offer now: an opening with few review rounds left cannot wait for
    the next child to free up, one with many can."""
    return 1.0 / math.sqrt(min(max(rounds, 1.0), 16.0))


def _plan_optimized(plan: OfferPlan, live: list[Opening], eligible: dict, by_id: dict[str, Candidate],
                    policy: OfferPolicy, now: dt.datetime) -> None:
    from ortools.graph.python import min_cost_flow  # imported late: the ranked modes need no solver

    want: dict[str, int] = {}
    weights: dict[str, dict[str, tuple[float, Candidate, float]]] = {}
    holds: dict[str, dt.timedelta] = {}
    for opening in live:
        hold = hold_for(opening, now, policy)
        holds[opening.id] = hold
        plan.review_at[opening.id] = now + hold
        book_by = _book_by(opening, policy)
        left = (book_by - now) / MINUTE
        rows = eligible[opening.id]
        typical_reply = sum(c.reply_minutes for c, _, _ in rows) / len(rows) if rows else 30.0
        # Review rounds left: each waits a hold and then, typically, a reply; none at night.
        sendable = sendable_minutes(now, book_by, policy) if left < 3 * 24 * 60 else left * 0.5
        tonight = _before_quiet(now, book_by, policy)
        if tonight is not None:
            sendable = (tonight - now) / MINUTE
        rounds = max(1.0, sendable / (hold / MINUTE + typical_reply))
        per_round = 1.0 - (1.0 - policy.target_fill_probability) ** (1.0 / rounds)
        urgency = _urgency(rounds)
        best: dict[str, tuple[float, Candidate, float]] = {}
        for candidate, p, value in rows:
            q = p * _in_time(candidate, left)  # a yes that arrives in time
            w = value * q * urgency
            if candidate.child_id not in best or w > best[candidate.child_id][0]:
                best[candidate.child_id] = (w, candidate, q)
        weights[opening.id] = best
        ordered = sorted(best.values(), key=lambda t: (-t[0], t[1].id))
        plan.ranked[opening.id] = [c.id for _, c, _ in ordered]
        miss = 1.0
        for candidate_id in opening.pending:
            candidate = by_id.get(candidate_id)
            if candidate is not None:
                miss *= 1.0 - acceptance(opening, candidate, now) * _in_time(candidate, left)
        k = 0
        cap = policy.max_batch - len(opening.pending)
        for _, _, q in ordered:
            if 1.0 - miss >= per_round or k >= cap:
                break
            miss *= 1.0 - q
            k += 1
        want[opening.id] = max(0, k)
        plan.batch_size[opening.id] = len(opening.pending) + k
    children = sorted({child for best in weights.values() for child in best})
    active = [o for o in live if want[o.id] > 0 and weights[o.id]]
    if not children or not active:
        return
    child_node = {child: i + 2 for i, child in enumerate(children)}
    opening_node = {o.id: len(children) + 2 + j for j, o in enumerate(active)}
    source, sink = 0, 1
    tails, heads, caps, costs, pairs = [], [], [], [], []
    for node in child_node.values():
        tails.append(source), heads.append(node), caps.append(1), costs.append(0), pairs.append(None)
    for opening in active:
        node = opening_node[opening.id]
        for child, (w, candidate, p) in weights[opening.id].items():
            cost = -round(w * 1000)
            if cost < 0:
                tails.append(child_node[child]), heads.append(node), caps.append(1), costs.append(cost)
                pairs.append((opening, candidate, p))
        tails.append(node), heads.append(sink), caps.append(want[opening.id]), costs.append(0), pairs.append(None)
    supply = len(children)
    tails.append(source), heads.append(sink), caps.append(supply), costs.append(0), pairs.append(None)  # offer no one
    flow = min_cost_flow.SimpleMinCostFlow()
    for tail, head, cap, cost in zip(tails, heads, caps, costs, strict=True):
        flow.add_arc_with_capacity_and_unit_cost(tail, head, cap, cost)
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    if flow.solve() != flow.OPTIMAL:  # cannot happen with the bypass arc; fall back to nothing new
        return
    chosen: dict[str, list[tuple[float, Candidate, float]]] = defaultdict(list)
    for arc, pair in enumerate(pairs):
        if pair is not None and flow.flow(arc) > 0:
            opening, candidate, p = pair
            chosen[opening.id].append((weights[opening.id][candidate.child_id][0], candidate, p))
    for opening in active:
        for rank, (_, candidate, p) in enumerate(sorted(chosen[opening.id], key=lambda t: (-t[0], t[1].id)), 1):
            plan.offers.append(PlannedOffer(opening.id, candidate.id, candidate.child_id, rank, p,
                                            now + holds[opening.id]))

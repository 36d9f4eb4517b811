"""The hindsight bound H and the score every policy is measured by.

Score: each booked refill that an authorization and the benefit bucket cover is worth
its minutes plus a bonus for why it was needed. In each child-week the first refills
count as makeups (up to the cancellations the practice owed that week), the next as
restoring the plan-of-care frequency, the rest as gap-list extras; an evaluation from
the waitlist is worth its minutes plus the waitlist bonus. A refill outside
authorization is a denied claim: it scores nothing. Kept originals are charged first,
then refills in the order they were booked ("proposed after everything scheduled", as
in ``pedsdesk.authorizations.projection``).

H is the best score reachable knowing every answer in advance, solved exactly as a
min-cost flow, one network per discipline:

    source -> slot (1) -> child-day (1) -> child-week -> [makeup | frequency | gap arcs]
           -> authorization (units left after kept originals) -> bucket -> sink
    source -> slot (1) -> waitlist entry (1) -> sink

A slot-child arc exists when the child fits the slot (discipline, length, windows, no
visit of theirs that day, not ill) and would say yes if offered the moment the slot
was freed (or the entry came off intake, or the child's week first had room), in time
to book. Any policy offers no earlier, and a yes with less notice is never a yes with more (one draw per child and
slot against a curve that rises with notice), so every policy's covered bookings are
a feasible flow here: score(P) <= H.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from optimizer.model import CandidateKind, OfferPolicy
from optimizer.sim.instance import DAY, Instance, answer

BONUS: Mapping[CandidateKind, int] = OfferPolicy().bonus


@dataclass(frozen=True)
class WeekNeed:
    makeup: int
    frequency: int
    gap: int


def week_needs(inst: Instance) -> dict[tuple[str, int], WeekNeed]:
    """Per (child, week): how many refills would count as each kind, in hindsight."""
    originals: dict[tuple[str, int], int] = defaultdict(int)
    missed: dict[tuple[str, int], int] = defaultdict(int)
    owed: dict[tuple[str, int], int] = defaultdict(int)
    for visit in inst.visits.values():
        key = (visit.child, visit.week)
        originals[key] += 1
        cancellation = inst.cancellations.get(visit.id)
        if cancellation is not None:
            missed[key] += 1
            owed[key] += cancellation.cause != "noshow"
    needs = {}
    for child in inst.children():
        for week in range(inst.tier.weeks):
            key = (child.id, week)
            kept = originals[key] - missed[key]
            room = child.frequency_cap - kept if child.active_week(week) else 0
            makeup = min(owed[key], room)
            frequency = max(0, child.frequency - kept - makeup)
            needs[key] = WeekNeed(makeup, frequency, max(0, room - makeup - frequency))
    return needs


def authorization_room(inst: Instance) -> tuple[dict[str, int], dict[str, int]]:
    """Units left on each authorization, and on each child's bucket, after kept originals."""
    used: dict[str, int] = defaultdict(int)
    kept_auth: dict[str, int] = defaultdict(int)
    kept_all: dict[str, int] = defaultdict(int)
    for visit in sorted(inst.visits.values(), key=lambda v: v.start):
        child = inst.people[visit.child]
        attended = visit.id not in inst.cancellations
        kept_all[child.id] += attended
        if child.self_pay:
            continue
        auth = next(a for a in child.authorizations if a.start_day <= visit.day <= a.end_day
                    and used[a.id] < a.quantity)
        used[auth.id] += 1
        kept_auth[auth.id] += attended
    auth_room = {a.id: a.quantity - kept_auth[a.id] for c in inst.children() for a in c.authorizations}
    bucket_room = {c.id: c.bucket - kept_all[c.id] for c in inst.children() if c.bucket is not None}
    return auth_room, bucket_room


@dataclass(frozen=True)
class Scored:
    score: int
    outside_authorization: int
    covered: tuple[bool, ...]  # per booking, in the order given


def score(inst: Instance, bookings: Iterable[tuple[str, str]], bonus: Mapping[CandidateKind, int] = BONUS) -> Scored:
    """Score of refills ``(slot id, person id)`` given in booking order."""
    auth_room, bucket_room = authorization_room(inst)
    needs = week_needs(inst)
    per_week: dict[tuple[str, int], list[int]] = defaultdict(list)
    total, outside, covered = 0, 0, []
    for slot_id, person_id in bookings:
        person = inst.people[person_id]
        day = inst.visits[slot_id].day
        if person.waitlist:
            ok = person.evaluation_authorized
            if ok:
                total += person.minutes + bonus[CandidateKind.WAITLIST]
        else:
            ok = True
            if not person.self_pay:
                auth = next((a for a in person.authorizations if a.start_day <= day <= a.end_day), None)
                ok = auth is not None and auth_room[auth.id] > 0
                ok = ok and (person.bucket is None or bucket_room[person.id] > 0)
                if ok:
                    auth_room[auth.id] -= 1
                    if person.bucket is not None:
                        bucket_room[person.id] -= 1
            if ok:
                per_week[(person_id, day // 7)].append(person.minutes)
        outside += not ok
        covered.append(ok)
    for key, minutes in per_week.items():
        need = needs[key]
        for i, length in enumerate(minutes):
            kind = (CandidateKind.MAKEUP if i < need.makeup else CandidateKind.BELOW_FREQUENCY
                    if i < need.makeup + need.frequency else CandidateKind.GAP)
            total += length + bonus[kind]
    return Scored(total, outside, tuple(covered))


def week_room_times(inst: Instance) -> dict[tuple[str, int], int]:
    """Per (child, week): the first minute the week has room for one more visit under the
    plan's frequency (0 if it always had; missing if never). No policy offers a child a
    time in a full week, so no policy offers earlier than this."""
    booked: dict[tuple[str, int], int] = defaultdict(int)
    misses: dict[tuple[str, int], list[int]] = defaultdict(list)
    for visit in inst.visits.values():
        booked[(visit.child, visit.week)] += 1
        cancellation = inst.cancellations.get(visit.id)
        if cancellation is not None:
            misses[(visit.child, visit.week)].append(cancellation.at)
    times = {}
    for child in inst.children():
        for week in range(inst.tier.weeks):
            key = (child.id, week)
            short = booked[key] - child.frequency_cap + 1  # misses needed before there is room
            if short <= 0:
                times[key] = 0
            elif len(misses[key]) >= short:
                times[key] = sorted(misses[key])[short - 1]
    return times


def hindsight_edges(inst: Instance) -> list[tuple[str, str]]:
    """Every (slot, person) pair a clairvoyant practice could book."""
    from optimizer.sim.engine import static_fit

    params = inst.params
    original_days: dict[str, set[int]] = defaultdict(set)
    for visit in inst.visits.values():
        original_days[visit.child].add(visit.day)
    room_from = week_room_times(inst)
    people_by_discipline: dict[str, list] = defaultdict(list)
    for person in inst.people.values():
        people_by_discipline[person.discipline].append(person)
    edges = []
    for cancellation in sorted(inst.cancellations.values(), key=lambda c: (c.at, c.visit)):
        if not cancellation.frees_opening:
            continue
        visit = inst.visits[cancellation.visit]
        discipline = inst.therapists[visit.therapist].discipline
        for person in people_by_discipline[discipline]:
            if person.id == visit.child:
                continue
            if not static_fit(person, discipline=discipline, day=visit.day, start=visit.start,
                              minutes=visit.minutes):
                continue
            if person.waitlist:
                if visit.day < person.eligible_day:
                    continue
                first = max(cancellation.at, person.eligible_day * DAY)
            else:
                if visit.day in original_days[person.id] or visit.day in inst.ill_days.get(person.id, ()):
                    continue
                if not person.active_on(visit.day):
                    continue
                room = room_from.get((person.id, visit.day // 7))
                if room is None:
                    continue
                first = max(cancellation.at, room)
            if visit.start - first < params.min_notice:
                continue
            truth = answer(inst, person.id, visit.id, visit.therapist, visit.start - first)
            if truth.accepts and first + truth.delay <= visit.start - params.book_by:
                edges.append((visit.id, person.id))
    return edges


@dataclass(frozen=True)
class Bound:
    value: int
    fills: int
    edges: int
    assignment: tuple[tuple[str, str], ...] = ()  # (slot, person) pairs of one optimal flow


def hindsight(inst: Instance, bonus: Mapping[CandidateKind, int] = BONUS,
              edges: Iterable[tuple[str, str]] | None = None) -> Bound:
    """H, or with ``edges`` the best score using only those slot-person pairs."""
    from ortools.graph.python import min_cost_flow

    edges = list(hindsight_edges(inst) if edges is None else edges)
    auth_room, bucket_room = authorization_room(inst)
    needs = week_needs(inst)
    flow = min_cost_flow.SimpleMinCostFlow()
    nodes: dict[tuple, int] = {}

    def node(*key) -> int:
        if key not in nodes:
            nodes[key] = len(nodes)
        return nodes[key]

    source, sink = node("source"), node("sink")
    arcs: set[tuple] = set()
    slot_arcs = []

    def arc(tail: int, head: int, cap: int, cost: int, key: tuple | None = None) -> int:
        if key is not None:
            if key in arcs:
                return -1
            arcs.add(key)
        return flow.add_arc_with_capacity_and_unit_cost(tail, head, max(0, cap), cost)

    for slot_id, person_id in sorted(set(edges)):
        person = inst.people[person_id]
        visit = inst.visits[slot_id]
        slot = node("slot", slot_id)
        arc(source, slot, 1, 0, ("in", slot_id))
        if person.waitlist:
            entry = node("entry", person_id)
            slot_arcs.append((arc(slot, entry, 1, -(person.minutes + bonus[CandidateKind.WAITLIST])),
                              slot_id, person_id))
            arc(entry, sink, 1, 0, ("entry", person_id))
            continue
        week = visit.day // 7
        child_day, child_week = node("day", person_id, visit.day), node("week", person_id, week)
        slot_arcs.append((arc(slot, child_day, 1, -person.minutes), slot_id, person_id))
        arc(child_day, child_week, 1, 0, ("day", person_id, visit.day))
        if ("week", person_id, week) in arcs:
            continue
        arcs.add(("week", person_id, week))
        if person.self_pay:
            target = sink
        else:
            auth = next((a for a in person.authorizations if a.start_day <= 7 * week <= a.end_day), None)
            if auth is None:
                continue  # no authorization that week: nothing there can be covered
            target = node("auth", auth.id)
            if ("auth", auth.id) not in arcs:
                arcs.add(("auth", auth.id))
                if person.bucket is None:
                    arc(target, sink, auth_room[auth.id], 0)
                else:
                    bucket = node("bucket", person_id)
                    arc(target, bucket, auth_room[auth.id], 0)
                    arc(bucket, sink, bucket_room[person_id], 0, ("bucket", person_id))
        need = needs[(person_id, week)]
        arc(child_week, target, need.makeup, -bonus[CandidateKind.MAKEUP])
        arc(child_week, target, need.frequency, -bonus[CandidateKind.BELOW_FREQUENCY])
        arc(child_week, target, need.gap, -bonus[CandidateKind.GAP])
    supply = sum(1 for key in nodes if key[0] == "slot")
    arc(source, sink, supply, 0)
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    assignment = tuple((slot_id, person_id) for a, slot_id, person_id in slot_arcs if flow.flow(a) > 0)
    return Bound(-flow.optimal_cost(), len(assignment), len(edges), assignment)

"""Replay a decision log against the world and recompute every metric from it.

Written apart from the engine, the policies and ``metrics``: it reads only the instance
(regenerated from the seed), the hidden answers, and the log. It checks that every
offer was allowed (outside quiet hours, with minimum notice, to someone the slot could
suit, once), that every reply is the one the world gives for that offer time, and that
every booking was valid when it was made (first yes, before the book-by time, the
child's calendar and week, and for policies that check them the authorization and
bucket). Then it counts: fills, minutes, messages, race losers, attendance, makeups,
visits outside authorization, waitlist days, decision latency and the score.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

from optimizer.sim.instance import DAY, NOTICE_BUCKETS, Instance, answer


class InvalidLog(AssertionError):
    pass


def read_log(path: Path) -> tuple[dict, list[list]]:
    with gzip.open(path, "rt") as handle:
        header = json.loads(handle.readline())
        return header, [json.loads(line) for line in handle]


def _bucket(notice: int) -> str:
    for limit, name in ((24 * 60, "<24h"), (72 * 60, "1-3d"), (168 * 60, "3-7d")):
        if notice < limit:
            return name
    return "7-21d"


def _nearest_rank(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = -(-len(ordered) * q // 100)
    return float(ordered[max(1, int(k)) - 1])


def validate(inst: Instance, header: dict, entries: list[list], bound_value: int, bonus: dict) -> dict:
    """The metrics of the logged run, recomputed; raises InvalidLog on any bad step."""
    params = inst.params
    checks_authorization = header["policy"] in ("P2", "P3")
    visit_of = inst.visits
    discipline_of = {t.id: t.discipline for t in inst.therapists.values()}
    days_of: dict[str, set[int]] = defaultdict(set)
    week_visits: dict[tuple[str, int], list[str]] = defaultdict(list)
    child_visits: dict[str, list[str]] = defaultdict(list)
    for visit in visit_of.values():
        days_of[visit.child].add(visit.day)
        week_visits[(visit.child, visit.week)].append(visit.id)
        child_visits[visit.child].append(visit.id)
    # Originals charged to authorizations in date order, as the generator booked them.
    charged_to: dict[str, str] = {}
    per_auth: dict[str, int] = defaultdict(int)
    for visit in sorted(visit_of.values(), key=lambda v: v.start):
        child = inst.people[visit.child]
        if child.self_pay:
            continue
        for auth in child.authorizations:
            if auth.start_day <= visit.day <= auth.end_day and per_auth[auth.id] < auth.quantity:
                per_auth[auth.id] += 1
                charged_to[visit.id] = auth.id
                break
    auth_visits: dict[str, list[str]] = defaultdict(list)
    for visit_id, auth_id in charged_to.items():
        auth_visits[auth_id].append(visit_id)

    def known_missed(visit_id: str, t: int) -> bool:
        cancellation = inst.cancellations.get(visit_id)
        return cancellation is not None and cancellation.at <= t

    reports: dict[str, list] = defaultdict(list)
    for at, who, days in inst.illness_reports:
        reports[who].append((at, days))

    def known_ill(child: str, day: int, t: int) -> bool:
        return any(at <= t and day in days for at, days in reports[child])

    released: dict[str, int] = {}
    offered: dict[tuple[str, str], int] = {}
    replied_yes: set[tuple[str, str, int]] = set()
    filled: dict[str, tuple[str, int]] = {}
    refill_days: dict[str, set[int]] = defaultdict(set)
    refills_week: dict[tuple[str, int], int] = defaultdict(int)
    refills_auth: dict[str, int] = defaultdict(int)
    refills_all: dict[str, int] = defaultdict(int)
    evaluated: dict[str, int] = {}
    offers = losers = 0
    decisions: list[float] = []
    booked: list[tuple[str, str]] = []
    last = -1
    for entry in entries:
        kind, t = entry[0], entry[1]
        if t < last:
            raise InvalidLog(f"time goes backwards at {entry}")
        last = t
        if kind == "decision":
            decisions.append(entry[2])
            continue
        slot_id = entry[2]
        visit = visit_of[slot_id]
        if kind == "release":
            cancellation = inst.cancellations.get(slot_id)
            if cancellation is None or cancellation.cause not in ("late", "advance", "illness") or cancellation.at != t:
                raise InvalidLog(f"no such opening then: {entry}")
            released[slot_id] = t
            continue
        person_id = entry[3]
        person = inst.people[person_id]
        if kind == "offer":
            of_day = t % DAY
            if of_day >= params.quiet_start or of_day < params.quiet_end:
                raise InvalidLog(f"offer in quiet hours: {entry}")
            if slot_id not in released or slot_id in filled or visit.start - t < params.min_notice:
                raise InvalidLog(f"offer for a time not open or too close: {entry}")
            if (slot_id, person_id) in offered:
                raise InvalidLog(f"offered twice: {entry}")
            offset = visit.start - visit.day * DAY
            fits = person.discipline == discipline_of[visit.therapist] and person.minutes <= visit.minutes and any(
                s <= offset and offset + person.minutes <= e for s, e in person.windows.get(visit.day % 7, ()))
            if not fits or person_id == visit.child:
                raise InvalidLog(f"offer to someone the time cannot suit: {entry}")
            offered[(slot_id, person_id)] = t
            offers += 1
        elif kind == "reply":
            sent = offered.get((slot_id, person_id))
            if sent is None:
                raise InvalidLog(f"reply without an offer: {entry}")
            truth = answer(inst, person_id, slot_id, visit.therapist, visit.start - sent)
            if not truth.replies or sent + truth.delay != t or bool(entry[4]) != truth.accepts:
                raise InvalidLog(f"reply differs from the world's answer {truth}: {entry}")
            if truth.accepts:
                replied_yes.add((slot_id, person_id, t))
        elif kind in ("book", "lost"):
            if (slot_id, person_id, t) not in replied_yes:
                raise InvalidLog(f"{kind} without a yes at that minute: {entry}")
            ok = slot_id not in filled and t <= visit.start - params.book_by
            week = visit.day // 7
            if person.waitlist:
                ok = ok and person_id not in evaluated and t >= person.eligible_day * DAY
            else:
                ok = ok and visit.day not in days_of[person_id] and visit.day not in refill_days[person_id]
                ok = ok and not known_ill(person_id, visit.day, t)
                ok = ok and (person.discharged_on is None or visit.day < person.discharged_on)
                scheduled = sum(1 for v in week_visits[(person_id, week)] if not known_missed(v, t))
                ok = ok and person.frequency_cap - scheduled - refills_week[(person_id, week)] >= 1
            if checks_authorization and ok:
                ok = _covered_then(inst, person, visit.day, t, auth_visits, child_visits, refills_auth, refills_all,
                                   known_missed)
            if kind == "lost":
                if ok:
                    raise InvalidLog(f"a valid yes was turned away: {entry}")
                losers += 1
                continue
            if not ok:
                raise InvalidLog(f"booking that was not allowed: {entry}")
            filled[slot_id] = (person_id, t)
            booked.append((slot_id, person_id))
            if person.waitlist:
                evaluated[person_id] = visit.day
            else:
                refill_days[person_id].add(visit.day)
                refills_week[(person_id, week)] += 1
                auth = next((a for a in person.authorizations if a.start_day <= visit.day <= a.end_day), None)
                if auth is not None:
                    refills_auth[auth.id] += 1
                refills_all[person_id] += 1
        else:
            raise InvalidLog(f"unknown entry {entry}")
    return _metrics(inst, released, booked, offers, losers, decisions, evaluated, charged_to, bound_value, bonus)


def _covered_then(inst, person, day, t, auth_visits, child_visits, refills_auth, refills_all, known_missed) -> bool:
    if person.waitlist:
        return person.evaluation_authorized
    if person.self_pay:
        return True
    auth = next((a for a in person.authorizations if a.start_day <= day <= a.end_day), None)
    if auth is None:
        return False
    on_auth = sum(1 for vid in auth_visits[auth.id] if not known_missed(vid, t))
    if on_auth + refills_auth[auth.id] >= auth.quantity:
        return False
    if person.bucket is None:
        return True
    all_kept = sum(1 for vid in child_visits[person.id] if not known_missed(vid, t))
    return all_kept + refills_all[person.id] < person.bucket


def _metrics(inst, released, booked, offers, losers, decisions, evaluated, charged_to, bound_value, bonus) -> dict:
    cancelled = inst.cancellations
    kept_by_auth: dict[str, int] = defaultdict(int)
    kept_by_child: dict[str, int] = defaultdict(int)
    kept_week: dict[tuple[str, int], int] = defaultdict(int)
    booked_week: dict[tuple[str, int], int] = defaultdict(int)
    owed_week: dict[tuple[str, int], int] = defaultdict(int)
    for visit in inst.visits.values():
        key = (visit.child, visit.week)
        booked_week[key] += 1
        if visit.id in cancelled:
            owed_week[key] += cancelled[visit.id].cause != "noshow"
            continue
        kept_week[key] += 1
        kept_by_child[visit.child] += 1
        if visit.id in charged_to:
            kept_by_auth[charged_to[visit.id]] += 1
    # Which refills an authorization covers: kept originals first, refills in booking order.
    paid: list[bool] = []
    extra_auth: dict[str, int] = defaultdict(int)
    extra_child: dict[str, int] = defaultdict(int)
    for slot_id, person_id in booked:
        person = inst.people[person_id]
        day = inst.visits[slot_id].day
        if person.waitlist:
            paid.append(person.evaluation_authorized)
            continue
        if person.self_pay:
            paid.append(True)
            continue
        auth = next((a for a in person.authorizations if a.start_day <= day <= a.end_day), None)
        ok = auth is not None and kept_by_auth[auth.id] + extra_auth[auth.id] < auth.quantity
        ok = ok and (person.bucket is None or kept_by_child[person_id] + extra_child[person_id] < person.bucket)
        if ok:
            extra_auth[auth.id] += 1
            extra_child[person_id] += 1
        paid.append(ok)
    freed = {b: 0 for b in NOTICE_BUCKETS}
    for slot_id, at in released.items():
        visit = inst.visits[slot_id]
        freed[_bucket(visit.start - at)] += visit.minutes
    filled_paid = {b: 0 for b in NOTICE_BUCKETS}
    minutes_booked = minutes_paid = 0
    refills_cw: dict[tuple[str, int], list[int]] = defaultdict(list)
    total = 0
    for (slot_id, person_id), ok in zip(booked, paid, strict=True):
        person = inst.people[person_id]
        visit = inst.visits[slot_id]
        minutes_booked += person.minutes
        if ok:
            minutes_paid += person.minutes
            filled_paid[_bucket(visit.start - released[slot_id])] += person.minutes
            if person.waitlist:
                total += person.minutes + bonus["WAITLIST"]
            else:
                refills_cw[(person_id, visit.day // 7)].append(person.minutes)
    all_refills: dict[tuple[str, int], int] = defaultdict(int)
    for slot_id, person_id in booked:
        if not inst.people[person_id].waitlist:
            all_refills[(person_id, inst.visits[slot_id].day // 7)] += 1
    for key, lengths in refills_cw.items():
        child = inst.people[key[0]]
        kept = kept_week[key]
        room = child.frequency_cap - kept if child.discharged_on is None or 7 * key[1] < child.discharged_on else 0
        makeup = min(owed_week[key], room)
        frequency = max(0, child.frequency - kept - makeup)
        for i, length in enumerate(lengths):
            total += length + bonus["MAKEUP" if i < makeup else "BELOW_FREQUENCY" if i < makeup + frequency else "GAP"]
    ratios = []
    for child in inst.children():
        for week in range(inst.tier.weeks):
            if child.discharged_on is not None and 7 * week >= child.discharged_on:
                continue
            key = (child.id, week)
            ratios.append(min(1.0, (kept_week[key] + all_refills[key]) / child.frequency))
    owed_total = sum(owed_week.values())
    horizon_days = inst.horizon // DAY
    waits = [evaluated.get(p.id, horizon_days) - p.referral_day for p in inst.waitlist()
             if p.referral_day < horizon_days]
    working = inst.working_minutes()
    kept_minutes = sum(v.minutes for v in inst.visits.values() if v.id not in cancelled)
    all_freed = sum(freed.values())
    result = {
        "score": total,
        "score_over_bound": total / bound_value if bound_value else 1.0,
        "fill_rate": minutes_paid / all_freed if all_freed else 0.0,
        "fill_rate_booked": minutes_booked / all_freed if all_freed else 0.0,
        "utilization": (kept_minutes + minutes_booked) / working,
        "frequency_adherence": sum(ratios) / len(ratios),
        "frequency_adherence_p10": _nearest_rank(ratios, 10),
        "makeups_within_week": (sum(min(n, all_refills[k]) for k, n in owed_week.items()) / owed_total
                                if owed_total else 0.0),
        "visits_outside_authorization": paid.count(False),
        "messages_per_fill": (offers + losers) / len(booked) if booked else None,
        "race_losers": losers,
        "waitlist_days_to_evaluation": sum(waits) / len(waits) if waits else 0.0,
        "decision_ms_p50": _nearest_rank(decisions, 50),
        "decision_ms_p95": _nearest_rank(decisions, 95),
        "fills": len(booked),
    }
    for bucket in NOTICE_BUCKETS:
        result[f"fill_rate_{bucket}"] = filled_paid[bucket] / freed[bucket] if freed[bucket] else None
    return result

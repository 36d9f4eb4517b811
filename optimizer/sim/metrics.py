"""The numbers of one simulated run, read from the engine's final state."""

from __future__ import annotations

from collections import defaultdict

from optimizer.sim.bound import score
from optimizer.sim.engine import Engine
from optimizer.sim.instance import NOTICE_BUCKETS, Instance, notice_bucket

# The keys of the JSON output, in order (issue 6).
HEADLINE = ("score_over_bound", "fill_rate", "utilization", "frequency_adherence", "makeups_within_week",
            "visits_outside_authorization", "messages_per_fill", "race_losers", "waitlist_days_to_evaluation",
            "decision_ms_p95")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return float(ordered[int(rank) - 1])


def attendance(inst: Instance, refills_by_week: dict[tuple[str, int], int]) -> tuple[float, float]:
    """Frequency adherence per child-week: visits attended ÷ plan frequency (at most 1)."""
    kept: dict[tuple[str, int], int] = defaultdict(int)
    for visit in inst.visits.values():
        if visit.id not in inst.cancellations:
            kept[(visit.child, visit.week)] += 1
    ratios = []
    for child in inst.children():
        for week in range(inst.tier.weeks):
            if not child.active_week(week):
                continue  # discharged: no frequency to keep
            key = (child.id, week)
            ratios.append(min(1.0, (kept[key] + refills_by_week.get(key, 0)) / child.frequency))
    return sum(ratios) / len(ratios), percentile(ratios, 10)


def measure(engine: Engine, bound_value: int) -> dict:
    inst = engine.inst
    freed: dict[str, int] = defaultdict(int)
    filled: dict[str, int] = defaultdict(int)
    for slot in engine.slots.values():
        bucket = notice_bucket(slot.notice)
        freed[bucket] += slot.minutes
    refills: dict[tuple[str, int], int] = defaultdict(int)
    scored = score(inst, engine.bookings_for_bound())
    booked_minutes = paid_minutes = 0
    for booking, paid in zip(engine.bookings, scored.covered, strict=True):
        slot = engine.slots[booking.slot]
        booked_minutes += booking.minutes
        if paid:  # a visit outside authorization is a denied claim: it fills no billable time
            filled[notice_bucket(slot.notice)] += booking.minutes
            paid_minutes += booking.minutes
        if not inst.people[booking.person].waitlist:
            refills[(booking.person, booking.day // 7)] += 1
    kept_minutes = sum(v.minutes for v in inst.visits.values() if v.id not in inst.cancellations)
    owed: dict[tuple[str, int], int] = defaultdict(int)
    for cancellation in inst.cancellations.values():
        if cancellation.cause != "noshow":
            visit = inst.visits[cancellation.visit]
            owed[(visit.child, visit.week)] += 1
    made_up = sum(min(n, refills.get(key, 0)) for key, n in owed.items())
    mean_adherence, p10_adherence = attendance(inst, refills)
    horizon_days = inst.horizon // 1440
    waits = [engine.evaluated.get(p.id, horizon_days) - p.referral_day
             for p in inst.waitlist() if p.referral_day < horizon_days]
    fills = len(engine.bookings)
    total_freed = sum(freed.values())
    result = {
        "score": scored.score,
        "bound": bound_value,
        "score_over_bound": scored.score / bound_value if bound_value else 1.0,
        "fill_rate": paid_minutes / total_freed if total_freed else 0.0,
        "fill_rate_booked": booked_minutes / total_freed if total_freed else 0.0,
        "utilization": (kept_minutes + booked_minutes) / inst.working_minutes(),
        "frequency_adherence": mean_adherence,
        "frequency_adherence_p10": p10_adherence,
        "makeups_within_week": made_up / sum(owed.values()) if owed else 0.0,
        "visits_outside_authorization": scored.outside_authorization,
        "messages_per_fill": engine.messages / fills if fills else None,
        "race_losers": engine.race_losers,
        "waitlist_days_to_evaluation": sum(waits) / len(waits) if waits else 0.0,
        "decision_ms_p50": percentile(engine.decision_ms, 50),
        "decision_ms_p95": percentile(engine.decision_ms, 95),
        "fills": fills,
        "offers": engine.offers,
        "messages": engine.messages,
        "freed_minutes": total_freed,
        "filled_minutes": booked_minutes,
        "decisions": len(engine.decision_ms),
    }
    for bucket in NOTICE_BUCKETS:
        result[f"fill_rate_{bucket}"] = filled[bucket] / freed[bucket] if freed[bucket] else None
    return result

"""plan_offers: whom to offer which opening, never past an authorization."""

import datetime as dt
import random

import pytest

from optimizer import (
    AuthorizationRoom,
    BucketRoom,
    Candidate,
    CandidateKind,
    OfferPolicy,
    Opening,
    baseline_rank,
    coverage_problem,
    fit_problem,
    plan_offers,
)
from optimizer.plan import monday, sendable_minutes
from pedsdesk.authorizations.projection import Line, Visit, allocate

UTC = dt.UTC
NOW = dt.datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # a Tuesday morning
TUESDAY = NOW.date()
WEEK = monday(TUESDAY)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def opening(oid: str = "o1", day: dt.date = TUESDAY, hour: int = 16, minutes: int = 45, discipline: str = "OT",
            therapist: str = "t1", **kwargs) -> Opening:
    start = at(day, hour)
    return Opening(oid, therapist, discipline, start, start + dt.timedelta(minutes=minutes), day, **kwargs)


def candidate(cid: str = "c1", kind: CandidateKind = CandidateKind.BELOW_FREQUENCY, child: str | None = None,
              days: tuple[dt.date, ...] = (TUESDAY,), minutes: int = 45, units_left: int = 10,
              auth_end: dt.date = dt.date(2027, 6, 30), room: int = 1, **kwargs) -> Candidate:
    windows = tuple((at(day, 8), at(day, 19)) for day in days)
    kwargs.setdefault("authorizations", (AuthorizationRoom(f"a-{child or cid}", dt.date(2027, 1, 1), auth_end,
                                                           units_left),))
    return Candidate(cid, child or cid, kind, kwargs.pop("discipline", "OT"), minutes, windows,
                     {monday(day): room for day in days}, **kwargs)


SEQUENTIAL = OfferPolicy(mode="sequential")
OPTIMIZED = OfferPolicy(mode="optimized")


def test_fit_checks_discipline_length_windows_notice_week_and_repeat_offers():
    o = opening()
    assert fit_problem(o, candidate(), NOW, SEQUENTIAL) == ""
    assert fit_problem(o, candidate(discipline="PT"), NOW, SEQUENTIAL) == "discipline"
    assert fit_problem(o, candidate(minutes=60), NOW, SEQUENTIAL) == "too_short"
    assert fit_problem(o, candidate(days=(TUESDAY + dt.timedelta(days=1),)), NOW, SEQUENTIAL) == "availability"
    assert fit_problem(o, candidate(days=(TUESDAY + dt.timedelta(days=7),)), NOW, SEQUENTIAL) == "weekly_frequency"
    assert fit_problem(o, candidate(room=0), NOW, SEQUENTIAL) == "weekly_frequency"
    assert fit_problem(o, candidate(), at(TUESDAY, 15), SEQUENTIAL) == "notice"  # 1 h before: under 2 h
    assert fit_problem(opening(offered=frozenset({"c1"})), candidate(), NOW, SEQUENTIAL) == "already_offered"
    narrow = Candidate("c1", "c1", CandidateKind.GAP, "OT", 45, ((at(TUESDAY, 16), at(TUESDAY, 16, 30)),),
                       {WEEK: 1}, requires_authorization=False)
    assert fit_problem(o, narrow, NOW, SEQUENTIAL) == "availability"


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"units_left": 0}, "authorization_units"),
    ({"auth_end": TUESDAY - dt.timedelta(days=1)}, "authorization_after_end"),
    ({"authorizations": ()}, "no_authorization"),
    ({"buckets": (BucketRoom("b1", 0),)}, "benefit_limit"),
    ({"authorizations": (AuthorizationRoom("a1", dt.date(2027, 1, 1), dt.date(2027, 6, 30), 5,
                                           week_cap_left={WEEK: 0}),)}, "authorization_weekly_cap"),
])
def test_never_proposes_a_visit_the_authorization_would_not_cover(kwargs, reason):
    for mode in ("sequential", "batch", "broadcast", "optimized"):
        plan = plan_offers([opening()], [candidate(**kwargs)], OfferPolicy(mode=mode), NOW)
        assert plan.offers == []
        assert [(s.candidate_id, s.reason) for s in plan.skipped] == [("c1", reason)]


def test_self_pay_needs_no_authorization_and_a_policy_may_skip_the_check():
    assert coverage_problem(TUESDAY, candidate(authorizations=(), requires_authorization=False)) == ""
    blind = OfferPolicy(mode="broadcast", check_authorization=False)
    assert len(plan_offers([opening()], [candidate(units_left=0)], blind, NOW).offers) == 1


def test_pending_offers_use_up_the_authorization_so_any_set_of_yeses_is_covered():
    one_unit = candidate("c1", units_left=1, days=(TUESDAY, TUESDAY + dt.timedelta(days=2)), room=2)
    held = opening("o1", pending=frozenset({"c1"}), offered=frozenset({"c1"}))
    other = opening("o2", day=TUESDAY + dt.timedelta(days=2))
    for mode in ("sequential", "broadcast", "optimized"):
        plan = plan_offers([held, other], [one_unit], OfferPolicy(mode=mode), NOW)
        assert plan.offers == []
        assert ("o2", "c1", "authorization_units") in {(s.opening_id, s.candidate_id, s.reason) for s in plan.skipped}


def test_one_child_is_never_offered_two_times_on_one_day():
    o1, o2 = opening("o1", hour=16), opening("o2", hour=17, therapist="t2")
    twice = candidate("c1", room=2)
    for mode in ("batch", "broadcast", "optimized"):
        plan = plan_offers([o1, o2], [twice], OfferPolicy(mode=mode), NOW)
        assert len(plan.offers) == 1


def test_baseline_order_is_makeup_frequency_gap_waitlist_then_days_waiting():
    rows = [
        candidate("w", CandidateKind.WAITLIST, days_waiting=90),
        candidate("g", CandidateKind.GAP, days_waiting=30),
        candidate("f1", CandidateKind.BELOW_FREQUENCY, days_waiting=2),
        candidate("f2", CandidateKind.BELOW_FREQUENCY, days_waiting=9),
        candidate("m", CandidateKind.MAKEUP, days_waiting=0),
    ]
    assert [c.id for c in baseline_rank(opening(), rows, NOW)] == ["m", "f2", "f1", "g", "w"]
    plan = plan_offers([opening()], rows, SEQUENTIAL, NOW)
    assert [(o.candidate_id, o.rank) for o in plan.offers] == [("m", 1)]
    assert plan.ranked["o1"] == ["m", "f2", "f1", "g", "w"]
    assert plan.review_at["o1"] == NOW + dt.timedelta(minutes=10)
    assert len(plan_offers([opening()], rows, OfferPolicy(mode="batch", batch_size=3), NOW).offers) == 3
    assert len(plan_offers([opening()], rows, OfferPolicy(mode="broadcast"), NOW).offers) == 5


def test_sequential_waits_while_an_offer_is_held():
    held = opening(pending=frozenset({"m"}), offered=frozenset({"m"}))
    rows = [candidate("m", CandidateKind.MAKEUP), candidate("f", CandidateKind.BELOW_FREQUENCY)]
    assert plan_offers([held], rows, SEQUENTIAL, NOW).offers == []


def test_optimizer_sends_the_flexible_child_where_no_one_else_fits():
    """Ann fits both times, Ben only the first. Ranked per opening, Ann (the makeup) is
    everyone's first choice; the flow offers Ben the first time and Ann the second."""
    first, second = opening("first", hour=16), opening("second", hour=17, therapist="t2")
    ann = candidate("ann", CandidateKind.MAKEUP, response_rate=0.5)
    ben = Candidate("ben", "ben", CandidateKind.BELOW_FREQUENCY, "OT", 45,
                    ((at(TUESDAY, 15, 30), at(TUESDAY, 16, 45)),), {WEEK: 1}, requires_authorization=False,
                    response_rate=0.5)
    plan = plan_offers([first, second], [ann, ben], OPTIMIZED, NOW)
    assert plan.solver == "min_cost_flow"
    assert {(o.opening_id, o.candidate_id) for o in plan.offers} == {("first", "ben"), ("second", "ann")}


def test_optimizer_asks_more_families_at_once_when_time_is_short():
    rows = [candidate(f"c{i}", response_rate=0.3, days=(TUESDAY, TUESDAY + dt.timedelta(days=3)))
            for i in range(12)]
    soon = plan_offers([opening(hour=13)], rows, OPTIMIZED, NOW)  # 4 h away
    later = plan_offers([opening(day=TUESDAY + dt.timedelta(days=3))], rows, OPTIMIZED, NOW)
    assert soon.batch_size["o1"] > later.batch_size["o1"] >= 1
    assert len(soon.offers) == soon.batch_size["o1"]
    assert soon.review_at["o1"] - NOW < later.review_at["o1"] - NOW


def test_optimizer_prefers_likelier_and_more_needed_families():
    rows = [candidate("gap", CandidateKind.GAP, response_rate=0.5),
            candidate("makeup", CandidateKind.MAKEUP, response_rate=0.5),
            candidate("unlikely", CandidateKind.MAKEUP, response_rate=0.05)]
    plan = plan_offers([opening(day=TUESDAY + dt.timedelta(days=3))],
                       [candidate(c.id, c.kind, days=(TUESDAY + dt.timedelta(days=3),),
                                  response_rate=c.response_rate) for c in rows], OPTIMIZED, NOW)
    assert plan.ranked["o1"] == ["makeup", "gap", "unlikely"]


def test_quiet_hours_leave_fewer_minutes_to_send():
    policy = OfferPolicy(quiet_start=dt.time(20), quiet_end=dt.time(8))
    evening = at(TUESDAY, 18)
    assert sendable_minutes(evening, at(TUESDAY + dt.timedelta(days=1), 10), policy) == 120 + 120
    assert sendable_minutes(evening, at(TUESDAY, 19), OfferPolicy()) == 60


def test_random_plans_keep_every_promise():
    """Whatever the input, every proposed offer fits on its own, no child holds two offers
    on a day, and pending plus new offers never exceed a week's room or an authorization."""
    rng = random.Random(7)
    days = [TUESDAY + dt.timedelta(days=i) for i in range(5)]
    for trial in range(40):
        openings = [opening(f"o{i}", day=rng.choice(days), hour=rng.randint(12, 17), minutes=rng.choice((30, 45, 60)),
                            therapist=f"t{i % 3}") for i in range(rng.randint(1, 8))]
        rows = []
        for j in range(rng.randint(1, 25)):
            child_days = tuple(sorted(rng.sample(days, rng.randint(1, 5))))
            rows.append(candidate(f"c{j}", CandidateKind(rng.randrange(4)), days=child_days,
                                  minutes=rng.choice((30, 45, 60)), units_left=rng.randint(0, 3),
                                  room=rng.randint(0, 2), response_rate=rng.random()))
        pending = {o.id: frozenset(r.id for r in rng.sample(rows, min(1, len(rows)))
                                   if not fit_problem(o, r, NOW, OPTIMIZED)) for o in openings}
        openings = [Opening(o.id, o.therapist_id, o.discipline, o.start, o.end, o.day, pending[o.id], pending[o.id])
                    for o in openings]
        for mode in ("sequential", "batch", "broadcast", "optimized"):
            plan = plan_offers(openings, rows, OfferPolicy(mode=mode), NOW)
            by_id = {r.id: r for r in rows}
            opening_of = {o.id: o for o in openings}
            claims = [(opening_of[o], by_id[c]) for o in pending for c in pending[o]]
            claims += [(opening_of[p.opening_id], by_id[p.candidate_id]) for p in plan.offers]
            for p in plan.offers:
                assert not fit_problem(opening_of[p.opening_id], by_id[p.candidate_id], NOW, OfferPolicy(mode=mode))
            per_day, per_week, per_auth = {}, {}, {}
            for o, c in claims:
                per_day[(c.child_id, o.day)] = per_day.get((c.child_id, o.day), 0) + 1
                per_week[c.id] = per_week.get(c.id, 0) + 1
                auth = c.authorizations[0].id
                per_auth[auth] = per_auth.get(auth, 0) + 1
            assert max(per_day.values(), default=0) <= 1, (trial, mode)
            for cid, n in per_week.items():
                room = 1 if by_id[cid].kind == CandidateKind.WAITLIST else sum(by_id[cid].week_room.values())
                assert n <= max(1, room), (trial, mode, cid)
            for c in rows:
                auth = c.authorizations[0]
                new = sum(1 for p in plan.offers if p.candidate_id == c.id)
                assert new == 0 or per_auth[auth.id] <= auth.units_left, (trial, mode, c.id)


def test_plans_are_deterministic():
    rows = [candidate(f"c{i}", response_rate=0.1 + i / 30) for i in range(20)]
    openings = [opening("o1"), opening("o2", hour=17, therapist="t2")]
    first = plan_offers(openings, rows, OPTIMIZED, NOW)
    assert all(plan_offers(openings, rows, OPTIMIZED, NOW) == first for _ in range(3))


def test_coverage_agrees_with_the_projection_the_booking_guard_uses():
    """A visit the optimizer calls covered is one projection.allocate charges without a
    denial, after everything already scheduled; and the other way round."""
    rng = random.Random(3)
    for _ in range(200):
        quantity = rng.randint(1, 6)
        end = dt.date(2027, 3, rng.randint(1, 20))
        line = Line(1, 10, dt.date(2027, 1, 1), end, frozenset({"97530"}), "visits", quantity)
        booked = [Visit(f"v{i}", dt.date(2027, 1, 4) + dt.timedelta(days=7 * i), (("97530", 1),), done=i < 2)
                  for i in range(rng.randint(0, 7))]
        day = dt.date(2027, 3, rng.randint(1, 20))
        proposed = Visit("new", day, (("97530", 1),), done=False, proposed=True)
        denied = {d.visit.key for d in allocate([line], [*booked, proposed]).denials}
        if denied - {"new"}:
            continue  # the schedule is already over the authorization: not a case the guard lets arise
        left = quantity - len(booked)
        room = AuthorizationRoom("10", line.start, line.end, left)
        c = Candidate("c", "c", CandidateKind.MAKEUP, "OT", 45, (), authorizations=(room,))
        assert (coverage_problem(day, c) == "") == ("new" not in denied)

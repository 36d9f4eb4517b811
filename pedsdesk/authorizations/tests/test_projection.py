"""The arithmetic of authorizations, on plain records."""

import datetime as dt

from pedsdesk.authorizations.projection import Line, UnusedRule, Visit, allocate, bucket_use, plan_year, project

D = dt.date


def weekly(start: dt.date, count: int, codes=(("97530", 3),), done_before: dt.date | None = None, step=7):
    return [
        Visit(f"v{i}", start + dt.timedelta(days=step * i), tuple(codes),
              done=bool(done_before and start + dt.timedelta(days=step * i) < done_before))
        for i in range(count)
    ]


def test_visit_count_authorization_runs_out_before_it_expires():
    line = Line(1, 10, D(2026, 9, 1), D(2026, 12, 31), frozenset({"97530", "97110"}), "visits", 12)
    visits = weekly(D(2026, 9, 7), 20, done_before=D(2026, 11, 27))
    allocation = allocate([line], visits)
    projection = project([line], allocation)[10]
    assert projection.used == 12 and projection.scheduled == 0 and projection.remaining == 0
    assert projection.exhausted_on == D(2026, 11, 23)
    assert projection.runs_out_before_end
    assert [d.reason for d in projection.denials] == ["beyond_units"] * 5 + ["after_end"] * 3
    assert projection.flags == ["runs_out", "denials"]


def test_units_authorization_counts_units_and_leaves_some_unused():
    line = Line(1, 10, D(2026, 9, 1), D(2026, 11, 30), frozenset({"97530"}), "units", 48)
    visits = weekly(D(2026, 9, 7), 10, done_before=D(2026, 10, 1))
    projection = project([line], allocate([line], visits), UnusedRule(D(2026, 11, 10)))[10]
    assert (projection.used, projection.scheduled, projection.remaining) == (12, 18, 18)
    assert projection.unused_at_end == 18 and not projection.runs_out_before_end
    assert projection.flags == ["unused_units"]


def test_units_unused_is_flagged_only_for_a_meaningful_share_in_the_last_weeks():
    line = Line(1, 10, D(2026, 9, 1), D(2026, 11, 30), frozenset({"97530"}), "units", 45)
    visits = weekly(D(2026, 9, 7), 13, done_before=D(2026, 10, 1))  # 39 units: 6 (13 %) left at the end

    def flags(rule):
        return project([line], allocate([line], visits), rule)[10].flags

    assert flags(UnusedRule(D(2026, 11, 10))) == []  # 13 % is under the default 20 %
    assert flags(UnusedRule(D(2026, 11, 10), share_percent=10)) == ["unused_units"]
    assert flags(UnusedRule(D(2026, 10, 1), share_percent=10)) == []  # 8 weeks out: booking can still use them
    assert flags(UnusedRule(D(2026, 10, 1), share_percent=10, weeks=10)) == ["unused_units"]
    assert flags(UnusedRule(D(2026, 12, 1), share_percent=10)) == []  # ended: nothing left to book
    assert flags(None) == []


def test_visits_after_the_end_are_named_as_future_denials():
    line = Line(1, 10, D(2026, 9, 1), D(2026, 10, 31), frozenset({"92507"}), "visits", 30)
    visits = weekly(D(2026, 10, 19), 4, codes=(("92507", 1),))
    projection = project([line], allocate([line], visits))[10]
    assert [(d.visit.day, d.reason) for d in projection.denials] == [
        (D(2026, 11, 2), "after_end"), (D(2026, 11, 9), "after_end")]
    assert "after the authorization ends on Oct 31" in projection.denials[0].message


def test_two_overlapping_authorizations_use_the_one_that_ends_first():
    old = Line(1, 10, D(2026, 6, 1), D(2026, 11, 30), frozenset({"97530"}), "visits", 100)
    new = Line(2, 20, D(2026, 11, 15), D(2027, 5, 15), frozenset({"97530"}), "visits", 24)
    visits = weekly(D(2026, 11, 9), 6)
    allocation = allocate([new, old], visits)
    assert [allocation.covered[v.key] for v in visits] == [[1], [1], [1], [1], [2], [2]]


def test_weekly_cap_and_codes_outside_the_authorization():
    line = Line(1, 10, D(2026, 11, 1), D(2027, 1, 31), frozenset({"97530"}), "visits", 40, per_week_cap=2)
    visits = [*weekly(D(2026, 11, 30), 3, step=1), Visit("x", D(2026, 12, 8), (("97533", 2),), False)]
    allocation = allocate([line], visits)
    assert [d.reason for d in allocation.denials] == ["weekly_cap", "code"]


def test_a_visit_with_two_codes_counts_once_on_a_visit_line_and_by_units_on_unit_lines():
    visit_line = Line(1, 10, D(2026, 11, 1), D(2027, 1, 31), frozenset({"97530", "97110"}), "visits", 10)
    unit_line = Line(2, 20, D(2026, 11, 1), D(2027, 1, 31), frozenset({"97530", "97110"}), "units", 40)
    visit = Visit("v", D(2026, 12, 1), (("97530", 2), ("97110", 1)), False)
    assert allocate([visit_line], [visit]).lines[1].scheduled == 1
    assert allocate([unit_line], [visit]).lines[2].scheduled == 3


def test_plan_year_resets_on_january_first_and_mid_year():
    assert plan_year(D(2026, 11, 27)) == (D(2026, 1, 1), D(2026, 12, 31))
    assert plan_year(D(2026, 11, 27), 7, 1) == (D(2026, 7, 1), D(2027, 6, 30))
    assert plan_year(D(2026, 3, 2), 7, 1) == (D(2025, 7, 1), D(2026, 6, 30))


def test_bucket_counts_within_the_plan_year_and_projects_exhaustion():
    visits = weekly(D(2026, 10, 5), 16, done_before=D(2026, 11, 27))  # runs into January
    use = bucket_use(limit=10, unit_type="visits", period=plan_year(D(2026, 11, 27)), visits=visits)
    assert (use.used, use.scheduled, use.remaining) == (8, 2, 0)
    assert use.exhausted_on == D(2026, 12, 7)
    assert [v.day for v in use.over_limit] == [D(2026, 12, 14), D(2026, 12, 21), D(2026, 12, 28)]
    january = bucket_use(limit=10, unit_type="visits", period=plan_year(D(2027, 1, 4)), visits=visits)
    assert january.scheduled == 3 and january.used == 0

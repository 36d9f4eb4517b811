"""The demo schedule is one a real practice could have: nobody double-booked, visits
inside working hours, history and the weeks ahead, authorizations that need work."""

import datetime as dt
from collections import defaultdict

import pytest

from pedsdesk.authorizations.queries import project_authorizations
from pedsdesk.demo.generator import seed_demo
from pedsdesk.demo.schedule import AHEAD_WEEKS
from pedsdesk.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    SchedulingPolicy,
    Series,
    WorkingHours,
)
from pedsdesk.scheduling.series import due_series

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def demo(db):
    return seed_demo(size="small", seed=11, today=TODAY)


def test_nobody_is_double_booked(demo):
    seen: dict[tuple[str, int], list] = defaultdict(list)
    for a in Appointment.objects.filter(status__in=HOLDING_STATUSES):
        # A meeting block (a school meeting) holds a therapist's time and no child's.
        for who in (("t", a.therapist_id), ("p", a.patient_id)) if a.patient_id else (("t", a.therapist_id),):
            assert all(a.end_at <= s or a.start_at >= e for s, e in seen[who]), f"{who} double-booked"
            seen[who].append((a.start_at, a.end_at))


def test_visits_fall_in_working_hours_in_local_time(demo):
    zone = demo.practice.zone
    hours = defaultdict(list)
    for h in WorkingHours.objects.all():
        hours[(h.therapist_id, h.weekday)].append((h.start, h.end))
    for a in Appointment.objects.all():
        start, end = a.start_at.astimezone(zone), a.end_at.astimezone(zone)
        assert any(s <= start.time() and end.time() <= e for s, e in hours[(a.therapist_id, start.weekday())])


def test_history_and_the_weeks_ahead(demo):
    zone = demo.practice.zone
    past = [a for a in Appointment.objects.all() if a.start_at.astimezone(zone).date() < TODAY]
    ahead = [a for a in Appointment.objects.all() if a.start_at.astimezone(zone).date() > TODAY]
    assert past and ahead
    statuses = {a.status for a in past}
    assert {AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW} <= statuses
    # The school meetings are on the real clock (their invitations go out); visits are not.
    visits_ahead = [a for a in ahead if a.kind != AppointmentKind.MEETING]
    assert max(a.start_at.astimezone(zone).date() for a in visits_ahead) <= TODAY + dt.timedelta(weeks=2)
    missed = sum(a.status != AppointmentStatus.COMPLETED for a in past) / len(past)
    assert 0.08 < missed < 0.35


def test_tomorrows_sweep_books_one_days_series_not_a_weeks_catch_up(demo):
    """The demo books as far ahead as its policy says, so the next daily sweep has a day's work."""
    assert SchedulingPolicy.for_practice(demo.practice).series_weeks_ahead == AHEAD_WEEKS
    assert not due_series(demo.practice, today=TODAY).exists()
    tomorrow = TODAY + dt.timedelta(days=1)
    new_day = tomorrow + dt.timedelta(weeks=AHEAD_WEEKS)  # the one day the horizon gains
    expected = set(Series.objects.filter(active=True, weekday=new_day.weekday(), start_date__lte=new_day,
                                         end_date__gte=new_day).values_list("pk", flat=True))
    assert expected and set(due_series(demo.practice, today=tomorrow).values_list("pk", flat=True)) == expected


def test_authorizations_have_something_to_say(demo):
    projections = project_authorizations(demo.practice)
    assert projections
    assert any(p.used for p in projections.values())
    assert any("runs_out" in p.flags or "denials" in p.flags for p in projections.values())


def test_waitlist_and_gap_list_are_seeded(demo):
    from pedsdesk.scheduling.models import GapListEntry, WaitlistEntry

    assert WaitlistEntry.objects.filter(practice=demo.practice).exists()
    assert GapListEntry.objects.filter(practice=demo.practice).exists()


def test_this_weeks_cancellations_run_the_real_refill(db, django_capture_on_commit_callbacks):
    from pedsdesk.messaging.models import Message
    from pedsdesk.scheduling.models import Offer, Opening

    with django_capture_on_commit_callbacks(execute=True):
        summary = seed_demo(size="small", seed=5)  # today: the clock's, so the week ahead is real
    assert summary.counts["demo_cancellations"] >= 2
    assert Opening.objects.filter(practice=summary.practice).exists()
    assert Offer.objects.filter(opening__practice=summary.practice).exists()
    assert Message.objects.filter(kind="opening_offer").exists()


def _share(rows, flag: str) -> float:
    return sum(flag in r.flags for r in rows) / len(rows)


def test_the_demo_looks_like_a_well_run_practice(db):
    """A year of history; each authorization flag on a realistic minority; refill measures
    from real openings and offers; renewals in their real order."""
    from statistics import median

    from pedsdesk.authorizations.models import Renewal
    from pedsdesk.authorizations.queries import summarize
    from pedsdesk.scheduling.models import Offer, Opening
    from pedsdesk.scheduling.queries import refill_measures

    today = dt.date(2026, 12, 1)
    summary = seed_demo(size="small", seed=4, today=today, simulate_week=False)
    practice = summary.practice
    zone = practice.zone
    first = Appointment.objects.filter(practice=practice).order_by("start_at").first()
    assert first.start_at.astimezone(zone).date() <= today - dt.timedelta(weeks=50)

    running = [s for s in summarize(practice, today=today) if s.usable and s.authorization.end_date >= today]
    assert len(running) >= 30
    for flag in ("runs_out", "denials", "unused_units"):
        assert 0.04 <= _share(running, flag) <= 0.16, (flag, _share(running, flag))
    # Burn-downs that move: an authorization running for a month or more has used some of it.
    older = [s for s in running if s.authorization.start_date <= today - dt.timedelta(weeks=4)]
    assert sum(s.used == 0 for s in older) <= len(older) * 0.05
    assert median(s.used / s.authorized for s in older) > 0.2
    # Earlier authorizations: expired, each continued by an approved renewal.
    assert Renewal.objects.filter(authorization__status="expired", state="approved").count() >= 10

    weeks = [refill_measures(practice, today - dt.timedelta(weeks=w)) for w in range(1, 5)]
    assert all(w["openings"] and w["filled"] and w["offers"] for w in weeks)
    assert all(5 <= w["median_minutes_to_fill"] <= 240 for w in weeks), weeks
    filled = Opening.objects.filter(practice=practice, status=Opening.Status.FILLED)
    assert filled.exists() and all(o.filled_by_id and o.filled_at > o.created_at for o in filled)
    assert Offer.objects.filter(opening__practice=practice, status=Offer.Status.ACCEPTED).count() == filled.count()

    for renewal in Renewal.objects.filter(authorization__coverage__patient__practice=practice,
                                          submitted_on__isnull=False).prefetch_related("items"):
        received = [item.received_on for item in renewal.items.all()]
        assert all(day is not None and day <= renewal.submitted_on for day in received), renewal
        assert renewal.decided_on is None or renewal.decided_on >= renewal.submitted_on


def test_a_shorter_history_for_load_tests(db):
    summary = seed_demo(size="small", seed=4, today=dt.date(2026, 12, 1), simulate_week=False, history_weeks=6)
    first = Appointment.objects.filter(practice=summary.practice).order_by("start_at").first()
    assert first.start_at.astimezone(summary.practice.zone).date() >= dt.date(2026, 12, 1) - dt.timedelta(weeks=6)

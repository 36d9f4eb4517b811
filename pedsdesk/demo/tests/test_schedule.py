"""The demo schedule is one a real practice could have: nobody double-booked, visits
inside working hours, history and the weeks ahead, authorizations that need work."""

import datetime as dt
from collections import defaultdict

import pytest

from pedsdesk.authorizations.queries import project_authorizations
from pedsdesk.demo.generator import seed_demo
from pedsdesk.scheduling.models import HOLDING_STATUSES, Appointment, AppointmentStatus, WorkingHours

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def demo(db):
    return seed_demo(size="small", seed=11, today=TODAY)


def test_nobody_is_double_booked(demo):
    seen: dict[tuple[str, int], list] = defaultdict(list)
    for a in Appointment.objects.filter(status__in=HOLDING_STATUSES):
        for who in (("t", a.therapist_id), ("p", a.patient_id)):
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
    assert max(a.start_at.astimezone(zone).date() for a in ahead) <= TODAY + dt.timedelta(weeks=2)
    missed = sum(a.status != AppointmentStatus.COMPLETED for a in past) / len(past)
    assert 0.08 < missed < 0.35


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

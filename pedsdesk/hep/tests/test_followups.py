"""Asking how practice went: inside the visit reminder (one text, the cap spent once), the
4-day nudge, the family's reminder time or "off", and the unopened-program fallback, all
on the practice's clock across the March 2027 daylight-saving change (Chicago)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pedsdesk.hep.actions import sweep_deliveries
from pedsdesk.hep.followups import request_before_visits, send_nudges
from pedsdesk.hep.models import Delivery, DeliveryState, FamilyPreference, FeedbackRequest
from pedsdesk.messaging.models import Message, MessageState
from pedsdesk.messaging.rules import decide
from pedsdesk.scheduling.confirmations import sync_reminders
from pedsdesk.scheduling.models import Appointment
from pedsdesk.workqueue.models import OPEN_STATUSES, Task

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
UTC = dt.UTC


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHICAGO)


@pytest.fixture
def sent(send_program, any_hour):
    """Ava's program was sent Thursday March 11, 2027, 5 pm CST (the clocks spring forward on the 14th)."""
    version, (delivery,) = send_program()
    at = local(2027, 3, 11, 17, 0)
    Message.objects.filter(about_id=delivery.pk).update(state=MessageState.SENT, sent_at=at, counted_at=at)
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SENT, sent_at=at,
                                                   next_follow_up_at=at + dt.timedelta(hours=48))
    version.sent_at = at
    version.save()
    delivery.refresh_from_db()
    return delivery


def visit_at(patient, therapist, start: dt.datetime) -> Appointment:
    return Appointment.objects.create(practice=patient.practice, patient=patient, therapist=therapist,
                                      plan_of_care=patient.plans_of_care.first(), start_at=start,
                                      end_at=start + dt.timedelta(minutes=45))


def test_the_visit_reminder_carries_the_question_so_it_is_one_text(sent, patient, therapist):
    visit = visit_at(patient, therapist, local(2027, 3, 15, 16, 0))  # Monday after the change, 4 pm CDT
    sync_reminders(appointment=visit, now=local(2027, 3, 12, 9, 0))
    reminder = Message.objects.get(kind="visit_reminder", about_id=visit.pk, not_before__lt=local(2027, 3, 14))
    # 48 h before on the clock: Saturday 4 pm CST, one calendar day before the change.
    assert reminder.not_before == local(2027, 3, 13, 16, 0) == dt.datetime(2027, 3, 13, 22, 0, tzinfo=UTC)
    assert "how home practice went" in reminder.body
    request = FeedbackRequest.objects.get(kind="before_visit", appointment_id=visit.pk)
    assert request.with_visit_reminder
    # The hourly sweep at the feedback time sends nothing of its own.
    assert request_before_visits(practice=sent.practice, now=local(2027, 3, 13, 15, 30)) == 0
    texts = Message.objects.filter(channel="sms", to_address=reminder.to_address,
                                   not_before__date=dt.date(2027, 3, 13))
    assert list(texts.values_list("kind", flat=True)) == ["visit_reminder"]


def test_without_a_reminder_in_the_window_the_question_goes_on_its_own_and_counts_toward_the_cap(
        sent, patient, therapist):
    visit = visit_at(patient, therapist, local(2027, 3, 16, 16, 0))
    assert request_before_visits(practice=sent.practice, now=local(2027, 3, 14, 15, 30)) == 1
    own = Message.objects.get(kind="hep_feedback_request")
    assert own.not_before == local(2027, 3, 14, 16, 0)  # Sunday 4 pm CDT, same clock as the visit
    assert own.counts_toward_cap and "/f/" in own.body
    assert request_before_visits(practice=sent.practice, now=local(2027, 3, 14, 15, 45)) == 0  # asked once
    assert FeedbackRequest.objects.get(appointment_id=visit.pk).with_visit_reminder is False


def test_a_text_over_the_daily_cap_waits_for_tomorrow(sent, patient, therapist):
    visit_at(patient, therapist, local(2027, 3, 16, 16, 0))
    request_before_visits(practice=sent.practice, now=local(2027, 3, 14, 15, 30))
    Message.objects.filter(kind="hep_program").update(counted_at=local(2027, 3, 14, 9, 0))
    own = Message.objects.get(kind="hep_feedback_request")
    decision = decide(own, local(2027, 3, 14, 16, 0))
    assert decision.action == "defer" and decision.reason == "per-contact text limit reached"


def test_nothing_reported_four_days_later_gives_one_nudge_on_the_same_clock(sent):
    # Sent Thursday 5 pm CST; four days later is Monday 5 pm CDT: 22:00 UTC, not 23:00.
    assert send_nudges(practice=sent.practice, now=local(2027, 3, 15, 16, 30)) == 1
    nudge = Message.objects.get(kind="hep_nudge")
    assert nudge.not_before == dt.datetime(2027, 3, 15, 22, 0, tzinfo=UTC)
    assert send_nudges(practice=sent.practice, now=local(2027, 3, 15, 17, 30)) == 0


def test_no_nudge_once_the_family_answered(sent, patient):
    from pedsdesk.hep.models import Feedback

    Feedback.objects.create(practice=patient.practice, version=sent.version, guardian=sent.guardian,
                            patient=patient, form_id="x", days_practised=2, days_prescribed=3,
                            window_start=sent.sent_at, submitted_at=local(2027, 3, 13, 20, 0))
    assert send_nudges(practice=sent.practice, now=local(2027, 3, 15, 16, 30)) == 0


def test_the_familys_reminder_time_and_off_are_honoured(sent):
    FamilyPreference.objects.create(guardian=sent.guardian, reminder_time=dt.time(19, 30))
    assert send_nudges(practice=sent.practice, now=local(2027, 3, 15, 16, 30)) == 0  # not at 5 pm: they chose 7:30
    send_nudges(practice=sent.practice, now=local(2027, 3, 15, 19, 0))
    assert Message.objects.get(kind="hep_nudge").not_before == local(2027, 3, 15, 19, 30)
    Message.objects.all().delete()
    FeedbackRequest.objects.all().delete()
    FamilyPreference.objects.filter(guardian=sent.guardian).update(reminders_off=True)
    assert send_nudges(practice=sent.practice, now=local(2027, 3, 15, 19, 0)) == 0
    assert not Message.objects.filter(kind="hep_nudge").exists()


def test_unopened_fallback_across_the_change(sent):
    """Reminder at the family's 6:30 pm on the new clock, then the other channel, then the front desk."""
    FamilyPreference.objects.create(guardian=sent.guardian, reminder_time=dt.time(18, 30))
    sweep_deliveries(now=local(2027, 3, 14, 10, 0))  # Sunday, after the change; due since Saturday 5 pm CST
    reminder = Message.objects.get(kind="hep_program_reminder")
    assert reminder.not_before == local(2027, 3, 14, 18, 30) == dt.datetime(2027, 3, 14, 23, 30, tzinfo=UTC)
    sweep_deliveries(now=local(2027, 3, 16, 11, 0))
    other = Message.objects.filter(kind="hep_program").order_by("-pk").first()
    assert other.channel == "email"
    sweep_deliveries(now=local(2027, 3, 18, 12, 0))
    task = Task.objects.get(dedupe_key=f"hep-unreached:{sent.pk}", status__in=OPEN_STATUSES)
    assert task.role == "front_desk"


def test_opening_the_page_stops_the_fallback(sent, patient):
    from django.test import Client

    from pedsdesk.portal.models import FamilyLink
    from pedsdesk.portal.tokens import make_token

    link = FamilyLink.objects.get(patient=patient, guardian=sent.guardian)
    assert Client().get(f"/f/{make_token(link)}/").status_code == 200
    sent.refresh_from_db()
    assert sent.state == DeliveryState.OPENED and sent.opened_at is not None
    sweep_deliveries(now=local(2027, 3, 14, 10, 0))
    assert not Message.objects.filter(kind="hep_program_reminder").exists()


def test_a_minute_with_nothing_due_reads_the_open_deliveries_in_two_queries(sent, patient, django_assert_num_queries):
    """The minute sweep looks at every open delivery at once and locks only one that lags or is due."""
    assert sweep_deliveries(now=local(2027, 3, 12, 9, 0)) == {"refreshed": 0, "followed_up": 0}
    with django_assert_num_queries(2):
        assert sweep_deliveries(now=local(2027, 3, 12, 9, 1)) == {"refreshed": 0, "followed_up": 0}
    Message.objects.filter(about_id=sent.pk).update(state=MessageState.DELIVERED,
                                                    delivered_at=local(2027, 3, 12, 9, 2))
    assert sweep_deliveries(now=local(2027, 3, 12, 9, 3)) == {"refreshed": 1, "followed_up": 0}
    sent.refresh_from_db()
    assert sent.state == DeliveryState.DELIVERED
    with django_assert_num_queries(2):  # up to date again: nothing to lock
        sweep_deliveries(now=local(2027, 3, 12, 9, 4))
    # Saturday 5 pm CST, 48 hours on: the reminder is due and goes out.
    assert sweep_deliveries(now=local(2027, 3, 13, 17, 1))["followed_up"] == 1


def test_an_hour_after_asking_the_followups_read_in_a_fixed_few_queries(sent, patient, therapist,
                                                                       django_assert_num_queries):
    """Families already asked cost nothing more each hour: the work follows what is due."""
    visit_at(patient, therapist, local(2027, 3, 16, 16, 0))
    assert request_before_visits(practice=sent.practice, now=local(2027, 3, 14, 15, 30)) == 1
    assert send_nudges(practice=sent.practice, now=local(2027, 3, 15, 16, 30)) == 1
    with django_assert_num_queries(4):  # deliveries with their next visit, visits, requests, reports
        assert request_before_visits(practice=sent.practice, now=local(2027, 3, 14, 16, 30)) == 0
    with django_assert_num_queries(3):  # nudges already sent, reports, deliveries
        assert send_nudges(practice=sent.practice, now=local(2027, 3, 15, 17, 30)) == 0


def test_the_minute_sweep_looks_only_at_deliveries_whose_messages_changed_since_its_last_run(sent, patient):
    """Every open delivery is read once (the first run); after that, only those whose
    messages changed since the last run's start, or whose follow-up is due."""
    from django.utils import timezone

    last_run = timezone.now()
    # Before the last run: delivered, but the sweep never saw it (it would have, then).
    Message.objects.filter(about_id=sent.pk).update(state=MessageState.DELIVERED, delivered_at=local(2027, 3, 12, 9),
                                                    updated_at=last_run - dt.timedelta(minutes=5))
    assert sweep_deliveries(now=local(2027, 3, 12, 9, 1), since=last_run) == {"refreshed": 0, "followed_up": 0}
    Message.objects.filter(about_id=sent.pk).update(updated_at=timezone.now())  # the provider's receipt arrives
    assert sweep_deliveries(now=local(2027, 3, 12, 9, 2), since=last_run) == {"refreshed": 1, "followed_up": 0}
    sent.refresh_from_db()
    assert sent.state == DeliveryState.DELIVERED
    # Nothing changed since; the follow-up's time still finds it.
    later = timezone.now() + dt.timedelta(seconds=1)
    assert sweep_deliveries(now=local(2027, 3, 13, 17, 1), since=later)["followed_up"] == 1


def test_the_runner_gives_the_delivery_sweep_its_last_good_runs_start(sent, monkeypatch):
    from pedsdesk.operations.models import SweepRun
    from pedsdesk.operations.runner import run_global_sweeps

    seen = []
    monkeypatch.setattr("pedsdesk.hep.sweeps.sweep_deliveries", lambda since: seen.append(since) or {})
    run_global_sweeps(schedule="minute", delivery=False)
    run_global_sweeps(schedule="minute", delivery=False)
    first = SweepRun.objects.filter(sweep="hep.deliveries").order_by("started_at").first()
    assert seen == [None, first.started_at]


def test_each_practice_asks_its_own_families_in_its_own_hour(sent, patient, therapist, other_practice):
    """The hourly fan-out runs the questions once per practice: another practice's run
    queues nothing for this one's families, and this one's run asks them."""
    visit_at(patient, therapist, local(2027, 3, 16, 16, 0))
    hour = local(2027, 3, 14, 15, 30)
    assert request_before_visits(practice=other_practice, now=hour) == 0
    assert send_nudges(practice=other_practice, now=local(2027, 3, 15, 16, 30)) == 0
    assert not FeedbackRequest.objects.exists()
    assert request_before_visits(practice=sent.practice, now=hour) == 1
    assert FeedbackRequest.objects.get().practice == sent.practice

"""The daily digest: one email per staff member each local morning through the outbox,
overdue first, newly escalated marked, nothing when empty, once per local date, and
right on the daylight-saving mornings."""

import datetime as dt
import zoneinfo

import pytest
from django.test import override_settings

from pedsdesk.audit.models import AuditEvent
from pedsdesk.messaging.models import Message
from pedsdesk.workqueue.actions import TaskSpec, complete_task, escalate_overdue_tasks, open_task
from pedsdesk.workqueue.digest import send_daily_digests
from pedsdesk.workqueue.models import Digest

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
UTC = dt.UTC


def at(year, month, day, hour, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CHICAGO)


def make_task(practice, key, *, role="front_desk", due=None, assignee=None):
    spec = TaskSpec(dedupe_key=key, title=f"Task {key}", role=role, due_at=due, assignee=assignee)
    return open_task(practice=practice, kind="test", spec=spec)[0]


def digests(member=None):
    rows = Message.objects.filter(kind="daily_digest").order_by("pk")
    return list(rows.filter(staff_member=member) if member else rows)


def test_digest_lists_open_tasks_overdue_first_and_goes_once_a_morning(practice, staff):
    fran = staff["front_desk"]
    morning = at(2026, 11, 12, 7, 5)
    make_task(practice, "later", due=at(2026, 11, 14, 17))
    make_task(practice, "overdue", due=at(2026, 11, 10, 17))
    make_task(practice, "billing's", role="billing")
    make_task(practice, "undated")
    assert send_daily_digests(now=at(2026, 11, 12, 6, 59)) == 0  # before 7:00 local
    assert send_daily_digests(now=morning) == 2  # front desk and billing have tasks
    [message] = digests(fran)
    assert message.channel == "email" and message.to_address == "fran@example.org"
    assert message.idempotency_key == f"digest:{fran.pk}:2026-11-12"
    assert message.subject == "Sunny Steps Pediatric Therapy: 3 open tasks"
    body = message.body
    assert body.index("Task overdue") < body.index("Task later") < body.index("Task undated")
    assert "[OVERDUE] Task overdue" in body and "Task billing's" not in body
    assert "http://127.0.0.1:8000/tasks/" in body
    # Every later run that day: nothing more.
    for hour in (8, 12, 23):
        assert send_daily_digests(now=at(2026, 11, 12, hour)) == 0
    assert len(digests(fran)) == 1
    # The next morning, again.
    assert send_daily_digests(now=at(2026, 11, 13, 7)) == 2
    assert len(digests(fran)) == 2
    event = AuditEvent.objects.filter(action="digest_queued", object_id=str(fran.pk)).first()
    assert event is not None and len(event.detail["task_ids"]) == 3


def test_an_empty_queue_sends_nothing_not_even_later_that_day(practice, staff):
    assert send_daily_digests(now=at(2026, 11, 12, 7)) == 0
    assert digests() == []
    assert Digest.objects.filter(local_date=dt.date(2026, 11, 12), sent=False).count() == 5
    make_task(practice, "noon")
    assert send_daily_digests(now=at(2026, 11, 12, 12)) == 0
    assert send_daily_digests(now=at(2026, 11, 13, 7)) == 1


def test_staff_without_email_or_inactive_get_none(practice, staff):
    staff["front_desk"].email = ""
    staff["front_desk"].save()
    staff["billing"].is_active = False
    staff["billing"].save()
    make_task(practice, "a")
    make_task(practice, "b", role="billing")
    assert send_daily_digests(now=at(2026, 11, 12, 7)) == 0


def test_newly_escalated_since_the_previous_digest_is_marked(practice, staff):
    maria = staff["office_manager"]
    old = make_task(practice, "old", role="billing", due=at(2026, 11, 9, 17))
    escalate_overdue_tasks(now=at(2026, 11, 10, 20))
    send_daily_digests(now=at(2026, 11, 11, 7))
    first = digests(maria)[-1]
    assert "[ESCALATED] [OVERDUE] Task old" in first.body  # her first digest: everything escalated is new
    assert first.subject.endswith(", 1 escalated")

    new = make_task(practice, "new", role="front_desk", due=at(2026, 11, 10, 17))
    escalate_overdue_tasks(now=at(2026, 11, 11, 18))
    send_daily_digests(now=at(2026, 11, 12, 7))
    second = digests(maria)[-1].body
    assert "[ESCALATED] [OVERDUE] Task new" in second
    assert "[OVERDUE] Task old" in second and "[ESCALATED] [OVERDUE] Task old" not in second
    # The front desk's digest lists its own escalated task as escalated too.
    assert "[ESCALATED] [OVERDUE] Task new" in digests(staff["front_desk"])[-1].body
    complete_task(task=new, actor=maria)
    complete_task(task=old, actor=maria)
    send_daily_digests(now=at(2026, 11, 13, 7))
    assert len(digests(maria)) == 2  # nothing open: no third digest


def test_a_long_queue_lists_fifty_and_counts_the_rest(practice, staff):
    for i in range(53):
        make_task(practice, f"t{i:02d}", due=at(2026, 11, 20, 9))
    send_daily_digests(now=at(2026, 11, 12, 7))
    [message] = digests(staff["front_desk"])
    assert message.subject.endswith(": 53 open tasks")
    assert "and 3 more" in message.body and "Task t49" in message.body and "Task t50" not in message.body


def _hourly(practice, start_utc: dt.datetime, hours: int) -> list[dt.datetime]:
    """Run the sweep every hour on the hour (UTC); return when each digest was queued, local."""
    for i in range(hours):
        send_daily_digests(now=start_utc + dt.timedelta(hours=i))
    return [d.created_at.astimezone(CHICAGO) for d in Digest.objects.filter(sent=True).order_by("created_at")]


def test_spring_forward_morning(practice, staff):
    # Sunday 8 March 2026: clocks jump from 2:00 to 3:00 in Chicago; 7:00 is 13:00 UTC on the
    # Saturday and 12:00 UTC on the Sunday.
    make_task(practice, "a", role="", assignee=staff["front_desk"])
    sent = _hourly(practice, dt.datetime(2026, 3, 7, 6, tzinfo=UTC), 71)  # from Saturday midnight, local
    assert [(t.date(), t.hour, t.minute) for t in sent] == [
        (dt.date(2026, 3, 7), 7, 0), (dt.date(2026, 3, 8), 7, 0), (dt.date(2026, 3, 9), 7, 0)]
    assert [d.created_at.hour for d in Digest.objects.filter(sent=True).order_by("created_at")] == [13, 12, 12]


def test_fall_back_morning(practice, staff):
    # Sunday 1 November 2026: 2:00 falls back to 1:00; 7:00 is 12:00 UTC on the Saturday and
    # 13:00 UTC on the Sunday. A 25-hour day still gets one digest.
    make_task(practice, "a", role="", assignee=staff["front_desk"])
    sent = _hourly(practice, dt.datetime(2026, 10, 31, 5, tzinfo=UTC), 73)  # from Saturday midnight, local
    assert [(t.date(), t.hour) for t in sent] == [
        (dt.date(2026, 10, 31), 7), (dt.date(2026, 11, 1), 7), (dt.date(2026, 11, 2), 7)]
    assert [d.created_at.hour for d in Digest.objects.filter(sent=True).order_by("created_at")] == [12, 13, 13]


@override_settings(PEDSDESK_DIGEST_HOUR=2)
def test_a_digest_hour_the_clock_skips_sends_at_the_next_hour(practice, staff):
    make_task(practice, "a", role="", assignee=staff["front_desk"])
    sent = _hourly(practice, dt.datetime(2026, 3, 8, 6, tzinfo=UTC), 6)  # midnight to 6 am; no 2 am
    assert [(t.date(), t.hour) for t in sent] == [(dt.date(2026, 3, 8), 3)]


@override_settings(PEDSDESK_DIGEST_HOUR=1)
def test_a_digest_hour_the_clock_repeats_sends_once(practice, staff):
    make_task(practice, "a", role="", assignee=staff["front_desk"])
    sent = _hourly(practice, dt.datetime(2026, 11, 1, 5, tzinfo=UTC), 4)  # midnight, 1 CDT, 1 CST, 2 am
    assert len(sent) == 1 and sent[0].hour == 1 and sent[0].fold == 0


def test_practices_in_other_time_zones_get_their_own_morning(practice, staff, other_practice, outsider):
    other_practice.time_zone = "America/New_York"
    other_practice.save()
    make_task(practice, "here", role="", assignee=staff["front_desk"])
    make_task(other_practice, "there", role="", assignee=outsider)
    send_daily_digests(now=dt.datetime(2026, 11, 12, 12, 30, tzinfo=UTC))  # 7:30 in New York, 6:30 in Chicago
    assert [m.staff_member for m in digests()] == [outsider]
    assert "Task here" not in digests()[0].body


def test_two_sweeps_at_once_send_one_digest(practice, staff):
    make_task(practice, "a", role="", assignee=staff["front_desk"])
    morning = at(2026, 11, 12, 7)
    assert send_daily_digests(now=morning) + send_daily_digests(now=morning) == 1
    assert Digest.objects.filter(staff_member=staff["front_desk"]).count() == 1

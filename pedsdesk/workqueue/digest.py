"""The daily digest: each morning, one email per staff member with their open tasks
(overdue first) and the ones escalated since their previous digest.

The hourly sweep sends it once the practice's local clock has reached the digest
hour (default 7:00), once per staff member per local date: the Digest row's unique
constraint and the outbox's idempotency key both say so, and both are keyed by the
local date, so the daylight-saving mornings (a 23- or 25-hour day) send exactly one.
An empty queue sends nothing, and is remembered so the digest does not go out later
that day when a task appears.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.workqueue import conf
from pedsdesk.workqueue.actions import SYSTEM_ACTOR
from pedsdesk.workqueue.models import Digest, Task
from pedsdesk.workqueue.queries import ACTIVE, decorate, escalation_role, ordered, personal_filter

logger = logging.getLogger(__name__)

DIGEST_LIMIT = 50  # rows listed; the rest is a count and a link


def digest_key(staff_member: StaffMember, local_date: dt.date) -> str:
    return f"digest:{staff_member.pk}:{local_date.isoformat()}"


def _absolute(path: str) -> str:
    return settings.PEDSDESK_BASE_URL.rstrip("/") + path


def digest_context(staff_member: StaffMember, *, now: dt.datetime, since: dt.datetime | None,
                   escalations_to: str) -> dict:
    """What the daily_digest message shows; ``tasks`` is empty when nothing is open."""
    practice = staff_member.practice
    queue = Task.objects.filter(practice=practice, status__in=ACTIVE).filter(
        personal_filter(staff_member, escalations_to))
    rows = decorate(list(ordered(queue.select_related("assignee"))[: DIGEST_LIMIT + 1]), staff_member, now, practice)
    total = len(rows) if len(rows) <= DIGEST_LIMIT else queue.count()
    rows = rows[:DIGEST_LIMIT]
    items = [
        {
            "title": task.title,
            # A local datetime: the message template formats it ("Nov 24, 17:00").
            "due": task.due_at.astimezone(practice.zone) if task.due_at else "",
            "priority": task.get_priority_display(),
            "url": _absolute(reverse("task_detail", args=[task.pk])),
            "escalated": bool(task.escalated_at and (since is None or task.escalated_at > since)),
            "overdue": task.overdue,
            "holder": task.holder,
        }
        for task in rows
    ]
    local = now.astimezone(practice.zone)
    return {
        "tasks": items,
        "task_ids": [task.pk for task in rows],
        "count": total,
        "overdue_count": sum(1 for t in rows if t.overdue),
        "escalated_count": sum(1 for item in items if item["escalated"]),
        "more": total - len(items),
        "staff_name": staff_member.first_name or str(staff_member),
        "practice_name": practice.name,
        "date": local.date(),
        "queue_url": _absolute(reverse("my_tasks")),
    }


def send_daily_digests(*, now: dt.datetime | None = None, practice: Practice | None = None) -> int:
    """Queue today's digest for every practice whose local digest hour has come.
    Returns how many digests were queued (empty ones are not)."""
    now = now or timezone.now()
    hour = conf.digest_hour()
    practices = [practice] if practice is not None else list(Practice.objects.order_by("pk"))
    queued = 0
    for each in practices:
        local = now.astimezone(each.zone)
        if local.hour >= hour:
            queued += _send_for_practice(each, local.date(), now)
    return queued


def _send_for_practice(practice: Practice, local_date: dt.date, now: dt.datetime) -> int:
    try:
        from pedsdesk.messaging.actions import queue_message  # the outbox; imported late to keep apps decoupled
    except ImportError:
        logger.warning("no outbox (pedsdesk.messaging) yet: daily digests are not sent")
        return 0

    done = Digest.objects.filter(practice=practice, local_date=local_date).values("staff_member_id")
    recipients = (StaffMember.objects.filter(practice=practice, is_active=True).exclude(email="")
                  .exclude(pk__in=done).select_related("practice").order_by("pk"))
    escalations_to = escalation_role(practice)
    queued = 0
    for member in recipients:
        since = (Digest.objects.filter(staff_member=member, local_date__lt=local_date)
                 .values_list("created_at", flat=True).first())
        context = digest_context(member, now=now, since=since, escalations_to=escalations_to)
        task_ids = context.pop("task_ids")
        try:
            with transaction.atomic():
                Digest.objects.create(practice=practice, staff_member=member, local_date=local_date, created_at=now,
                                      task_count=context["count"], escalated_count=context["escalated_count"],
                                      sent=bool(context["tasks"]))
                if context["tasks"]:
                    queue_message(practice=practice, kind="daily_digest", recipient=member, channel="email",
                                  context=context, idempotency_key=digest_key(member, local_date))
                    # Task titles name children: the audit log records who was sent which.
                    record_event(actor=SYSTEM_ACTOR, action="digest_queued", obj=member, practice_id=practice.pk,
                                 detail={"local_date": local_date.isoformat(), "task_ids": task_ids})
        except IntegrityError:
            logger.info("digest for staff member %s on %s was already done", member.pk, local_date)
            continue
        queued += bool(context["tasks"])
    return queued

"""Visit confirmations: reminders at the practice's offsets, answers by text or family
link (confirm, cancel, ask for another time), and front-desk tasks for visits still
unconfirmed near their time.

How reminders stay in step with the schedule:

- ``book/move/cancel_appointment`` and ``set_status`` call ``visit_changed`` after
  commit. A move or cancellation withdraws every pending reminder and reply wait of
  the visit; then the reminders that describe the visit now are queued.
- A reminder's idempotency key names the visit, its ``sequence``, the offset, the
  guardian and the wording, so queueing is repeatable and a moved visit (sequence + 1)
  gets fresh reminders while the old keys stay spent.
- Sweeps back the hooks up: every minute, each reminder about to go out is checked
  against its visit once more (a hook lost to a crash still lets no stale reminder
  out); every hour, reminders of visits the hooks never saw (bulk-loaded visits,
  series booked weeks ahead) are queued as they come within ``REMINDER_HORIZON``.
- A reply wait is armed when a reminder is due, not when it is queued: the newest
  wait gets a guardian's next text, and that must be the reminder they just read, not
  a visit booked weeks ahead.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from contextlib import nullcontext
from functools import partial

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.messaging.actions import (
    await_reply,
    cancel_reply_waits,
    queue_message,
    queue_messages,
    withdraw_messages,
)
from pedsdesk.messaging.models import Channel, Message, MessageState, ReplyWait
from pedsdesk.messaging.replies import Reply, register_reply_handler
from pedsdesk.messaging.rules import in_quiet_hours, local_datetime, policy_for, window_opens
from pedsdesk.people.models import Guardian, GuardianOf, Patient
from pedsdesk.portal.actions import create_family_link, family_link_url
from pedsdesk.portal.models import FamilyLink
from pedsdesk.practices.models import Practice, Role
from pedsdesk.scheduling import visit_messages as texts
from pedsdesk.scheduling.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    CancelledBy,
    ConfirmationPolicy,
)
from pedsdesk.sweeps import counted, remembered, run_memo, sweep
from pedsdesk.workqueue.actions import TaskSpec, close_task_by_rule, open_task
from pedsdesk.workqueue.lists import list_row
from pedsdesk.workqueue.models import OPEN_STATUSES, Priority, Task
from pedsdesk.workqueue.rules import task_rule

logger = logging.getLogger("pedsdesk.scheduling")

HANDLER = "visit_confirmation"
ACTIVE = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
#: Reminders are queued once their send time is this close (the hourly sweep tops up).
REMINDER_HORIZON = dt.timedelta(days=7)
#: A reminder moved out of quiet hours must still come at least this long before the visit.
MINIMUM_LEAD = dt.timedelta(hours=1)
#: The minute sweep checks reminders due this soon, so it runs a pass ahead of delivery.
LOOKAHEAD = dt.timedelta(minutes=2)
#: After answering a text, a second one about the same visit ("YES" twice, "sorry, I meant
#: yes") still gets a clear answer for this long.
FOLLOW_UP = dt.timedelta(hours=2)
LINK_PURPOSE = "visits"
SYSTEM_ACTOR = "pedsdesk (visit reminders)"
TEXT_REPLY_ACTOR = "text reply from guardian #"
RESCHEDULE_RULE = "visit_confirmations"

_KEY = re.compile(r"^visit-reminder:(?P<visit>\d+):(?P<sequence>\d+):(?P<hours>\d+)h:(?P<guardian>\d+)"
                  r"(?P<confirmed>:confirmed)?$")
_OTHER_TIME = re.compile(
    r"\b(re ?schedul\w*|another (time|day)|different (time|day)|other (time|day)|change|move"
    r"|reprogram\w*|cambi\w*|mover|otr[oa] (dia|hora|horario|fecha))\b"
)


class VisitChanged(Exception):
    """The visit is not the one the family saw: moved or cancelled since."""

    def __init__(self, appointment: Appointment):
        super().__init__(f"visit #{appointment.pk} changed")
        self.appointment = appointment


# Who gets reminded, and when


RECIPIENTS = "scheduling.recipients"


def recipient_for(patient: Patient) -> Guardian | None:
    """The child's primary contact, else the first guardian with legal authority. In a
    sweep's run (a run of reminders), every child's of the practice is read once."""
    return remembered((RECIPIENTS, patient.practice_id), lambda: _every_recipient(patient.practice_id),
                      alone=lambda: recipients_for({patient.pk})).get(patient.pk)


def _every_recipient(practice_id: int) -> dict[int, Guardian]:
    return _recipients(GuardianOf.objects.filter(patient__practice_id=practice_id))


def _recipients_of(visits: list[Appointment]) -> dict[int, Guardian]:
    """recipient_for() of each visit's child, by child: a practice's once a sweep's
    run, else these children's in one query."""
    found: dict[int, Guardian] = {}
    for practice_id in {visit.practice_id for visit in visits}:
        children = {visit.patient_id for visit in visits if visit.practice_id == practice_id and visit.patient_id}
        found.update(remembered((RECIPIENTS, practice_id), partial(_every_recipient, practice_id),
                                alone=partial(recipients_for, children)))
    return found


def recipients_for(patient_ids: set[int]) -> dict[int, Guardian]:
    """recipient_for() for many children in one query."""
    return _recipients(GuardianOf.objects.filter(patient_id__in=patient_ids))


def _recipients(links) -> dict[int, Guardian]:
    primary: dict[int, Guardian] = {}
    legal: dict[int, Guardian] = {}
    for link in links.select_related("guardian").order_by("pk"):
        if link.is_primary_contact:
            primary.setdefault(link.patient_id, link.guardian)
        if link.legal_authority:
            legal.setdefault(link.patient_id, link.guardian)
    return {pid: primary.get(pid) or legal[pid] for pid in primary.keys() | legal.keys()}


def reminder_hours(policy: ConfirmationPolicy) -> list[int]:
    """The configured offsets, largest first; nonsense entries are ignored."""
    hours = set()
    for value in policy.reminder_hours or []:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if 1 <= number <= 24 * 14:
            hours.add(number)
    return sorted(hours, reverse=True)


def reminder_time(start_at: dt.datetime, hours: int, practice: Practice) -> dt.datetime:
    """When the ``hours``-before reminder goes out, in UTC.

    Whole days count on the practice's calendar, so "48 h before" a Monday 4 pm visit is
    Saturday 4 pm on the clock even when the clocks change on Sunday; the rest is
    elapsed time. A time in quiet hours moves to when they end, or, if that is too
    close to the visit, to just before they began the evening before.
    """
    zone = practice.zone
    days, rest = divmod(hours, 24)
    local = start_at.astimezone(zone)
    wall = local.replace(tzinfo=None) - dt.timedelta(days=days)
    send = dt.datetime.combine(wall.date(), wall.time()).replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    send -= dt.timedelta(hours=rest)
    policy = policy_for(practice)
    send_local = send.astimezone(zone)
    if not in_quiet_hours(send_local, policy):
        return send
    opens = window_opens(send_local, policy, zone).astimezone(dt.UTC)
    if opens <= start_at - MINIMUM_LEAD:
        return opens
    began = send_local.date() if send_local.time() >= policy.quiet_start else send_local.date() - dt.timedelta(days=1)
    return (local_datetime(began, policy.quiet_start, zone) - dt.timedelta(minutes=15)).astimezone(dt.UTC)


def reminder_schedule(appointment: Appointment, policy: ConfirmationPolicy) -> list[tuple[int, dt.datetime]]:
    """(hours, send time) per configured offset; two landing within the hour count once."""
    chosen: list[tuple[int, dt.datetime]] = []
    for hours in reminder_hours(policy):
        send = reminder_time(appointment.start_at, hours, appointment.practice)
        if all(abs(send - other) >= dt.timedelta(hours=1) for _, other in chosen):
            chosen.append((hours, send))
    return chosen


def reminder_key(appointment: Appointment, hours: int, guardian: Guardian, confirmed: bool) -> str:
    return (f"visit-reminder:{appointment.pk}:{appointment.sequence}:{hours}h:{guardian.pk}"
            f"{':confirmed' if confirmed else ''}")


def _wants_reminders(appointment: Appointment, now: dt.datetime) -> bool:
    return (appointment.patient_id is not None and appointment.kind != AppointmentKind.MEETING
            and appointment.status in ACTIVE and appointment.start_at > now)


def _is_current(key: str, appointment: Appointment, guardian_id: int | None, now: dt.datetime) -> bool:
    """Whether a reminder with ``key`` still describes ``appointment`` as it is now."""
    match = _KEY.match(key)
    if match is None or not _wants_reminders(appointment, now):
        return False
    confirmed = appointment.status == AppointmentStatus.CONFIRMED
    return (int(match["sequence"]) == appointment.sequence and bool(match["confirmed"]) == confirmed
            and int(match["guardian"]) == guardian_id)


# Family links and calendar files in the messages


def family_url(*, guardian: Guardian, patient: Patient, until: dt.datetime) -> str:
    """A family link URL that works at least until ``until``: an existing visits link of
    this guardian and child if one lasts long enough, else a new one."""
    now = timezone.now()
    # In a sweep's run every visits link of the practice is read once; else only this family's.
    known = remembered(("scheduling.visit_links", patient.practice_id), lambda: _visit_links(patient.practice_id, now),
                       alone=lambda: _visit_links(patient.practice_id, now, guardian=guardian, patient=patient))
    link = next((each for each in known.get((guardian.pk, patient.pk), [])
                 if each.expires_at >= until + dt.timedelta(days=1)), None)
    if link is not None:
        return family_link_url(link)
    needed = math.ceil((until - now) / dt.timedelta(days=1)) + 2
    days = min(max(settings.PEDSDESK_FAMILY_LINK_DAYS, needed), 365)
    link, url = create_family_link(actor=SYSTEM_ACTOR, guardian=guardian, patient=patient, purpose=LINK_PURPOSE,
                                   days=days)
    known.setdefault((guardian.pk, patient.pk), []).insert(0, link)  # the run's next reminder reuses it
    return url


def _visit_links(practice_id: int, now: dt.datetime, **only) -> dict[tuple[int, int], list[FamilyLink]]:
    """Visits links still good, by (guardian, child), the longest-lasting first."""
    links: dict[tuple[int, int], list[FamilyLink]] = {}
    for link in FamilyLink.objects.filter(practice_id=practice_id, purpose=LINK_PURPOSE, revoked_at__isnull=True,
                                          expires_at__gt=now, **only).order_by("-expires_at"):
        links.setdefault((link.guardian_id, link.patient_id), []).append(link)
    return links


def _context(appointment: Appointment, guardian: Guardian, **extra) -> dict:
    from pedsdesk.scheduling.calendar import visit_ics_url

    patient = appointment.patient
    return {"child_first_name": patient.preferred_name or patient.first_name, "start_at": appointment.start_at,
            "url": family_url(guardian=guardian, patient=patient, until=appointment.end_at),
            "ics_url": visit_ics_url(appointment, guardian), **extra}


# Keeping reminders in step with the visit


def _withdraw(pks: list[int], reason: str) -> int:
    # By row, not by visit: the visit's current reminders stay queued (their keys are spent once withdrawn).
    now = timezone.now()
    return Message.objects.filter(pk__in=pks, state__in=[MessageState.QUEUED, MessageState.SENDING]).update(
        state=MessageState.CANCELLED, status_reason=reason[:200], closed_at=now, updated_at=now)


def sync_reminders(*, appointment: Appointment, now: dt.datetime | None = None,
                   reason: str = "the visit changed") -> tuple[int, int]:
    """Withdraw the visit's pending reminders that no longer describe it and queue the
    ones that do (those due within the horizon). Returns (queued, withdrawn)."""
    return sync_visits_reminders(visits=[appointment], now=now or timezone.now(), reason=reason)


def sync_visits_reminders(*, visits: list[Appointment], now: dt.datetime,
                          reason: str = "the visit changed") -> tuple[int, int]:
    """``sync_reminders`` for many visits at once (a series booked ahead, an hour's
    top-up): one query for their pending reminders, one for the keys already used and
    one insert, plus what each reminder's link and additions read. A visit that fails
    to render is logged and left out; the others' reminders go."""
    if not visits:
        return 0, 0
    # Many visits: what the reminders read (guardians, links, opt-outs, home programs) is
    # read for the practice once, as in a sweep's run; one visit reads only its own.
    with run_memo() if len(visits) > 1 else nullcontext():
        return _sync_visits(visits, now, reason)


def _sync_visits(visits: list[Appointment], now: dt.datetime, reason: str) -> tuple[int, int]:
    recipients = _recipients_of(visits)
    guardians = {visit.pk: recipients.get(visit.patient_id) for visit in visits}
    by_pk = {visit.pk: visit for visit in visits}
    with transaction.atomic():
        pending = Message.objects.filter(
            about_type=ContentType.objects.get_for_model(Appointment), about_id__in=list(by_pk),
            kind=texts.REMINDER, state__in=[MessageState.QUEUED, MessageState.SENDING],
        ).values_list("pk", "about_id", "idempotency_key")
        stale = [pk for pk, about, key in pending
                 if not _is_current(key, by_pk[about], getattr(guardians[about], "pk", None), now)]
        withdrawn = _withdraw(stale, reason) if stale else 0
        requests = []
        for visit in visits:
            guardian = guardians[visit.pk]
            if guardian is None or not _wants_reminders(visit, now):
                continue
            confirmed = visit.status == AppointmentStatus.CONFIRMED
            for hours, send_at in reminder_schedule(visit, ConfirmationPolicy.for_practice(visit.practice)):
                if now < send_at <= now + REMINDER_HORIZON:
                    requests.append((visit, guardian, confirmed, send_at, reminder_key(visit, hours, guardian,
                                                                                      confirmed)))
        used = _keys_used([key for *_, key in requests])
        messages = []
        for visit, guardian, confirmed, send_at, key in requests:
            if key in used:
                continue
            try:
                also = texts.reminder_additions(visit, guardian, send_at)
                messages.append({"practice": visit.practice, "kind": texts.REMINDER, "recipient": guardian,
                                 "context": _context(visit, guardian, confirmed=confirmed, also=also),
                                 "idempotency_key": key, "not_before": send_at, "about": visit})
            except Exception:  # one family's bad record must not stop everyone's reminders
                logger.exception("reminders for visit %s failed", visit.pk)
        queued = queue_messages(messages)
    return queued, withdrawn


def _keys_used(keys: list[str]) -> set[str]:
    used: set[str] = set()
    for start in range(0, len(keys), 500):  # bounded parameters, for SQLite
        used.update(Message.objects.filter(idempotency_key__in=keys[start:start + 500])
                    .values_list("idempotency_key", flat=True))
    return used


def visit_changed(*, appointment_id: int, change: str, actor: str = "") -> None:
    """After a visit was booked, moved, cancelled or changed status (called on commit)."""
    appointment = Appointment.objects.select_related("patient", "practice").filter(pk=appointment_id).first()
    if appointment is None or appointment.patient_id is None:
        return
    now = timezone.now()
    reason = {"moved": "the visit was moved", "cancelled": "the visit was cancelled"}.get(
        change, f"the visit is {appointment.get_status_display().lower()}")
    with transaction.atomic():
        if change in ("moved", "cancelled") or appointment.status not in ACTIVE:
            if appointment.status not in ACTIVE:
                # Cancelled or under way for good: nothing about it may go out any more.
                withdraw_messages(about=appointment, kinds=[texts.REMINDER], reason=reason)
            # A moved visit's old reminders are withdrawn by sync_reminders below, by key (old
            # sequence): a hook running late must not withdraw the new time's reminders.
            # A text reply keeps its short follow-up wait (see handle_reply); anything else stops listening.
            if not actor.startswith(TEXT_REPLY_ACTOR):
                cancel_reply_waits(about=appointment, handler=HANDLER)
        if change in ("moved", "cancelled"):
            _close_reschedule_requests(appointment, "the visit was " + change)
        # A family that cancelled by text gets the answer to their text instead.
        if change == "cancelled" and not actor.startswith(TEXT_REPLY_ACTOR) and appointment.start_at > now:
            _notify_cancelled(appointment)
        sync_reminders(appointment=appointment, now=now, reason=reason)


def visits_booked(*, appointment_ids: list[int]) -> None:
    """After a run of bookings committed (a series booked ahead): queue the reminders
    already due within the horizon. A new visit has none pending and no reply to wait for;
    those further out are queued by the hourly top-up as the visit nears."""
    now = timezone.now()
    visits = Appointment.objects.filter(pk__in=appointment_ids, status__in=ACTIVE, patient__isnull=False)
    sync_visits_reminders(visits=[visit for visit in visits.select_related("patient", "practice") if any(
        now < send_at <= now + REMINDER_HORIZON
        for _, send_at in reminder_schedule(visit, ConfirmationPolicy.for_practice(visit.practice)))], now=now)


def _notify_cancelled(appointment: Appointment) -> None:
    guardian = recipient_for(appointment.patient)
    if guardian is None:
        return
    queue_message(practice=appointment.practice, kind=texts.CANCELLED, recipient=guardian,
                  context=_context(appointment, guardian), about=appointment,
                  idempotency_key=f"visit-cancelled:{appointment.pk}:{appointment.sequence}:{guardian.pk}")


# What a family can do: confirm, cancel, ask for another time


def _locked(appointment: Appointment, sequence: int | None) -> Appointment:
    # Only the visit row is locked (the joined child is nullable: PostgreSQL refuses to lock it).
    locked = (Appointment.objects.select_for_update(of=("self",)).select_related("patient", "practice", "therapist")
              .get(pk=appointment.pk))
    if sequence is not None and locked.sequence != sequence:
        raise VisitChanged(locked)
    return locked


def family_confirm(*, appointment: Appointment, actor: str, sequence: int | None = None,
                   request: HttpRequest | None = None) -> str:
    """Confirm for the family. Returns an outcome from ``visit_messages``; raises
    VisitChanged when ``sequence`` (what the family saw) is out of date."""
    from pedsdesk.scheduling.actions import set_status

    with transaction.atomic():
        locked = _locked(appointment, sequence)
        if locked.status == AppointmentStatus.CONFIRMED:
            return texts.ALREADY_CONFIRMED
        if locked.status != AppointmentStatus.BOOKED or locked.start_at <= timezone.now():
            return texts.NOT_ACTIVE
        set_status(actor=actor, appointment=locked, status=AppointmentStatus.CONFIRMED, request=request)
    return texts.CONFIRMED


def family_cancel(*, appointment: Appointment, actor: str, reason: str, sequence: int | None = None,
                  request: HttpRequest | None = None) -> str:
    """Cancel as the family (a late cancel inside the practice's notice period)."""
    from pedsdesk.scheduling.actions import cancel_appointment

    with transaction.atomic():
        locked = _locked(appointment, sequence)
        if locked.status not in ACTIVE or locked.start_at <= timezone.now():
            return texts.NOT_ACTIVE
        cancel_appointment(actor=actor, appointment=locked, by=CancelledBy.FAMILY, reason=reason, request=request)
    return texts.CANCELLED_NOW


def family_reschedule(*, appointment: Appointment, guardian: Guardian, actor: str, words: str = "",
                      via: str, sequence: int | None = None, request: HttpRequest | None = None) -> str:
    """The family asks for another time: a front-desk task; the visit stays booked."""
    with transaction.atomic():
        locked = _locked(appointment, sequence)
        if locked.status not in ACTIVE or locked.start_at <= timezone.now():
            return texts.NOT_ACTIVE
        patient = locked.patient
        when = locked.local_start
        said = f" They wrote: “{words.strip()[:500]}”." if words.strip() else ""
        task, created = open_task(practice=locked.practice, kind="visit_reschedule_request", rule=RESCHEDULE_RULE,
                                  spec=TaskSpec(
            dedupe_key=f"visit-reschedule:{locked.pk}:{locked.sequence}",
            title=f"{guardian} asks for another time for {patient.first_name} {patient.last_name[:1]}.'s visit",
            reason=(f"{guardian} asked by {via} to move {patient.first_name}'s visit on {when:%a %b %-d at %-I:%M %p} "
                    f"with {locked.therapist}.{said} Find a new time with them, then move the visit (it stays "
                    f"booked until then). Phone: {guardian.phone_display or 'none on file'}."),
            subject=locked, patient_id=patient.pk, role=Role.FRONT_DESK, priority=Priority.HIGH,
            due_at=max(timezone.now(), min(timezone.now() + dt.timedelta(hours=4),
                                           locked.start_at - dt.timedelta(hours=2))),
            links=[{"label": "Visit", "url": locked.get_absolute_url()},
                   {"label": str(patient), "url": patient.get_absolute_url()},
                   {"label": str(guardian), "url": guardian.get_absolute_url()}],
        ))
        if created:
            record_event(actor=actor, action="visit_reschedule_requested", obj=locked, request=request,
                         detail={"via": via, "task_id": task.pk, "guardian_id": guardian.pk})
    return texts.RESCHEDULE


def family_visits(patient: Patient, *, now: dt.datetime | None = None, limit: int = 8) -> dict:
    """The family page's "Upcoming visits": times in the practice's zone and the active
    language, the therapist's first name only, and what the family may still do."""
    from pedsdesk.scheduling.models import SchedulingPolicy

    now = now or timezone.now()
    practice = patient.practice
    late_hours = SchedulingPolicy.for_practice(practice).late_cancel_hours
    visits = list(Appointment.objects.filter(patient=patient, status__in=ACTIVE, start_at__gt=now)
                  .exclude(kind=AppointmentKind.MEETING).select_related("therapist").order_by("start_at")[:limit])
    asked = set(Task.objects.filter(practice_id=practice.pk, status__in=OPEN_STATUSES,
                                    dedupe_key__in=[f"visit-reschedule:{v.pk}:{v.sequence}" for v in visits])
                .values_list("dedupe_key", flat=True))
    return {"late_hours": late_hours, "visits": [{
        "pk": visit.pk, "sequence": visit.sequence, "when": texts.visit_when(visit.start_at, practice.zone),
        "therapist": visit.therapist.first_name, "confirmed": visit.status == AppointmentStatus.CONFIRMED,
        "late": visit.start_at - now < dt.timedelta(hours=late_hours),
        "reschedule_requested": f"visit-reschedule:{visit.pk}:{visit.sequence}" in asked,
    } for visit in visits]}


def _close_reschedule_requests(appointment: Appointment, reason: str) -> None:
    # Requests about an earlier version of the visit; one made since (this sequence) stays open.
    for task in Task.objects.filter(practice_id=appointment.practice_id, status__in=OPEN_STATUSES,
                                    dedupe_key__startswith=f"visit-reschedule:{appointment.pk}:").exclude(
            dedupe_key=f"visit-reschedule:{appointment.pk}:{appointment.sequence}"):
        close_task_by_rule(task=task, reason=reason)


# Text replies


def asks_for_another_time(normalized: str) -> bool:
    return bool(_OTHER_TIME.search(normalized))


def handle_reply(reply: Reply) -> bool:
    """YES confirms, NO cancels, "another time" asks the front desk; anything else is not
    ours (the front desk gets it as a text to read). Every used reply is answered."""
    appointment = reply.about
    if not isinstance(appointment, Appointment) or appointment.patient_id is None:
        return False
    other_time = asks_for_another_time(reply.normalized)
    if not other_time and reply.intent not in ("yes", "no"):
        return False
    guardian = reply.guardian
    if not GuardianOf.objects.filter(guardian=guardian, patient_id=appointment.patient_id).exists():
        return False
    actor = f"{TEXT_REPLY_ACTOR}{guardian.pk}"
    if other_time:
        outcome = family_reschedule(appointment=appointment, guardian=guardian, actor=actor, words=reply.text,
                                    via="text")
    elif reply.intent == "yes":
        outcome = family_confirm(appointment=appointment, actor=actor)
    else:
        outcome = family_cancel(appointment=appointment, actor=actor, reason="Cancelled by text reply")
    appointment.refresh_from_db()
    queue_message(practice=appointment.practice, kind=texts.ANSWER, recipient=guardian, channel=Channel.SMS,
                  urgent=True, about=appointment, idempotency_key=f"visit-answer:{reply.inbound.provider_id}",
                  context={"child_first_name": appointment.patient.preferred_name or appointment.patient.first_name,
                           "start_at": appointment.start_at, "outcome": outcome})
    until = min(appointment.start_at, timezone.now() + FOLLOW_UP)
    if until > timezone.now():
        await_reply(guardian=guardian, handler=HANDLER, about=appointment, until=until)
    return True


register_reply_handler(HANDLER, handle_reply)


def arm_reply_waits(*, now: dt.datetime | None = None) -> int:
    """Listen for replies to the text reminders that are going out now (see the module
    docstring for why not earlier). Returns how many waits were armed."""
    now = now or timezone.now()
    appointment_type = ContentType.objects.get_for_model(Appointment)
    armed = ReplyWait.objects.filter(guardian=OuterRef("guardian"), handler=HANDLER, about_type=appointment_type,
                                     about_id=OuterRef("about_id"), created_at__gte=OuterRef("not_before"))
    going_out = (Q(state__in=[MessageState.SENDING, MessageState.SENT, MessageState.DELIVERED])
                 | Q(state=MessageState.QUEUED, next_attempt_at__lte=now))
    due = (Message.objects.filter(going_out, kind=texts.REMINDER, channel=Channel.SMS, about_type=appointment_type,
                                  not_before__lte=now, not_before__gt=now - dt.timedelta(days=1))
           .exclude(idempotency_key__endswith=":confirmed").exclude(Exists(armed))
           .values_list("guardian_id", "about_id", "idempotency_key"))
    count = 0
    for guardian_id, appointment_id, key in due:
        appointment = Appointment.objects.select_related("practice").filter(pk=appointment_id).first()
        if appointment is None or guardian_id is None or not _is_current(key, appointment, guardian_id, now):
            continue
        await_reply(guardian=Guardian.objects.get(pk=guardian_id), handler=HANDLER, about=appointment,
                    until=appointment.start_at)
        count += 1
    return count


def withdraw_stale_reminders(*, now: dt.datetime | None = None) -> int:
    """Check every reminder about to go out against its visit once more."""
    now = now or timezone.now()
    soon = list(Message.objects.filter(kind=texts.REMINDER, state=MessageState.QUEUED,
                                       next_attempt_at__lte=now + LOOKAHEAD)
                .values_list("pk", "about_id", "guardian_id", "idempotency_key"))
    visits = Appointment.objects.select_related("practice").in_bulk({about for _, about, _, _ in soon if about})
    stale = [pk for pk, about, guardian_id, key in soon
             if about not in visits or not _is_current(key, visits[about], guardian_id, now)]
    return _withdraw(stale, "the visit changed") if stale else 0


#: A practice's hourly top-up queues reminders for a day's share of the visits missing
#: them (at least this many): a practice's week of visits sends a few dozen reminders an
#: hour, so after a seeding or a big import it catches up soonest first, over about a day,
#: always ahead of what is due, rather than in one long run.
REMINDER_VISITS_PER_RUN = 100


def queue_upcoming_reminders(*, practice: Practice | None = None, now: dt.datetime | None = None,
                             spread: bool = False) -> int:
    """Queue the reminders coming within the horizon that nobody queued yet (visits
    booked in bulk, or weeks ahead), for one practice or all, the soonest first; with
    ``spread``, for a day's share of the visits missing them (REMINDER_VISITS_PER_RUN).
    Cheap when there is nothing to do: one query for the visits (the fields a key
    needs), one for their guardians, one per 500 keys."""
    now = now or timezone.now()
    policies = {p.practice_id: p for p in ConfirmationPolicy.objects.filter(
        **({"practice": practice} if practice is not None else {}))}
    longest = max([48, *(h for p in policies.values() for h in reminder_hours(p))])
    visits = Appointment.objects.filter(status__in=ACTIVE, patient__isnull=False, start_at__gt=now,
                                        start_at__lte=now + REMINDER_HORIZON + dt.timedelta(hours=longest + 24))
    if practice is not None:
        visits = visits.filter(practice=practice)
    visits = list(visits.exclude(kind=AppointmentKind.MEETING).order_by("start_at")
                  .only("pk", "practice_id", "patient_id", "start_at", "status", "sequence"))
    practices = {practice.pk: practice} if practice is not None else Practice.objects.in_bulk()
    for visit in visits:
        visit.practice = practices[visit.practice_id]  # a practice's zone and policies, read once
    recipients = _recipients_of(visits)
    wanted: dict[str, tuple[dt.datetime, Appointment]] = {}
    for visit in visits:
        guardian = recipients.get(visit.patient_id)
        policy = policies.get(visit.practice_id) or ConfirmationPolicy.for_practice(visit.practice)
        policies[visit.practice_id] = policy
        if guardian is None:
            continue
        for hours, send_at in reminder_schedule(visit, policy):
            if now < send_at <= now + REMINDER_HORIZON:
                confirmed = visit.status == AppointmentStatus.CONFIRMED
                wanted[reminder_key(visit, hours, guardian, confirmed)] = (send_at, visit)
    keys = list(wanted)
    existing = _keys_used(keys)
    missing: dict[int, tuple[dt.datetime, Appointment]] = {}
    for key in keys:
        if key not in existing:
            send_at, visit = wanted[key]
            missing[visit.pk] = min(missing.get(visit.pk, (send_at, visit)), (send_at, visit), key=lambda m: m[0])
    limit = max(REMINDER_VISITS_PER_RUN, math.ceil(len(missing) / 24)) if spread else None
    soonest = [visit.pk for _, visit in sorted(missing.values(), key=lambda m: (m[0], m[1].pk))[:limit]]
    queued = 0
    for start in range(0, len(soonest), 200):  # a transaction and an insert a few hundred visits
        chosen = Appointment.objects.select_related("patient", "practice").in_bulk(soonest[start:start + 200])
        queued += sync_visits_reminders(visits=[chosen[pk] for pk in soonest[start:start + 200] if pk in chosen],
                                        now=now)[0]
    return queued


@sweep("scheduling.visit_reminders_queue", "hourly", per_practice=True)
def _queue_reminders(*, practice: Practice) -> int:
    return queue_upcoming_reminders(practice=practice, spread=True)


@sweep("scheduling.visit_reminders_check", "minute")
def _check_reminders() -> dict:
    return {"withdrawn": withdraw_stale_reminders(), "armed": arm_reply_waits()}


# The front desk's task when nobody confirmed: a row of the day's call list

CONFIRM_BY = dt.timedelta(hours=2)


def load_call_rows(rows: list) -> None:
    """What a call-list row shows: the visit and the guardian to call. Two queries."""
    visits = Appointment.objects.filter(pk__in=[r.subject_id for r in rows]).select_related("patient", "therapist",
                                                                                             "practice")
    visits = {v.pk: v for v in visits}
    guardians = recipients_for({v.patient_id for v in visits.values()})
    for row in rows:
        row.visit = visits.get(row.subject_id)
        row.guardian = guardians.get(row.visit.patient_id) if row.visit else None


list_row("visit_unconfirmed", template="scheduling/_call_row.html", load=load_call_rows)



def _unconfirmed(now: dt.datetime, practice_hours: dict[int | None, int]):
    """The visits still only booked within each practice's window ({practice id: hours},
    None for every other practice)."""
    named = {pk: hours for pk, hours in practice_hours.items() if pk is not None}
    within = Q()
    for pk, hours in named.items():
        within |= Q(practice_id=pk, start_at__lte=now + dt.timedelta(hours=hours))
    if None in practice_hours:
        within |= Q(start_at__lte=now + dt.timedelta(hours=practice_hours[None])) & ~Q(practice_id__in=list(named))
    return (Appointment.objects.filter(within, status=AppointmentStatus.BOOKED, patient__isnull=False, start_at__gt=now)
            .exclude(kind=AppointmentKind.MEETING))


def _unconfirmed_marks(now: dt.datetime) -> dict[int, object]:
    """Every practice's visits to confirm: how many, which, and their latest change."""
    hours = dict(ConfirmationPolicy.objects.values_list("practice_id", "unconfirmed_task_hours"))
    hours[None] = ConfirmationPolicy._meta.get_field("unconfirmed_task_hours").default
    return counted(_unconfirmed(now, hours), changed="updated_at")


@task_rule("visit_unconfirmed", kind="visit_unconfirmed", schedule="minute", label="Visit not confirmed",
           listed_in="calls", due=_unconfirmed_marks)
def unconfirmed_visits(practice: Practice, now: dt.datetime):
    """Front desk: a visit still only booked within the practice's window (default 24 h)."""
    policy = ConfirmationPolicy.for_practice(practice)
    visits = (_unconfirmed(now, {practice.pk: policy.unconfirmed_task_hours})
              .select_related("patient", "therapist").order_by("start_at"))
    visits = list(visits)
    guardians = recipients_for({visit.patient_id for visit in visits})
    for visit in visits:
        patient = visit.patient
        guardian = guardians.get(patient.pk)
        call = (f"Call {guardian} at {guardian.phone_display}" if guardian and guardian.phone
                else f"Reach {guardian}" if guardian else "Find a guardian to reach")
        yield TaskSpec(
            dedupe_key=f"visit-unconfirmed:{visit.pk}",
            title=f"Confirm {patient.first_name} {patient.last_name[:1]}.'s visit {visit.local_start:%a %-I:%M %p}",
            reason=(f"{patient.first_name}'s visit with {visit.therapist} on "
                    f"{visit.local_start:%A, %B %-d at %-I:%M %p} is not confirmed yet. {call} to confirm it, "
                    f"or cancel it so the time can be offered."),
            subject=visit, patient_id=patient.pk, role=Role.FRONT_DESK,
            # The real deadline, fixed: two hours before the visit (the time the family still
            # has to come, or the opening still has to be offered), however late it gets.
            due_at=visit.start_at - CONFIRM_BY,
            links=[{"label": "Visit", "url": visit.get_absolute_url()},
                   {"label": str(patient), "url": patient.get_absolute_url()}],
        )

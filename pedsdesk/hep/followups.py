"""Asking the family how practice went: before the next visit (inside that visit's
reminder when it goes out in the same window, so it is one text, not two) and one
nudge when nothing is reported some days after delivery. Times are the practice's
local clock; the family's chosen time of day, or "off", wins.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone

from pedsdesk.hep import messages as texts
from pedsdesk.hep.actions import at_family_time, queue_about
from pedsdesk.hep.models import Delivery, DeliveryState, Feedback, FeedbackRequest, HepPolicy
from pedsdesk.messaging.models import Message, MessageState
from pedsdesk.messaging.rules import local_datetime
from pedsdesk.practices.models import Practice
from pedsdesk.scheduling.models import Appointment, AppointmentKind, AppointmentStatus
from pedsdesk.scheduling.visit_messages import REMINDER, ReminderAddition, register_reminder_addition
from pedsdesk.sweeps import remembered

#: A visit reminder this close to the feedback time carries the question instead.
SHARE_WINDOW = dt.timedelta(hours=12)
#: The hourly sweep queues requests due this soon (with their own send time).
LOOKAHEAD = dt.timedelta(minutes=75)
REACHED = (DeliveryState.SENT, DeliveryState.DELIVERED, DeliveryState.OPENED, DeliveryState.QUEUED)
ACTIVE_VISITS = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


def same_wall_clock(at: dt.datetime, days: int, zone) -> dt.datetime:
    """``at`` moved by ``days`` calendar days on the local clock (23- or 25-hour days across DST)."""
    local = at.astimezone(zone)
    return local_datetime(local.date() + dt.timedelta(days=days), local.time().replace(tzinfo=None), zone)


def feedback_due(appointment: Appointment) -> dt.datetime:
    policy = HepPolicy.for_practice(appointment.practice)
    return same_wall_clock(appointment.start_at, -policy.feedback_days_before, appointment.practice.zone)


def _current_delivery(patient_id: int, guardian_id: int, practice_id: int) -> Delivery | None:
    # A sweep's run of reminders reads every child's at once; one reminder, only its own.
    current = remembered(("hep.current_deliveries", practice_id), lambda: _current_deliveries(practice_id),
                         alone=lambda: _current_deliveries(practice_id, version__program__patient_id=patient_id,
                                                           guardian_id=guardian_id))
    return current.get((patient_id, guardian_id))


def _current_deliveries(practice_id: int, **only) -> dict[tuple[int, int], Delivery]:
    """Each child's current version's reached deliveries, by (child, guardian)."""
    rows = (Delivery.objects.select_related("version", "guardian", "practice", "version__program__patient")
            .filter(practice_id=practice_id, state__in=REACHED, version__program__current_version_id=F("version_id"),
                    **only))
    return {(d.version.program.patient_id, d.guardian_id): d for d in rows}


def _last_reports(versions) -> dict[int, dt.datetime]:
    """When each program version (a queryset of ids) last had practice reported, in one query."""
    return dict(Feedback.objects.filter(version_id__in=versions).values("version_id")
                .annotate(last=Max("submitted_at")).values_list("version_id", "last"))


def _reported_since(last_reports: dict[int, dt.datetime], delivery: Delivery, since: dt.datetime) -> bool:
    last = last_reports.get(delivery.version_id)
    return last is not None and last >= since


def wants_feedback_in_reminder(appointment: Appointment, guardian, send_at: dt.datetime) -> bool:
    """The visit-reminder hook: ask in this reminder when it goes out near the feedback time."""
    if appointment.patient_id is None or guardian is None:
        return False
    delivery = _current_delivery(appointment.patient_id, guardian.pk, appointment.practice_id)
    if delivery is None:
        return False
    due = at_family_time(guardian, appointment.practice, feedback_due(appointment))
    if due is None or abs(send_at - due) > SHARE_WINDOW:
        return False
    request = FeedbackRequest.objects.filter(version_id=delivery.version_id, guardian=guardian,
                                             kind=FeedbackRequest.Kind.BEFORE_VISIT,
                                             appointment_id=appointment.pk).first()
    if request is not None:
        return request.with_visit_reminder  # already asked by its own text: not twice
    try:
        with transaction.atomic():
            FeedbackRequest.objects.create(practice_id=appointment.practice_id, version_id=delivery.version_id,
                                           guardian=guardian, kind=FeedbackRequest.Kind.BEFORE_VISIT,
                                           appointment_id=appointment.pk, with_visit_reminder=True,
                                           asked_at=send_at)
    except IntegrityError:
        return False
    return True


register_reminder_addition(ReminderAddition("hep_feedback", wants_feedback_in_reminder,
                                            sms=texts.visit_reminder_sms, email=texts.visit_reminder_email))


def _reminder_going_out(appointment: Appointment, guardian_id: int, due: dt.datetime) -> bool:
    return Message.objects.filter(
        about_type=ContentType.objects.get_for_model(Appointment), about_id=appointment.pk, kind=REMINDER,
        guardian_id=guardian_id, not_before__gte=due - SHARE_WINDOW, not_before__lte=due + SHARE_WINDOW,
        state__in=[MessageState.QUEUED, MessageState.SENDING, MessageState.SENT, MessageState.DELIVERED],
    ).exists()


def request_before_visits(*, practice: Practice, now: dt.datetime | None = None) -> int:
    """Queue the practice's before-visit questions due within the lookahead that no
    reminder carries.

    Every hour: one query each for the policy, the deliveries whose child has a visit
    soon, those visits, the requests already made and the last reports; then queries
    only for what is due (the work grows with what is due, not with the families)."""
    now = now or timezone.now()
    queued = 0
    # The question goes out feedback_days_before local days before the visit, at the
    # family's time of day: never more than that many days and one more ahead of it. A
    # child whose next visit is further off than that has nothing due this hour.
    days_before = HepPolicy.for_practice(practice).feedback_days_before
    latest_visit = now + LOOKAHEAD + dt.timedelta(days=days_before + 1)
    next_visit = (Appointment.objects.filter(patient=OuterRef("version__program__patient"), status__in=ACTIVE_VISITS,
                                             start_at__gt=now, start_at__lte=latest_visit)
                  .exclude(kind=AppointmentKind.MEETING).order_by("start_at", "pk").values("pk")[:1])
    due_soon = (Delivery.objects.filter(practice=practice, state__in=REACHED,
                                        version__program__current_version=F("version_id"))
                .annotate(next_visit_id=Subquery(next_visit)).filter(next_visit_id__isnull=False))
    deliveries = list(due_soon.select_related("guardian__hep_preference", "version__program__patient"))
    visits = Appointment.objects.in_bulk({d.next_visit_id for d in deliveries})
    for each in [*deliveries, *visits.values()]:
        each.practice = practice  # one practice: its policy and zone read once
    # Subqueries, not lists of ids: a group's hour has tens of thousands of them.
    asked = set(FeedbackRequest.objects.filter(kind=FeedbackRequest.Kind.BEFORE_VISIT,
                                               version_id__in=due_soon.values("version_id"))
                .values_list("version_id", "guardian_id", "appointment_id"))
    reports = _last_reports(due_soon.values("version_id"))
    for delivery in deliveries:
        visit = visits.get(delivery.next_visit_id)
        if visit is None or (delivery.version_id, delivery.guardian_id, visit.pk) in asked:
            continue
        due = at_family_time(delivery.guardian, delivery.practice, feedback_due(visit))
        if due is None or due > now + LOOKAHEAD or due < (delivery.sent_at or delivery.created_at):
            continue
        if _reported_since(reports, delivery, due - dt.timedelta(days=2)):
            continue
        with transaction.atomic():
            request, created = FeedbackRequest.objects.get_or_create(
                version_id=delivery.version_id, guardian=delivery.guardian, kind=FeedbackRequest.Kind.BEFORE_VISIT,
                appointment_id=visit.pk,
                defaults={"practice_id": delivery.practice_id, "asked_at": max(due, now),
                          "with_visit_reminder": _reminder_going_out(visit, delivery.guardian_id, due)})
            if created and not request.with_visit_reminder:
                queued += queue_about(delivery=delivery, kind=texts.FEEDBACK_REQUEST, not_before=max(due, now),
                                 key=f"hep-feedback:{delivery.pk}:{visit.pk}") is not None
    return queued


def send_nudges(*, practice: Practice, now: dt.datetime | None = None) -> int:
    """One nudge when nothing was reported ``nudge_days`` after delivery (local calendar days)."""
    now = now or timezone.now()
    queued = 0
    days = HepPolicy.for_practice(practice).nudge_days
    deliveries = (Delivery.objects.filter(practice=practice, state__in=REACHED, sent_at__isnull=False,
                                          sent_at__gte=now - dt.timedelta(days=30),
                                          version__program__current_version=F("version_id"))
                  .select_related("guardian__hep_preference", "version__program__patient"))
    nudged = set(FeedbackRequest.objects.filter(kind=FeedbackRequest.Kind.NUDGE,
                                                version_id__in=deliveries.values("version_id"))
                 .values_list("version_id", "guardian_id"))
    reports = _last_reports(deliveries.values("version_id"))
    for delivery in deliveries:
        if (delivery.version_id, delivery.guardian_id) in nudged:
            continue
        delivery.practice = practice
        due = at_family_time(delivery.guardian, delivery.practice,
                             same_wall_clock(delivery.sent_at, days, delivery.practice.zone))
        if due is None or due > now + LOOKAHEAD or _reported_since(reports, delivery, delivery.sent_at):
            continue
        with transaction.atomic():
            _, created = FeedbackRequest.objects.get_or_create(
                version_id=delivery.version_id, guardian=delivery.guardian, kind=FeedbackRequest.Kind.NUDGE,
                appointment_id=0, defaults={"practice_id": delivery.practice_id, "asked_at": max(due, now)})
            if created:
                queued += queue_about(delivery=delivery, kind=texts.NUDGE, not_before=max(due, now),
                                 key=f"hep-nudge:{delivery.pk}") is not None
    return queued

"""Changes to home programs. Keyword-only; each runs in a transaction, writes its audit
event and queues its messages in the same transaction (the outbox delivers on commit).

A program is edited by saving a new version; the family's link never changes. Sending
a version makes one delivery per chosen guardian; each delivery goes queued → sent →
delivered → opened (or failed), with one reminder, then the other channel, then a
front-desk task when nobody opens it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from pedsdesk.audit.actions import record_event
from pedsdesk.fields import number_limits, number_problem
from pedsdesk.files.actions import Checked, discard_file, store_file
from pedsdesk.files.models import StoredFile
from pedsdesk.hep import adherence
from pedsdesk.hep import messages as texts
from pedsdesk.hep.models import (
    Activity,
    Delivery,
    DeliveryState,
    FamilyPreference,
    Feedback,
    FeedbackItem,
    HepPolicy,
    HomeProgram,
    ProgramItem,
    ProgramTemplate,
    ProgramVersion,
    QuestionKind,
    Rating,
    ReviewTime,
    TemplateItem,
)
from pedsdesk.hep.starter import STARTER
from pedsdesk.messaging.actions import queue_message
from pedsdesk.messaging.models import Channel, Message, MessageState
from pedsdesk.messaging.rules import local_datetime
from pedsdesk.people.models import Guardian, GuardianOf, Patient
from pedsdesk.portal.actions import create_family_link, family_link_url, link_actor
from pedsdesk.portal.models import FamilyLink
from pedsdesk.practices.models import Practice, StaffMember

logger = logging.getLogger("pedsdesk.hep")

SYSTEM_ACTOR = "pedsdesk (home programs)"
LINK_PURPOSE = "home-program"
#: A program's link lasts this long; it is reused by every later version while it works.
LINK_DAYS = 180
#: The dose of an item; their ranges are field rules (pedsdesk/fields.py), for form, API and model alike.
DOSE_FIELDS = ("repetitions", "sets", "minutes", "days_per_week")
MAX_ITEMS = 12
NOTE_MAX = 2000
QUESTION_MAX = 1000


class HepError(ValueError):
    """A change that cannot be made; the message says what to fix, for a person."""


def visible_activities(practice: Practice) -> QuerySet[Activity]:
    """The starter library and the practice's own activities, not archived."""
    return Activity.objects.filter(Q(practice__isnull=True) | Q(practice=practice), archived_at__isnull=True)


def load_starter_library(activity_model=Activity) -> int:
    """Write the starter library (idempotent by key). Returns how many were added."""
    added = 0
    for entry in STARTER:
        repetitions, sets, minutes, days = entry.dose
        _, created = activity_model.objects.update_or_create(
            practice=None, key=entry.key,
            defaults={"discipline": entry.discipline, "skills": list(entry.skills), "repetitions": repetitions,
                      "sets": sets, "minutes": minutes, "days_per_week": days,
                      "title_en": entry.title[0], "title_es": entry.title[1],
                      "steps_en": entry.steps[0], "steps_es": entry.steps[1],
                      "watch_en": entry.watch[0], "watch_es": entry.watch[1]})
        added += created
    return added


# The library


def _replace_picture(*, actor: StaffMember, old: StoredFile | None, checked: Checked, purpose: str,
                     patient_id: int | None = None, request: HttpRequest | None = None) -> StoredFile:
    """Keep a checked picture (inside the caller's transaction); the one it replaces loses its bytes."""
    stored = store_file(practice=actor.practice, purpose=purpose, checked=checked, actor=actor,
                        download_name=purpose.replace("_", "-"), patient_id=patient_id, request=request)
    if old is not None:
        discard_file(stored=old, actor=actor, request=request)
    return stored


def save_activity(*, actor: StaffMember, values: dict, activity: Activity | None = None,
                  picture: Checked | None = None, request: HttpRequest | None = None) -> Activity:
    """Create or edit one of the practice's own activities (starter ones are copied, not
    edited). ``picture`` is an upload already checked by ``files.check_upload``; it
    replaces the old one, whose bytes are removed."""
    if activity is not None and activity.practice_id != actor.practice_id:
        raise HepError("Starter activities cannot be changed; copy one to make it your practice's own.")
    with transaction.atomic():
        if activity is None:
            activity = Activity(practice=actor.practice, created_by=actor)
            action = "hep_activity_created"
        else:
            activity = Activity.objects.select_for_update().get(pk=activity.pk)
            action = "hep_activity_changed"
        for name, value in values.items():
            setattr(activity, name, value)
        activity.updated_at = timezone.now()
        activity.full_clean(exclude=["practice", "created_by", "picture"])
        if picture is not None:
            activity.picture = _replace_picture(actor=actor, old=activity.picture, checked=picture,
                                                purpose="activity_picture", request=request)
        activity.save()
        record_event(actor=actor, action=action, obj=activity, request=request,
                     detail={"fields": sorted(values)})
    return activity


def copy_activity(*, actor: StaffMember, activity: Activity, request: HttpRequest | None = None) -> Activity:
    fields = ("discipline", "title_en", "title_es", "steps_en", "steps_es", "watch_en", "watch_es", "skills",
              "repetitions", "sets", "minutes", "days_per_week", "video_url")
    return save_activity(actor=actor, values={name: getattr(activity, name) for name in fields}, request=request)


# The practice's follow-up rules

POLICY_FIELDS = ("open_within_hours", "low_adherence", "feedback_days_before", "nudge_days")


def set_policy(*, actor: StaffMember, values: dict, request: HttpRequest | None = None) -> HepPolicy:
    """Change the practice's home-program thresholds (owner, office manager). Checked by
    the field rules under the row's lock; nothing is saved when one value is wrong."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise HepError(f"Not a home-program setting: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        HepPolicy.objects.get_or_create(practice_id=actor.practice_id)
        policy = HepPolicy.objects.select_for_update().get(practice_id=actor.practice_id)
        before = {name: getattr(policy, name) for name in values}
        for name, value in values.items():
            setattr(policy, name, value)
        policy.full_clean(exclude=["practice"])
        changed = {name: {"from": str(before[name]), "to": str(getattr(policy, name))} for name in values
                   if before[name] != getattr(policy, name)}
        if changed:
            policy.save()
            record_event(actor=actor, action="hep_policy_changed", obj=policy, request=request,
                         practice_id=actor.practice_id, detail={"changed": changed})
    return policy


# Building a program


@dataclass(frozen=True)
class ItemInput:
    activity_id: int
    repetitions: int | None = None
    sets: int | None = None
    minutes: int | None = None
    days_per_week: int = 5


def check_dose(name: str, value: int | None, title: str) -> None:
    if value is None:
        if name == "days_per_week":
            raise ValidationError(f"Say how many days a week for “{title}” (1 to 7).")
        return
    if problem := number_problem(value, number_limits(ProgramItem, name)):
        raise ValidationError(f"{name.replace('_', ' ').capitalize()} for “{title}”: {problem}")


def check_items(practice: Practice, items: list[ItemInput]) -> dict[int, Activity]:
    """The activities ``items`` name, after every check; raises ValidationError saying what to fix."""
    if not items:
        raise ValidationError("Add at least one activity before saving or sending the program.")
    if len(items) > MAX_ITEMS:
        raise ValidationError(f"A home program holds at most {MAX_ITEMS} activities; remove some.")
    ids = [item.activity_id for item in items]
    if len(set(ids)) != len(ids):
        raise ValidationError("An activity is in the program twice; keep it once and adjust its dose.")
    activities = visible_activities(practice).in_bulk(ids)
    missing = [i for i in ids if i not in activities]
    if missing:
        raise ValidationError("One of the activities is no longer in the library; remove it and choose another.")
    for item in items:
        title = activities[item.activity_id].title_en
        for name in DOSE_FIELDS:
            check_dose(name, getattr(item, name), title)
    return activities


def _locked_program(patient: Patient) -> HomeProgram:
    program, _ = HomeProgram.objects.get_or_create(patient=patient, defaults={"practice_id": patient.practice_id})
    return HomeProgram.objects.select_for_update().get(pk=program.pk)


def save_version(*, actor: StaffMember, patient: Patient, items: list[ItemInput], note: str = "",
                 request: HttpRequest | None = None) -> ProgramVersion:
    """A new version of ``patient``'s program; it becomes the current one."""
    if patient.practice_id != actor.practice_id:
        raise HepError("This child belongs to another practice.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError(f"The note to the family is {len(note)} characters; keep it under {NOTE_MAX}.")
    check_items(patient.practice, items)
    with transaction.atomic():
        program = _locked_program(patient)
        number = (program.versions.aggregate(last=Max("number"))["last"] or 0) + 1
        # The child's photos stay with their activities in the new version.
        photos = dict(ProgramItem.objects.filter(version_id=program.current_version_id, photo__isnull=False,
                                                 photo__discarded_at__isnull=True)
                      .values_list("activity_id", "photo_id")) if program.current_version_id else {}
        version = ProgramVersion.objects.create(program=program, number=number, note=note, created_by=actor)
        ProgramItem.objects.bulk_create([
            ProgramItem(version=version, activity_id=item.activity_id, position=position,
                        repetitions=item.repetitions, sets=item.sets, minutes=item.minutes,
                        days_per_week=item.days_per_week, photo_id=photos.get(item.activity_id))
            for position, item in enumerate(items)])
        program.current_version = version
        program.save(update_fields=["current_version"])
        record_event(actor=actor, action="hep_version_saved", obj=version, practice_id=program.practice_id,
                     request=request, detail={"number": number, "activities": len(items)})
    return version


def attach_item_photo(*, actor: StaffMember, item: ProgramItem, photo: Checked,
                      request: HttpRequest | None = None) -> ProgramItem:
    """A photo of the child doing an activity of their current program (``photo`` already
    checked by ``files.check_upload``). It belongs to this child's program, never to the
    shared library: only this child's family sees it, and later versions keep it."""
    with transaction.atomic():
        locked = ProgramItem.objects.select_for_update().select_related("version__program").get(pk=item.pk)
        program = locked.version.program
        if program.practice_id != actor.practice_id:
            raise HepError("This child belongs to another practice.")
        if program.current_version_id != locked.version_id:
            raise HepError("A newer version of this program exists; add the photo to that one.")
        old = locked.photo
        # Earlier versions share the old photo: it is replaced there too (its bytes are removed).
        locked.photo = _replace_picture(actor=actor, old=old, checked=photo, purpose="program_item_photo",
                                        patient_id=program.patient_id, request=request)
        locked.save(update_fields=["photo"])
        record_event(actor=actor, action="hep_item_photo_attached", obj=locked.version,
                     practice_id=program.practice_id, request=request,
                     detail={"item": locked.pk, "replaced": old is not None})
    return locked


def save_template(*, actor: StaffMember, name: str, items: list[ItemInput],
                  request: HttpRequest | None = None) -> tuple[ProgramTemplate, bool]:
    """Save the builder's activities and doses as a practice template (no note, no child).
    A live template of the same name gets these activities instead. Returns (template, created)."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("Name the template, e.g. “Fine motor starter”.")
    check_items(actor.practice, items)
    with transaction.atomic():
        template = (ProgramTemplate.objects.select_for_update()
                    .filter(practice_id=actor.practice_id, name__iexact=name, archived_at__isnull=True).first())
        created = template is None
        if created:
            template = ProgramTemplate(practice_id=actor.practice_id, name=name, created_by=actor)
        template.updated_at = timezone.now()
        template.full_clean(exclude=["practice", "created_by"], validate_constraints=False)
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError:  # the same name saved at the same instant by a colleague
            raise ValidationError(f"A template named “{name}” was just saved; save again to replace it.") from None
        template.items.all().delete()
        TemplateItem.objects.bulk_create([
            TemplateItem(template=template, activity_id=item.activity_id, position=position,
                         repetitions=item.repetitions, sets=item.sets, minutes=item.minutes,
                         days_per_week=item.days_per_week)
            for position, item in enumerate(items)])
        record_event(actor=actor, action="hep_template_saved" if created else "hep_template_changed",
                     obj=template, request=request, detail={"activities": len(items)})
    return template, created


def archive_template(*, actor: StaffMember, template: ProgramTemplate, request: HttpRequest | None = None) -> bool:
    if template.practice_id != actor.practice_id:
        raise HepError("This template belongs to another practice.")
    with transaction.atomic():
        changed = ProgramTemplate.objects.filter(pk=template.pk, archived_at__isnull=True).update(
            archived_at=timezone.now())
        if changed:
            record_event(actor=actor, action="hep_template_archived", obj=template, request=request)
    return bool(changed)


def live_templates(practice: Practice) -> QuerySet[ProgramTemplate]:
    return ProgramTemplate.objects.filter(practice=practice, archived_at__isnull=True)


def program_link_url(*, guardian: Guardian, patient: Patient, actor: StaffMember | str = SYSTEM_ACTOR) -> str:
    """The guardian's family link URL for this child: an existing one that still lasts a
    month, else a new one. Every version and reminder of the program uses it."""
    soon = timezone.now() + dt.timedelta(days=30)
    link = (FamilyLink.objects.filter(guardian=guardian, patient=patient, revoked_at__isnull=True,
                                      expires_at__gte=soon).order_by("-expires_at").first())
    if link is not None:
        return family_link_url(link)
    _, url = create_family_link(actor=actor, guardian=guardian, patient=patient, purpose=LINK_PURPOSE,
                                days=LINK_DAYS)
    return url


def _context(patient: Patient, url: str) -> dict:
    return {"child_first_name": patient.preferred_name or patient.first_name, "url": url}


def queue_about(*, delivery: Delivery, kind: str, key: str, channel: str | None = None,
           not_before: dt.datetime | None = None) -> Message | None:
    """Queue a message about ``delivery`` carrying the family's link (None: unreachable)."""
    patient = delivery.version.program.patient
    url = program_link_url(guardian=delivery.guardian, patient=patient)
    return queue_message(practice=delivery.practice, kind=kind, recipient=delivery.guardian, channel=channel,
                         context=_context(patient, url), idempotency_key=key, not_before=not_before,
                         about=delivery)


def _fail(delivery: Delivery, reason: str, now: dt.datetime) -> None:
    """No channel reaches the guardian (the outbox tried both): straight to the front desk."""
    delivery.state, delivery.failed_at, delivery.status_reason = DeliveryState.FAILED, now, reason[:200]
    delivery.follow_up_step, delivery.next_follow_up_at = 3, None
    delivery.save(update_fields=["state", "failed_at", "status_reason", "follow_up_step", "next_follow_up_at"])


def send_version(*, actor: StaffMember, version: ProgramVersion, guardians: list[Guardian],
                 request: HttpRequest | None = None) -> list[Delivery]:
    """Deliver ``version`` to each of ``guardians`` on their preferred channel. A guardian
    who cannot be reached gets a failed delivery and a front-desk task, never silence."""
    program = version.program
    patient = program.patient
    if program.practice_id != actor.practice_id:
        raise HepError("This program belongs to another practice.")
    if not guardians:
        raise ValidationError("Choose at least one guardian to send the program to.")
    linked = set(GuardianOf.objects.filter(patient=patient).values_list("guardian_id", flat=True))
    strangers = [g for g in guardians if g.pk not in linked]
    if strangers:
        raise ValidationError(f"{strangers[0]} is not a guardian of {patient.first_name}.")
    if not version.items.exists():
        raise ValidationError("This version has no activities; add at least one before sending.")
    deliveries = []
    with transaction.atomic():
        now = timezone.now()
        ProgramVersion.objects.filter(pk=version.pk, sent_at__isnull=True).update(sent_at=now)
        for guardian in guardians:
            delivery, created = Delivery.objects.get_or_create(
                version=version, guardian=guardian,
                defaults={"practice_id": program.practice_id, "created_by": actor, "created_at": now})
            if not created:
                deliveries.append(delivery)  # already sent: Resend is the way to send again
                continue
            message = queue_about(delivery=delivery, kind=texts.PROGRAM, key=f"hep-delivery:{delivery.pk}:first")
            if message is None:
                _fail(delivery, _skip_reason(delivery), now)
                open_unreachable_task(delivery)
            else:
                delivery.channel = message.channel
                delivery.save(update_fields=["channel"])
            record_event(actor=actor, action="hep_delivery_queued", obj=delivery, request=request,
                         practice_id=program.practice_id,
                         detail={"guardian_id": guardian.pk, "version": version.number, "state": delivery.state})
            deliveries.append(delivery)
    return deliveries


def _skip_reason(delivery: Delivery) -> str:
    skipped = _messages(delivery).filter(state=MessageState.SKIPPED).first()
    return skipped.status_reason if skipped else "no way to reach the guardian"


def update_and_send(*, actor: StaffMember, patient: Patient, items: list[ItemInput], note: str,
                    guardians: list[Guardian], request: HttpRequest | None = None) -> tuple[ProgramVersion,
                                                                                          list[Delivery]]:
    """The builder's Send: a new version and its deliveries, all or nothing."""
    if not guardians:
        raise ValidationError("Choose at least one guardian to send the program to.")
    with transaction.atomic():
        version = save_version(actor=actor, patient=patient, items=items, note=note, request=request)
        return version, send_version(actor=actor, version=version, guardians=guardians, request=request)


def resend_delivery(*, actor: StaffMember, delivery: Delivery, channel: str | None = None,
                    request: HttpRequest | None = None) -> Message | None:
    """Staff send the program link again (after fixing a number, or on the family's request)."""
    if delivery.practice_id != actor.practice_id:
        raise HepError("This delivery belongs to another practice.")
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().select_related("version__program__patient", "guardian",
                                                                      "practice").get(pk=delivery.pk)
        current = locked.version.program.current_version_id == locked.version_id
        if not current:
            raise HepError("A newer version of this program exists; send that one instead.")
        locked.resends += 1
        message = queue_about(delivery=locked, kind=texts.PROGRAM, channel=channel,
                         key=f"hep-delivery:{locked.pk}:resend:{locked.resends}")
        now = timezone.now()
        if message is None:
            _fail(locked, _skip_reason(locked), now)
            open_unreachable_task(locked)
        else:
            locked.state = DeliveryState.QUEUED if locked.opened_at is None else DeliveryState.OPENED
            locked.channel, locked.status_reason, locked.failed_at = message.channel, "", None
            locked.follow_up_step, locked.next_follow_up_at = 0, None
            _close_unreached_task(locked)
        locked.save()
        record_event(actor=actor, action="hep_delivery_resent", obj=locked, request=request,
                     detail={"guardian_id": locked.guardian_id, "queued": message is not None})
    return message


# Delivery states and follow-ups


def _messages(delivery: Delivery) -> QuerySet[Message]:
    return Message.objects.filter(about_type=ContentType.objects.get_for_model(Delivery), about_id=delivery.pk)


def delivery_state(states: list[str], opened: bool) -> str:
    """A delivery's state from its messages' states (pure)."""
    if opened:
        return DeliveryState.OPENED
    if MessageState.DELIVERED in states:
        return DeliveryState.DELIVERED
    if MessageState.SENT in states:
        return DeliveryState.SENT
    if any(s in (MessageState.QUEUED, MessageState.SENDING) for s in states):
        return DeliveryState.QUEUED
    return DeliveryState.FAILED


def _outdated(delivery: Delivery, rows: list[tuple]) -> bool:
    """Whether the delivery's state lags its messages' (state, sent_at, delivered_at, …) rows."""
    if not rows:
        return False  # nothing was queued for it (no channel): its state was set when that was found
    state = delivery_state([r[0] for r in rows], delivery.opened_at is not None)
    return (state != delivery.state or (not delivery.sent_at and any(r[1] for r in rows))
            or (not delivery.delivered_at and any(r[2] for r in rows)))


def _follow_up_due(delivery: Delivery, now: dt.datetime) -> bool:
    """An unopened current version whose next follow-up time has come, or whose message failed."""
    due = delivery.next_follow_up_at is not None and delivery.next_follow_up_at <= now
    failed_fresh = delivery.state == DeliveryState.FAILED and delivery.follow_up_step < 2 \
        and delivery.failed_at is not None
    return delivery.version.program.current_version_id == delivery.version_id and delivery.opened_at is None \
        and (due or failed_fresh)


def refresh_delivery(delivery: Delivery, now: dt.datetime) -> bool:
    """Bring ``delivery``'s state up to date with its messages; True if it changed.
    Called with the delivery row locked."""
    rows = list(_messages(delivery).values_list("state", "sent_at", "delivered_at", "status_reason"))
    if not _outdated(delivery, rows):
        return False
    state = delivery_state([r[0] for r in rows], delivery.opened_at is not None)
    sent = min((r[1] for r in rows if r[1]), default=None)
    delivered = min((r[2] for r in rows if r[2]), default=None)
    delivery.state = state
    delivery.sent_at = delivery.sent_at or sent
    delivery.delivered_at = delivery.delivered_at or delivered
    if state == DeliveryState.FAILED:
        delivery.failed_at = delivery.failed_at or now
        delivery.status_reason = next((r[3] for r in rows if r[3]), "the provider refused it")[:200]
    elif delivery.sent_at and delivery.next_follow_up_at is None and delivery.follow_up_step == 0 \
            and state != DeliveryState.OPENED:
        hours = HepPolicy.for_practice(delivery.practice).open_within_hours
        delivery.next_follow_up_at = delivery.sent_at + dt.timedelta(hours=hours)
    delivery.save()
    return True


def preference_of(guardian: Guardian) -> FamilyPreference | None:
    if Guardian.hep_preference.is_cached(guardian):  # read with the guardian (a sweep's select_related)
        return getattr(guardian, "hep_preference", None)
    return FamilyPreference.objects.filter(guardian=guardian).first()


def at_family_time(guardian: Guardian, practice: Practice, when: dt.datetime) -> dt.datetime | None:
    """When a reminder due at ``when`` goes out: on that local day at the family's chosen
    time (the next day if that time has passed), or at ``when``; None if they turned
    reminders off."""
    preference = preference_of(guardian)
    if preference is not None and preference.reminders_off:
        return None
    if preference is None or preference.reminder_time is None:
        return when
    zone = practice.zone
    day = when.astimezone(zone).date()
    chosen = local_datetime(day, preference.reminder_time, zone)
    return chosen if chosen >= when - dt.timedelta(hours=12) else local_datetime(
        day + dt.timedelta(days=1), preference.reminder_time, zone)


def _other_channel(channel: str) -> str:
    return Channel.EMAIL if channel == Channel.SMS else Channel.SMS


def follow_up(delivery: Delivery, now: dt.datetime) -> str:
    """The next follow-up step for an unopened delivery that is due one. Returns what was done."""
    hours = HepPolicy.for_practice(delivery.practice).open_within_hours
    gap = dt.timedelta(hours=hours)
    step = delivery.follow_up_step
    if delivery.state == DeliveryState.FAILED and step < 2:
        step = 1  # nothing reached them: try the other channel at once
    done = ""
    if step == 0:
        when = at_family_time(delivery.guardian, delivery.practice, now)
        if when is not None:
            queue_about(delivery=delivery, kind=texts.OPEN_REMINDER, channel=delivery.channel or None,
                   key=f"hep-delivery:{delivery.pk}:reminder:{delivery.resends}", not_before=when)
            done = "reminder"
        delivery.follow_up_step, delivery.next_follow_up_at = 1, now + gap
    elif step == 1:
        other = _other_channel(delivery.channel or delivery.guardian.preferred_channel)
        message = queue_about(delivery=delivery, kind=texts.PROGRAM, channel=other,
                         key=f"hep-delivery:{delivery.pk}:other:{delivery.resends}")
        if message is not None:
            done = "other channel"
            delivery.follow_up_step, delivery.next_follow_up_at = 2, now + gap
            if delivery.state == DeliveryState.FAILED:
                delivery.state, delivery.failed_at, delivery.status_reason = DeliveryState.QUEUED, None, ""
        else:
            delivery.follow_up_step, delivery.next_follow_up_at = 3, None
            done = "front desk"
    else:
        delivery.follow_up_step, delivery.next_follow_up_at = 3, None
        done = "front desk"
    delivery.save()
    if done == "front desk":
        open_unreachable_task(delivery)
    return done


def sweep_deliveries(*, now: dt.datetime | None = None, since: dt.datetime | None = None) -> dict[str, int]:
    """Every minute: states from the outbox, then the follow-ups that are due.

    The open deliveries worth a look (a message of theirs changed after ``since``, the
    last run's start; a follow-up's time has come; a message failed) and their messages
    are read in two queries; only those whose state lags their messages, or whose
    follow-up is due, are locked and looked at again under the lock. So a minute with
    nothing to do costs the same at any size. Without ``since`` (the first run), every
    open delivery is looked at."""
    now = now or timezone.now()
    counts = {"refreshed": 0, "followed_up": 0}
    about = ContentType.objects.get_for_model(Delivery)
    candidates = (Delivery.objects.filter(state__in=[DeliveryState.QUEUED, DeliveryState.SENT,
                                                     DeliveryState.DELIVERED, DeliveryState.FAILED],
                                          follow_up_step__lt=3)
                  .select_related("version__program"))
    if since is not None:
        changed = Message.objects.filter(about_type=about, updated_at__gte=since).values("about_id")
        candidates = candidates.filter(Q(pk__in=changed) | Q(next_follow_up_at__lte=now)
                                       | Q(state=DeliveryState.FAILED, follow_up_step__lt=2, failed_at__isnull=False))
    messages: dict[int, list[tuple]] = defaultdict(list)
    for about_id, *row in Message.objects.filter(about_type=about, about_id__in=candidates.values("pk")).values_list(
            "about_id", "state", "sent_at", "delivered_at"):
        messages[about_id].append(tuple(row))
    due = [d.pk for d in candidates if _outdated(d, messages.get(d.pk, [])) or _follow_up_due(d, now)]
    for pk in due:
        with transaction.atomic():
            delivery = (Delivery.objects.select_for_update(of=("self",))
                        .select_related("practice", "guardian", "version__program__patient").get(pk=pk))
            counts["refreshed"] += refresh_delivery(delivery, now)
            if _follow_up_due(delivery, now):
                counts["followed_up"] += bool(follow_up(delivery, now))
    return counts


def open_unreachable_task(delivery: Delivery) -> None:
    """Front desk: the family has not got (or opened) the program."""
    from pedsdesk.hep.rules import UNREACHED_RULE, unreached_spec
    from pedsdesk.workqueue.actions import open_task

    open_task(practice=delivery.practice, kind=UNREACHED_RULE, spec=unreached_spec(delivery), rule=UNREACHED_RULE)


def _close_unreached_task(delivery: Delivery, reason: str = "sent again") -> None:
    from pedsdesk.workqueue.actions import close_task_by_rule
    from pedsdesk.workqueue.models import OPEN_STATUSES, Task

    for task in Task.objects.filter(practice_id=delivery.practice_id, dedupe_key=f"hep-unreached:{delivery.pk}",
                                    status__in=OPEN_STATUSES):
        close_task_by_rule(task=task, reason=reason)


# What the family does


def mark_opened(*, link: FamilyLink, request: HttpRequest | None = None) -> int:
    """The family opened their page: the current version's deliveries to them are opened.

    Runs on the page's GET, so it must be safe to repeat and to race: each delivery is
    locked and changed only while still unopened (a conditional UPDATE, which holds on
    SQLite too), audited once, and a front-desk task about it closes."""
    with transaction.atomic():
        program = HomeProgram.objects.filter(patient_id=link.patient_id).values("current_version_id").first()
        if program is None or program["current_version_id"] is None:
            return 0
        now = timezone.now()
        candidates = list(Delivery.objects.select_for_update().filter(
            version_id=program["current_version_id"], guardian_id=link.guardian_id, opened_at__isnull=True))
        opened = 0
        for delivery in candidates:
            if not Delivery.objects.filter(pk=delivery.pk, opened_at__isnull=True).update(
                    opened_at=now, state=DeliveryState.OPENED, next_follow_up_at=None):
                continue  # opened by a concurrent request in the meantime
            opened += 1
            record_event(actor=link_actor(link), action="hep_delivery_opened", obj=delivery, request=request,
                         practice_id=delivery.practice_id, detail={"guardian_id": link.guardian_id})
            if delivery.follow_up_step >= 3:
                _close_unreached_task(delivery, reason="the family opened it")
    return opened


def feedback_window_start(version: ProgramVersion, patient_id: int) -> dt.datetime:
    """Where the next answer's window starts: the last answer about this version, else when it was sent."""
    last = Feedback.objects.filter(version=version, patient_id=patient_id).aggregate(at=Max("submitted_at"))["at"]
    return last or version.sent_at or version.created_at


def max_days(start: dt.datetime, now: dt.datetime) -> int:
    return max(1, min(31, math.ceil((now - start) / dt.timedelta(days=1))))


def submit_feedback(*, link: FamilyLink, version_number: int, form_id: str, days_practised: int,
                    ratings: dict[int, str], question: str = "", question_kind: str = QuestionKind.THERAPY,
                    request: HttpRequest | None = None) -> tuple[Feedback, bool]:
    """Save the family's answers. The same form twice saves once; an answer about a
    version the family no longer has is refused, and nothing is half-saved. Messages are
    in the active language (the family's)."""
    form_id = (form_id or "").strip()
    if not form_id or len(form_id) > 40:
        raise ValidationError(_("This form is incomplete; reload the page and try again."))
    question = (question or "").strip()
    if len(question) > QUESTION_MAX:
        raise ValidationError(_("Please keep your question under %(n)d characters.") % {"n": QUESTION_MAX})
    if question_kind not in QuestionKind.values:
        raise ValidationError(_("Choose who the question is for."))
    with transaction.atomic():
        existing = Feedback.objects.filter(form_id=form_id).first()
        if existing is not None:
            if existing.guardian_id != link.guardian_id or existing.patient_id != link.patient_id:
                raise ValidationError(_("This form is incomplete; reload the page and try again."))
            return existing, False
        program = HomeProgram.objects.select_for_update().filter(patient_id=link.patient_id).first()
        version = program.current_version if program else None
        if version is None:
            raise ValidationError(_("There is no home program to report on yet."))
        if version.number != version_number:
            raise ValidationError(_("The program changed since this page was opened. Please look at the "
                                    "new program and answer again."))
        items = list(version.items.all())
        missing = [item for item in items if ratings.get(item.pk) not in Rating.values]
        if missing:
            raise ValidationError(_("Choose how each activity went (or “did not try”)."))
        now = timezone.now()
        start = feedback_window_start(version, link.patient_id)
        limit = max_days(start, now)
        if not 0 <= days_practised <= limit:
            raise ValidationError(_("Choose a number of days from 0 to %(n)d.") % {"n": limit})
        try:
            with transaction.atomic():
                feedback = Feedback.objects.create(
                    practice_id=link.practice_id, version=version, guardian_id=link.guardian_id,
                    patient_id=link.patient_id, form_id=form_id, days_practised=days_practised,
                    days_prescribed=adherence.days_prescribed(version.days_prescribed_per_week, start, now),
                    window_start=start, question=question, question_kind=question_kind, submitted_at=now)
        except IntegrityError:  # the same form, sent twice at once
            return Feedback.objects.get(form_id=form_id), False
        FeedbackItem.objects.bulk_create([FeedbackItem(feedback=feedback, item=item, rating=ratings[item.pk])
                                          for item in items])
        record_event(actor=link_actor(link), action="hep_feedback_submitted", obj=feedback, request=request,
                     detail={"version": version.number, "days_practised": days_practised,
                             "question": bool(question)})
    return feedback, True


def set_family_preference(*, link: FamilyLink, reminder_time: dt.time | None, reminders_off: bool,
                          request: HttpRequest | None = None) -> FamilyPreference:
    with transaction.atomic():
        preference, _ = FamilyPreference.objects.select_for_update().get_or_create(guardian_id=link.guardian_id)
        preference.reminder_time, preference.reminders_off = reminder_time, reminders_off
        preference.updated_at = timezone.now()
        preference.save()
        record_event(actor=link_actor(link), action="hep_reminders_set", obj=link, request=request,
                     detail={"reminders_off": reminders_off,
                             "reminder_time": reminder_time.isoformat() if reminder_time else None})
    return preference


# Staff follow-up


def answer_question(*, actor: StaffMember, feedback: Feedback, request: HttpRequest | None = None) -> bool:
    """The family's question was answered (by phone, at the visit …): its task closes."""
    if feedback.practice_id != actor.practice_id:
        raise HepError("This answer belongs to another practice.")
    with transaction.atomic():
        changed = Feedback.objects.filter(pk=feedback.pk, answered_at__isnull=True).update(
            answered_at=timezone.now())
        if changed:
            record_event(actor=actor, action="hep_question_answered", obj=feedback, request=request)
    return bool(changed)


def log_review(*, actor: StaffMember, patient: Patient, minutes: int, real_time_interaction: bool = False,
               request: HttpRequest | None = None) -> ReviewTime:
    """Minutes spent reviewing the family's reported data (kept for remote-monitoring counts)."""
    if patient.practice_id != actor.practice_id:
        raise HepError("This child belongs to another practice.")
    if problem := number_problem(minutes, number_limits(ReviewTime, "minutes")):
        raise ValidationError(f"Review minutes: {problem}")
    with transaction.atomic():
        review = ReviewTime.objects.create(practice_id=patient.practice_id, patient=patient, staff_member=actor,
                                           minutes=minutes, real_time_interaction=real_time_interaction)
        record_event(actor=actor, action="hep_review_logged", obj=review, request=request,
                     detail={"minutes": minutes, "real_time_interaction": real_time_interaction})
    return review

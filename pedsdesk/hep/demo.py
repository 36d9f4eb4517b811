"""Demo home programs: about half the children with a plan of care, one or two versions
over the last four weeks, weekly answers with a spread of adherence, open questions,
and the current version's deliveries in every state (their messages are real outbox
rows, so the demo's sweeps send the queued ones).

Written directly, like the rest of the demo (no audit events: nobody read them).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

from django.utils import timezone

from pedsdesk.demo.seeders import demo_seeder
from pedsdesk.hep import adherence
from pedsdesk.hep import messages as texts
from pedsdesk.hep.actions import LINK_DAYS, LINK_PURPOSE, load_starter_library, visible_activities
from pedsdesk.hep.models import (
    Delivery,
    DeliveryState,
    Feedback,
    FeedbackItem,
    FeedbackRequest,
    HomeProgram,
    ProgramItem,
    ProgramVersion,
    QuestionKind,
    Rating,
    ReviewTime,
)
from pedsdesk.messaging.actions import queue_message
from pedsdesk.messaging.models import Message, MessageState
from pedsdesk.people.models import GuardianOf, PlanOfCare
from pedsdesk.portal.actions import family_link_url
from pedsdesk.portal.models import FamilyLink

QUESTIONS = [
    ("Can we do the activities on the weekend instead?", QuestionKind.THERAPY),
    ("She gets upset with the hard one. Should we skip it?", QuestionKind.THERAPY),
    ("¿Podemos hacerlo con su hermano?", QuestionKind.THERAPY),
    ("Can we move next Tuesday's visit to the afternoon?", QuestionKind.LOGISTICS),
    ("¿Necesitan una nueva orden del doctor?", QuestionKind.LOGISTICS),
]
STATES = [(DeliveryState.OPENED, 0.55), (DeliveryState.DELIVERED, 0.12), (DeliveryState.SENT, 0.1),
          (DeliveryState.QUEUED, 0.13), (DeliveryState.FAILED, 0.1)]


def _state(rng: random.Random) -> str:
    pick, total = rng.random(), 0.0
    for state, weight in STATES:
        total += weight
        if pick <= total:
            return state
    return DeliveryState.OPENED


def _version(program: HomeProgram, number: int, therapist, activities, rng, sent_at: dt.datetime
             ) -> tuple[ProgramVersion, list[ProgramItem]]:
    version = ProgramVersion(program=program, number=number, created_by=therapist,
                             created_at=sent_at - dt.timedelta(minutes=5), sent_at=sent_at,
                             note="Practise after school, before screen time." if rng.random() < .4 else "")
    chosen = rng.sample(activities, k=min(len(activities), rng.choice([2, 3, 3, 4, 5])))
    items = [ProgramItem(version=version, activity=a, position=i, repetitions=a.repetitions, sets=a.sets,
                         minutes=a.minutes, days_per_week=a.days_per_week) for i, a in enumerate(chosen)]
    return version, items


class _Rows:
    """The seeding's rows, planned in memory and written in bulk at its end, parents
    first (a large practice has a thousand programs and thousands of weekly answers)."""

    def __init__(self) -> None:
        self.programs: list[tuple[HomeProgram, ProgramVersion]] = []  # with its current version
        self.versions: list[ProgramVersion] = []
        self.items: list[ProgramItem] = []
        self.links: list[FamilyLink] = []
        self.requests: list[FeedbackRequest] = []
        self.feedback: list[tuple[Feedback, int]] = []  # with its week, for its form id
        self.ratings: list[FeedbackItem] = []
        self.deliveries: list[Delivery] = []
        self.sends: list[_Send] = []
        self.reviews: list[ReviewTime] = []

    def write(self, now: dt.datetime) -> None:
        programs = [program for program, _ in self.programs]
        HomeProgram.objects.bulk_create(programs, batch_size=500)
        ProgramVersion.objects.bulk_create(self.versions, batch_size=500)
        ProgramItem.objects.bulk_create(self.items, batch_size=500)
        for program, current in self.programs:
            program.current_version = current
        HomeProgram.objects.bulk_update(programs, ["current_version"], batch_size=500)
        FamilyLink.objects.bulk_create(self.links, batch_size=500)
        FeedbackRequest.objects.bulk_create(self.requests, batch_size=500)
        for feedback, week in self.feedback:
            feedback.form_id = f"demo-{feedback.version.pk}-{week}"
        Feedback.objects.bulk_create([f for f, _ in self.feedback], batch_size=500)  # ids for the ratings
        FeedbackItem.objects.bulk_create(self.ratings, batch_size=500)
        Delivery.objects.bulk_create(self.deliveries + [send.delivery for send in self.sends], batch_size=500)
        ReviewTime.objects.bulk_create(self.reviews, batch_size=500)
        messages = [message for send in self.sends if (message := send.queue(now)) is not None]
        Message.objects.bulk_update(messages, ["state", "sent_at", "counted_at", "delivered_at", "closed_at",
                                               "status_reason"], batch_size=500)
        Delivery.objects.bulk_update([send.delivery for send in self.sends], [
            "state", "channel", "sent_at", "delivered_at", "opened_at", "failed_at", "status_reason",
            "follow_up_step", "next_follow_up_at"], batch_size=500)


def _answers(version: ProgramVersion, items: list[ProgramItem], guardian, patient, level: float,
             until: dt.datetime, rng, counts, rows: _Rows) -> None:
    """Weekly answers from ``version.sent_at`` to ``until``, practising about ``level`` of the days."""
    weekly = ProgramVersion.days_a_week(items)
    start = version.sent_at
    week = 0
    while start + dt.timedelta(days=7) <= until:
        end = min(until - dt.timedelta(hours=1), start + dt.timedelta(days=7, hours=rng.randint(-6, 6)))
        week += 1
        rows.requests.append(FeedbackRequest(practice_id=patient.practice_id, version=version, guardian=guardian,
                                       kind=FeedbackRequest.Kind.BEFORE_VISIT, appointment_id=week,
                                       with_visit_reminder=rng.random() < .7, asked_at=end - dt.timedelta(days=2)))
        if rng.random() < .85:  # some weeks nobody answers
            prescribed = adherence.days_prescribed(weekly, start, end)
            practised = max(0, min(7, round(prescribed * min(1.0, max(0.0, rng.gauss(level, .15))))))
            question, kind = rng.choice(QUESTIONS) if rng.random() < .12 else ("", QuestionKind.THERAPY)
            feedback = Feedback(
                practice_id=patient.practice_id, version=version, guardian=guardian, patient=patient,
                days_practised=practised, days_prescribed=prescribed,
                window_start=start, question=question, question_kind=kind, submitted_at=end,
                answered_at=end + dt.timedelta(days=1) if question and rng.random() < .4 else None)
            rows.feedback.append((feedback, week))
            rows.ratings.extend(
                FeedbackItem(feedback=feedback, item=item, rating=rng.choice(
                    [Rating.EASY, Rating.OKAY, Rating.OKAY, Rating.HARD, Rating.NOT_TRIED] if practised
                    else [Rating.NOT_TRIED])) for item in items)
            counts["hep_feedback"] += 1
            start = end
        else:
            start = start + dt.timedelta(days=7)


class _Send:
    """The current version sent: its delivery, in a given state, and its message in the
    outbox (queued through the outbox itself once the delivery has its id)."""

    def __init__(self, delivery: Delivery, link: FamilyLink, patient, state: str, rng) -> None:
        self.delivery, self.link, self.patient, self.state = delivery, link, patient, state
        self.sent = delivery.version.sent_at + dt.timedelta(seconds=rng.randint(3, 40))
        self.opened = self.sent + dt.timedelta(hours=rng.randint(1, 30))

    def queue(self, now: dt.datetime) -> Message | None:
        delivery, patient = self.delivery, self.patient
        message = queue_message(practice=delivery.practice, kind=texts.PROGRAM, recipient=delivery.guardian,
                                about=delivery, idempotency_key=f"hep-delivery:{delivery.pk}:first",
                                context={"child_first_name": patient.preferred_name or patient.first_name,
                                         "url": family_link_url(self.link)})
        if message is None:
            delivery.state, delivery.failed_at, delivery.follow_up_step = DeliveryState.FAILED, now, 3
            delivery.status_reason = "no way to reach the guardian"
            return None
        delivery.channel = message.channel
        if self.state == DeliveryState.QUEUED:
            return None  # being sent now: the sweep hands it over
        sent = self.sent
        outcome = {DeliveryState.FAILED: MessageState.FAILED, DeliveryState.SENT: MessageState.SENT}.get(
            self.state, MessageState.DELIVERED)
        message.state, message.sent_at, message.counted_at = outcome, sent, sent
        message.delivered_at = sent + dt.timedelta(seconds=5) if outcome == MessageState.DELIVERED else None
        message.closed_at = sent
        message.status_reason = "the carrier refused the number (demo)" if outcome == MessageState.FAILED else ""
        delivery.state, delivery.sent_at = self.state, sent
        delivery.delivered_at = message.delivered_at
        if self.state == DeliveryState.OPENED:
            delivery.opened_at = self.opened
        elif self.state == DeliveryState.FAILED:
            delivery.failed_at, delivery.status_reason = sent, message.status_reason
            delivery.follow_up_step = 3
        else:
            delivery.next_follow_up_at = sent + dt.timedelta(hours=48)
        return message


@demo_seeder("home programs")
def seed_home_programs(*, practice, rng: random.Random, today: dt.date) -> dict[str, int]:
    now = timezone.now()
    load_starter_library()  # idempotent: the library the data migration wrote
    activities = {d: list(visible_activities(practice).filter(discipline=d)) for d in ("OT", "PT", "SLP")}
    plans = list(PlanOfCare.objects.filter(patient__practice=practice, patient__is_active=True,
                                           start_date__lte=today, end_date__gte=today)
                 .select_related("patient__practice", "therapist").order_by("patient_id", "pk"))
    counts = {"hep_programs": 0, "hep_versions": 0, "hep_deliveries": 0, "hep_feedback": 0}
    seen = set()
    rows = _Rows()
    links: dict[tuple[int, int], FamilyLink] = {}
    for link in FamilyLink.objects.filter(practice=practice, revoked_at__isnull=True,
                                          expires_at__gt=now + dt.timedelta(days=30)).order_by("-created_at"):
        links.setdefault((link.guardian_id, link.patient_id), link)
    contacts = {}
    for link in (GuardianOf.objects.filter(patient__practice=practice).select_related("guardian")
                 .order_by("-is_primary_contact", "pk")):
        contacts.setdefault(link.patient_id, link.guardian)  # the primary contact first
    for plan in plans:
        patient = plan.patient
        if patient.pk in seen or rng.random() >= .5 or patient.pk not in contacts:
            continue
        seen.add(patient.pk)
        guardian = contacts[patient.pk]
        program = HomeProgram(practice=practice, patient=patient, created_at=now - dt.timedelta(days=28))
        level = rng.choice([.2, .35, .5, .65, .8, .9, 1.0])
        starts = [now - dt.timedelta(days=28, hours=rng.randint(0, 8))]
        if rng.random() < .5:
            starts.append(now - dt.timedelta(days=14, hours=rng.randint(0, 8)))
        versions = [_version(program, number, plan.therapist, activities[plan.discipline], rng, sent_at)
                    for number, sent_at in enumerate(starts, start=1)]
        for version, items in versions:
            rows.versions.append(version)
            rows.items.extend(items)
        for (old, old_items), (newer, _) in itertools.pairwise(versions):
            rows.deliveries.append(Delivery(
                practice=practice, version=old, guardian=guardian, state=DeliveryState.OPENED,
                created_by=plan.therapist, created_at=old.sent_at, sent_at=old.sent_at,
                delivered_at=old.sent_at, opened_at=old.sent_at + dt.timedelta(hours=3)))
            _answers(old, old_items, guardian, patient, level, newer.sent_at, rng, counts, rows)
        current, current_items = versions[-1]
        rows.programs.append((program, current))
        state = _state(rng)
        if state == DeliveryState.QUEUED:
            current.sent_at = now  # being sent now: the sweep hands it over
        link = links.get((guardian.pk, patient.pk))
        if link is None:
            link = links[(guardian.pk, patient.pk)] = FamilyLink(
                practice=practice, guardian=guardian, patient=patient, purpose=LINK_PURPOSE,
                created_at=current.sent_at, expires_at=current.sent_at + dt.timedelta(days=LINK_DAYS))
            rows.links.append(link)
        rows.sends.append(_Send(Delivery(practice=practice, version=current, guardian=guardian,
                                         created_by=current.created_by, created_at=current.sent_at),
                                link, patient, state, rng))
        if state == DeliveryState.OPENED:
            _answers(current, current_items, guardian, patient, level, now, rng, counts, rows)
            if rng.random() < .3:
                rows.reviews.append(ReviewTime(
                    practice=practice, patient=patient, staff_member=plan.therapist,
                    minutes=rng.choice([5, 8, 10, 12, 20]), reviewed_at=now - dt.timedelta(days=rng.randint(1, 10)),
                    real_time_interaction=rng.random() < .5))
        counts["hep_programs"] += 1
        counts["hep_versions"] += len(versions)
        counts["hep_deliveries"] += len(versions)
    rows.write(now)
    return counts

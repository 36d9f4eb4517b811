"""Turning freed time into visits: openings, offers to families, the first valid
acceptance books.

A cancellation frees its time as an opening and starts offers to the best-placed
families, one at a time, in small batches or all at once (the practice's offer
policy). Every offer, acceptance, expiry and decline is a row, so fill rates can be
computed. The acceptance locks the opening row: two families tapping "yes" at the
same moment queue up, the first books, the second is told the time was taken.
"""

import datetime as dt
import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

import optimizer as solver
from pedsdesk import local_time
from pedsdesk.audit.actions import record_event
from pedsdesk.messaging.actions import await_reply, cancel_reply_waits, queue_message, withdraw_messages
from pedsdesk.messaging.kinds import MessageKind, Rendered, RenderInput, email_letter, register_kind
from pedsdesk.messaging.replies import Reply, register_reply_handler
from pedsdesk.portal.actions import create_family_link
from pedsdesk.practices.models import StaffMember
from pedsdesk.scheduling.actions import (
    BookingCheck,
    BookingRefused,
    Problem,
    book_appointment,
    check_booking,
    move_appointment,
)
from pedsdesk.scheduling.candidates import Candidate, find_candidates, primary_guardians
from pedsdesk.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    CandidateKind,
    Offer,
    OfferPolicy,
    Opening,
    SchedulingPolicy,
    WaitlistEntry,
)
from pedsdesk.scheduling.timeslots import treatment_week

logger = logging.getLogger(__name__)
BROADCAST_LIMIT = 25
# How many fitting families the optimizer gets to choose among for one opening.
OPTIMIZED_LOOKAHEAD = 8
MAKEUP_SEARCH_CHECKS = 12
OFFER_REPLY = "opening_offer"
# How long an opening nobody could be asked for waits before the minute sweep looks again
# (a family's week may gain room, a renewal may come through); not every minute, so the
# sweep costs what is due, not what is open.
RECHECK_AFTER = dt.timedelta(minutes=15)
# Offers the minute sweep closes in one transaction.
EXPIRY_BATCH = 200


def open_opening(*, cancelled: Appointment, now: dt.datetime | None = None) -> Opening | None:
    """The time a cancellation freed, if it is still worth filling; offers start at once."""
    now = now or timezone.now()
    if cancelled.start_at <= now or cancelled.kind == AppointmentKind.MEETING:
        return None
    with transaction.atomic():
        opening = Opening.objects.create(practice=cancelled.practice, therapist=cancelled.therapist,
                                         start_at=cancelled.start_at, end_at=cancelled.end_at,
                                         source=Opening.Source.CANCELLATION, freed_by=cancelled)
        send_next_offers(opening=opening, now=now)
    return opening


def refill_after_cancellation(cancelled: Appointment) -> None:
    """After a cancellation commits, two things at once: offer the freed time to the
    families who fit, and look for a makeup for this child inside the treatment week."""
    open_opening(cancelled=cancelled)
    # The search can take a while; the worker does it, so recording a cancellation stays quick.
    from pedsdesk.scheduling.tasks import offer_makeup_later

    offer_makeup_later(cancelled.pk)


def offer_makeup(*, cancelled: Appointment, now: dt.datetime | None = None) -> Offer | None:
    """Find the child free time inside the same treatment week (their therapist first, then
    others of the discipline) and offer it to the family."""
    now = now or timezone.now()
    plan = cancelled.plan_of_care
    if plan is None or cancelled.kind not in (AppointmentKind.TREATMENT, AppointmentKind.MAKEUP):
        return None
    practice = cancelled.practice
    policy = SchedulingPolicy.for_practice(practice)
    if not policy.offer_makeups:
        return None
    zone = practice.zone
    earliest = now + dt.timedelta(hours=float(policy.minimum_notice_hours))
    slot = find_makeup_slot(plan=plan, week_of=cancelled.start_at.astimezone(zone).date(), earliest=earliest,
                            exclude=cancelled)
    if slot is None:
        return None
    therapist, start_at = slot
    with transaction.atomic():
        opening = Opening.objects.create(practice=practice, therapist=therapist, start_at=start_at,
                                         end_at=start_at + dt.timedelta(minutes=plan.minutes),
                                         source=Opening.Source.MAKEUP_SEARCH, freed_by=cancelled)
        guardian = primary_guardians([plan.patient_id]).get(plan.patient_id)
        if guardian is None:
            opening.status = Opening.Status.WITHDRAWN
            opening.save(update_fields=["status"])
            return None
        policy_expiry = min(now + dt.timedelta(hours=4), start_at - dt.timedelta(hours=float(
            policy.minimum_notice_hours)))
        candidate = Candidate(plan.patient, CandidateKind.MAKEUP, plan, 0, guardian=guardian, makeup_for=cancelled)
        opening.considered = [{"patient_id": plan.patient_id, "name": f"{plan.patient.first_name} "
                               f"{plan.patient.last_name[:1]}.", "kind": CandidateKind.MAKEUP, "skipped": ""}]
        opening.status = Opening.Status.OFFERING
        opening.save(update_fields=["considered", "status"])
        return _send(opening, candidate, 1, 1, now, policy_expiry)


def find_makeup_slot(*, plan, week_of: dt.date, earliest: dt.datetime,
                     exclude: Appointment | None = None) -> tuple[StaffMember, dt.datetime] | None:
    """The first time in the treatment week both a therapist of the plan's discipline
    and the child are free and the booking would pass every check."""
    from pedsdesk.scheduling.availability import child_windows, therapist_windows
    from pedsdesk.scheduling.queries import therapists_of
    from pedsdesk.scheduling.timeslots import subtract

    practice = plan.patient.practice
    zone = practice.zone
    policy = SchedulingPolicy.for_practice(practice)
    monday, last = treatment_week(week_of, policy.treatment_week_days)
    therapists = [plan.therapist] + [t for t in therapists_of(practice).filter(
        therapist_profile__discipline=plan.discipline) if t.pk != plan.therapist_id]
    length = dt.timedelta(minutes=plan.minutes)
    day = max(monday, earliest.astimezone(zone).date())
    # The family has just said they cannot come at the cancelled time, and time already
    # offered to other families is not free to offer again (one slot, one opening).
    refused = [(exclude.start_at, exclude.end_at)] if exclude is not None else []
    offered = defaultdict(list)
    for therapist_id, start, end in Opening.objects.filter(
            therapist__in=therapists, status__in=(Opening.Status.OPEN, Opening.Status.OFFERING),
            start_at__date__gte=day - dt.timedelta(days=1), start_at__date__lte=last + dt.timedelta(days=1),
    ).values_list("therapist_id", "start_at", "end_at"):
        offered[therapist_id].append((start, end))
    checks = 0  # full checks are costly; a child nothing fits (e.g. no authorization) stops early
    while day <= last:
        child = subtract(child_windows(plan.patient, day), refused)
        for therapist in therapists:
            busy = [(a.start_at, a.end_at) for a in Appointment.objects.filter(
                therapist=therapist, status__in=HOLDING_STATUSES, start_at__date__gte=day - dt.timedelta(days=1),
                start_at__date__lte=day + dt.timedelta(days=1))] + offered[therapist.pk]
            for start, end in subtract(therapist_windows(therapist, day), busy):
                cursor = max(start, earliest)
                cursor += dt.timedelta(minutes=(-cursor.minute) % 15, seconds=-cursor.second,
                                       microseconds=-cursor.microsecond)
                while cursor + length <= end:
                    if any(s <= cursor and cursor + length <= e for s, e in child):
                        check = check_booking(practice=practice, therapist=therapist, patient=plan.patient,
                                              start_at=cursor, end_at=cursor + length, kind=AppointmentKind.MAKEUP,
                                              plan_of_care=plan, exclude=exclude, first_problem_only=True)
                        if not check.blocks and not check.warnings:
                            return therapist, cursor
                        checks += 1
                        if checks >= MAKEUP_SEARCH_CHECKS:
                            return None
                    cursor += dt.timedelta(minutes=15)
        day += dt.timedelta(days=1)
    return None


def _batch_size(policy: SchedulingPolicy) -> int:
    return {OfferPolicy.SEQUENTIAL: 1, OfferPolicy.BATCH: max(1, policy.offer_batch_size),
            OfferPolicy.BROADCAST: BROADCAST_LIMIT, OfferPolicy.OPTIMIZED: OPTIMIZED_LOOKAHEAD}[policy.offer_policy]


_KINDS = {CandidateKind.MAKEUP: solver.CandidateKind.MAKEUP,
          CandidateKind.BELOW_FREQUENCY: solver.CandidateKind.BELOW_FREQUENCY,
          CandidateKind.GAP_LIST: solver.CandidateKind.GAP, CandidateKind.WAITLIST: solver.CandidateKind.WAITLIST}


def _response_rates(guardian_ids: list[int]) -> dict[int, float]:
    """Each family's share of offers accepted, shrunk toward the 0.4 prior (two pseudo-offers)."""
    rows = Offer.objects.filter(guardian_id__in=guardian_ids).exclude(status=Offer.Status.PLANNED).values_list(
        "guardian_id", "status")
    sent, taken = defaultdict(int), defaultdict(int)
    for guardian_id, status in rows:
        sent[guardian_id] += 1
        taken[guardian_id] += status in (Offer.Status.ACCEPTED, Offer.Status.TAKEN)
    return {g: (taken[g] + 0.8) / (sent[g] + 2) for g in guardian_ids}


def _optimized_choice(opening: Opening, fitting: list[Candidate], policy: SchedulingPolicy,
                      now: dt.datetime) -> list[tuple[Candidate, dt.datetime]]:
    """Whom to ask now, and until when, from the optimizer's offer plan.

    The database checks (booking guard, windows, notice) already decided who fits; the
    solver weighs value, each family's chance of a yes given the notice, and urgency, and
    says how many to ask at once.
    """
    zone = opening.practice.zone
    local_day = opening.start_at.astimezone(zone).date()
    week = local_day - dt.timedelta(days=local_day.weekday())
    offers = list(opening.offers.values_list("patient_id", "status"))
    record = solver.Opening(
        id=str(opening.pk), therapist_id=str(opening.therapist_id),
        discipline=opening.therapist.therapist_profile.discipline, start=opening.start_at, end=opening.end_at,
        day=local_day, offered=frozenset(str(p) for p, _ in offers),
        pending=frozenset(str(p) for p, status in offers if status == Offer.Status.SENT))
    rates = _response_rates([c.guardian.pk for c in fitting])
    by_id = {str(c.patient.pk): c for c in fitting}
    candidates = [solver.Candidate(
        id=key, child_id=key, kind=_KINDS[c.kind], discipline=record.discipline, minutes=opening.minutes,
        windows=((opening.start_at, opening.end_at),), week_room={week: 1}, requires_authorization=False,
        days_waiting=c.days_waiting, response_rate=rates[c.guardian.pk]) for key, c in by_id.items()]
    plan = solver.plan_offers([record], candidates, solver.OfferPolicy(
        mode="optimized", min_notice=dt.timedelta(hours=float(policy.minimum_notice_hours)),
        book_by=dt.timedelta(hours=float(policy.minimum_notice_hours)), time_zone=str(zone)), now)
    return [(by_id[o.candidate_id], o.expires_at) for o in sorted(plan.offers, key=lambda o: o.rank)]


def send_next_offers(*, opening: Opening, now: dt.datetime | None = None) -> int:
    """Send the next batch of offers under the practice's policy; returns how many went out."""
    now = now or timezone.now()
    practice = opening.practice
    policy = SchedulingPolicy.for_practice(practice)
    with transaction.atomic():
        opening = Opening.objects.select_for_update().get(pk=opening.pk)
        if opening.status in (Opening.Status.FILLED, Opening.Status.WITHDRAWN, Opening.Status.EXPIRED):
            return 0
        if opening.start_at <= now:
            opening.status = Opening.Status.EXPIRED
            opening.save(update_fields=["status"])
            return 0
        asked = set(opening.offers.values_list("patient_id", flat=True))
        size = _batch_size(policy)
        candidates = [c for c in find_candidates(opening, now, wanted=size + len(asked))
                      if c.patient.pk not in asked]
        fitting = [c for c in candidates if c.checked and not c.skipped]
        _remember(opening, candidates)
        latest = opening.start_at - dt.timedelta(hours=float(policy.minimum_notice_hours))
        if policy.offer_policy == OfferPolicy.OPTIMIZED:
            chosen = [(c, min(expires, latest)) for c, expires in _optimized_choice(opening, fitting, policy, now)]
        else:
            expires = min(now + dt.timedelta(minutes=policy.offer_expiry_minutes), latest)
            chosen = [(c, expires) for c in fitting[:size]]
        batch = (max((o.batch for o in opening.offers.all()), default=0)) + 1
        rank = opening.offers.count()
        for candidate, expires in chosen:
            rank += 1
            _send(opening, candidate, rank, batch, now, expires)
        opening.status = Opening.Status.OFFERING if chosen else Opening.Status.OPEN
        # Nobody to ask now: the minute sweep looks again later, not every minute.
        waiting = not chosen and not opening.offers.filter(status=Offer.Status.SENT).exists()
        opening.recheck_at = now + RECHECK_AFTER if waiting else None
        opening.save(update_fields=["status", "considered", "recheck_at"])
    return len(chosen)


def _remember(opening: Opening, candidates: list[Candidate]) -> None:
    seen = {entry["patient_id"] for entry in opening.considered}
    for c in candidates:
        if c.checked and c.patient.pk not in seen:
            opening.considered.append({"patient_id": c.patient.pk, "name": f"{c.patient.first_name} "
                                       f"{c.patient.last_name[:1]}.", "kind": c.kind, "skipped": c.skipped})


def _send(opening: Opening, candidate: Candidate, rank: int, batch: int, now: dt.datetime,
          expires: dt.datetime) -> Offer:
    offer = Offer.objects.create(opening=opening, patient=candidate.patient, guardian=candidate.guardian,
                                 candidate_kind=candidate.kind, plan_of_care=candidate.plan_of_care, rank=rank,
                                 batch=batch, status=Offer.Status.SENT, sent_at=now, expires_at=expires)
    _, portal_url = create_family_link(actor="scheduler", guardian=candidate.guardian, patient=candidate.patient,
                                       purpose="offer", days=2)
    url = f"{portal_url.rstrip('/')}/offers/{offer.pk}/"
    zone = opening.practice.zone
    queue_message(practice=opening.practice, kind="opening_offer", recipient=candidate.guardian, about=offer,
                  idempotency_key=f"offer:{offer.pk}", urgent=True, context={
                      "child": candidate.patient.first_name, "start": opening.start_at.astimezone(zone),
                      "expires": expires.astimezone(zone), "url": url})
    await_reply(guardian=candidate.guardian, handler=OFFER_REPLY, about=offer, until=expires)
    record_event(actor="scheduler", action="offer_sent", obj=offer, practice_id=opening.practice_id,
                 detail={"opening": opening.pk, "kind": candidate.kind, "rank": rank})
    return offer


def accept_offer(*, offer: Offer, actor: str | StaffMember, now: dt.datetime | None = None) -> str:
    """Book the opening for this family if it is still free. Returns "booked", "taken",
    "expired" or "closed" (the family said no earlier, or staff withdrew it)."""
    now = now or timezone.now()
    with transaction.atomic():
        opening = Opening.objects.select_for_update().get(pk=offer.opening_id)
        offer = Offer.objects.select_for_update().select_related("patient", "guardian").get(pk=offer.pk)
        if offer.status == Offer.Status.ACCEPTED:
            return "booked"
        if offer.status == Offer.Status.DECLINED:
            return "closed"
        if offer.status == Offer.Status.EXPIRED:
            return "expired"
        if opening.status == Opening.Status.FILLED or offer.status in (Offer.Status.WITHDRAWN, Offer.Status.TAKEN):
            _close([offer], Offer.Status.TAKEN, now)
            _tell(offer, "offer_taken")
            return "taken"
        if (offer.expires_at and offer.expires_at <= now) or opening.start_at <= now:
            _close([offer], Offer.Status.EXPIRED, now)
            return "expired"
        try:
            visit = _book(opening, offer, actor)
        except BookingRefused as refused:
            # Something changed since the offer went out (the child was booked elsewhere…).
            logger.info("offer %s could not book: %s", offer.pk, [p.code for p in refused.check.blocks])
            _close([offer], Offer.Status.TAKEN, now)
            _tell(offer, "offer_taken")
            return "taken"
        offer.status, offer.responded_at, offer.booked = Offer.Status.ACCEPTED, now, visit
        offer.save(update_fields=["status", "responded_at", "booked"])
        opening.status, opening.filled_by, opening.filled_at = Opening.Status.FILLED, visit, now
        opening.save(update_fields=["status", "filled_by", "filled_at"])
        _close(list(opening.offers.filter(status__in=[Offer.Status.SENT, Offer.Status.PLANNED]).exclude(pk=offer.pk)),
               Offer.Status.WITHDRAWN, None)
        record_event(actor=actor, action="offer_accepted", obj=offer, practice_id=opening.practice_id,
                     detail={"opening": opening.pk, "appointment": visit.pk})
        _tell(offer, "offer_booked")
    return "booked"


def _book(opening: Opening, offer: Offer, actor) -> Appointment:
    if opening.recurring:
        return _book_recurring(opening, offer, actor)
    kind = {CandidateKind.MAKEUP: AppointmentKind.MAKEUP, CandidateKind.WAITLIST: AppointmentKind.EVALUATION}.get(
        offer.candidate_kind, AppointmentKind.TREATMENT)
    if offer.candidate_kind == CandidateKind.GAP_LIST:
        earlier = _later_visit_this_week(opening, offer)
        if earlier is not None:
            return move_appointment(actor=actor, appointment=earlier, start_at=opening.start_at,
                                    minutes=opening.minutes, therapist=opening.therapist,
                                    override_reason="Family asked for an earlier time")
    makeup_for = None
    if offer.candidate_kind == CandidateKind.MAKEUP:
        week = treatment_week(opening.start_at.astimezone(opening.practice.zone).date())
        makeup_for = Appointment.objects.filter(
            patient=offer.patient, status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL],
            start_at__date__gte=week[0] - dt.timedelta(days=1), start_at__date__lte=week[1] + dt.timedelta(days=1),
        ).order_by("start_at").first()
    # The family's own word is the reason to book outside the usual windows.
    visit = book_appointment(actor=actor, practice=opening.practice, therapist=opening.therapist,
                             patient=offer.patient, start_at=opening.start_at, minutes=opening.minutes, kind=kind,
                             plan_of_care=offer.plan_of_care, makeup_for=makeup_for,
                             override_reason="Family accepted an offered opening")
    if offer.candidate_kind == CandidateKind.WAITLIST:
        WaitlistEntry.objects.filter(patient=offer.patient, status=WaitlistEntry.Status.WAITING).update(
            status=WaitlistEntry.Status.EVALUATION_BOOKED, evaluation=visit)
    return visit


def _book_recurring(opening: Opening, offer: Offer, actor) -> Appointment:
    """A weekly slot: the child's plan of care gets a series at this weekday and time."""
    from pedsdesk.scheduling.series import create_series, extend_series

    local = opening.start_at.astimezone(opening.practice.zone)
    plan = offer.plan_of_care
    if plan.therapist_id != opening.therapist_id:
        plan.therapist = opening.therapist  # the slot comes with its therapist
        plan.save(update_fields=["therapist"])
    staff_actor = actor if isinstance(actor, StaffMember) else plan.therapist
    series = create_series(actor=staff_actor, plan_of_care=plan, weekday=local.weekday(), start_time=local.time(),
                           start_date=local.date(), minutes=opening.minutes)
    extend_series(series=series, actor=actor)
    first = Appointment.objects.filter(series=series, start_at=opening.start_at).first()
    if first is None:
        raise BookingRefused(BookingCheck(blocks=[Problem("series_not_booked", "The first weekly visit could not "
                                                          "be booked; see the series' skipped dates.")]))
    WaitlistEntry.objects.filter(patient=offer.patient, discipline=plan.discipline).exclude(
        status=WaitlistEntry.Status.REMOVED).update(status=WaitlistEntry.Status.SCHEDULED)
    return first


def _later_visit_this_week(opening: Opening, offer: Offer) -> Appointment | None:
    zone = opening.practice.zone
    week = treatment_week(opening.start_at.astimezone(zone).date())
    return Appointment.objects.filter(
        patient=offer.patient, plan_of_care=offer.plan_of_care, start_at__gt=opening.start_at,
        status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED],
        start_at__date__lte=week[1] + dt.timedelta(days=1),
    ).order_by("start_at").first()


def decline_offer(*, offer: Offer, actor: str | StaffMember, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        offer = Offer.objects.select_for_update().get(pk=offer.pk)
        if offer.status != Offer.Status.SENT:
            return
        _close([offer], Offer.Status.DECLINED, now)
        record_event(actor=actor, action="offer_declined", obj=offer, practice_id=offer.opening.practice_id)
        if not offer.opening.offers.filter(status=Offer.Status.SENT).exists():
            transaction.on_commit(lambda: send_next_offers(opening=offer.opening))


def _close(offers: list[Offer], status: str, now: dt.datetime | None) -> None:
    """Close these offers (locked by the caller): the status, when the family answered (if
    ``now``), their unsent offer texts withdrawn and their reply waits ended, in a few
    queries however many there are."""
    if not offers:
        return
    fields = {"status": status, **({"responded_at": now} if now is not None else {})}
    Offer.objects.filter(pk__in=[o.pk for o in offers]).update(**fields)
    for offer in offers:
        for name, value in fields.items():
            setattr(offer, name, value)
    withdraw_messages(about=offers, kinds=["opening_offer"], reason=f"offer {status}")
    cancel_reply_waits(about=offers)


def _tell(offer: Offer, kind: str) -> None:
    opening = offer.opening
    zone = opening.practice.zone
    queue_message(practice=opening.practice, kind=kind, recipient=offer.guardian, about=offer, urgent=True,
                  idempotency_key=f"{kind}:{offer.pk}", context={
                      "child": offer.patient.first_name, "start": opening.start_at.astimezone(zone)})


def expire_offers(*, now: dt.datetime | None = None) -> int:
    """Close offers whose time ran out and ask the next families; close openings that passed.

    Offers run out a batch at a time, in the same few queries for one offer or hundreds;
    then each opening left with nobody asked is looked at once, however many of its offers
    ran out."""
    now = now or timezone.now()
    expired = 0
    while True:
        due = list(Offer.objects.filter(status=Offer.Status.SENT, expires_at__lte=now).order_by("pk")
                   .values_list("pk", "opening_id")[:EXPIRY_BATCH])
        expired += _expire(due, now)
        if len(due) < EXPIRY_BATCH:
            break
    Opening.objects.filter(status__in=[Opening.Status.OPEN, Opening.Status.OFFERING], start_at__lte=now).update(
        status=Opening.Status.EXPIRED)
    waiting = (Opening.objects.filter(status__in=[Opening.Status.OPEN, Opening.Status.OFFERING], start_at__gt=now)
               .filter(Q(recheck_at__isnull=True) | Q(recheck_at__lte=now))
               .exclude(offers__status=Offer.Status.SENT))
    for opening in waiting.select_related("practice", "therapist__therapist_profile"):
        send_next_offers(opening=opening, now=now)
    return expired


def _expire(due: list[tuple[int, int]], now: dt.datetime) -> int:
    """Close these offers (pk, opening) if they are still out and past their time."""
    if not due:
        return 0
    with transaction.atomic():
        # accept_offer's order: the openings, then their offers; a family's yes that got
        # there first has booked or closed its offer, and the state read under the lock says so.
        list(Opening.objects.select_for_update().filter(pk__in={o for _, o in due}).order_by("pk")
             .values_list("pk", flat=True))
        offers = list(Offer.objects.select_for_update().filter(
            pk__in=[pk for pk, _ in due], status=Offer.Status.SENT, expires_at__lte=now).order_by("pk"))
        _close(offers, Offer.Status.EXPIRED, now)
        # Ask the next families now (see the waiting openings in expire_offers).
        Opening.objects.filter(pk__in={o.opening_id for o in offers}).update(recheck_at=None)
    return len(offers)


def _offer_text(data: RenderInput) -> Rendered:
    c = data.context
    values = {"practice": data.practice.name, "child": c["child"], "when": local_time.when(c["start"]),
              "until": local_time.when(c["expires"]), "url": c["url"]}
    subject = _("A visit time opened for %(child)s") % values
    if data.channel == "sms":
        return Rendered(subject, _("%(practice)s: a visit for %(child)s opened %(when)s. Reply YES to take it "
                                   "(first come, first served) or NO to pass, by %(until)s. Details: %(url)s") % values)
    # Email replies are not read, so the email asks for the page, not for a YES.
    return email_letter(
        data, subject, _("A visit time opened for %(child)s at %(practice)s: %(when)s.") % values,
        _("It goes to the first family who takes it. To take it or pass, open this page by %(until)s:") % values
        + "\n" + values["url"],
        _("The link is for you alone; please do not forward it."))


def _booked_text(data: RenderInput) -> Rendered:
    values = {"practice": data.practice.name, "child": data.context["child"],
              "when": local_time.when(data.context["start"])}
    if data.channel == "sms":
        return Rendered(_("Booked"), _("%(practice)s: booked! %(child)s's visit is %(when)s.") % values)
    return email_letter(data, _("%(child)s's visit is booked") % values,
                        _("%(child)s's visit at %(practice)s is booked for %(when)s. See you then!") % values)


def _taken_text(data: RenderInput) -> Rendered:
    values = {"practice": data.practice.name, "when": local_time.when(data.context["start"])}
    if data.channel == "sms":
        return Rendered(_("That time was taken"), _(
            "%(practice)s: sorry, the time on %(when)s was just taken. You stay on our list for the next one.")
            % values)
    return email_letter(data, _("That time was taken"), _(
        "Sorry, the time on %(when)s was just taken by another family. You stay on our list for the next "
        "opening.") % values)


register_kind(MessageKind("opening_offer", _offer_text, label="Offer of an opening"))
register_kind(MessageKind("offer_booked", _booked_text, exempt_from_cap=True, label="Offer booked"))
register_kind(MessageKind("offer_taken", _taken_text, exempt_from_cap=True, label="Offered time was taken"))


def _offer_reply(reply: Reply) -> bool:
    offer = reply.about
    if not isinstance(offer, Offer):
        return False
    if reply.intent == "yes":
        accept_offer(offer=offer, actor=f"sms reply from guardian #{reply.guardian.pk}")
        return True
    if reply.intent == "no":
        decline_offer(offer=offer, actor=f"sms reply from guardian #{reply.guardian.pk}")
        return True
    return False


register_reply_handler(OFFER_REPLY, _offer_reply)


def discharge(*, actor: StaffMember, plan, last_day: dt.date, now: dt.datetime | None = None) -> list[Opening]:
    """End a plan of care's weekly series after ``last_day``: visits after it are cancelled
    by the clinic, and each weekly slot is offered as a recurring slot to children who
    need a regular time (new patients after their evaluation, children below frequency)."""
    from pedsdesk.scheduling.actions import cancel_appointment
    from pedsdesk.scheduling.models import Series
    from pedsdesk.scheduling.timeslots import local_to_utc

    now = now or timezone.now()
    zone = plan.patient.practice.zone
    openings = []
    with transaction.atomic():
        for series in Series.objects.filter(plan_of_care=plan, active=True).select_for_update():
            later = Appointment.objects.filter(series=series, start_at__gte=local_to_utc(
                last_day + dt.timedelta(days=1), dt.time.min, zone),
                status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED]).order_by("start_at")
            first_free = None
            for visit in later:
                first_free = first_free or visit
                cancel_appointment(actor=actor, appointment=visit, by="clinic", reason="Discharged", now=now)
            series.end_date, series.active = min(series.end_date, last_day), False
            series.save(update_fields=["end_date", "active"])
            day = last_day + dt.timedelta(days=(series.weekday - last_day.weekday()) % 7 or 7)
            start_at = first_free.start_at if first_free else local_to_utc(day, series.start_time, zone)
            openings.append(Opening.objects.create(
                practice=plan.patient.practice, therapist=plan.therapist, start_at=start_at,
                end_at=start_at + dt.timedelta(minutes=series.minutes), source=Opening.Source.DISCHARGE,
                recurring=True))
        if plan.end_date > last_day:
            plan.end_date = last_day
            plan.save(update_fields=["end_date"])
        record_event(actor=actor, action="discharge", obj=plan, practice_id=plan.patient.practice_id,
                     detail={"last_day": last_day.isoformat(), "recurring_openings": len(openings)})
        # The single visits those cancellations freed are the recurring slots now.
        Opening.objects.filter(freed_by__series__plan_of_care=plan, source=Opening.Source.CANCELLATION,
                               status__in=[Opening.Status.OPEN, Opening.Status.OFFERING]).update(
            status=Opening.Status.WITHDRAWN)
        for opening in openings:
            transaction.on_commit(lambda opening=opening: send_next_offers(opening=opening))
    return openings

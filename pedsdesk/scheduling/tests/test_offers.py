"""A cancellation becomes an opening, offered to the right families; the first valid
acceptance books, everyone else hears the time was taken."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import (
    make_authorization,
    make_coverage,
    make_guardian,
    make_patient,
    make_payer,
    next_weekday,
    without_links,
)
from pedsdesk.authorizations.models import Authorization
from pedsdesk.messaging.inbound import handle_inbound
from pedsdesk.messaging.models import Message, ReplyWait
from pedsdesk.people.models import Patient, PlanOfCare, PlanOfCareService
from pedsdesk.portal.models import FamilyLink
from pedsdesk.portal.tokens import make_token
from pedsdesk.scheduling.actions import book_appointment, cancel_appointment
from pedsdesk.scheduling.models import (
    Appointment,
    AppointmentKind,
    GapListEntry,
    Offer,
    OfferPolicy,
    Opening,
    SchedulingPolicy,
    WaitlistEntry,
)
from pedsdesk.scheduling.offers import accept_offer, expire_offers, send_next_offers
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def cancel(django_capture_on_commit_callbacks):
    """Cancel as staff do; refilling starts when the cancellation commits, so run those callbacks."""

    def cancel(actor, appointment, by, reason):
        with django_capture_on_commit_callbacks(execute=True):
            return cancel_appointment(actor=actor, appointment=appointment, by=by, reason=reason)

    return cancel


def at(practice, day, hour, minute=0):
    return local_to_utc(day, dt.time(hour, minute), practice.zone)


def ot_child(practice, therapist, first, phone, **plan):
    """A school-age child with an OT plan of care, Medicaid and 48 authorized visits."""
    child = make_patient(practice, first, "Family", school=practice.schools.first(), grade="3")
    make_guardian(child, first=f"{first}-mom", phone=phone)
    coverage = make_coverage(child, make_payer(practice, name=f"Payer {first}"))
    make_authorization(coverage)
    plan_of_care = PlanOfCare.objects.create(
        patient=child, discipline="OT", therapist=therapist, frequency_per_week=plan.get("frequency", 1),
        minutes=45, start_date=dt.date(2026, 9, 1), end_date=dt.date(2027, 2, 28), goals="Ties shoes")
    PlanOfCareService.objects.create(plan_of_care=plan_of_care, cpt_code="97530", units=3)
    return child


@pytest.fixture
def week(practice, patient, working_week, front_desk):
    """Ava booked Tuesday 16:00; Ben (1x/week, not booked yet) and Cleo (booked Thursday)."""
    tuesday = next_weekday(1)
    ava_visit = book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                                 start_at=at(practice, tuesday, 16), minutes=45,
                                 plan_of_care=patient.plans_of_care.get())
    ben = ot_child(practice, working_week, "Ben", "+15125550111")
    cleo = ot_child(practice, working_week, "Cleo", "+15125550122")
    book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=cleo,
                     start_at=at(practice, next_weekday(3), 16), minutes=45,
                     plan_of_care=cleo.plans_of_care.get())
    return {"tuesday": tuesday, "ava_visit": ava_visit, "ben": ben, "cleo": cleo}


def test_a_cancellation_offers_the_time_to_a_child_below_frequency(week, front_desk, practice, cancel):
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    opening = Opening.objects.get(source="cancellation")
    assert opening.status == Opening.Status.OFFERING and opening.freed_by == week["ava_visit"]
    offer = Offer.objects.get(opening__source="cancellation")
    assert offer.patient == week["ben"] and offer.candidate_kind == "below_frequency"
    message = Message.objects.get(kind="opening_offer", guardian__children__patient=week["ben"])
    assert message.guardian == offer.guardian and "Ben" in message.body and "/offers/" in message.body
    for clinical in ("97530", "OT", "Occupational", "Ties shoes"):
        assert clinical not in without_links(message.body)
    considered = {c["name"]: c["skipped"] for c in opening.considered}
    assert considered["Ben F."] == ""
    assert "Cleo F." not in considered  # already at her one visit this week


def test_an_authorization_blocked_family_is_skipped_with_its_reason(week, front_desk, practice, cancel):
    ben_authorization = week["ben"].coverages.get().authorizations.get()
    ben_authorization.end_date = week["tuesday"] - dt.timedelta(days=1)
    ben_authorization.save()
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    opening = Opening.objects.get(source="cancellation")
    reasons = {c["name"]: c["skipped"] for c in opening.considered}
    assert "is after the authorization ends" in reasons["Ben F."]
    assert not Offer.objects.filter(patient=week["ben"]).exists()


def test_a_child_owed_a_makeup_comes_first(week, front_desk, practice, working_week, cancel):
    cleo_visit = Appointment.objects.get(patient=week["cleo"])
    cancel(front_desk, cleo_visit, by="family", reason="Dentist")
    Offer.objects.all().delete()
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    first = Offer.objects.filter(opening__freed_by=week["ava_visit"]).order_by("rank").first()
    assert first.patient == week["cleo"] and first.candidate_kind == "makeup"
    assert accept_offer(offer=first, actor="test") == "booked"
    makeup = Appointment.objects.get(patient=week["cleo"], kind=AppointmentKind.MAKEUP)
    assert makeup.makeup_for == cleo_visit


def test_the_family_link_shows_and_takes_the_offer(week, front_desk, client, cancel):
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    offer = Offer.objects.get(opening__source="cancellation")
    token = make_token(FamilyLink.objects.get(guardian=offer.guardian, purpose="offer"))
    page = client.get(reverse("family_offer", args=[token, offer.pk]))
    assert b"A visit time for Ben" in page.content and b"Yes, book it" in page.content
    booked = client.post(reverse("family_offer_choice", args=[token, offer.pk, "accept"]))
    assert b"Booked! See you then." in booked.content
    again = client.post(reverse("family_offer_choice", args=[token, offer.pk, "accept"]))
    assert b"This time is booked for you." in again.content or b"Booked!" in again.content
    assert Appointment.objects.filter(patient=week["ben"]).count() == 1
    other_offer_page = client.get(reverse("family_offer", args=[token, offer.pk + 999]))
    assert other_offer_page.status_code == 404


def test_a_yes_by_text_books(week, front_desk, practice, cancel):
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    offer = Offer.objects.get(opening__source="cancellation")
    handle_inbound(provider_id="SM-offer-1", from_number=offer.guardian.phone, to_number="+15125550100",
                   body="Yes!")
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED
    assert Message.objects.filter(kind="offer_booked", guardian=offer.guardian).exists()


def test_waitlist_and_gap_list_fill_in_after_current_patients(week, front_desk, practice, working_week, cancel):
    newcomer = make_patient(practice, "Eli", "New", school=practice.schools.first(), grade="1")
    make_guardian(newcomer, first="Eli-dad", phone="+15125550144")
    WaitlistEntry.objects.create(practice=practice, patient=newcomer, discipline="OT",
                                 referral_date=dt.date(2026, 10, 1), intake_complete=True)
    gap = ot_child(practice, working_week, "Gia", "+15125550155")
    GapListEntry.objects.create(practice=practice, patient=gap, plan_of_care=gap.plans_of_care.get(), reason="extra",
                                windows=[{"weekday": 1, "start": "15:30", "end": "18:30"}])
    policy = SchedulingPolicy.for_practice(practice)
    policy.offer_policy = OfferPolicy.BROADCAST
    policy.save()
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    ranked = [(o.patient.first_name, o.candidate_kind)
              for o in Offer.objects.filter(opening__source="cancellation").order_by("rank")]
    assert ranked[0] == ("Ben", "below_frequency") and ranked[-1] == ("Eli", "waitlist")
    eli = Offer.objects.get(patient=newcomer)
    assert accept_offer(offer=eli, actor="test") == "booked"
    assert WaitlistEntry.objects.get().status == WaitlistEntry.Status.EVALUATION_BOOKED
    assert Appointment.objects.get(patient=newcomer).kind == AppointmentKind.EVALUATION
    others = Offer.objects.filter(opening__source="cancellation").exclude(pk=eli.pk)
    assert all(o.status == Offer.Status.WITHDRAWN for o in others)
    assert accept_offer(offer=others.first(), actor="too late") == "taken"


@pytest.mark.django_db(transaction=True)
def test_two_families_accepting_at_once_book_once(practice, staff, patient, working_week):
    front_desk = staff["front_desk"]
    policy = SchedulingPolicy.for_practice(practice)
    policy.offer_policy = OfferPolicy.BROADCAST
    policy.save()
    visit = book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                             start_at=at(practice, next_weekday(1), 16), minutes=45,
                             plan_of_care=patient.plans_of_care.get())
    ot_child(practice, working_week, "Ben", "+15125550111")
    ot_child(practice, working_week, "Dana", "+15125550133")
    cancel_appointment(actor=front_desk, appointment=visit, by="family", reason="Sick")
    offers = list(Offer.objects.filter(opening__source="cancellation"))
    assert len(offers) == 2
    barrier = threading.Barrier(2)
    outcomes = []

    def take(offer):
        try:
            barrier.wait(timeout=10)
            outcomes.append(accept_offer(offer=offer, actor="family"))
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(o,)) for o in offers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["booked", "taken"]
    opening = Opening.objects.get(source="cancellation")
    assert opening.status == Opening.Status.FILLED
    assert Appointment.objects.filter(start_at=opening.start_at, status="booked").count() == 1


def test_an_offer_by_email_is_a_letter_that_asks_for_the_page_not_for_a_reply(week, front_desk, cancel):
    # Nobody reads replies to emails, so "Reply YES" would leave the family waiting.
    guardian = week["ben"].guardians.get()
    guardian.preferred_channel, guardian.language = "email", "es"
    guardian.save()
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    message = Message.objects.get(kind="opening_offer", guardian=guardian)
    assert message.channel == "email"
    assert message.body.startswith(f"Hola {guardian.first_name}:")
    assert "Responda" not in message.body and "/offers/" in message.body
    assert "Es para la primera familia que lo tome" in message.body
    assert message.body.rstrip().splitlines()[-1].startswith(week["ava_visit"].practice.name)


def test_a_spanish_family_gets_the_offer_in_spanish(week, front_desk, cancel, client):
    guardian = week["ben"].guardians.get()
    guardian.language = "es"
    guardian.save()
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    message = Message.objects.get(kind="opening_offer", guardian__children__patient=week["ben"])
    assert "se abrió una cita para Ben" in message.body
    offer = Offer.objects.get(opening__source="cancellation")
    token = make_token(FamilyLink.objects.get(guardian=guardian, purpose="offer"))
    page = client.get(reverse("family_offer", args=[token, offer.pk]))
    assert "Sí, reservarla".encode() in page.content and b'lang="es"' in page.content


def test_the_child_who_cancelled_is_offered_a_makeup_in_the_same_week(week, front_desk, practice, cancel):
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    makeup = Offer.objects.get(opening__source="makeup_search")
    assert makeup.patient == week["ava_visit"].patient and makeup.candidate_kind == "makeup"
    monday = week["tuesday"] - dt.timedelta(days=1)
    local = makeup.opening.start_at.astimezone(practice.zone)
    assert monday <= local.date() <= monday + dt.timedelta(days=5)
    assert local.time() >= dt.time(15, 25)  # after school plus travel
    assert accept_offer(offer=makeup, actor="family") == "booked"
    booked = Appointment.objects.get(patient=week["ava_visit"].patient, kind=AppointmentKind.MAKEUP)
    assert booked.makeup_for == week["ava_visit"]


def test_a_late_makeup_search_never_offers_the_cancelled_time_or_time_already_on_offer(week, front_desk, practice,
                                                                                        cancel):
    from pedsdesk.scheduling.offers import find_makeup_slot

    visit = week["ava_visit"]
    cancel(front_desk, visit, by="family", reason="Sick")
    freed = Opening.objects.get(source="cancellation")
    assert freed.status == Opening.Status.OFFERING
    # Searched as a cancellation an hour ahead is: the freed time is the first free time.
    slot = find_makeup_slot(plan=visit.plan_of_care, week_of=week["tuesday"], earliest=visit.start_at,
                            exclude=visit)
    assert slot is not None
    therapist, start = slot
    end = start + dt.timedelta(minutes=visit.plan_of_care.minutes)
    assert not (start < visit.end_at and visit.start_at < end)
    live = Opening.objects.filter(therapist=therapist, status__in=("open", "offering"))
    assert not any(o.start_at < end and start < o.end_at for o in live)


def test_a_discharge_offers_the_weekly_slot_to_a_child_who_needs_a_regular_time(
        practice, front_desk, patient, working_week, django_capture_on_commit_callbacks):
    from pedsdesk.scheduling.offers import discharge
    from pedsdesk.scheduling.series import create_series, extend_series

    plan = patient.plans_of_care.get()
    series = create_series(actor=front_desk, plan_of_care=plan, weekday=1, start_time=dt.time(16),
                           start_date=next_weekday(0))
    extend_series(series=series, through=next_weekday(1, weeks_ahead=4))
    newcomer = ot_child(practice, working_week, "Nia", "+15125550166")  # evaluated: has a plan, no weekly time
    WaitlistEntry.objects.create(practice=practice, patient=newcomer, discipline="OT",
                                 referral_date=dt.date(2026, 9, 1), status=WaitlistEntry.Status.EVALUATION_BOOKED)
    last_day = next_weekday(2)  # Wednesday of week 1: the Tuesday visit that week stays
    with django_capture_on_commit_callbacks(execute=True):
        openings = discharge(actor=front_desk, plan=plan, last_day=last_day)
    assert len(openings) == 1 and openings[0].recurring
    assert Appointment.objects.filter(series=series, status="booked").count() == 1
    offer = Offer.objects.get(opening=openings[0])
    assert offer.patient == newcomer and offer.candidate_kind == "waitlist"
    assert accept_offer(offer=offer, actor="family") == "booked"
    weekly = Appointment.objects.filter(patient=newcomer, series__isnull=False)
    assert weekly.count() >= 2 and {a.local_start.time() for a in weekly} == {dt.time(16)}
    assert WaitlistEntry.objects.get(patient=newcomer).status == WaitlistEntry.Status.SCHEDULED


def test_live_offers_follow_the_optimizers_plan(week, front_desk, practice, working_week, cancel):
    """Two children below frequency: the baseline would ask Ben first (same kind, same wait,
    first on file); the optimizer asks the family that has taken every offer so far."""
    reliable = ot_child(practice, working_week, "Zoe", "+15125550177")
    for weeks_ago in range(1, 5):
        start = at(practice, dt.date(2026, 10, 6) - dt.timedelta(weeks=weeks_ago), 16)
        past = Opening.objects.create(practice=practice, therapist=working_week, start_at=start,
                                      end_at=start + dt.timedelta(minutes=45), status=Opening.Status.FILLED)
        Offer.objects.create(opening=past, patient=reliable, guardian=reliable.guardians.get(), rank=1,
                             candidate_kind="below_frequency", status=Offer.Status.ACCEPTED)
    assert SchedulingPolicy.for_practice(practice).offer_policy == OfferPolicy.OPTIMIZED
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    ranked = list(Offer.objects.filter(opening__source="cancellation").order_by("rank"))
    assert ranked[0].patient == reliable


def test_an_opening_nobody_can_be_asked_for_is_looked_at_again_later_not_every_minute(
        week, front_desk, practice, working_week, cancel, monkeypatch):
    from pedsdesk.scheduling import offers

    policy = SchedulingPolicy.for_practice(practice)
    policy.offer_policy = OfferPolicy.SEQUENTIAL
    policy.save()
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    first = Offer.objects.get(opening__source="cancellation")
    opening = first.opening
    # The only fitting family lets the offer run out; nobody else fits.
    Offer.objects.exclude(pk=first.pk).delete()
    looks = []
    real = offers.find_candidates
    monkeypatch.setattr(offers, "find_candidates", lambda o, *a, **k: looks.append(o.pk) or [
        c for c in real(o, *a, **k) if c.patient.pk == first.patient_id])
    expired_at = first.expires_at + dt.timedelta(seconds=1)
    assert expire_offers(now=expired_at) == 1
    opening.refresh_from_db()
    assert looks.count(opening.pk) == 1 and opening.status == Opening.Status.OPEN
    assert opening.recheck_at == expired_at + offers.RECHECK_AFTER
    for minute in range(1, 15):
        expire_offers(now=expired_at + dt.timedelta(minutes=minute))
    assert looks.count(opening.pk) == 1, "the minute sweep left the opening alone until its recheck time"
    expire_offers(now=expired_at + offers.RECHECK_AFTER)
    assert looks.count(opening.pk) == 2


def test_sending_an_openings_offers_costs_the_same_queries_for_few_families_and_many(
        week, front_desk, practice, working_week):
    """Families are read and checked a page at a time, not one by one: the opening's queries do
    not grow with the children who no longer fit or the waitlist."""
    cancel_appointment(actor=front_desk, appointment=week["ava_visit"], by="family", reason="Sick")
    tuesday, ava_visit = week["tuesday"], week["ava_visit"]
    added = []

    def more_families(count):
        for _ in range(count):
            i = len(added)
            child = ot_child(practice, working_week, f"Unfit{i}", f"+1512556{i:04d}")
            Patient.objects.filter(pk=child.pk).update(last_name="Aaron")  # ranked ahead of Ben
            Authorization.objects.filter(coverage__patient=child).update(end_date=tuesday - dt.timedelta(days=1))
            newcomer = make_patient(practice, f"Wait{i}", "New")
            make_guardian(newcomer, first=f"Wait{i}-dad", phone=f"+1512557{i:04d}")
            WaitlistEntry.objects.create(practice=practice, patient=newcomer, discipline="OT",
                                         referral_date=dt.date(2026, 10, 1), intake_complete=False)
            added.append(child)

    def send_offers():
        opening = Opening.objects.create(practice=practice, therapist=working_week, start_at=ava_visit.start_at,
                                         end_at=ava_visit.end_at, source=Opening.Source.CANCELLATION,
                                         freed_by=ava_visit)
        with CaptureQueriesContext(connection) as queries:
            sent = send_next_offers(opening=opening)
        opening.refresh_from_db()
        return sent, len(queries), opening

    more_families(2)
    send_offers()  # the first look reads the per-process memos (policies)
    sent_to_few, few, _ = send_offers()
    more_families(6)
    sent_to_many, many, opening = send_offers()
    reasons = [c["skipped"] for c in opening.considered]
    assert sum("is after the authorization ends" in r for r in reasons) == 8
    assert sum(r == "Intake paperwork is not complete." for r in reasons) == 8
    assert sent_to_few == sent_to_many == 1 and opening.offers.get().patient == week["ben"]
    assert many == few, f"{few} queries with 2 unfit families and 2 on the waitlist, {many} with 8 and 8"


def test_offers_run_out_together_in_the_same_queries_for_two_or_six(week, front_desk, practice, working_week):
    """The minute sweep closes every offer that ran out in a few queries, then looks once at each
    opening left with nobody asked; an opening nobody else fits stays open."""
    policy = SchedulingPolicy.for_practice(practice)
    policy.offer_policy = OfferPolicy.BROADCAST
    policy.save()
    cancel_appointment(actor=front_desk, appointment=week["ava_visit"], by="family", reason="Sick")

    def offers_out(weekday):
        day = next_weekday(weekday)
        opening = Opening.objects.create(practice=practice, therapist=working_week, start_at=at(practice, day, 16),
                                         end_at=at(practice, day, 16, 45), source=Opening.Source.MANUAL)
        send_next_offers(opening=opening)
        return opening

    def run_out(opening):
        ends = max(opening.offers.values_list("expires_at", flat=True)) + dt.timedelta(seconds=1)
        with CaptureQueriesContext(connection) as queries:
            expired = expire_offers(now=ends)
        return expired, len(queries)

    few = offers_out(0)
    two, for_two = run_out(few)
    for i in range(4):
        ot_child(practice, working_week, f"More{i}", f"+1512558{i:04d}")
    many = offers_out(2)
    six, for_six = run_out(many)
    assert (two, six) == (2, 6)
    assert for_six == for_two, f"{for_two} queries to close 2 offers, {for_six} to close 6"
    for opening in (few, many):
        opening.refresh_from_db()
        assert opening.status == Opening.Status.OPEN and opening.recheck_at is not None
        assert set(opening.offers.values_list("status", flat=True)) == {Offer.Status.EXPIRED}
    offer_messages = Message.objects.filter(kind="opening_offer")
    assert offer_messages.count() == 8 and set(offer_messages.values_list("state", flat=True)) == {"cancelled"}
    assert not ReplyWait.objects.filter(handler="opening_offer", resolved_at__isnull=True).exists()


def test_when_an_offer_runs_out_the_next_family_is_asked_and_a_late_yes_is_too_late(
        week, front_desk, practice, working_week, cancel):
    policy = SchedulingPolicy.for_practice(practice)
    policy.offer_policy = OfferPolicy.SEQUENTIAL
    policy.save()
    dana = ot_child(practice, working_week, "Dana", "+15125550133")
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    first = Offer.objects.get(opening__source="cancellation")
    assert expire_offers(now=first.expires_at + dt.timedelta(seconds=1)) == 1
    first.refresh_from_db()
    assert first.status == Offer.Status.EXPIRED
    second = Offer.objects.exclude(pk=first.pk).get(opening__source="cancellation")
    assert second.status == Offer.Status.SENT and {first.patient, second.patient} == {week["ben"], dana}
    assert Message.objects.filter(kind="opening_offer", about_id=second.pk, guardian=second.guardian).exists()
    assert ReplyWait.objects.get(about_id=first.pk, handler="opening_offer").resolved_at is not None
    assert accept_offer(offer=first, actor="late family") == "expired"
    assert expire_offers(now=second.expires_at + dt.timedelta(seconds=1)) == 1
    opening = first.opening
    opening.refresh_from_db()
    assert opening.status == Opening.Status.OPEN, "nobody left to ask: the time stays open for the front desk"


def test_children_below_frequency_read_a_slice_at_a_time_keep_their_rank(
        week, front_desk, practice, working_week, cancel, monkeypatch):
    from pedsdesk.scheduling import candidates

    monkeypatch.setattr(candidates, "BELOW_FREQUENCY_SLICE", 2)
    policy = SchedulingPolicy.for_practice(practice)
    policy.offer_policy = OfferPolicy.BROADCAST
    policy.save()
    for i, last in enumerate(["Young", "Adams", "Moreno", "Baker", "adams"]):
        child = ot_child(practice, working_week, f"Kid{i}", f"+1512559{i:04d}")
        Patient.objects.filter(pk=child.pk).update(last_name=last)
    cancel(front_desk, week["ava_visit"], by="family", reason="Sick")
    asked = [o.patient.last_name for o in Offer.objects.filter(opening__source="cancellation").order_by("rank")]
    # Python's order of names (capitals first), then Ben and Cleo's "Family" where it falls.
    assert asked == ["Adams", "Baker", "Family", "Moreno", "Young", "adams"]

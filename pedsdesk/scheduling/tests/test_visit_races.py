"""Two changes of one visit at the same instant (issue 13, item 2): every state change locks the
visit row and reads its state again under the lock, so the later one sees what the first did.
Threads on real connections, as a busy front desk and a family's link would; run on SQLite and
(with DATABASE_URL) PostgreSQL."""

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from conftest import make_guardian, make_patient, next_weekday
from pedsdesk.scheduling.actions import (
    BookingRefused,
    book_appointment,
    cancel_appointment,
    move_appointment,
    set_status,
)
from pedsdesk.scheduling.models import Appointment, AppointmentStatus, GapListEntry, Offer, Opening
from pedsdesk.scheduling.offers import accept_offer
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 6
CANCELLED = {AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL}


def race(*actions: Callable[[], object]) -> list[str]:
    """Run the actions at once; each result is "ok" or the refusal's class name."""
    barrier = threading.Barrier(len(actions))
    results: list[str] = [""] * len(actions)

    def run(i: int, action: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            action()
            results[i] = "ok"
        except (BookingRefused, ValueError) as exc:
            results[i] = type(exc).__name__
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(results), f"an action did not finish: {results}"
    return results


def at(practice, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return local_to_utc(day, dt.time(hour, minute), practice.zone)


def _visit(front_desk, patient, therapist, day: dt.date, hour: int) -> Appointment:
    return book_appointment(actor=front_desk, practice=patient.practice, therapist=therapist, patient=patient,
                            start_at=at(patient.practice, day, hour), minutes=45,
                            plan_of_care=patient.plans_of_care.first(), override_reason="race test")


def two_loads(visit: Appointment) -> tuple[Appointment, Appointment]:
    """The visit as two requests each load it."""
    return Appointment.objects.get(pk=visit.pk), Appointment.objects.get(pk=visit.pk)


def assert_consistent(visit: Appointment) -> None:
    visit.refresh_from_db()
    if visit.status in CANCELLED:
        assert visit.cancelled_at is not None
    else:
        assert visit.cancelled_at is None, f"{visit.status} visit with cancelled_at set"


def test_cancel_and_move_at_once_never_leave_a_cancelled_visit_booked(practice, staff, patient, working_week):
    front_desk, manager = staff["front_desk"], staff["office_manager"]
    for i in range(ROUNDS):
        day = next_weekday(i % 5, weeks_ahead=2 + i // 5)
        visit = _visit(front_desk, patient, working_week, day, 10)
        first, second = two_loads(visit)
        results = race(
            lambda v=first: cancel_appointment(actor=front_desk, appointment=v, by="family", reason="Sick"),
            lambda v=second, d=day: move_appointment(actor=manager, appointment=v, start_at=at(practice, d, 14),
                                                    override_reason="race test"),
        )
        assert results[0] == "ok"  # a move never stops a cancellation: it happens before or after it
        visit.refresh_from_db()
        assert visit.status in CANCELLED, f"round {i}: {results} left the visit {visit.status}"
        assert_consistent(visit)
        if results[1] == "ok":  # moved first, then cancelled at its new time
            assert visit.local_start.hour == 14


def test_cancel_and_check_in_at_once_one_wins(practice, staff, patient, working_week):
    front_desk, therapist = staff["front_desk"], working_week
    for i in range(ROUNDS):
        visit = _visit(front_desk, patient, working_week, next_weekday(i % 5, weeks_ahead=2 + i // 5), 11)
        first, second = two_loads(visit)
        results = race(
            lambda v=first: cancel_appointment(actor=front_desk, appointment=v, by="clinic", reason="Therapist ill"),
            lambda v=second: set_status(actor=therapist, appointment=v, status=AppointmentStatus.CHECKED_IN),
        )
        assert sorted(results) == ["ValueError", "ok"], results
        visit.refresh_from_db()
        assert visit.status == (AppointmentStatus.CANCELLED if results[0] == "ok" else AppointmentStatus.CHECKED_IN)
        assert_consistent(visit)


def test_two_moves_at_once_both_count_and_never_double_book(practice, staff, patient, working_week):
    front_desk, manager = staff["front_desk"], staff["office_manager"]
    for i in range(ROUNDS):
        day = next_weekday(i % 5, weeks_ahead=2 + i // 5)
        visit = _visit(front_desk, patient, working_week, day, 9)
        sequence = visit.sequence
        first, second = two_loads(visit)
        results = race(
            lambda v=first, d=day: move_appointment(actor=front_desk, appointment=v, start_at=at(practice, d, 13),
                                                    override_reason="race test"),
            lambda v=second, d=day: move_appointment(actor=manager, appointment=v, start_at=at(practice, d, 15),
                                                    override_reason="race test"),
        )
        visit.refresh_from_db()
        assert visit.local_start.hour in (13, 15) and visit.status == AppointmentStatus.BOOKED
        # No lost update: each move that succeeded raised the calendar sequence once.
        assert visit.sequence == sequence + results.count("ok"), results
        assert Appointment.objects.filter(patient=patient, start_at__date=visit.start_at.date(),
                                          status=AppointmentStatus.BOOKED).count() == 1


def test_accepting_an_offer_while_the_visit_it_moves_is_cancelled(practice, staff, patient, working_week):
    """A gap-list family accepts an earlier time, which moves their later visit into the opening,
    while the front desk cancels that same later visit."""
    front_desk = staff["front_desk"]
    for i in range(ROUNDS):
        day = next_weekday(1, weeks_ahead=2 + i)
        gia = make_patient(practice, f"Gia{i}", "Family", school=patient.school, grade="3")
        make_guardian(gia, first=f"Gia{i}-mom", phone=f"+1512555{170 + i:04d}")
        plan = patient.plans_of_care.first()
        plan_copy = type(plan).objects.create(patient=gia, discipline=plan.discipline, therapist=plan.therapist,
                                              frequency_per_week=1, minutes=45, start_date=plan.start_date,
                                              end_date=plan.end_date, goals="Ties shoes")
        plan_copy.services.create(cpt_code="97530", units=3)
        GapListEntry.objects.create(practice=practice, patient=gia, plan_of_care=plan_copy, reason="earlier",
                                    windows=[{"weekday": 1, "start": "08:00", "end": "18:00"}])
        later = book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=gia,
                                 start_at=at(practice, day + dt.timedelta(days=2), 16), minutes=45,
                                 plan_of_care=plan_copy, override_reason="race test")
        opening = Opening.objects.create(practice=practice, therapist=working_week, start_at=at(practice, day, 10),
                                         end_at=at(practice, day, 10, 45), source=Opening.Source.MANUAL,
                                         status=Opening.Status.OFFERING)
        offer = Offer.objects.create(opening=opening, patient=gia, guardian=gia.guardians.get(),
                                     candidate_kind="gap_list", plan_of_care=plan_copy, rank=1, batch=1,
                                     status=Offer.Status.SENT, sent_at=opening.created_at,
                                     expires_at=opening.start_at - dt.timedelta(hours=2))
        outcome = {}
        results = race(
            lambda o=offer, out=outcome: out.setdefault("accept", accept_offer(offer=o, actor="family")),
            lambda v=later: cancel_appointment(actor=front_desk, appointment=v, by="family", reason="Busy"),
        )
        later.refresh_from_db()
        opening.refresh_from_db()
        offer.refresh_from_db()
        assert_consistent(later)
        if outcome["accept"] == "booked":
            booked = opening.filled_by
            assert booked is not None and opening.status == Opening.Status.FILLED
            booked.refresh_from_db()
            # The opening is filled by a live visit, never by the cancelled one.
            assert booked.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED) or (
                booked.pk == later.pk and results[1] == "ok" and later.status in CANCELLED)
            if booked.pk == later.pk and later.status in CANCELLED:
                # Moved first, cancelled after: the family's cancel came last and holds.
                assert later.local_start.date() == day
        else:
            assert later.status in CANCELLED and opening.status != Opening.Status.FILLED


def test_a_family_accepting_while_the_minute_sweep_expires_their_offer(practice, staff, patient, working_week):
    """The family taps yes just before the offer's time is up while the sweep, a moment later,
    closes it: one of the two wins, and the other sees it under the lock."""
    from pedsdesk.scheduling.offers import expire_offers

    for i in range(ROUNDS):
        day = next_weekday(i % 5, weeks_ahead=2 + i // 5)
        opening = Opening.objects.create(practice=practice, therapist=working_week, start_at=at(practice, day, 16),
                                         end_at=at(practice, day, 16, 45), source=Opening.Source.MANUAL,
                                         status=Opening.Status.OFFERING)
        expires = opening.start_at - dt.timedelta(hours=4)
        offer = Offer.objects.create(opening=opening, patient=patient, guardian=patient.guardians.get(),
                                     candidate_kind="below_frequency", plan_of_care=patient.plans_of_care.first(),
                                     rank=1, batch=1, status=Offer.Status.SENT, sent_at=opening.created_at,
                                     expires_at=expires)
        outcome = {}
        race(
            lambda o=offer, out=outcome, t=expires: out.setdefault(
                "accept", accept_offer(offer=o, actor="family", now=t - dt.timedelta(seconds=30))),
            lambda out=outcome, t=expires: out.setdefault("expired", expire_offers(now=t + dt.timedelta(seconds=1))),
        )
        offer.refresh_from_db()
        opening.refresh_from_db()
        booked = Appointment.objects.filter(patient=patient, start_at=opening.start_at,
                                            status=AppointmentStatus.BOOKED)
        if outcome["accept"] == "booked":
            assert outcome["expired"] == 0 and offer.status == Offer.Status.ACCEPTED
            assert opening.status == Opening.Status.FILLED and booked.count() == 1
        else:
            assert outcome == {"accept": "expired", "expired": 1}, f"round {i}: {outcome}"
            assert offer.status == Offer.Status.EXPIRED and not booked.exists()
            assert opening.status != Opening.Status.FILLED


def test_the_daily_sweep_booking_a_series_while_the_front_desk_books_that_child_then(
        practice, staff, patient, working_week):
    """The sweep books a few dozen children's series under their locks while the front desk
    books one of those children, by hand, at the series' own time: one visit, never two;
    the sweep's loss is a skip the front desk sees, theirs a refusal saying why."""
    from pedsdesk.scheduling.models import SeriesSkip
    from pedsdesk.scheduling.series import create_series
    from pedsdesk.scheduling.tasks import series_extend

    front_desk = staff["front_desk"]
    plan = patient.plans_of_care.first()
    for i in range(ROUNDS):
        day = next_weekday(i % 5, weeks_ahead=2 + i // 5)
        series = create_series(actor=front_desk, plan_of_care=plan, weekday=day.weekday(), start_time=dt.time(16),
                               start_date=day)
        start_at = at(practice, day, 16)
        results = race(
            lambda: series_extend(practice=practice),
            lambda s=start_at: book_appointment(actor=front_desk, practice=practice, therapist=working_week,
                                                patient=patient, start_at=s, minutes=45, plan_of_care=plan,
                                                override_reason="race test"),
        )
        holding = Appointment.objects.filter(patient=patient, start_at=start_at,
                                             status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED])
        assert holding.count() == 1, f"round {i}: {results}"
        by_series = holding.get().series_id == series.pk
        assert results[0] == "ok"  # the sweep itself never fails over it
        assert (results[1] == "BookingRefused") == by_series, f"round {i}: {results}"
        assert SeriesSkip.objects.filter(series=series, date=day).exists() == (not by_series)
        series.active = False  # the next round's series only
        series.save(update_fields=["active"])

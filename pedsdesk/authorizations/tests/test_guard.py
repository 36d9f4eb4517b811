"""The booking guard and projections from the real schedule, as the front desk meets them."""

import datetime as dt

import pytest

from conftest import make_authorization, next_weekday
from pedsdesk.authorizations.models import Authorization, BookingRule
from pedsdesk.authorizations.queries import project_authorizations, visit_units
from pedsdesk.scheduling.actions import BookingRefused, book_appointment, cancel_appointment
from pedsdesk.scheduling.models import Closure
from pedsdesk.scheduling.series import create_series, extend_series
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.workqueue.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def short_authorization(patient):
    """Shrink Ava's authorization to 2 visits ending in three weeks."""
    authorization = Authorization.objects.get(coverage__patient=patient)
    authorization.end_date = next_weekday(4, weeks_ahead=3)
    authorization.save()
    authorization.lines.update(quantity=2)
    return authorization


def book(front_desk, patient, therapist, day, hour=16, **kwargs):
    return book_appointment(actor=front_desk, practice=patient.practice, therapist=therapist, patient=patient,
                            start_at=local_to_utc(day, dt.time(hour), patient.practice.zone), minutes=45,
                            plan_of_care=patient.plans_of_care.first(), **kwargs)


def codes(exc):
    return [p.code for p in exc.check.blocks + exc.check.warnings]


def test_visit_beyond_the_units_is_blocked_when_the_payer_blocks(front_desk, patient, working_week,
                                                                 short_authorization):
    payer = short_authorization.coverage.payer
    payer.booking_rule = BookingRule.BLOCK
    payer.save()
    book(front_desk, patient, working_week, next_weekday(1))
    book(front_desk, patient, working_week, next_weekday(1, weeks_ahead=2))
    with pytest.raises(BookingRefused) as refused:
        book(front_desk, patient, working_week, next_weekday(2), override_reason="family insists")
    assert codes(refused.value) == ["authorization_beyond_units"]
    assert "would use more units than are left (Lone Star Medicaid)" in str(refused.value)


def test_visit_beyond_the_units_warns_when_the_payer_warns(front_desk, patient, working_week, short_authorization):
    book(front_desk, patient, working_week, next_weekday(1))
    book(front_desk, patient, working_week, next_weekday(1, weeks_ahead=2))
    with pytest.raises(BookingRefused) as warned:
        book(front_desk, patient, working_week, next_weekday(2))
    assert not warned.value.check.blocks and codes(warned.value) == ["authorization_beyond_units"]
    assert book(front_desk, patient, working_week, next_weekday(2), override_reason="renewal submitted")


def test_cancelling_a_visit_gives_its_unit_back(front_desk, patient, working_week, short_authorization):
    first = book(front_desk, patient, working_week, next_weekday(1))
    book(front_desk, patient, working_week, next_weekday(1, weeks_ahead=2))
    cancel_appointment(actor=front_desk, appointment=first, by="family", reason="sick")
    assert book(front_desk, patient, working_week, next_weekday(2))


def test_after_the_end_the_guard_names_the_end(front_desk, patient, working_week, short_authorization):
    with pytest.raises(BookingRefused) as refused:
        book(front_desk, patient, working_week, next_weekday(1, weeks_ahead=5))
    assert codes(refused.value) == ["authorization_after_end"]


def test_a_payer_that_allows_lets_anything_through(front_desk, patient, working_week, short_authorization):
    payer = short_authorization.coverage.payer
    payer.booking_rule = BookingRule.ALLOW
    payer.save()
    assert book(front_desk, patient, working_week, next_weekday(1, weeks_ahead=5))


def test_benefit_limit_is_checked_with_everything_already_booked(front_desk, patient, working_week):
    bucket = patient.coverages.get().benefit_buckets.get()
    bucket.limit = 1
    bucket.save()
    book(front_desk, patient, working_week, next_weekday(1))
    with pytest.raises(BookingRefused) as refused:
        book(front_desk, patient, working_week, next_weekday(2))
    assert codes(refused.value) == ["benefit_limit"]
    assert "PT/OT combined limit of 1 visits" in str(refused.value)


def test_series_books_ahead_and_flags_what_the_authorization_will_not_cover(front_desk, patient, working_week,
                                                                           short_authorization, practice):
    Closure.objects.create(practice=practice, date=next_weekday(1, weeks_ahead=2), name="Staff training")
    series = create_series(actor=front_desk, plan_of_care=patient.plans_of_care.get(), weekday=1,
                           start_time=dt.time(16), start_date=next_weekday(0))
    booked, skipped = extend_series(series=series, through=next_weekday(1, weeks_ahead=5))
    assert booked == 2  # weeks 1 and 3; week 2 is closed
    reasons = {skip.date: skip.code for skip in series.skips.all()}
    assert reasons[next_weekday(1, weeks_ahead=2)] == "closed"
    assert reasons[next_weekday(1, weeks_ahead=4)] == "authorization_after_end"
    assert Task.objects.filter(kind="series_occurrence_skipped").count() == skipped == 3
    assert extend_series(series=series, through=next_weekday(1, weeks_ahead=5)) == (0, 0)


def test_projection_uses_future_series_occurrences(front_desk, patient, working_week, practice):
    authorization = Authorization.objects.get(coverage__patient=patient)
    series = create_series(actor=front_desk, plan_of_care=patient.plans_of_care.get(), weekday=1,
                           start_time=dt.time(16), start_date=next_weekday(0))
    extend_series(series=series, through=next_weekday(1, weeks_ahead=2))
    projection = project_authorizations(practice)[authorization.pk]
    weeks_left = len([1 for d in range((authorization.end_date - next_weekday(1)).days + 1)
                      if (next_weekday(1) + dt.timedelta(days=d)).weekday() == 1])
    assert projection.scheduled == weeks_left
    assert projection.remaining == 48 - weeks_left


def test_overlapping_authorizations_charge_the_one_that_ends_first(front_desk, patient, working_week, practice):
    first = Authorization.objects.get(coverage__patient=patient)
    first.end_date = next_weekday(4, weeks_ahead=1)
    first.save()
    second = make_authorization(patient.coverages.get(), start_date=next_weekday(0), quantity=10,
                                end_date=next_weekday(4, weeks_ahead=10), number="PA-NEXT")
    book(front_desk, patient, working_week, next_weekday(1))
    book(front_desk, patient, working_week, next_weekday(1, weeks_ahead=2))
    projections = project_authorizations(practice)
    assert projections[first.pk].scheduled == 1 and projections[second.pk].scheduled == 1


def test_units_follow_the_eight_minute_rule_or_the_session():
    services = [("97530", 2), ("97110", 2), ("92526", 1)]
    assert visit_units(services, 45, "cms_8_minute") == (("97530", 2), ("97110", 1), ("92526", 1))
    assert visit_units(services, 30, "cms_8_minute") == (("97530", 2), ("97110", 0), ("92526", 1))
    assert visit_units(services, 45, "per_session") == (("97530", 1), ("97110", 1), ("92526", 1))
    assert visit_units([("92507", 1)], 60, "cms_8_minute") == (("92507", 1),)

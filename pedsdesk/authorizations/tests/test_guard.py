"""The booking guard and projections from the real schedule, as the front desk meets them."""

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction

from conftest import make_authorization, next_weekday
from pedsdesk.authorizations.guard import authorization_guard
from pedsdesk.authorizations.models import Authorization, BenefitBucket, BookingRule
from pedsdesk.authorizations.queries import project_authorizations, visit_units
from pedsdesk.scheduling.actions import BookingBatch, BookingRefused, book_appointment, cancel_appointment
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


def _series_bookings(front_desk, patient, therapist, weeks, batch):
    """Book Tuesdays 1..weeks ahead one after another: what each booking answered, and
    the queries the guard made."""
    from django.db import connection

    from pedsdesk.scheduling import actions

    guard_queries = []

    def counted(**kwargs):
        with connection.execute_wrapper(lambda execute, *args: guard_queries.append(1) or execute(*args)):
            return authorization_guard(**kwargs)

    answers = {}
    with mock.patch.object(actions, "BOOKING_GUARDS", [counted]):
        for week in range(1, weeks + 1):
            try:
                book(front_desk, patient, therapist, next_weekday(1, weeks_ahead=week), batch=batch)
                answers[week] = "booked"
            except BookingRefused as refused:
                answers[week] = codes(refused)
    return answers, len(guard_queries)


UNITS_RUN_OUT = {1: "booked", 2: "booked", 3: "booked", 4: ["authorization_beyond_units"],
                 5: ["authorization_beyond_units"], **{w: ["authorization_after_end"] for w in (6, 7, 8)}}
LIMIT_USED_UP = {1: "booked", 2: "booked", **{w: ["benefit_limit"] for w in range(3, 9)}}


@pytest.mark.parametrize("rule", [BookingRule.WARN, BookingRule.BLOCK])
@pytest.mark.parametrize(("quantity", "ends", "limit", "expected"),
                         [(3, 5, 60, UNITS_RUN_OUT), (20, 10, 2, LIMIT_USED_UP)])
def test_a_batch_of_bookings_gets_the_answers_of_one_by_one_with_the_guard_reading_once(
        front_desk, patient, working_week, short_authorization, rule, quantity, ends, limit, expected):
    """A series booked ahead as one batch: the guard reads the child's schedule for the
    first visit and keeps the visits it books, so each answer is the one booking them one
    by one gives (units run out, then the authorization ends; or the plan year's limit is
    used up), and the guard's queries do not grow with the number of visits."""
    payer = short_authorization.coverage.payer
    payer.booking_rule = rule
    payer.save()
    coverage = patient.coverages.get()
    plan_year_starts = next_weekday(0, weeks_ahead=0)  # all eight weeks in one plan year
    coverage.plan_year_start_month, coverage.plan_year_start_day = plan_year_starts.month, plan_year_starts.day
    coverage.save()
    coverage.benefit_buckets.update(limit=limit, reset=BenefitBucket.Reset.PLAN_YEAR)
    short_authorization.end_date = next_weekday(4, weeks_ahead=ends)
    short_authorization.save()
    short_authorization.lines.update(quantity=quantity)
    answers, guard_queries = {}, {}
    for weeks in (3, 8):
        for batch in (None, BookingBatch()):
            with transaction.atomic():
                answers[(weeks, batch is None)], guard_queries[(weeks, batch is None)] = _series_bookings(
                    front_desk, patient, working_week, weeks, batch=batch)
                transaction.set_rollback(True)
    assert answers[(8, True)] == answers[(8, False)] == expected
    assert answers[(3, True)] == answers[(3, False)] == {w: expected[w] for w in (1, 2, 3)}
    assert guard_queries[(8, False)] == guard_queries[(3, False)] < guard_queries[(3, True)]


def test_a_series_authorized_for_exactly_its_visits_books_every_one(front_desk, patient, working_week, practice):
    """The series' coming occurrences are already counted against the authorization, so
    booking one of them uses no unit more: an authorization approved for exactly the
    series' visits books them all, week after week (before, each booking was counted twice
    and refused as beyond the units left)."""
    authorization = Authorization.objects.get(coverage__patient=patient)
    series = create_series(actor=front_desk, plan_of_care=patient.plans_of_care.get(), weekday=1,
                           start_time=dt.time(16), start_date=next_weekday(0))
    extend_series(series=series, through=next_weekday(1))
    exactly = project_authorizations(practice)[authorization.pk].scheduled
    authorization.lines.update(quantity=exactly)
    series.refresh_from_db()
    assert extend_series(series=series, through=next_weekday(1, weeks_ahead=4)) == (3, 0)
    projection = project_authorizations(practice)[authorization.pk]
    assert projection.remaining == 0 and not projection.denials


def test_a_daily_sweep_projects_every_authorization_once_for_statuses_renewals_and_rules(
        front_desk, patient, working_week, short_authorization, practice):
    """The statuses, the renewals and the three daily rules share one projection in a
    practice's daily tick, and open the same tasks and renewals as projecting for each."""
    from pedsdesk.authorizations import queries
    from pedsdesk.authorizations.models import Renewal
    from pedsdesk.operations.runner import run_practice_sweeps

    for week in (1, 2, 3):  # the third is beyond the two visits left
        book(front_desk, patient, working_week, next_weekday(1, weeks_ahead=week), override_reason="family asks")
    sweeps = ["authorizations.daily", "workqueue.rules_daily"]

    def run():
        calls = []
        real = queries.project_authorizations
        with mock.patch.object(queries, "project_authorizations",
                               lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs)):
            run_practice_sweeps(schedule="daily", practice=practice, only=sweeps)
        tasks = set(Task.objects.values_list("kind", "status", "title"))  # no ids: PostgreSQL's are not rolled back
        return len(calls), tasks, set(Renewal.objects.values_list("authorization_id", "due_date", "state"))

    with transaction.atomic():
        with mock.patch.object(queries, "remembered", lambda key, compute, alone=None: compute()):
            projected_each_time, *each_time = run()
        transaction.set_rollback(True)
    projected_once, *once = run()
    assert once == each_time and {kind for kind, *_ in once[0]} >= {"visits_beyond_coverage"}
    # Each time: statuses, renewals, the renewal it opens and three rules; once: one for the
    # practice's tick (nothing the sweeps did changed what it was read from).
    assert (projected_each_time, projected_once) == (6, 1)


def test_outside_a_sweep_a_page_projects_only_its_own_authorizations(short_authorization, practice):
    """A chart or a board page projects its rows' children, not the whole practice (a
    10,000-child board page took seconds projecting every authorization)."""
    from pedsdesk.authorizations import queries

    scopes = []
    real = queries.project_authorizations
    with mock.patch.object(queries, "project_authorizations",
                           lambda practice, authorizations=None, **kwargs: scopes.append(authorizations)
                           or real(practice, authorizations, **kwargs)):
        summary = queries.summary_of(short_authorization, practice.local_now().date())
    assert [[a.pk for a in scope] for scope in scopes] == [[short_authorization.pk]]
    assert summary.projection is not None and summary.authorized == short_authorization.lines.get().quantity

"""Authorization figures that agree with each other and with the schedule next to them:
no negative days, no "0 scheduled" beside a visit that is not covered, no advice to move
a visit that already happened, no "15-minute units" for an untimed code, a burn-down
whose labels stay inside it, and "units unused" only when it matters."""

import datetime as dt

import pytest
from django.urls import reverse

from conftest import make_authorization, make_coverage, make_patient, make_payer, make_plan_of_care, signed_in
from pedsdesk.authorizations.chart import WIDTH, burn_down_chart
from pedsdesk.authorizations.models import Authorization
from pedsdesk.authorizations.rules import authorizations_under_used, visits_beyond_coverage
from pedsdesk.codes import unit_label
from pedsdesk.scheduling.models import Appointment, AppointmentStatus
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db


def _today(practice) -> dt.date:
    return practice.local_now().date()


def _visit(patient, therapist, day: dt.date, status=AppointmentStatus.BOOKED) -> Appointment:
    start = local_to_utc(day, dt.time(16), patient.practice.zone)
    return Appointment.objects.create(practice=patient.practice, patient=patient, therapist=therapist,
                                      plan_of_care=patient.plans_of_care.first(), start_at=start,
                                      end_at=start + dt.timedelta(minutes=45), status=status)


def test_an_ended_authorization_counts_days_since_it_ended(owner, patient):
    today = _today(patient.practice)
    authorization = Authorization.objects.get(coverage__patient=patient)
    Authorization.objects.filter(pk=authorization.pk).update(start_date=today - dt.timedelta(days=120),
                                                             end_date=today - dt.timedelta(days=28))
    client = signed_in(owner)
    html = client.get(reverse("authorization_detail", args=[authorization.pk])).content.decode()
    assert '<span class="stat">28</span> days since it ended' in html
    assert "-28" not in html
    board = client.get(reverse("authorization_board")).content.decode()
    assert "ended 28&nbsp;days&nbsp;ago" in board and ">-28<" not in board


def test_an_upcoming_visit_that_is_not_covered_shows_beside_the_scheduled_figure(owner, patient, therapist):
    today = _today(patient.practice)
    authorization = Authorization.objects.get(coverage__patient=patient)
    Authorization.objects.filter(pk=authorization.pk).update(end_date=today + dt.timedelta(days=2))
    after_end = today + dt.timedelta(days=9)
    _visit(patient, therapist, after_end)
    html = signed_in(owner).get(reverse("patient_detail", args=[patient.pk])).content.decode()
    section = html[html.index('id="authorizations"'):]
    assert "+1 not covered" in section
    assert f"The visit on {after_end:%a %b} {after_end.day} is after the authorization ends" in section
    detail = signed_in(owner).get(reverse("authorization_detail", args=[authorization.pk])).content.decode()
    assert '<span class="stat stat-bad">1</span> booked but not covered' in detail


def test_visits_that_already_happened_are_not_to_be_moved(owner, patient, therapist):
    today = _today(patient.practice)
    authorization = Authorization.objects.get(coverage__patient=patient)
    Authorization.objects.filter(pk=authorization.pk).update(start_date=today - dt.timedelta(days=60))
    authorization.lines.update(quantity=1)
    for days_ago in (21, 14):
        _visit(patient, therapist, today - dt.timedelta(days=days_ago), status=AppointmentStatus.COMPLETED)
    html = signed_in(owner).get(reverse("authorization_detail", args=[authorization.pk])).content.decode()
    denials = html[html.index('id="denials"'):html.index("</section>", html.index('id="denials"'))]
    assert "retroactive authorization" in denials
    assert "Move or cancel" not in denials
    (task,) = visits_beyond_coverage(patient.practice, patient.practice.local_now())
    assert "retroactive authorization" in task.reason and "Move or cancel" not in task.reason

    upcoming = _visit(patient, therapist, today + dt.timedelta(days=8))
    html = signed_in(owner).get(reverse("authorization_detail", args=[authorization.pk])).content.decode()
    denials = html[html.index('id="denials"'):html.index("</section>", html.index('id="denials"'))]
    moved = denials[denials.index("Move or cancel"):denials.index("already happened")]
    assert f"{upcoming.start_at.astimezone(patient.practice.zone):%b} " in moved  # only the visit to come
    (task,) = visits_beyond_coverage(patient.practice, patient.practice.local_now())
    assert "Move or cancel the visits still to come" in task.reason


def test_untimed_codes_are_never_fifteen_minute_units(owner, practice, staff):
    assert unit_label("units", ["92507"]) == "units (one a session)"
    assert unit_label("units", ["97530", "97110"]) == "15-minute units"
    assert "15-minute" not in unit_label("units", ["92507", "97530"]).split("for timed")[0]
    assert unit_label("visits", ["92507"]) == "visits"
    child = make_patient(practice, "Mia", "Stone")
    speech = make_authorization(make_coverage(child, make_payer(practice, "Prairie")), discipline="SLP",
                                codes=("92507",), unit_type="units", quantity=24)
    html = signed_in(owner).get(reverse("authorization_detail", args=[speech.pk])).content.decode()
    assert "15-minute" not in html
    assert "units (one a session) authorized" in html and "<td>Units (one a session)</td>" in html
    form = signed_in(owner).get(reverse("authorization_edit", args=[speech.pk])).content.decode()
    assert "15-minute units<" not in form


def test_the_burn_down_labels_stay_inside_the_drawing():
    start, end = dt.date(2026, 9, 1), dt.date(2026, 12, 31)
    for today, exhausted in ((start, start), (end, end), (start + dt.timedelta(days=2), end - dt.timedelta(days=1)),
                             (dt.date(2026, 11, 1), None)):
        chart = burn_down_chart(authorized=40, start=start, end=end, today=today, charges=[],
                                exhausted_on=exhausted, unit="visits")
        assert {m.kind for m in chart.markers} >= {"today", "end"}
        for marker in chart.markers:
            left, right = marker.label_extent
            assert left >= 0 and right <= WIDTH, (today, marker)
    middle = burn_down_chart(authorized=40, start=start, end=end, today=dt.date(2026, 11, 1), charges=[],
                             exhausted_on=None, unit="visits")
    assert next(m for m in middle.markers if m.kind == "today").anchor == "middle"


def test_units_unused_follows_the_practice_threshold_and_weeks(owner, practice, therapist):
    today = _today(practice)
    payer = make_payer(practice, "Bluebonnet")
    child = make_patient(practice, "Leo", "Marsh")
    authorization = make_authorization(make_coverage(child, payer), quantity=10, start_date=today - dt.timedelta(
        days=60), end_date=today + dt.timedelta(days=20))
    make_plan_of_care(child, therapist, start_date=today - dt.timedelta(days=60),
                      end_date=today + dt.timedelta(days=20))
    for days in range(-42, 20, 7):  # 9 weekly visits of the 10 authorized: 1 left (10 %)
        _visit(child, therapist, today + dt.timedelta(days=days),
               AppointmentStatus.COMPLETED if days < 0 else AppointmentStatus.BOOKED)
    board = reverse("authorization_board") + "?flag=unused_units"
    client = signed_in(owner)
    assert f'id="authorization-{authorization.pk}"' not in client.get(board).content.decode()  # 10 % < 20 %
    assert not list(authorizations_under_used(practice, practice.local_now()))
    practice.unused_units_percent = 10
    practice.save()
    assert f'id="authorization-{authorization.pk}"' in client.get(board).content.decode()
    (task,) = authorizations_under_used(practice, practice.local_now())
    assert task.title.startswith("1 visit unused")
    practice.unused_units_weeks = 2  # ends in 20 days: not yet
    practice.save()
    assert f'id="authorization-{authorization.pk}"' not in client.get(board).content.decode()


def _practice_form(practice, **changes) -> dict:
    from pedsdesk.practices.views import PracticeForm

    form = PracticeForm(instance=practice, practice=practice)
    data = {name: form.initial.get(name) for name in form.fields}
    data = {k: ("on" if v is True else "" if v in (None, False) else v) for k, v in data.items()}
    return {**data, **changes}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("unused_units_percent", "0", "from 1 to 100"), ("unused_units_percent", "101", "from 1 to 100"),
    ("unused_units_weeks", "0", "1 to 26 weeks"), ("unused_units_weeks", "53", "1 to 26 weeks"),
    ("unused_units_weeks", "many", "Enter a whole number"),
])
def test_the_threshold_is_set_on_the_practice_settings_page_and_checked(owner, practice, field, value, message):
    client = signed_in(owner)
    response = client.post(reverse("practice_edit"), _practice_form(practice, **{field: value}))
    assert message in response.content.decode()
    practice.refresh_from_db()
    assert (practice.unused_units_percent, practice.unused_units_weeks) == (20, 4)
    response = client.post(reverse("practice_edit"), _practice_form(practice, unused_units_percent="25",
                                                                    unused_units_weeks="6"))
    assert response.status_code == 302
    practice.refresh_from_db()
    assert (practice.unused_units_percent, practice.unused_units_weeks) == (25, 6)

"""Schools on Today: the office sees the week's IEP/504 meetings, overdue documentation
requests, authorizations ending without a renewal and reviews coming; a therapist sees
their own meetings and overdue requests; billing sees none of it. The same queries for
one row or many."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_guardian, make_patient, signed_in
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.schools import actions
from pedsdesk.schools.models import DocumentRequest, Meeting, MeetingState, RequestState, StudentPlan
from pedsdesk.schools.tests.conftest import practice_today

pytestmark = pytest.mark.django_db


def _section(body: str) -> str:
    start = body.index('id="today-schools"')
    return body[start:body.index("</section>", start)]


def _meeting(patient, therapist, day: dt.date, hour: int = 10, **fields) -> Meeting:
    start = local_to_utc(day, dt.time(hour), patient.practice.zone)
    return Meeting.objects.create(practice=patient.practice, patient=patient, school=patient.school,
                                  therapist=therapist, start_at=start, end_at=start + dt.timedelta(hours=1),
                                  location="Room 12", **fields)


def _request(patient, assignee, due: dt.date, state=RequestState.OPEN) -> DocumentRequest:
    return DocumentRequest.objects.create(practice=patient.practice, patient=patient, requester="school",
                                          kind="progress_summary", due_on=due, assignee=assignee, state=state)


def _ending(patient, front_desk, days: int):
    draft = actions.create_authorization(actor=front_desk, patient=patient, categories=["progress_summaries"],
                                         purpose="IEP planning", recipient_school=patient.school,
                                         expires_on=practice_today() + dt.timedelta(days=days))
    return actions.sign_authorization(authorization=draft, guardian=patient.guardians.get(), typed_name="Rosa Lopez",
                                      agreed=True)


@pytest.fixture
def school_week(patient, staff):
    """Ava's meetings, requests, authorization and review, and some that must not show."""
    today, therapist, front_desk = practice_today(), staff["therapist"], staff["front_desk"]
    other_therapist = staff["owner"]
    noa = make_patient(patient.practice, "Noa", "Ruiz", school=patient.school)
    make_guardian(noa, first="Lia")
    rows = {
        "today": _meeting(patient, therapist, today, 9),
        "thursday": _meeting(patient, therapist, today + dt.timedelta(days=3), 14, kind="504"),
        "someone_else": _meeting(noa, other_therapist, today + dt.timedelta(days=1), 11),
        "later": _meeting(patient, therapist, today + dt.timedelta(days=10)),
        "cancelled": _meeting(patient, therapist, today + dt.timedelta(days=2), state=MeetingState.CANCELLED),
        "overdue": _request(patient, therapist, today - dt.timedelta(days=2)),
        "overdue_other": _request(noa, front_desk, today - dt.timedelta(days=1)),
        "due_soon": _request(patient, therapist, today + dt.timedelta(days=2)),
        "overdue_sent": _request(patient, therapist, today - dt.timedelta(days=5), state=RequestState.SENT),
        "ending": _ending(patient, front_desk, 20),
    }
    renewed = _ending(noa, front_desk, 15)
    actions.create_authorization(actor=front_desk, patient=noa, categories=["progress_summaries"],
                                 purpose="IEP planning", recipient_school=noa.school,
                                 expires_on=today + dt.timedelta(days=300))  # the renewal is out for signature
    rows["renewed"] = renewed
    StudentPlan.objects.create(patient=patient, plan_type="iep", annual_review_on=today + dt.timedelta(days=12),
                               reevaluation_on=today + dt.timedelta(days=400))
    StudentPlan.objects.create(patient=noa, plan_type="504", reevaluation_on=today + dt.timedelta(days=60))
    return rows


def test_the_front_desk_sees_what_the_office_acts_on_this_week(school_week, front_desk):
    section = _section(signed_in(front_desk).get("/").content.decode())
    rows = school_week
    for shown in ("today", "thursday", "someone_else", "overdue", "overdue_other", "ending"):
        assert rows[shown].get_absolute_url() in section, shown
    for hidden in ("later", "cancelled", "due_soon", "overdue_sent", "renewed"):
        assert rows[hidden].get_absolute_url() not in section, hidden
    assert "<strong>Today</strong> 9:00 AM</a>: IEP meeting for Ava L. at Maple Elementary" in section
    assert "504 meeting for Ava L." in section and section.count("Overdue</span>") == 2
    assert "ends" in section and "no renewal sent" in section
    assert "IEP annual review</a> for Ava L." in section and "re-evaluation" not in section


def test_a_therapist_sees_only_their_own_meetings_and_overdue_requests(school_week, therapist):
    section = _section(signed_in(therapist).get("/").content.decode())
    rows = school_week
    assert rows["today"].get_absolute_url() in section and rows["overdue"].get_absolute_url() in section
    for hidden in ("someone_else", "overdue_other", "ending"):
        assert rows[hidden].get_absolute_url() not in section, hidden
    assert "annual review" not in section and "School requests board" not in section


def test_billing_and_another_practice_see_none_of_it(school_week, billing, outsider):
    assert 'id="today-schools"' not in signed_in(billing).get("/").content.decode()
    elsewhere = _section(signed_in(outsider).get("/").content.decode())
    assert "Ava" not in elsewhere and "Nothing from school coordination needs the office this week." in elsewhere


def test_nothing_this_week_is_said_in_one_line(patient, owner, therapist):
    assert "Nothing from school coordination needs the office" in _section(signed_in(owner).get("/").content.decode())
    assert "needs you this week" in _section(signed_in(therapist).get("/").content.decode())


def _queries(client) -> int:
    client.get("/")  # once first: the session and the audit chain settle
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured)


def test_today_costs_the_same_queries_for_one_row_or_many(patient, staff):
    today, front_desk, therapist = practice_today(), staff["front_desk"], staff["therapist"]
    client = signed_in(staff["office_manager"])

    def add(i: int) -> None:
        child = make_patient(patient.practice, f"Kid{i}", "Many", school=patient.school)
        make_guardian(child, first=f"Mom{i}")
        _meeting(child, therapist, today + dt.timedelta(days=i % 6), 8 + i)
        _request(child, front_desk, today - dt.timedelta(days=1 + i))
        _ending(child, front_desk, 10 + i)
        StudentPlan.objects.create(patient=child, plan_type="iep", annual_review_on=today + dt.timedelta(days=5 + i))

    add(0)
    few = _queries(client)
    for i in range(1, 8):
        add(i)
    many = _queries(client)
    assert many == few
    section = _section(client.get("/").content.decode())
    assert "All overdue requests" in section and "More authorizations to renew" in section

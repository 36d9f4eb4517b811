"""Home programs on Today: a therapist sees which of today's children need something
before the session; the front desk sees a count of families coming today who have not
opened theirs, with a link to who they are. "Today" is the practice's calendar day."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_guardian, make_patient, make_plan_of_care, make_staff
from pedsdesk.hep.actions import ItemInput, update_and_send
from pedsdesk.hep.models import Delivery, Feedback, HepPolicy
from pedsdesk.hep.sections import today_home_programs
from pedsdesk.hep.tests.conftest import starter
from pedsdesk.practices.today import TodayPage
from pedsdesk.scheduling.models import Appointment, AppointmentStatus

pytestmark = pytest.mark.django_db


def visit_today(practice, therapist, child, minutes_after_seven: int, **kwargs) -> Appointment:
    day = practice.local_now().date()
    start = dt.datetime.combine(day, dt.time(7), tzinfo=practice.zone) + dt.timedelta(minutes=minutes_after_seven)
    return Appointment.objects.create(practice=practice, patient=child, therapist=therapist,
                                      plan_of_care=child.plans_of_care.first(), start_at=start,
                                      end_at=start + dt.timedelta(minutes=45), **kwargs)


def child(practice, therapist, first: str, *, program: str | None, slot: int, **visit) -> None:
    """A child seen today; ``program``: None, "unopened", "low" (opened, practised 1 of 5) or "fine"."""
    kid = make_patient(practice, first, "Reyes")
    guardian = make_guardian(kid, f"{first}mom")
    make_plan_of_care(kid, therapist)
    visit_today(practice, therapist, kid, slot * 50, **visit)
    if program is None:
        return
    version, (delivery,) = update_and_send(actor=therapist, patient=kid, note="",
                                           items=[ItemInput(activity_id=starter("pt-bridges").pk)],
                                           guardians=[guardian])
    if program == "unopened":
        return
    Delivery.objects.filter(pk=delivery.pk).update(state="opened", opened_at=timezone.now())
    Feedback.objects.create(practice=practice, version=version, guardian=guardian, patient=kid,
                            form_id=f"f-{first}", days_practised=1 if program == "low" else 5, days_prescribed=5,
                            window_start=version.created_at)


@pytest.fixture
def day(practice, therapist, any_hour):
    child(practice, therapist, "Ana", program="unopened", slot=0)
    child(practice, therapist, "Ben", program=None, slot=1)
    child(practice, therapist, "Cleo", program="low", slot=2)
    child(practice, therapist, "Dan", program="fine", slot=3)
    child(practice, therapist, "Eli", program="unopened", slot=4, status=AppointmentStatus.CANCELLED)
    # Another therapist's child, tomorrow's visit: not on Theo's list.
    other = make_staff(practice, "tess", "therapist")
    child(practice, other, "Fay", program="unopened", slot=5)
    tomorrow = make_patient(practice, "Gus", "Reyes")
    make_plan_of_care(tomorrow, therapist)
    visit_today(practice, therapist, tomorrow, 60 * 24 + 30)


def test_the_therapist_sees_todays_children_who_need_something_before_the_session(day, therapist, client_for):
    page = client_for(therapist).get("/")
    assert page.status_code == 200
    html = page.content.decode()
    section = html[html.index('id="today-home-programs"'):]
    section = section[:section.index("</section>")]
    assert section.count('data-testid="today-hep-row"') == 3
    assert "Ana R." in section and "Family has not opened it" in section
    assert "Ben R." in section and "No program" in section and "Start one" in section
    assert "Cleo R." in section and "Practised 1 of 5 days" in section
    for absent in ("Dan R.", "Eli R.", "Fay R.", "Gus R."):
        assert absent not in section


def test_the_front_desk_gets_a_count_and_a_link_not_a_list(day, front_desk, client_for):
    client = client_for(front_desk)
    html = client.get("/").content.decode()
    section = html[html.index('id="today-home-programs"'):]
    section = section[:section.index("</section>")]
    # Ana and Fay have not opened theirs; Eli's visit is cancelled; five children are coming.
    assert "2</span> of the 5 families coming today have not opened" in section
    assert "Ana" not in section and 'href="/home-programs/?visiting=today"' in section
    listed = client.get("/home-programs/?visiting=today").content.decode()
    assert listed.count('data-testid="caseload-row"') == 4  # Ana, Cleo, Dan, Fay: the ones with a program
    assert "Eli" not in listed and "Gus" not in listed


def test_billing_has_no_home_program_section(day, billing, client_for):
    assert 'id="today-home-programs"' not in client_for(billing).get("/").content.decode()


def test_an_outsider_sees_nothing_of_this_practice(day, outsider):
    assert today_home_programs(TodayPage(user=outsider)) == {"mine": False, "unopened": 0, "coming": 0}


@pytest.mark.parametrize("role", ["therapist", "front_desk"])
def test_the_section_takes_the_same_queries_for_four_children_as_for_twenty(practice, staff, role, any_hour):
    therapist = staff["therapist"]
    HepPolicy.for_practice(practice)  # made on the first read of a new practice's settings
    for n in range(4):
        child(practice, therapist, f"Kid{n}", program=("unopened", None, "low", "fine")[n % 4], slot=n)
    few = _queries(staff[role])
    for n in range(4, 20):
        child(practice, therapist, f"Kid{n}", program=("unopened", None, "low", "fine")[n % 4], slot=n)
    assert _queries(staff[role]) == few <= 9


def _queries(user) -> int:
    user.refresh_from_db()  # a fresh practice: its policy is read again, as on a real page
    with CaptureQueriesContext(connection) as captured:
        today_home_programs(TodayPage(user=user))
    return len(captured)

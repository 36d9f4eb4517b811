"""Home-program pages and sections take a fixed number of SQL queries: the library (and
its search, skill tags included, done in SQL), the caseload, the chart's section and the
visit panel's section, each measured with few rows and with many."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_guardian, make_patient, make_plan_of_care
from pedsdesk.hep.actions import ItemInput, update_and_send
from pedsdesk.hep.models import Activity, Feedback, FeedbackItem
from pedsdesk.hep.tests.conftest import starter
from pedsdesk.scheduling.models import Appointment

pytestmark = pytest.mark.django_db

KEYS = ["ot-playdough-pinch", "ot-clothespin-pick", "ot-bead-string", "ot-scissor-lines", "ot-tripod-crayon",
        "ot-name-tracing"]


def queries(client, url: str) -> int:
    client.get(url)  # once first: what a first visit creates (the practice's settings row) is not counted
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def program(therapist, child, *, activities: int, versions: int, answers: int, guardians: list) -> None:
    """``versions`` sent versions of ``activities`` each, answered ``answers`` times (the first asks)."""
    for v in range(versions):
        version, _ = update_and_send(actor=therapist, patient=child, note="",
                                     items=[ItemInput(starter(key).pk) for key in KEYS[:activities]],
                                     guardians=guardians)
        items = list(version.items.all())
        for a in range(answers):
            feedback = Feedback.objects.create(
                practice=child.practice, version=version, guardian=guardians[0], patient=child,
                form_id=f"{child.pk}-{v}-{a}", days_practised=2, days_prescribed=5,
                window_start=version.created_at, question="Can we use a straw?" if a == 0 else "")
            FeedbackItem.objects.bulk_create([FeedbackItem(feedback=feedback, item=item, rating="okay")
                                              for item in items])


def children(practice, therapist, start: int, count: int) -> None:
    for n in range(start, start + count):
        child = make_patient(practice, f"Kid{n}", "Diaz")
        make_plan_of_care(child, therapist)
        program(therapist, child, activities=3, versions=2, answers=2, guardians=[make_guardian(child, f"G{n}")])


def test_the_caseload_takes_the_same_queries_for_3_children_as_for_25(practice, therapist, client_for, any_hour):
    client = client_for(therapist)
    children(practice, therapist, 0, 3)
    few = queries(client, "/home-programs/?mine=0")
    children(practice, therapist, 3, 22)
    page = client.get("/home-programs/?mine=0").content.decode()
    assert page.count('data-testid="caseload-row"') == 25
    assert queries(client, "/home-programs/?mine=0") == few
    assert queries(client, "/home-programs/?mine=1") == few


def test_the_library_and_its_search_take_the_same_queries_for_5_own_activities_as_for_60(practice, therapist,
                                                                                       client_for):
    client = client_for(therapist)
    starter("pt-bridges")  # the starter library is there

    def own(start: int, count: int) -> None:
        Activity.objects.bulk_create([
            Activity(practice=practice, discipline="PT", title_en=f"Wobble board {n}", title_es=f"Tabla {n}",
                     steps_en="Stand\nRock", steps_es="Párate\nBalancea", skills=["balance", "strength"])
            for n in range(start, start + count)])

    own(0, 5)
    urls = ["/home-programs/library/", "/home-programs/library/?q=balance", "/home-programs/library/?q=equilibrio",
            "/home-programs/library/?q=s+sound&discipline=SLP"]
    few = [queries(client, url) for url in urls]
    own(5, 55)
    assert [queries(client, url) for url in urls] == few
    # The skill words find the tagged activities, in either language, and the limit holds.
    found = client.get("/home-programs/library/?q=equilibrio").content.decode()
    assert "Wobble board 0" in found
    builder = client.post(f"/patients/{make_patient(practice).pk}/home-program/",
                          {"items": "0", "q": "balance", "op": "search"}).content.decode()
    assert builder.count('aria-label="Add ') == 12


def test_the_chart_and_panel_sections_take_the_same_queries_for_a_short_and_a_long_history(
        practice, staff, client_for, any_hour):
    therapist = staff["therapist"]
    client = client_for(therapist)
    short, long = make_patient(practice, "Ana", "Diaz"), make_patient(practice, "Ben", "Diaz")
    for child in (short, long):
        make_plan_of_care(child, therapist)
    program(therapist, short, activities=1, versions=1, answers=1, guardians=[make_guardian(short, "Ida")])
    program(therapist, long, activities=6, versions=7, answers=4,
            guardians=[make_guardian(long, name) for name in ("Uma", "Vic", "Wes")])
    day = practice.local_now().date() + dt.timedelta(days=7)
    visits = {}
    for n, child in enumerate((short, long)):
        start = dt.datetime.combine(day, dt.time(9 + n), tzinfo=practice.zone)
        visits[child] = Appointment.objects.create(practice=practice, patient=child, therapist=therapist,
                                                   plan_of_care=child.plans_of_care.first(), start_at=start,
                                                   end_at=start + dt.timedelta(minutes=45))
    for url in ("/patients/{}/", "/appointments/{}/"):
        counts = []
        for child in (short, long):
            pk = child.pk if "patients" in url else visits[child].pk
            counts.append(queries(client, url.format(pk)))
        assert counts[0] == counts[1], url
    panel = client.get(f"/appointments/{visits[long].pk}/").content.decode()
    assert "Can we use a straw?" in panel and 'data-testid="hep-last-feedback"' in panel

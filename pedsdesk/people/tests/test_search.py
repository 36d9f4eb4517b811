"""Search that finds people: accents folded, any phone format, guardians' first names, on
SQLite and PostgreSQL alike, with a clear answer for input that cannot be searched."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_guardian, make_patient, signed_in
from pedsdesk.people.models import Guardian, Patient
from pedsdesk.people.search import SearchError, fold, terms

pytestmark = pytest.mark.django_db


def test_fold_takes_accents_case_and_punctuation_off():
    assert fold("José Pérez-Núñez") == "jose perez nunez" and fold("ÅNGSTRÖM") == "angstrom"
    assert terms("(737) 555-0158") == terms("737-555-0158") == terms("7375550158") == terms("+1 737 555 0158")


@pytest.mark.parametrize("query", ["´¨ ~ !!", "...", "—"])
def test_only_accents_or_punctuation_is_refused_with_what_to_type(query):
    with pytest.raises(SearchError, match="Type letters or digits"):
        terms(query)


@pytest.fixture
def perez(practice):
    child = make_patient(practice, "Mateo", "Pérez")
    make_guardian(child, first="Lucía", phone="+17375550158", email="lucia.p@example.org")
    sister = make_patient(practice, "Sofía", "Pérez")
    sister.guardians.add(Guardian.objects.get(first_name="Lucía"), through_defaults={"relationship": "mother"})
    return child


def names(response) -> set[str]:
    body = response.content.decode()
    return {name for name in ("Mateo Pérez", "Sofía Pérez", "Ava Lopez", "Lucía Pérez") if name in body}


@pytest.mark.parametrize("query", ["Perez", "perez", "PÉREZ", "mateo perez", "Lucia"])
def test_names_are_found_without_their_accents_and_by_a_guardians_first_name(front_desk, patient, perez, query):
    found = names(signed_in(front_desk).get("/patients/", {"q": query}))
    assert "Mateo Pérez" in found and "Ava Lopez" not in found


@pytest.mark.parametrize("query", ["(737) 555-0158", "737-555-0158", "7375550158", "+1 737 555 0158", "555-0158"])
def test_a_phone_in_any_format_finds_the_guardian_and_their_children(front_desk, patient, perez, query):
    client = signed_in(front_desk)
    assert names(client.get("/patients/", {"q": query})) == {"Mateo Pérez", "Sofía Pérez"}
    assert "Lucía Pérez" in names(client.get("/guardians/", {"q": query}))


def test_guardians_are_found_by_their_childs_name_too(front_desk, perez):
    assert "Lucía Pérez" in names(signed_in(front_desk).get("/guardians/", {"q": "sofia"}))


@pytest.mark.parametrize("query, message", [
    ("x" * 1000, "Search with at most 100 characters"),
    ("´¨!!", "Type letters or digits"),
])
def test_bad_searches_get_a_clear_answer_never_an_error(front_desk, patient, query, message):
    for url in ("/patients/", "/guardians/", "/patients/pick/"):
        response = signed_in(front_desk).get(url, {"q": query, "patient_q": query})
        assert response.status_code == 200 and message in response.content.decode(), url


@pytest.mark.parametrize("query", ["'; DROP TABLE people_patient; --", "% _ \\", "Robert'); --", "a OR 1=1"])
def test_sql_looking_text_is_only_text(front_desk, patient, query):
    response = signed_in(front_desk).get("/patients/", {"q": query})
    assert response.status_code == 200 and "Ava Lopez" not in response.content.decode()
    assert Patient.objects.filter(first_name="Ava").exists()


def test_the_search_costs_the_same_queries_for_one_match_or_many(front_desk, practice):
    client = signed_in(front_desk)
    make_guardian(make_patient(practice, "Nico", "Peña"), first="Ana")
    client.get("/patients/", {"q": "pena"})

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/patients/", {"q": "pena"}).status_code == 200
        return len(captured)

    few = count()
    for i in range(12):
        make_guardian(make_patient(practice, f"Kid{i}", "Peña"), first=f"Mom{i}", phone=f"+1512555{i:04d}")
    assert count() == few


def test_the_search_text_follows_every_save_and_bulk_writes(practice):
    child = make_patient(practice, "Zoë", "Ångström")
    assert child.search_text == "zoe angstrom"
    child.last_name = "Núñez"
    child.save(update_fields=["last_name"])
    child.refresh_from_db()
    assert child.search_text == "zoe nunez"
    [bulk] = Patient.objects.bulk_create([Patient(practice=practice, first_name="Ñandú", last_name="Ávila",
                                                  date_of_birth=child.date_of_birth)])
    assert Patient.objects.get(pk=bulk.pk).search_text == "nandu avila"


def test_the_booking_pickers_search_box_offers_matching_children(front_desk, patient, perez):
    client = signed_in(front_desk)
    body = client.get("/patients/pick/", {"patient_q": "perez"}, HTTP_HX_REQUEST="true").content.decode()
    assert body.count('type="radio" name="patient"') == 2 and "Ava Lopez" not in body
    assert "No active child matches" in client.get("/patients/pick/", {"patient_q": "zzzz"}).content.decode()


def test_the_booking_form_has_a_search_box_not_a_select_of_every_child(front_desk, patient, working_week):
    body = signed_in(front_desk).get("/schedule/slot/", {"therapist": working_week.pk,
                                                         "start": "2030-01-08T16:00"}).content.decode()
    assert 'name="patient_q"' in body and 'hx-get="/patients/pick/"' in body
    assert '<select name="patient"' not in body


def test_without_htmx_find_shows_the_matches_in_the_form(front_desk, patient, perez, working_week):
    response = signed_in(front_desk).post("/schedule/book/", {
        "find": "1", "patient_q": "7375550158", "therapist": working_week.pk, "kind": "treatment",
        "date": "2030-01-08", "time": "16:00", "minutes": "45"})
    body = response.content.decode()
    assert response.status_code == 200 and body.count('type="radio" name="patient"') == 2
    assert 'value="7375550158"' in body

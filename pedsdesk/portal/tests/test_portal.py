import datetime as dt
import re

import pytest
from django.core import signing
from django.test import Client, override_settings
from django.utils import timezone

from conftest import make_guardian, make_patient
from pedsdesk.audit.models import AuditEvent
from pedsdesk.people.models import Diagnosis, GuardianOf
from pedsdesk.portal.actions import revoke_family_link
from pedsdesk.portal.tests.helpers import path_of
from pedsdesk.portal.tokens import SALT, make_token

pytestmark = pytest.mark.django_db

PROBLEM_TEXT = {
    404: ("This link does not work", "Este enlace no funciona"),
    410: ("This link", "Este enlace"),
    429: ("Please wait a few minutes", "Por favor, espere unos minutos"),
}


def assert_no_data(response, *names):
    body = response.content.decode()
    for name in ("Ava", "Lopez", "Rosa", "Lucía", "Sunny Steps", "Zips coat", "Theo", *names):
        assert name not in body, name
    english, spanish = PROBLEM_TEXT[response.status_code]
    assert english in body and spanish in body
    assert 'lang="es"' in body and 'lang="en"' in body


def test_english_guardian_sees_the_english_page(current_plan, patient, rosa, make_link):
    _, url = make_link(rosa, patient)
    response = Client().get(path_of(url))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="en">' in body and response["Content-Language"] == "en"
    assert "Hello, Rosa" in body and "This is Ava’s page at Sunny Steps Pediatric Therapy." in body
    assert 'href="tel:+15125550100"' in body and "(512) 555-0100" in body
    assert "Ava’s care team" in body and "Occupational therapy" in body
    assert "Theo Tester</strong>, OTR/L" in body and "2 visits a week, 45 minutes each" in body
    assert "Zips coat independently" in body and "Writes first name legibly" in body
    assert "Hola" not in body


def test_spanish_guardian_sees_the_spanish_page(current_plan, patient, make_link):
    lucia = make_guardian(patient, first="Lucía", language="es")
    _, url = make_link(lucia, patient)
    # The guardian's language wins over the browser's.
    response = Client(headers={"accept-language": "en"}).get(path_of(url))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="es">' in body and response["Content-Language"] == "es"
    assert "Hola, Lucía" in body and "Esta es la página de Ava en Sunny Steps Pediatric Therapy." in body
    assert "El equipo de terapia de Ava" in body and "Terapia ocupacional" in body
    assert "2 visitas por semana, de 45 minutos cada una" in body
    month = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
             "noviembre", "diciembre"][current_plan.end_date.month - 1]
    assert f"Plan de tratamiento vigente hasta el {current_plan.end_date.day} de {month}" in body
    assert "En qué está trabajando Ava" in body and "Zips coat independently" in body
    assert "Hello" not in body and "visits a week" not in body


def test_one_visit_a_week_is_singular(current_plan, patient, rosa, make_link):
    current_plan.frequency_per_week = 1
    current_plan.save()
    _, url = make_link(rosa, patient)
    assert "1 visit a week, 45 minutes each" in Client().get(path_of(url)).content.decode()


def test_only_current_plans_of_care_are_shown(patient, rosa, make_link, current_plan):
    current_plan.end_date = patient.practice.local_now().date() - dt.timedelta(days=1)
    current_plan.save()
    _, url = make_link(rosa, patient)
    body = Client().get(path_of(url)).content.decode()
    assert "There is no current plan of care yet." in body and "Zips coat" not in body


def test_opening_counts_and_writes_an_audit_event(current_plan, patient, rosa, make_link):
    link, url = make_link(rosa, patient)
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert client.get(path_of(url)).status_code == 200
    assert client.get(path_of(url)).status_code == 200
    link.refresh_from_db()
    assert link.open_count == 2 and link.last_opened_at is not None
    events = AuditEvent.objects.filter(action="family_link_opened")
    assert events.count() == 2
    event = events.first()
    assert event.actor_label == f"family link #{link.pk}" and event.actor_id is None
    assert event.patient_id == patient.pk and event.practice_id == patient.practice_id
    assert event.object_type == "portal.familylink" and event.object_id == str(link.pk)
    assert event.ip == "203.0.113.9"


def test_portal_pages_are_private_and_read_only(current_plan, patient, rosa, make_link):
    _, url = make_link(rosa, patient)
    response = Client().get(path_of(url))
    assert "no-store" in response["Cache-Control"] and response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"
    assert not response.cookies
    assert Client().post(path_of(url)).status_code == 405


def test_the_url_carries_no_names_and_no_clinical_detail(current_plan, patient, rosa, make_link):
    Diagnosis.objects.create(patient=patient, code="F82", description="Developmental coordination disorder")
    link, url = make_link(rosa, patient)
    token = path_of(url).split("/")[2]
    assert re.fullmatch(r"/f/[A-Za-z0-9_:-]+/", path_of(url))
    rest = url.replace(token, "")
    for detail in ("F82", "coordination", "Zips", "coat", "Ava", "Lopez", "Rosa", "97530"):
        assert detail.lower() not in rest.lower()
    # The only readable part is the payload, and it is the link id alone; the rest is the signature.
    payload, _timestamp, _signature = token.split(":")
    assert signing.b64_decode(payload.encode()) == str(link.pk).encode()
    assert signing.TimestampSigner(salt=SALT).unsign_object(token) == link.pk


@pytest.mark.parametrize("mangle", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
    lambda token: signing.TimestampSigner(salt="another.salt").sign_object(
        int(signing.b64_decode(token.split(":")[0].encode()))),
    lambda token: "not-a-token",
    lambda token: signing.TimestampSigner(salt=SALT).sign_object(999_999),
    lambda token: signing.TimestampSigner(salt=SALT).sign_object("1"),
], ids=["edited", "other-salt", "garbage", "unknown-id", "not-an-int"])
def test_a_bad_token_is_not_found_and_shows_nothing(current_plan, patient, rosa, make_link, mangle):
    link, _ = make_link(rosa, patient)
    response = Client().get(f"/f/{mangle(make_token(link))}/")
    assert response.status_code == 404
    assert_no_data(response)
    link.refresh_from_db()
    assert link.open_count == 0


def test_an_expired_link_is_gone(current_plan, patient, rosa, make_link):
    link, url = make_link(rosa, patient)
    link.expires_at = timezone.now() - dt.timedelta(minutes=1)
    link.save()
    response = Client().get(path_of(url))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode() and "Este enlace ya venció" in response.content.decode()
    assert_no_data(response)
    assert AuditEvent.objects.get(action="family_link_refused").detail["reason"] == "expired"
    assert not AuditEvent.objects.filter(action="family_link_opened").exists()


def test_a_revoked_link_is_gone(owner, current_plan, patient, rosa, make_link):
    link, url = make_link(rosa, patient)
    revoke_family_link(actor=owner, link=link)
    response = Client().get(path_of(url))
    assert response.status_code == 410
    body = response.content.decode()
    assert "This link is no longer active" in body and "Este enlace ya no está activo" in body
    assert_no_data(response)


def test_a_guardian_taken_off_the_chart_loses_the_link(current_plan, patient, rosa, make_link):
    _, url = make_link(rosa, patient)
    GuardianOf.objects.filter(guardian=rosa, patient=patient).delete()
    response = Client().get(path_of(url))
    assert response.status_code == 410
    assert_no_data(response)


def test_a_token_for_another_child_of_the_same_guardian_shows_only_that_child(current_plan, practice, patient,
                                                                              rosa, make_link):
    sibling = make_patient(practice, first="Leo")
    GuardianOf.objects.create(guardian=rosa, patient=sibling, relationship="mother")
    _, url = make_link(rosa, sibling)
    body = Client().get(path_of(url)).content.decode()
    assert "Leo" in body and "Ava" not in body and "Zips coat" not in body


def test_the_problem_page_leads_with_the_browser_language(current_plan, patient, rosa, make_link):
    response = Client(headers={"accept-language": "es"}).get("/f/nonsense/")
    body = response.content.decode()
    assert '<html lang="es">' in body
    assert body.index("Este enlace no funciona") < body.index("This link does not work")


@override_settings(PEDSDESK_FAMILY_LINK_FAILURES=3)
def test_guessing_is_throttled_but_a_real_link_still_opens_from_the_same_address(current_plan, patient, rosa,
                                                                                  make_link):
    """A school's or a carrier's shared address: one family's mistyped links never lock out
    another family whose link is real (issue 13, item 9)."""
    link, url = make_link(rosa, patient)
    shared = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(3):
        assert shared.get("/f/guess-0/").status_code == 404
    response = shared.get("/f/guess-0/")  # the same bad token again: throttled
    assert response.status_code == 429 and response["Retry-After"] == "900"
    assert "Please wait 15 minutes" in response.content.decode()
    assert "Espere 15 minutos" in response.content.decode()
    assert_no_data(response)
    # Many different guesses from one address are throttled too, at ten times the limit.
    for attempt in range(1, 30):
        shared.get(f"/f/guess-{attempt}/")
    assert shared.get("/f/guess-new/").status_code == 429
    # The real link opens from that same address all the while.
    assert shared.get(path_of(url)).status_code == 200
    link.refresh_from_db()
    assert link.open_count == 1
    assert Client(REMOTE_ADDR="198.51.100.8").get("/f/guess-0/").status_code == 404


@override_settings(PEDSDESK_FAMILY_LINK_FAILURES=2)
def test_expired_links_do_not_count_as_guesses(owner, current_plan, patient, rosa, make_link):
    old, old_url = make_link(rosa, patient)
    revoke_family_link(actor=owner, link=old)
    _, url = make_link(rosa, patient)
    family = Client()
    for _ in range(4):
        assert family.get(path_of(old_url)).status_code == 410
    assert family.get(path_of(url)).status_code == 200

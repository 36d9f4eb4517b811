"""Error pages look like the site, say what to do, and family links never show Django's
bare "Not Found"; a booking fragment opened without htmx is a whole page."""

import pytest
from django.test import Client

from conftest import signed_in
from pedsdesk.portal.actions import create_family_link
from pedsdesk.portal.tests.helpers import path_of

pytestmark = pytest.mark.django_db

STYLE = 'href="/static/pedsdesk/pedsdesk.css"'


def _site_page(response, status: int, heading: str) -> str:
    body = response.content.decode()
    assert response.status_code == status
    assert STYLE in body and "<main" in body and f"<h1>{heading}</h1>" in body, body[:600]
    return body


def test_a_missing_staff_page_is_the_sites_404_with_the_navigation(front_desk):
    body = _site_page(signed_in(front_desk).get("/no/such/page/"), 404, "Page not found")
    assert 'aria-label="Main"' in body and "Go to the start page" in body and "Not Found" not in body


def test_a_missing_record_is_the_sites_404(front_desk):
    _site_page(signed_in(front_desk).get("/appointments/999999/"), 404, "Page not found")


def test_a_role_without_the_permission_gets_a_403_that_says_so(therapist):
    body = _site_page(signed_in(therapist).get("/audit/"), 403, "Not allowed")
    assert "Your role does not allow audit.view." in body and "owner or office manager" in body


@pytest.mark.urls("pedsdesk.practices.tests.error_urls")
def test_a_malformed_request_is_a_400_page():
    _site_page(Client().get("/odd/"), 400, "The request could not be read")


@pytest.mark.urls("pedsdesk.practices.tests.error_urls")
def test_a_failure_is_the_sites_500_without_details():
    response = Client(raise_request_exception=False).get("/boom/")
    body = _site_page(response, 500, "Something went wrong")
    assert "database went away" not in body and "Traceback" not in body


@pytest.mark.urls("pedsdesk.practices.tests.error_urls")
def test_a_failure_on_a_family_page_answers_in_both_languages():
    body = _site_page(Client(raise_request_exception=False).get("/f/boom/"), 500, "Something went wrong")
    assert "<h1>Algo salió mal</h1>" in body and "Go to the start page" not in body


def test_a_stale_sign_in_form_is_a_csrf_page_that_says_to_reload(staff):
    client = Client(enforce_csrf_checks=True)
    body = _site_page(client.post("/login/", {"username": "fran", "password": "x"}), 403,
                      "The form could not be sent")
    assert "reload the page" in body and "CSRF" not in body


@pytest.fixture
def family_path(owner, patient):
    guardian = patient.guardians.get()
    _, url = create_family_link(actor=owner, guardian=guardian, patient=patient)
    return path_of(url)


def test_a_family_form_without_its_token_answers_in_both_languages(family_path):
    client = Client(enforce_csrf_checks=True)
    body = _site_page(client.post(f"{family_path}visits/1/confirm/"), 403, "The form could not be sent")
    assert "<h1>No se pudo enviar el formulario</h1>" in body and 'aria-label="Main"' not in body


@pytest.mark.parametrize("rest", ["offers/999999/", "nothing-here/", "visits/1/"])
def test_a_family_url_that_finds_nothing_is_the_bilingual_link_page(family_path, rest):
    response = Client().get(family_path + rest)
    body = response.content.decode()
    assert response.status_code == 404 and "Not Found" not in body
    assert "This link does not work" in body and "Este enlace no funciona" in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_an_unknown_family_token_is_the_bilingual_link_page():
    body = Client().get("/f/not-a-token/offers/1/").content.decode()
    assert "This link does not work" in body and "Este enlace no funciona" in body


def test_the_slot_form_opened_without_htmx_is_a_whole_page(front_desk, working_week):
    client = signed_in(front_desk)
    whole = client.get("/schedule/slot/", {"start": "2026-12-14T10:00"})
    body = whole.content.decode()
    assert whole.status_code == 200 and STYLE in body and 'aria-label="Main"' in body
    assert "Book a visit" in body and "Back to the schedule" in body
    fragment = client.get("/schedule/slot/", {"start": "2026-12-14T10:00"}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and "Book a visit" in fragment.content.decode()


def test_a_refused_booking_without_htmx_is_a_whole_page(front_desk, working_week):
    response = signed_in(front_desk).post("/schedule/book/", {"therapist": working_week.pk, "date": "nope"})
    body = response.content.decode()
    assert response.status_code == 400 and STYLE in body and 'aria-label="Main"' in body and "Book a visit" in body

"""Issue 10's "Done when", in Chromium: a Spanish-speaking mother signs the authorization
and the FERPA consent on her family link (on a phone); the therapist completes, signs and
sends a summary; the school contact's emailed link opens the PDF; the record of
disclosures lists the send."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from pedsdesk.messaging.tests.conftest import smtp_sink  # noqa: F401  (a fixture)
from pedsdesk.messaging.tests.helpers import deliver
from pedsdesk.portal.actions import create_family_link
from pedsdesk.schools import actions
from pedsdesk.schools.models import ConsentState, Disclosure, DisclosureAuthorization, FerpaConsent
from pedsdesk.schools.tests.conftest import make_contact
from tests.browser.conftest import assert_accessible, sign_in_without_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, user) -> None:
    sign_in_without_second_factor(page, user, PASSWORD)


def test_consents_in_spanish_then_a_signed_summary_reaches_the_school(page, settings, smtp_sink,  # noqa: F811
                                                                      patient, front_desk, therapist):
    settings.PEDSDESK_MESSAGING_KICK = False
    contact = make_contact(patient.practice, patient.school)
    rosa = patient.guardians.get()
    rosa.language = "es"
    rosa.save()
    actions.create_authorization(
        actor=front_desk, patient=patient, categories=["progress_summaries", "meetings"],
        purpose="Planificación del IEP a pedido de la familia", recipient_school=patient.school,
        recipient_contacts=[contact], template="new_york",
        expires_on=patient.practice.local_now().date() + dt.timedelta(days=300))
    actions.create_ferpa_consent(actor=front_desk, patient=patient, school=patient.school,
                                 records=["iep", "evaluations"], purpose="Coordinar la terapia con el IEP")
    _, url = create_family_link(actor=front_desk, guardian=rosa, patient=patient)

    # The mother, on her phone, in Spanish.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(urlsplit(url).path)
    forms = page.get_by_role("region", name="Formularios escolares")
    expect(forms.get_by_text("2 formularios esperan su firma.")).to_be_visible()
    forms.get_by_role("button", name="Leer y firmar").click()
    expect(page.get_by_role("heading", name="Formularios escolares", level=1)).to_be_visible()
    expect(page.get_by_label("Información confidencial relacionada con el VIH")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Escriba su nombre completo").fill("Rosa Lopez")
    page.get_by_role("button", name="Firmar", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Marque la casilla")  # the tick is required
    page.get_by_label("Información de salud mental").fill("RL")
    page.get_by_label(re.compile("Soy la madre, el padre o el tutor legal de Ava")).check()
    page.get_by_role("button", name="Firmar", exact=True).click()
    expect(page.get_by_text("Gracias. Su firma quedó guardada")).to_be_visible()
    expect(page.get_by_text(re.compile("Firmado por Rosa Lopez el"))).to_have_count(2)
    assert_accessible(page)
    authorization = DisclosureAuthorization.objects.get()
    assert authorization.state == ConsentState.SIGNED and authorization.signed_user_agent
    assert authorization.sensitive_initials == {"mental_health": "RL"}
    assert FerpaConsent.objects.get().state == ConsentState.SIGNED

    # The therapist completes, signs and sends the summary the school asked for.
    doc = actions.create_request(actor=front_desk, patient=patient, requester="school", kind="progress_summary",
                                 due_on=patient.practice.local_now().date() + dt.timedelta(days=5), assignee=therapist)
    summary = actions.create_summary(actor=front_desk, patient=patient, therapist=therapist, doc=doc,
                                     period_from=patient.practice.local_now().date() - dt.timedelta(days=60),
                                     period_to=patient.practice.local_now().date())
    page.set_viewport_size({"width": 1280, "height": 900})
    page.context.clear_cookies()
    _sign_in(page, therapist)
    page.goto(summary.get_absolute_url())
    expect(page.get_by_text("From an outside provider")).to_be_visible()
    page.get_by_label("Progress toward the goals").fill("Ava now buttons her coat without help.")
    page.get_by_label("Recommendations for the school team").fill("Offer a slant board for writing.")
    page.get_by_label("Type your name to sign").fill("Theo Tester")
    page.get_by_role("button", name="Sign the summary").click()
    expect(page.get_by_text("Signed. The PDF is ready to send.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("School contact").select_option(str(contact.pk))
    page.get_by_role("button", name="Send a secure link").click()
    expect(page.get_by_text(f"Queued: {contact.name} gets a secure link")).to_be_visible()

    # The outbox sends it; the school contact opens the link from the email.
    assert deliver().sent == 1
    [email] = [m for m in smtp_sink.messages if m["To"] == contact.email]
    link = urlsplit(re.search(r"http://\S+/s/\S+/", email.get_content()).group(0)).path
    opened = page.request.get(link)
    assert opened.status == 200 and opened.headers["content-type"] == "application/pdf"
    assert opened.body().startswith(b"%PDF")

    # The record of disclosures lists the send, opened.
    page.goto(f"/patients/{patient.pk}/school/disclosures/")
    disclosure = Disclosure.objects.get()
    row = page.get_by_test_id(f"disclosure-{disclosure.pk}")
    expect(row).to_contain_text(contact.name)
    expect(row).to_contain_text("Clinical summary")
    expect(row).to_contain_text("opened")
    assert_accessible(page)


def test_the_front_desk_sees_schools_on_today_and_records_an_authorizations_end(page, settings, patient,
                                                                                front_desk, therapist):
    from pedsdesk.schools.models import DocumentRequest, StudentPlan

    settings.PEDSDESK_MESSAGING_KICK = False
    today = patient.practice.local_now().date()
    draft = actions.create_authorization(
        actor=front_desk, patient=patient, categories=["progress_summaries"], purpose="IEP planning",
        recipient_school=patient.school, expiry_event="When Ava leaves Maple Elementary")
    authorization = actions.sign_authorization(authorization=draft, guardian=patient.guardians.get(),
                                               typed_name="Rosa Lopez", agreed=True)
    DocumentRequest.objects.create(practice=patient.practice, patient=patient, requester="school",
                                   kind="progress_summary", due_on=today - dt.timedelta(days=2), assignee=therapist)
    StudentPlan.objects.create(patient=patient, plan_type="iep", annual_review_on=today + dt.timedelta(days=9))

    _sign_in(page, front_desk)
    schools = page.get_by_role("region", name="Schools")
    expect(schools.get_by_text("Overdue")).to_be_visible()
    expect(schools.get_by_role("link", name="IEP annual review")).to_be_visible()
    assert_accessible(page)

    page.goto(authorization.get_absolute_url())
    page.get_by_text("Record that it ended: When Ava leaves Maple Elementary").click()
    page.get_by_label("The event happened on").fill((today + dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Record the end").click()
    expect(page.get_by_role("status")).to_contain_text("is in the future")
    page.get_by_text("Record that it ended: When Ava leaves Maple Elementary").click()
    page.get_by_label("The event happened on").fill(today.isoformat())
    page.get_by_role("button", name="Record the end").click()
    expect(page.get_by_text("Nothing more goes out under it")).to_be_visible()
    expect(page.get_by_text("recorded by Fran Tester")).to_be_visible()
    assert_accessible(page)
    authorization.refresh_from_db()
    assert authorization.expiry_event_on == today

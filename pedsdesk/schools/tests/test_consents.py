"""Authorizations to disclose and FERPA consents: the field rules, signing on the family
link (in Spanish), paper scans, revocation, and the renewal task."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from conftest import make_guardian, make_patient, signed_in
from pedsdesk.audit.models import AuditEvent
from pedsdesk.files.actions import IMAGE, check_upload
from pedsdesk.people.models import GuardianOf
from pedsdesk.portal.actions import create_family_link
from pedsdesk.schools import actions
from pedsdesk.schools.actions import document_bytes
from pedsdesk.schools.models import ConsentState, DisclosureAuthorization, FerpaConsent, SignedVia
from pedsdesk.schools.tests.conftest import BROWSER
from pedsdesk.workqueue.models import Task
from pedsdesk.workqueue.rules import run_rules

# The personas' practice keeps Chicago's calendar; UTC's date runs ahead of it every evening.
PRACTICE_ZONE = ZoneInfo("America/Chicago")


def practice_today() -> dt.date:
    return timezone.localdate(timezone=PRACTICE_ZONE)


pytestmark = pytest.mark.django_db


def _create(patient, front_desk, **changes):
    fields = {"categories": ["progress_summaries"], "purpose": "IEP planning", "recipient_school": patient.school,
              "expires_on": practice_today() + dt.timedelta(days=90)}
    return actions.create_authorization(actor=front_desk, patient=patient, **{**fields, **changes})


@pytest.mark.parametrize("changes, field, words", [
    ({"recipient_school": None}, "recipient_school", "Name who receives the records"),
    ({"purpose": "  "}, "purpose", "Say why the records are disclosed"),
    ({"expires_on": None}, "expires_on", "Give an expiry date or an expiry event"),
    ({"categories": []}, "categories", "Choose at least one kind of record"),
    ({"categories": ["psychotherapy_notes"]}, "categories", "Unknown kind of record"),
    ({"expires_on": dt.date(2020, 1, 1)}, "expires_on", "is before the signature date"),
])
def test_an_authorization_missing_a_required_element_is_refused_and_nothing_saved(patient, front_desk, changes,
                                                                                  field, words):
    with pytest.raises(actions.SchoolError) as refused:
        _create(patient, front_desk, **changes)
    assert words in " ".join(refused.value.message_dict[field])
    assert not DisclosureAuthorization.objects.exists()


def test_an_expiry_event_instead_of_a_date_is_accepted_until_staff_record_it(patient, front_desk):
    authorization = _create(patient, front_desk, expires_on=None, expiry_event="End of the 2026-27 school year")
    assert authorization.state == ConsentState.DRAFT


def test_an_expiry_that_passed_before_signing_is_refused_at_signing(patient, front_desk):
    authorization = _create(patient, front_desk)
    DisclosureAuthorization.objects.filter(pk=authorization.pk).update(expires_on=dt.date(2026, 1, 1))
    with pytest.raises(actions.SchoolError, match="before the signature date"):
        actions.sign_authorization(authorization=authorization, guardian=patient.guardians.get(),
                                   typed_name="Rosa Lopez", agreed=True)
    authorization.refresh_from_db()
    assert authorization.state == ConsentState.DRAFT and authorization.document_id is None


def test_only_a_guardian_with_legal_authority_signs(patient, front_desk):
    authorization = _create(patient, front_desk)
    sitter = make_guardian(patient, "Mia")
    GuardianOf.objects.filter(guardian=sitter).update(legal_authority=False, relationship="other")
    stranger = make_guardian(make_patient(patient.practice, "Leo"), "Ana")
    for who in (sitter, stranger):
        with pytest.raises(actions.SchoolError, match="with legal authority"):
            actions.sign_authorization(authorization=authorization, guardian=who, typed_name=str(who), agreed=True)
    authorization.refresh_from_db()
    assert authorization.state == ConsentState.DRAFT and authorization.signed_at is None


def test_a_spanish_speaking_mother_signs_both_forms_at_once_on_her_family_link(patient, front_desk):
    rosa = patient.guardians.get()
    rosa.language = "es"
    rosa.save()
    authorization = _create(patient, front_desk, template="new_york")
    ferpa = actions.create_ferpa_consent(actor=front_desk, patient=patient, school=patient.school,
                                         records=["iep", "evaluations"], purpose="Coordinar la terapia")
    _, url = create_family_link(actor=front_desk, guardian=rosa, patient=patient)
    page = "/" + url.split("/", 3)[3] + "school-consents/"
    from django.test import Client

    client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
    shown = client.get(page).content.decode()
    assert "Formularios escolares" in shown and "Información de salud mental" in shown
    assert "Consentimiento para que la escuela nos envíe expedientes (FERPA)" in shown

    refused = client.post(page, {"authorization": authorization.pk, "ferpa": ferpa.pk, "typed_name": "Rosa Lopez"})
    assert refused.status_code == 400 and "Marque la casilla" in refused.content.decode()
    badly = client.post(page, {"authorization": authorization.pk, "typed_name": "Rosa Lopez", "agreed": "yes",
                               f"initials-{authorization.pk}-hiv": "R"})
    assert "Las iniciales son de 2 a 4 letras" in badly.content.decode()
    assert not DisclosureAuthorization.objects.filter(state=ConsentState.SIGNED).exists()

    done = client.post(page, {"authorization": authorization.pk, "ferpa": ferpa.pk, "typed_name": "Rosa Lopez",
                              "agreed": "yes", f"initials-{authorization.pk}-mental_health": "rl"}, follow=True)
    assert "Gracias. Su firma quedó guardada" in done.content.decode()
    authorization.refresh_from_db()
    ferpa.refresh_from_db()
    for consent in (authorization, ferpa):
        assert consent.state == ConsentState.SIGNED and consent.signer == rosa
        assert consent.signed_ip == "203.0.113.7" and consent.signed_user_agent == BROWSER
        assert consent.signed_via == SignedVia.FAMILY_LINK and consent.signer_authority == "Mother"
    assert authorization.sensitive_initials == {"mental_health": "RL"}
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(document_bytes(authorization.document))).pages)
    assert "Autorización para compartir información de salud con una escuela (Nueva York)" in text
    assert "Rosa Lopez" in text and "203.0.113.7" in text and "no incluida" in text
    ferpa_text = PdfReader(io.BytesIO(document_bytes(ferpa.document))).pages[0].extract_text()
    assert "FERPA" in ferpa_text and "Maple Elementary" in ferpa_text


def test_staff_upload_a_paper_scan(patient, front_desk):
    authorization = _create(patient, front_desk)
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(picture, "PNG")
    scan = check_upload(picture.getvalue(), accept={IMAGE})
    with pytest.raises(actions.SchoolError, match="cannot be in the future"):
        actions.record_paper_authorization(actor=front_desk, authorization=authorization,
                                           guardian=patient.guardians.get(),
                                           signed_on=practice_today() + dt.timedelta(days=2), scan=scan)
    actions.record_paper_authorization(actor=front_desk, authorization=authorization,
                                       guardian=patient.guardians.get(), signed_on=practice_today(), scan=scan)
    authorization.refresh_from_db()
    assert authorization.signed_via == SignedVia.PAPER and authorization.document.content_type.startswith("image/")
    response = signed_in(front_desk).get(authorization.get_absolute_url() + "?document=1")
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"


def test_a_file_that_is_no_scan_is_refused_on_the_form(patient, front_desk):
    authorization = _create(patient, front_desk)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = signed_in(front_desk).post(
        f"/school-authorizations/{authorization.pk}/scan/",
        {"guardian": patient.guardians.get().pk, "signed_on": practice_today().isoformat(),
         "scan": SimpleUploadedFile("form.html", b"<html><script>alert(1)</script></html>")}, follow=True)
    assert response.status_code == 200
    authorization.refresh_from_db()
    assert authorization.state == ConsentState.DRAFT and authorization.document_id is None


def test_the_family_or_staff_revoke_and_the_renewal_task_comes_before_expiry(patient, front_desk, authorization):
    run_rules(practice=patient.practice, now=timezone.now())
    assert not Task.objects.filter(kind="school_authorization_renewal").exists()
    DisclosureAuthorization.objects.filter(pk=authorization.pk).update(
        expires_on=practice_today() + dt.timedelta(days=20))
    run_rules(practice=patient.practice, now=timezone.now())
    task = Task.objects.get(kind="school_authorization_renewal")
    assert "ends on" in task.reason and task.role == "front_desk"
    assert actions.revoke_authorization(actor="family link #1", authorization=authorization, reason="por carta")
    assert not actions.revoke_authorization(actor=front_desk, authorization=authorization)  # once
    assert authorization.state == ConsentState.REVOKED and authorization.revoked_by == "family link #1"
    run_rules(practice=patient.practice, now=timezone.now())
    task.refresh_from_db()
    assert not task.is_open  # nothing to renew once revoked
    assert AuditEvent.objects.filter(action="school_authorization_revoked").count() == 1


def test_ferpa_consent_needs_records_and_a_purpose(patient, front_desk):
    with pytest.raises(actions.SchoolError) as refused:
        actions.create_ferpa_consent(actor=front_desk, patient=patient, school=patient.school, records=[], purpose="")
    assert set(refused.value.message_dict) == {"records", "purpose"}
    assert not FerpaConsent.objects.exists()

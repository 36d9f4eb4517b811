"""The family's consents in a child's FHIR R4 export (Consent, checked against the R4B
models and the R4 JSON schema), and the school logs among the exports back, as CSV with
formula cells neutralised."""

import csv
import datetime as dt
import io

import pytest

from pedsdesk.audit.models import AuditEvent
from pedsdesk.interop.exports import export_file, reports
from pedsdesk.interop.fhir.export import patient_bundle
from pedsdesk.interop.fhir.validation import check
from pedsdesk.messaging.tests.helpers import deliver
from pedsdesk.schools import actions
from pedsdesk.schools.interop import consents
from pedsdesk.schools.tests.conftest import practice_today

pytestmark = pytest.mark.django_db


def _consents(bundle) -> dict[str, dict]:
    return {e["resource"]["id"]: e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Consent"}


def test_authorizations_and_ferpa_consents_are_valid_r4_consents_in_the_export(patient, front_desk, office_manager,
                                                                               authorization, contact):
    authorization.recipient_contacts.set([contact])
    ferpa = actions.create_ferpa_consent(actor=front_desk, patient=patient, school=patient.school,
                                         records=["iep", "evaluations"], purpose="Coordinate therapy")
    actions.sign_ferpa_consent(consent=ferpa, guardian=patient.guardians.get(), typed_name="Rosa Lopez", agreed=True)
    draft = actions.create_authorization(actor=front_desk, patient=patient, categories=["evaluations"],
                                         purpose="Evaluation for the district", recipient_district="Austin ISD",
                                         expiry_event="When Ava leaves the district")

    bundle = patient_bundle(patient=patient, actor=office_manager)  # raises if any resource is not R4
    found = _consents(bundle)
    assert set(found) == {f"school-authorization-{authorization.pk}", f"school-authorization-{draft.pk}",
                          f"ferpa-consent-{ferpa.pk}"}
    for resource in found.values():
        assert check(resource) == [], resource["id"]

    signed = found[f"school-authorization-{authorization.pk}"]
    assert signed["status"] == "active" and signed["policyRule"]["coding"][0]["code"] == "hipaa-auth"
    assert signed["performer"][0]["reference"] == f"RelatedPerson/{patient.guardians.get().pk}-{patient.pk}"
    assert signed["performer"][0]["reference"] in {f"RelatedPerson/{e['resource']['id']}" for e in bundle["entry"]
                                                   if e["resource"]["resourceType"] == "RelatedPerson"}
    provision = signed["provision"]
    assert provision["period"] == {"start": practice_today().isoformat(), "end": authorization.expires_on.isoformat()}
    assert [a["reference"]["display"] for a in provision["actor"]] == [
        "Maple Elementary", "Dana Whitfield (IEP case manager, Maple Elementary)"]
    assert {a["role"]["coding"][0]["code"] for a in provision["actor"]} == {"IRCP"}
    assert [c["code"] for c in provision["class"]] == ["progress_summaries", "meetings"]
    assert found[f"school-authorization-{draft.pk}"]["status"] == "proposed"

    school = found[f"ferpa-consent-{ferpa.pk}"]
    assert school["status"] == "active" and school["policy"][0]["uri"].endswith("section-99.30")
    assert [(a["role"]["coding"][0]["code"], a["reference"]["display"]) for a in school["provision"]["actor"]] == [
        ("CST", "Maple Elementary"), ("IRCP", patient.practice.name)]


def test_a_revoked_or_ended_authorization_is_inactive_and_says_when(patient, front_desk, authorization):
    actions.revoke_authorization(actor=front_desk, authorization=authorization, reason="letter")
    ended = actions.create_authorization(actor=front_desk, patient=patient, categories=["attendance"],
                                         purpose="Attendance letters", recipient_school=patient.school,
                                         expiry_event="End of the 2026-27 school year")
    actions.sign_authorization(authorization=ended, guardian=patient.guardians.get(), typed_name="Rosa Lopez",
                               agreed=True)
    actions.record_expiry_event(actor=front_desk, authorization=ended, happened_on=practice_today())
    found = {r["id"]: r for r in consents(patient=patient)}
    revoked = found[f"school-authorization-{authorization.pk}"]
    assert revoked["status"] == "inactive" and revoked["provision"]["period"]["end"] == practice_today().isoformat()
    assert any(e["url"].endswith("/revoked-at") for e in revoked["extension"])
    over = found[f"school-authorization-{ended.pk}"]
    assert over["status"] == "inactive" and over["provision"]["period"]["end"] == practice_today().isoformat()
    assert {"url": "https://pedsdesk.org/fhir/StructureDefinition/expiry-event",
            "valueString": "End of the 2026-27 school year"} in over["extension"]
    for resource in found.values():
        assert check(resource) == []


def _csv(practice, name, actor) -> list[dict]:
    text = export_file(practice=practice, name=name, file_format="csv", actor=actor).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_school_logs_export_as_csv_with_formulas_neutralised(smtp_sink, patient, front_desk, office_manager,
                                                                 therapist, authorization, signed_summary, contact):
    assert {"school-disclosures", "school-requests"} <= set(reports())
    contact.name = "=HYPERLINK(\"http://x.invalid\",\"click\")"
    contact.save()
    actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    deliver()
    today = practice_today()
    actions.create_request(actor=front_desk, patient=patient, requester="school", kind="progress_summary",
                           due_on=today - dt.timedelta(days=1), assignee=therapist, requested_by="+1+1 Ms. Park")
    patient.first_name = "@SUM(A1)"
    patient.save()

    [sent] = _csv(patient.practice, "school-disclosures", office_manager)
    assert sent["recipient"] == "'" + contact.name and sent["patient"] == "Lopez, @SUM(A1)"
    assert sent["purpose"] == authorization.purpose and sent["sent_by"] == front_desk.get_full_name()
    assert sent["status"].startswith("Sent") and sent["times_opened"] == "0"
    assert sent["date"] == today.isoformat()

    [request] = _csv(patient.practice, "school-requests", office_manager)
    assert request["requested_by"] == "'+1+1 Ms. Park" and request["overdue"] == "yes"
    assert request["state"] == "Open" and request["due"] == (today - dt.timedelta(days=1)).isoformat()
    assert AuditEvent.objects.filter(action="export", object_id__in=["school-disclosures",
                                                                     "school-requests"]).count() == 2

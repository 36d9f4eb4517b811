"""FHIR R4 in and out: the export passes both layers, bundles shaped as EMRs and payers
send them import, bad bundles are rejected exactly with nothing changed, and the demo
practice survives an export → import round trip."""

import copy
import datetime as dt
import json

import pytest
from django.core.management import call_command

from conftest import make_payer, make_practice, make_staff, next_weekday
from pedsdesk.audit.models import AuditEvent
from pedsdesk.authorizations.models import Authorization, Coverage
from pedsdesk.interop.fhir import registry
from pedsdesk.interop.fhir.export import META, ExportInvalid, care_plan, patient_bundle
from pedsdesk.interop.fhir.importing import import_bundle
from pedsdesk.interop.fhir.validation import check
from pedsdesk.interop.tests.conftest import snapshot
from pedsdesk.people.models import Guardian, GuardianOf, Patient, PlanOfCare
from pedsdesk.practices.models import StaffMember, TherapistProfile
from pedsdesk.scheduling.models import Appointment

pytestmark = pytest.mark.django_db


def test_the_export_is_stamped_4_0_1_every_resource_passes_both_layers_and_it_is_audited(patient, office_manager):
    bundle = patient_bundle(patient=patient, actor=office_manager)
    assert bundle["meta"] == META and META["tag"][0]["code"] == "4.0.1"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "RelatedPerson", "Coverage", "ClaimResponse", "CarePlan"]
    for entry in bundle["entry"]:
        assert check(entry["resource"]) == [], entry["resource"]["resourceType"]
    claim = bundle["entry"][3]["resource"]
    assert claim["use"] == "preauthorization" and claim["preAuthRef"].startswith("PA-OT-")
    assert claim["addItem"][0]["adjudication"][0]["value"] == 48
    event = AuditEvent.objects.get(action="export")
    assert event.patient_id == patient.pk and event.actor_id == office_manager.pk


def test_the_two_layers_each_catch_what_the_other_cannot():
    appointment = {"resourceType": "Appointment", "status": "bogus",
                   "participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}]}
    assert check(appointment) == [
        'Appointment.status: "bogus" is not one of the codes FHIR R4 allows (proposed, pending, booked, arrived, '
        "fulfilled, cancelled, noshow, entered-in-error, checked-in, waitlist)."]
    r5 = {**appointment, "status": "booked", "cancellationDate": "2026-01-01"}
    assert check(r5) == ["Appointment.cancellationDate is not an element of Appointment in FHIR R4 (an R5 field, "
                         "or a misspelling)."]
    assert check({"resourceType": "Patient", "birthDate": "2018-13-01"})[0].startswith("Patient.birthDate:")
    assert "Consent.scope: Field required." in check({"resourceType": "Consent", "status": "active"})


def test_other_apps_add_resources_through_the_registry_and_they_are_checked(patient, office_manager):
    @registry.fhir_resources("test.consents")
    def consents(*, patient):
        return [{"resourceType": "Consent", "id": "c1", "meta": META, "status": "inactive",
                 "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                       "code": "patient-privacy"}]},
                 "category": [{"coding": [{"system": "http://loinc.org", "code": "64292-6"}]}],
                 "patient": {"reference": f"Patient/{patient.pk}"},
                 "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                            "code": "hipaa-auth"}]}}]

    try:
        bundle = patient_bundle(patient=patient, actor=office_manager)
        assert bundle["entry"][-1]["resource"]["policyRule"]["coding"][0]["code"] == "hipaa-auth"
        registry._CONTRIBUTORS["test.consents"] = lambda *, patient: [{"resourceType": "Consent", "status": "x"}]
        with pytest.raises(Exception, match=r"Consent/None: .*Consent.scope: Field required"):
            patient_bundle(patient=patient, actor=office_manager)
        plan = patient.plans_of_care.get()
        registry._CONTRIBUTORS["test.consents"] = lambda *, patient: [
            {**care_plan(plan, patient.practice.local_now().date()), "title": "Home program"}]
        with pytest.raises(ExportInvalid, match=rf"CarePlan/plan-{plan.pk}: two resources have this type and id"):
            patient_bundle(patient=patient, actor=office_manager)
    finally:
        registry._CONTRIBUTORS.pop("test.consents")


def emr_bundle(day: dt.date) -> dict:
    """An EMR's collection: Patient, mother, Organization payer, Coverage, Practitioner,
    a ServiceRequest for speech 2x/week and one Appointment, with no pedsdesk extensions."""
    start = dt.datetime.combine(day, dt.time(16), tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:0b7d6a8e-1", "resource": {
            "resourceType": "Patient", "id": "p-77", "name": [{"family": "Ibarra", "given": ["Lucas"]}],
            "birthDate": "2019-06-03"}},
        {"resource": {"resourceType": "RelatedPerson", "id": "rp-1", "patient": {"reference": "urn:uuid:0b7d6a8e-1"},
                      "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                                    "code": "MTH"}]}],
                      "name": [{"family": "Ibarra", "given": ["Elena"]}],
                      "telecom": [{"system": "phone", "value": "(512) 555-0177"}],
                      "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es-MX"}]}}]}},
        {"resource": {"resourceType": "Organization", "id": "org-9", "name": "Lone Star Medicaid"}},
        {"resource": {"resourceType": "Practitioner", "id": "pr-3", "name": [{"family": "Tester", "given": ["Theo"]}]}},
        {"resource": {"resourceType": "Coverage", "id": "cov-1", "status": "active",
                      "beneficiary": {"reference": "Patient/p-77"}, "payor": [{"reference": "Organization/org-9"}],
                      "subscriberId": "TXM-4410", "period": {"start": "2026-09-01"}}},
        {"resource": {"resourceType": "ServiceRequest", "id": "sr-1", "status": "active", "intent": "order",
                      "subject": {"reference": "Patient/p-77"}, "performer": [{"reference": "Practitioner/pr-3"}],
                      "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "97530"}]},
                      "occurrenceTiming": {"repeat": {"boundsPeriod": {"start": "2026-09-01", "end": "2027-02-28"},
                                                      "frequency": 2, "period": 1, "periodUnit": "wk",
                                                      "duration": 45, "durationUnit": "min"}}}},
        {"resource": {"resourceType": "Appointment", "id": "ap-1", "status": "booked",
                      "start": start.isoformat(), "end": (start + dt.timedelta(minutes=45)).isoformat(),
                      "participant": [{"actor": {"reference": "Patient/p-77"}, "status": "accepted"},
                                      {"actor": {"reference": "Practitioner/pr-3"}, "status": "accepted"}]}},
    ]}


def payer_bundle() -> dict:
    """A payer's transaction: the pre-authorization decision, units per code, no extensions."""
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:cr-1", "request": {"method": "POST", "url": "ClaimResponse"}, "resource": {
            "resourceType": "ClaimResponse", "id": "cr-1", "status": "active", "use": "preauthorization",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                                 "code": "professional"}]},
            "patient": {"reference": "Patient/p-77"}, "created": "2026-11-20",
            "insurer": {"display": "Lone Star Medicaid"},
            "outcome": "partial", "preAuthRef": "LSM-2026-118842",
            "preAuthPeriod": {"start": "2026-12-01", "end": "2027-05-31"},
            "item": [{"itemSequence": 1, "adjudication": [
                {"category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication",
                                          "code": "eligible"}]}, "value": 24}]}],
            "addItem": [{"productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt",
                                                          "code": "92507"}]},
                         "adjudication": [{"category": {"coding": [
                             {"system": "http://terminology.hl7.org/CodeSystem/adjudication", "code": "eligible"}]},
                             "value": 36}]}]}},
    ]}


def test_bundles_shaped_as_an_emr_and_a_payer_send_them(practice, staff, office_manager,
                                                        django_capture_on_commit_callbacks):
    make_payer(practice, "Lone Star Medicaid")
    bundle = emr_bundle(next_weekday(1))
    with django_capture_on_commit_callbacks(execute=True):
        report = import_bundle(practice=practice, bundle=bundle, actor=office_manager, dry_run=False)
    assert not report.problems, report.problems
    assert report.counts["created"] == 5
    lucas = Patient.objects.get(first_name="Lucas")
    elena = Guardian.objects.get(first_name="Elena")
    assert elena.language == "es" and GuardianOf.objects.get(guardian=elena).relationship == "mother"
    assert Coverage.objects.get(patient=lucas).payer.name == "Lone Star Medicaid"
    plan = PlanOfCare.objects.get(patient=lucas)
    assert (plan.discipline, plan.frequency_per_week, plan.minutes) == ("OT", 2, 45)
    visit = Appointment.objects.get(patient=lucas)
    assert visit.therapist == staff["therapist"] and visit.plan_of_care == plan and visit.local_start.hour == 16
    again = import_bundle(practice=practice, bundle=bundle, actor=office_manager, dry_run=False)
    assert again.counts["unchanged"] == 5 and again.counts["created"] == 0

    report = import_bundle(practice=practice, bundle=payer_bundle(), actor=office_manager, dry_run=False)
    assert not report.problems, report.problems
    auth = Authorization.objects.get(number="LSM-2026-118842")
    assert auth.status == "partially_approved" and auth.discipline == "SLP"  # told from 92507
    assert sorted(line.quantity for line in auth.lines.all()) == [24, 36]


def rejections(practice, actor, bundle):
    before = snapshot()
    report = import_bundle(practice=practice, bundle=bundle, actor=actor, dry_run=False)
    assert snapshot() == before and not report.applied
    return [(p.row, p.column, p.message) for p in report.problems]


def test_bad_bundles_are_rejected_exactly_and_nothing_changes(practice, staff, office_manager):
    make_payer(practice, "Lone Star Medicaid")
    bundle = emr_bundle(next_weekday(1))
    unknown = copy.deepcopy(bundle)
    unknown["entry"].append({"resource": {"resourceType": "Frobnication", "id": "x"}})
    assert rejections(practice, office_manager, unknown) == [
        (8, "Bundle.entry.resource", '"Frobnication" is not a FHIR R4 resource type; remove the entry or fix its '
                                     "resourceType.")]
    wrong_reference = copy.deepcopy(bundle)
    wrong_reference["entry"][6]["resource"]["participant"][0]["actor"]["reference"] = "Patient/p-99"
    assert rejections(practice, office_manager, wrong_reference) == [
        (7, "Appointment.participant[0].actor", "Appointment.participant[0].actor references Patient/p-99, which is "
                                                "not in the bundle (and pedsdesk has no Patient with that id from "
                                                "earlier imports).")]
    wrong_type = copy.deepcopy(bundle)
    wrong_type["entry"][4]["resource"]["beneficiary"] = {"reference": "Organization/org-9"}
    assert rejections(practice, office_manager, wrong_type)[0] == (
        5, "Coverage.beneficiary", "Coverage.beneficiary points at Organization/org-9, a Organization; it must "
                                   "reference a Patient.")
    bad_code = copy.deepcopy(bundle)
    bad_code["entry"][6]["resource"]["status"] = "confirmed"
    assert rejections(practice, office_manager, bad_code) == [
        (7, "Appointment.status", 'Appointment.status: "confirmed" is not one of the codes FHIR R4 allows (proposed, '
                                  "pending, booked, arrived, fulfilled, cancelled, noshow, entered-in-error, "
                                  "checked-in, waitlist).")]
    r5 = copy.deepcopy(bundle)
    r5["entry"][6]["resource"]["cancellationDate"] = "2026-12-01"
    assert rejections(practice, office_manager, r5) == [
        (7, "Appointment.cancellationDate", "Appointment.cancellationDate is not an element of Appointment in FHIR R4 "
                                            "(an R5 field, or a misspelling).")]
    claim = payer_bundle()
    claim["entry"][0]["resource"]["use"] = "claim"
    assert rejections(practice, office_manager, claim) == [
        (1, "ClaimResponse.use", 'ClaimResponse.use is "claim"; pedsdesk imports only preauthorization.')]
    assert rejections(practice, office_manager, {"resourceType": "Bundle", "type": "searchset"}) == [
        (0, "Bundle.type", 'A Bundle of type "searchset" cannot be imported; send a collection or a transaction.')]


def test_the_command_imports_a_bundle_file_and_exports_one(practice, staff, office_manager, tmp_path, capsys):
    make_payer(practice, "Lone Star Medicaid")
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(emr_bundle(next_weekday(1))))
    call_command("import", "fhir", str(path))
    assert "Applied: FHIR R4 Bundle" in capsys.readouterr().out
    lucas = Patient.objects.get(first_name="Lucas")
    call_command("export", "fhir", "--patient", str(lucas.pk))
    exported = json.loads(capsys.readouterr().out)
    assert [e["resource"]["resourceType"] for e in exported["entry"]][:3] == ["Patient", "RelatedPerson", "Coverage"]
    path.write_text("{not json")
    with pytest.raises(SystemExit) as exit_:
        call_command("import", "fhir", str(path))
    assert exit_.value.code == 2
    assert "rejected file: The file is not FHIR JSON" in capsys.readouterr().out


def test_the_command_answers_a_bundles_unknown_payer_with_map(practice, staff, office_manager, tmp_path, capsys):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(emr_bundle(next_weekday(1))))
    before = snapshot()
    with pytest.raises(SystemExit) as exit_:
        call_command("import", "fhir", str(path))
    assert exit_.value.code == 2 and snapshot() == before
    assert "is not one of this practice's payers: map it to an existing one or create it." in capsys.readouterr().out
    call_command("import", "fhir", str(path), "--map", 'payer:"Lone Star Medicaid"=create')
    assert "Applied: FHIR R4 Bundle" in capsys.readouterr().out
    assert Coverage.objects.get(patient__first_name="Lucas").payer.name == "Lone Star Medicaid"


def _state(practice):
    """The practice's records in words, to compare two practices."""
    name = {p.pk: f"{p.first_name} {p.last_name} {p.date_of_birth}" for p in Patient.objects.filter(practice=practice)}
    return {
        "patients": sorted(name.values()),
        "guardians": sorted((g.first_name, g.last_name, g.phone, g.email, g.language,
                             tuple(sorted((name[link.patient_id], link.relationship) for link in g.children.all())))
                            for g in Guardian.objects.filter(practice=practice).prefetch_related("children")),
        "coverages": sorted((name[c.patient_id], c.payer.name, c.member_id, c.priority, c.start_date, c.end_date,
                             c.group_number) for c in Coverage.objects.filter(patient__practice=practice)),
        "authorizations": sorted((name[a.coverage.patient_id], a.number, a.discipline, a.start_date, a.end_date,
                                  a.status, tuple(sorted((tuple(line.cpt_codes), line.modifier, line.unit_type,
                                                          line.quantity, line.per_week_cap, line.per_month_cap)
                                                         for line in a.lines.all())))
                                 for a in Authorization.objects.filter(coverage__patient__practice=practice)),
        "appointments": sorted((name[a.patient_id], a.therapist.get_full_name(), a.start_at, a.end_at, a.status,
                                a.kind, a.cancel_reason)
                               for a in Appointment.objects.filter(practice=practice, patient__isnull=False)
                               .select_related("therapist")),
    }


def test_the_demo_practice_survives_a_round_trip_through_fhir(django_capture_on_commit_callbacks):
    from pedsdesk.demo.generator import seed_demo

    demo = seed_demo(size="small", seed=11, simulate_week=False).practice
    entries = []
    for patient in Patient.objects.filter(practice=demo):
        entries += patient_bundle(patient=patient, actor="test")["entry"]
    copy_practice = make_practice("Round Trip Therapy", npi="1245319599")
    for member in StaffMember.objects.filter(practice=demo, therapist_profile__isnull=False):
        twin = make_staff(copy_practice, f"rt-{member.username}", "therapist",
                          discipline=member.therapist_profile.discipline)
        StaffMember.objects.filter(pk=twin.pk).update(first_name=member.first_name, last_name=member.last_name)
        TherapistProfile.objects.filter(staff_member=twin).update(discipline=member.therapist_profile.discipline)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    dry = import_bundle(practice=copy_practice, bundle=bundle, actor="test", dry_run=True)
    assert {p.message.split(":")[0] for p in dry.problems} <= {p.message.split(":")[0] for p in dry.problems
                                                              if "payers" in p.message}
    payers = {name: "create" for name in dry.unknown["payer"]}
    with django_capture_on_commit_callbacks(execute=True):
        report = import_bundle(practice=copy_practice, bundle=bundle, actor="test", dry_run=False,
                               resolutions={"payer": payers})
    assert not report.problems, report.problems[:5]
    original, copied = _state(demo), _state(copy_practice)
    for key in original:
        assert copied[key] == original[key], key
    assert len(original["appointments"]) > 100 and len(original["authorizations"]) > 10

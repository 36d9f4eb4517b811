"""Home programs in the hand-back: each version as a FHIR R4 CarePlan in the child's
export, checked the way interop checks its own (fhir.resources' R4B models and HL7's R4
JSON schema), skipped by the importer; and the program log as CSV/XLSX with formula
cells neutralised."""

import csv
import io

import openpyxl
import pytest

from pedsdesk.audit.models import AuditEvent
from pedsdesk.hep.actions import ItemInput, save_version
from pedsdesk.hep.models import Feedback
from pedsdesk.hep.tests.conftest import starter
from pedsdesk.interop.exports import export_file, reports
from pedsdesk.interop.fhir.export import patient_bundle
from pedsdesk.interop.fhir.importing import import_bundle
from pedsdesk.interop.fhir.validation import check, model_problems, schema_problems

pytestmark = pytest.mark.django_db

# http://hl7.org/fhir/R4/valueset-request-status.html and valueset-care-plan-intent.html
R4_CARE_PLAN_STATUS = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
R4_CARE_PLAN_INTENT = {"proposal", "plan", "order", "option"}


@pytest.fixture
def history(send_program, therapist, patient, any_hour):
    """Version 1 sent and answered (3 of 5 days), version 2 sent, version 3 saved and not sent."""
    first, (delivery,) = send_program("ot-playdough-pinch", "ot-zipper-coat")
    Feedback.objects.create(practice=patient.practice, version=first, guardian=delivery.guardian, patient=patient,
                            form_id="a", days_practised=3, days_prescribed=5, window_start=first.created_at,
                            question="=HYPERLINK(\"http://evil.example\",\"click\")")
    second, _ = send_program("pt-bridges", note="")
    third = save_version(actor=therapist, patient=patient, note="Try it after bath time",
                         items=[ItemInput(starter("pt-bridges").pk, repetitions=10, sets=2, minutes=5,
                                          days_per_week=4)])
    return first, second, third


def test_every_version_is_a_valid_r4_care_plan_in_the_childs_export(history, patient, office_manager):
    first = history[0]
    bundle = patient_bundle(patient=patient, actor=office_manager)
    plans = [e["resource"] for e in bundle["entry"] if e["resource"]["id"].startswith("hep-")]
    assert [p["id"] for p in plans] == [f"hep-{v.pk}" for v in history]
    for plan in plans:
        assert model_problems(plan) == [] and schema_problems(plan) == [] and check(plan) == []
        assert plan["category"][0]["coding"][0]["code"] == "home-program"
        assert plan["subject"] == {"reference": f"Patient/{patient.pk}"}
    assert [p["status"] for p in plans] == ["completed", "completed", "draft"]
    assert plans[0]["extension"][1]["valueDecimal"] == 0.6 and "end" in plans[0]["period"]
    assert plans[1]["replaces"] == [{"reference": f"CarePlan/hep-{first.pk}"}]
    detail = plans[2]["activity"][0]["detail"]
    assert detail["code"]["text"] == "Bridges" and detail["status"] == "not-started"
    assert detail["scheduledTiming"]["repeat"] == {"frequency": 4, "period": 1, "periodUnit": "wk", "duration": 5,
                                                   "durationUnit": "min"}
    assert detail["quantity"] == {"value": 10, "unit": "repetitions"}
    assert plans[2]["note"] == [{"text": "Try it after bath time"}]


def test_a_bad_care_plan_would_be_caught_by_the_checks(history, patient):
    from pedsdesk.hep.exports import home_program_care_plans

    plan = home_program_care_plans(patient=patient)[0]
    bad_detail = {**plan["activity"][0]["detail"], "status": "done"}
    assert "is not one of the codes FHIR R4 allows" in " ".join(check({**plan, "activity": [{"detail": bad_detail}]}))
    assert any("intent" in problem for problem in check({k: v for k, v in plan.items() if k != "intent"}))
    # The vendored schema has no enum for CarePlan.status and .intent: the codes are checked here.
    for resource in home_program_care_plans(patient=patient):
        assert resource["status"] in R4_CARE_PLAN_STATUS and resource["intent"] in R4_CARE_PLAN_INTENT


def test_the_importer_skips_home_programs_as_not_plans_of_care(history, patient, office_manager, other_practice):
    bundle = patient_bundle(patient=patient, actor=office_manager)
    report = import_bundle(practice=other_practice, bundle=bundle, actor="test", dry_run=True)
    assert sum("not a plan of care (home-program)" in note for note in report.notes) == 3


def test_the_program_log_is_registered_and_neutralises_formula_cells(history, practice, patient, office_manager):
    assert reports()["home-programs"].title == "Home program log"
    patient.last_name = "@SUM(1+1)"
    patient.save()
    rows = list(csv.DictReader(io.StringIO(export_file(practice=practice, name="home-programs", file_format="csv",
                                                       actor=office_manager).decode("utf-8-sig"))))
    events = [(r["event"], r["program_version"]) for r in rows]
    assert events.count(("program sent", "1")) == 1 and events.count(("program sent", "2")) == 1
    assert ("program sent", "3") not in events  # saved, never sent
    answer = next(r for r in rows if r["event"] == "family answered")
    assert answer["question"].startswith("'=HYPERLINK(") and answer["adherence"] == "0.6"
    assert all(r["patient"] == "'@SUM(1+1), Ava" for r in rows)
    sent = next(r for r in rows if r["event"] == "program sent" and r["program_version"] == "1")
    assert sent["activities"] == "Play dough pinch and roll; Zip the coat"
    workbook = openpyxl.load_workbook(io.BytesIO(export_file(practice=practice, name="home-programs",
                                                             file_format="xlsx", actor=office_manager)))
    questions = [c.value for c in workbook.active["M"][1:] if c.value]
    assert questions == ["'=HYPERLINK(\"http://evil.example\",\"click\")"]
    assert AuditEvent.objects.filter(action="export", object_id="home-programs").count() == 2


def test_the_log_is_the_practices_own(history, other_practice, outsider):
    columns, rows = reports()["home-programs"].build(practice=other_practice, since=other_practice.local_now().date(),
                                                     today=other_practice.local_now().date())
    assert rows == [] and columns[0] == "date"

"""Each preset's sample file imports, a second import changes nothing, and unknown
therapists and payers are offered as create or map."""

import pytest

from pedsdesk.authorizations.models import Authorization, Coverage, Payer
from pedsdesk.interop.actions import run_import
from pedsdesk.interop.mapping import presets
from pedsdesk.interop.models import ExternalId, ImportRun
from pedsdesk.interop.tests.conftest import SAMPLES, snapshot
from pedsdesk.people.models import Guardian, Patient
from pedsdesk.scheduling.models import Appointment

pytestmark = pytest.mark.django_db


def load(practice, preset, actor, dry_run=False, resolutions=None, path=None):
    return run_import(practice=practice, mapping=presets()[preset], path=str(path or SAMPLES / f"{preset}.csv"),
                      actor=actor, dry_run=dry_run, resolutions=resolutions)


def test_webpt_patients_dry_run_changes_nothing_then_applies(practice, office_manager):
    before = snapshot()
    run, report = load(practice, "webpt-patients", office_manager, dry_run=True)
    assert report.counts == {"created": 3, "updated": 0, "unchanged": 0, "withdrawn": 0, "rejected": 0}
    assert not report.problems and run.status == ImportRun.Status.CLEAN
    assert snapshot() == before
    run, report = load(practice, "webpt-patients", office_manager)
    assert run.status == ImportRun.Status.APPLIED and report.counts["created"] == 3
    mateo = Patient.objects.get(last_name="Muñoz")
    assert str(mateo.date_of_birth) == "2018-03-14"
    lucia = Guardian.objects.get(first_name="Lucía")
    assert lucia.language == "es" and lucia.phone == "+15125550147" and lucia.children.get().relationship == "mother"
    assert Guardian.objects.get(first_name="Grace").preferred_channel == "email"
    _, again = load(practice, "webpt-patients", office_manager)
    assert again.counts["unchanged"] == 3 and again.counts["created"] == again.counts["updated"] == 0


def test_therabill_clients_in_windows_1252_with_an_excel_serial_date(practice, office_manager):
    _, report = load(practice, "therabill-clients", office_manager)
    assert not report.problems, report.problems
    assert "Read as Windows-1252 (it is not UTF-8)." in report.notes
    assert Patient.objects.get(first_name="Sofía").last_name == "Peña"
    assert str(Patient.objects.get(first_name="Sofía").date_of_birth) == "2023-07-16"
    assert Patient.objects.get(first_name="Noah").last_name == "Schäfer"


def test_webpt_scheduled_visits_need_the_therapist_mapped_first(practice, office_manager, dana):
    load(practice, "webpt-patients", office_manager)
    Patient.objects.update()  # the patients exist now
    before = snapshot()
    _, report = load(practice, "webpt-scheduled-visits", office_manager, dry_run=True)
    # Dana Whitfield is Dana's full name: matched without asking.
    assert not report.problems, report.problems
    assert report.counts["created"] == 6
    assert snapshot() == before
    _, report = load(practice, "webpt-scheduled-visits", office_manager)
    visits = {a.status for a in Appointment.objects.all()}
    assert visits == {"completed", "no_show", "cancelled", "booked", "confirmed"}
    future = Appointment.objects.filter(status__in=["booked", "confirmed"])
    assert future.count() == 3 and all(a.override_reason == "Booked in WebPT" for a in future)
    assert Appointment.objects.get(kind="evaluation").status == "completed"
    _, again = load(practice, "webpt-scheduled-visits", office_manager)
    assert again.counts["unchanged"] == 6 and again.counts["created"] == 0


def test_an_unknown_therapist_is_offered_as_map_or_create(practice, office_manager, therapist):
    load(practice, "webpt-patients", office_manager)
    before = snapshot()
    _, report = load(practice, "webpt-extract-appointments", office_manager)
    assert report.unknown["therapist"] == {"T17": [2, 3, 4, 5]}
    assert [p.message for p in report.problems if p.row == 2] == [
        '"T17" is not one of this practice\'s therapists: map it to an existing one or create it.']
    assert report.problems[0].column == 'I "therapist_id"'
    assert snapshot() == before
    _, report = load(practice, "webpt-extract-appointments", office_manager,
                     resolutions={"therapist": {"T17": str(therapist.pk)}})
    assert not report.problems, report.problems
    assert Appointment.objects.filter(therapist=therapist).count() == 4
    assert ExternalId.objects.get(record_type="therapist", external_id="T17").object_id == therapist.pk
    # The quoted newline in visit_comment did not split the row.
    assert report.rows == 4


def test_a_therapist_can_be_created_from_the_import(practice, office_manager):
    load(practice, "webpt-patients", office_manager)
    _, report = load(practice, "webpt-extract-appointments", office_manager,
                     resolutions={"therapist": {"T17": "create:PT"}})
    assert not report.problems, report.problems
    created = Appointment.objects.first().therapist
    assert created.therapist_profile.discipline == "PT" and not created.is_active


def test_webpt_extract_authorizations_create_payers_only_when_told(practice, office_manager):
    load(practice, "webpt-patients", office_manager)
    _, report = load(practice, "webpt-extract-authorizations", office_manager)
    assert set(report.unknown["payer"]) == {"Lone Star Medicaid", "Blue Shield Texas"}
    assert not Authorization.objects.exists()
    _, report = load(practice, "webpt-extract-authorizations", office_manager, resolutions={
        "payer": {"Lone Star Medicaid": "create", "Blue Shield Texas": "create"}})
    assert not report.problems, report.problems
    auth = Authorization.objects.get(number="PA2026-0091")
    assert auth.discipline == "PT" and auth.status == "approved"
    line = auth.lines.get()
    assert line.quantity == 24 and line.unit_type == "visits" and "97110" in line.cpt_codes
    assert Authorization.objects.get(number="PA2026-0107").status == "expired"
    assert Coverage.objects.get(member_id="BST99812").payer.name == "Blue Shield Texas"
    _, again = load(practice, "webpt-extract-authorizations", office_manager)
    assert again.counts["unchanged"] == 3


def test_webpt_analytics_authorizations_match_existing_payers(practice, office_manager):
    load(practice, "webpt-patients", office_manager)
    Payer.objects.create(practice=practice, name="Lone Star Medicaid", payer_type="medicaid_mco")
    Payer.objects.create(practice=practice, name="Blue Shield Texas", payer_type="commercial")
    _, report = load(practice, "webpt-analytics-authorizations", office_manager)
    assert not report.problems, report.problems
    assert Authorization.objects.get(number="BCX-55120").lines.get().quantity == 12


def test_therabill_sessions_with_semicolons_and_session_classes(practice, office_manager, dana):
    load(practice, "therabill-clients", office_manager)
    _, report = load(practice, "therabill-sessions", office_manager)
    assert not report.problems, report.problems
    assert "Columns separated by semicolon." in report.notes
    statuses = sorted(Appointment.objects.values_list("status", flat=True))
    assert statuses == ["completed", "confirmed", "late_cancel", "no_show"]
    late = Appointment.objects.get(status="late_cancel")
    assert late.cancel_reason == "Late Cancel" and late.minutes == 60


def test_theralytics_authorization_lines_with_per_period_caps(practice, office_manager):
    load(practice, "theralytics-clients", office_manager)
    Payer.objects.create(practice=practice, name="Lone Star Medicaid", payer_type="medicaid_mco")
    _, report = load(practice, "theralytics-authorizations", office_manager)
    assert not report.problems, report.problems
    auth = Authorization.objects.get(number="SP-448812")
    assert auth.discipline == "SLP" and auth.notes == "Speech fall term"
    lines = {tuple(line.cpt_codes): line for line in auth.lines.all()}
    assert lines[("92507",)].quantity == 48 and lines[("92507",)].per_week_cap == 2
    assert lines[("92507",)].modifier == "GN" and lines[("92507",)].unit_type == "units"
    assert lines[("92523",)].per_month_cap == 1


def test_every_preset_has_a_sample_file():
    missing = [name for name in presets() if not (SAMPLES / f"{name}.csv").exists()]
    assert missing == []


def test_the_generic_templates_import_their_samples_in_order(practice, office_manager, dana):
    for preset in ("generic-staff", "generic-patients", "generic-coverages", "generic-authorizations",
                   "generic-plans-of-care", "generic-appointments"):
        resolutions = {"payer": {"Lone Star Medicaid": "create", "Blue Shield Texas": "create"}}
        _, report = load(practice, preset, office_manager, resolutions=resolutions)
        assert not report.problems, (preset, report.problems)
        assert report.applied
    maya = Patient.objects.get(first_name="Maya")
    auth = Authorization.objects.get(number="LSM-55")
    assert sorted(line.quantity for line in auth.lines.all()) == [24, 96]
    assert auth.lines.get(quantity=96).per_week_cap == 8 and auth.lines.get(quantity=24).per_month_cap == 8
    plan = maya.plans_of_care.get()
    assert plan.goal_list == ["Buttons her coat", "Writes her first name"] and plan.frequency_per_week == 2
    visits = {a.status: a for a in Appointment.objects.filter(patient=maya)}
    assert set(visits) == {"completed", "cancelled", "booked"}
    assert visits["booked"].plan_of_care == plan and visits["cancelled"].cancel_reason == "Sick"

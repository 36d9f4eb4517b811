"""The daily schedule import goes through the actions staff use: a re-import changes
nothing; a moved visit moves; a cancelled one becomes an opening with offers; a removed
one (export_flag 3) is withdrawn the same way."""

import datetime as dt

import pytest
from django.core.management import call_command

from conftest import make_authorization, make_coverage, make_guardian, make_patient, make_payer, next_weekday
from pedsdesk.interop.actions import run_import
from pedsdesk.interop.mapping import presets
from pedsdesk.interop.models import ExternalId
from pedsdesk.messaging.models import Message
from pedsdesk.people.models import PlanOfCare, PlanOfCareService
from pedsdesk.scheduling.models import Appointment, Offer, Opening

pytestmark = pytest.mark.django_db

HEADER = "Appointment ID,Patient ID,Treating Therapist,Appointment Date,Start Time,Visit Status"


@pytest.fixture
def caseload(practice, patient, working_week):
    """Ava (W1) and Ben (W2, 1x/week, not booked), both known to WebPT."""
    ben = make_patient(practice, "Ben", "Family", school=practice.schools.first(), grade="3")
    make_guardian(ben, first="Ben-mom", phone="+15125550111")
    make_authorization(make_coverage(ben, make_payer(practice, name="Payer Ben")))
    plan = PlanOfCare.objects.create(patient=ben, discipline="OT", therapist=working_week, frequency_per_week=1,
                                     minutes=45, start_date=dt.date(2026, 9, 1), end_date=dt.date(2027, 2, 28),
                                     goals="Ties shoes")
    PlanOfCareService.objects.create(plan_of_care=plan, cpt_code="97530", units=3)
    for external_id, child in (("W1", patient), ("W2", ben)):
        ExternalId.objects.create(practice=practice, source="webpt", record_type="patients",
                                  external_id=external_id, object_id=child.pk)
    return {"ava": patient, "ben": ben}


def schedule(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return str(path)


def day(weekday):
    return next_weekday(weekday).strftime("%m/%d/%Y")


def test_reimport_changes_nothing_then_a_move_and_a_cancellation_go_through_the_schedule(
        practice, caseload, office_manager, tmp_path, django_capture_on_commit_callbacks):
    mapping = presets()["webpt-scheduled-visits"]
    first = schedule(tmp_path, "monday.csv", [f"A1,W1,Theo Tester,{day(1)},4:00 PM,Scheduled",
                                              f"A2,W1,Theo Tester,{day(3)},4:00 PM,Confirmed"])
    with django_capture_on_commit_callbacks(execute=True):
        _, report = run_import(practice=practice, mapping=mapping, path=first, actor=office_manager, dry_run=False)
    assert not report.problems, report.problems
    tuesday, thursday = Appointment.objects.order_by("start_at")
    assert tuesday.plan_of_care == caseload["ava"].plans_of_care.get() and thursday.status == "confirmed"
    before = list(Appointment.objects.values_list("pk", "start_at", "status", "sequence").order_by("pk"))

    with django_capture_on_commit_callbacks(execute=True):
        _, again = run_import(practice=practice, mapping=mapping, path=first, actor=office_manager, dry_run=False)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "withdrawn": 0, "rejected": 0}
    assert list(Appointment.objects.values_list("pk", "start_at", "status", "sequence").order_by("pk")) == before

    second = schedule(tmp_path, "tuesday.csv", [f"A1,W1,Theo Tester,{day(1)},5:00 PM,Scheduled",
                                                f"A2,W1,Theo Tester,{day(3)},4:00 PM,Canceled"])
    _, dry = run_import(practice=practice, mapping=mapping, path=second, actor=office_manager, dry_run=True)
    assert dry.counts["updated"] == 2 and not Opening.objects.exists()
    assert [(c["row"], c["change"], c["patient"]) for c in dry.changes] == [
        (2, "moved", "Ava L."), (3, "cancelled: becomes an opening", "Ava L.")]
    assert dry.changes[0]["was"].endswith("4:00 PM") and dry.changes[0]["when"].endswith("5:00 PM")
    with django_capture_on_commit_callbacks(execute=True):
        _, report = run_import(practice=practice, mapping=mapping, path=second, actor=office_manager, dry_run=False)
    assert report.counts == {"created": 0, "updated": 2, "unchanged": 0, "withdrawn": 0, "rejected": 0}
    tuesday.refresh_from_db()
    thursday.refresh_from_db()
    assert tuesday.local_start.hour == 17 and tuesday.sequence == 1 and tuesday.status == "booked"
    assert thursday.status == "cancelled" and thursday.cancel_reason == "Cancelled in WebPT"
    opening = Opening.objects.get(freed_by=thursday, source="cancellation")
    offer = Offer.objects.get(opening=opening)
    assert offer.patient == caseload["ben"]
    assert Message.objects.filter(kind="opening_offer", guardian__children__patient=caseload["ben"]).exists()


def test_export_flag_3_withdraws_a_visit_as_staff_would(practice, caseload, office_manager, tmp_path,
                                                        django_capture_on_commit_callbacks):
    header = "appointmnet_id,patient_id,therapist_id,start_date,end_date,appointment_status,export_flag"
    start = dt.datetime.combine(next_weekday(2), dt.time(16))
    end = start + dt.timedelta(minutes=45)
    path = tmp_path / "extract.csv"
    path.write_text(f"{header}\n77,W1,Theo Tester,{start:%Y-%m-%d %H:%M:%S},{end:%Y-%m-%d %H:%M:%S},Active,1\n")
    mapping = presets()["webpt-extract-appointments"]
    with django_capture_on_commit_callbacks(execute=True):
        run_import(practice=practice, mapping=mapping, path=str(path), actor=office_manager, dry_run=False)
    visit = Appointment.objects.get()
    path.write_text(f"{header}\n77,W1,Theo Tester,{start:%Y-%m-%d %H:%M:%S},{end:%Y-%m-%d %H:%M:%S},Active,3\n")
    with django_capture_on_commit_callbacks(execute=True):
        _, report = run_import(practice=practice, mapping=mapping, path=str(path), actor=office_manager,
                               dry_run=False)
    assert report.counts["withdrawn"] == 1
    visit.refresh_from_db()
    assert visit.status == "cancelled" and visit.cancelled_by == "clinic" and visit.cancel_reason == "Removed in WebPT"
    # As if the front desk had pressed Cancel: the time is offered to Ben, who has a visit to make up.
    opening = Opening.objects.get(freed_by=visit, source="cancellation")
    assert Offer.objects.get(opening=opening).patient == caseload["ben"]
    assert Message.objects.filter(kind="opening_offer", guardian__children__patient=caseload["ben"]).exists()


def test_the_command_exits_2_with_rejections_and_0_when_clean(practice, caseload, tmp_path, capsys):
    bad = schedule(tmp_path, "bad.csv", [f"A1,W1,Nobody Known,{day(1)},4:00 PM,Scheduled"])
    with pytest.raises(SystemExit) as exit_:
        call_command("import", "webpt-scheduled-visits", bad, "--dry-run")
    assert exit_.value.code == 2
    out = capsys.readouterr().out
    assert 'rejected row 2, C "Treating Therapist": "Nobody Known" is not one of this practice\'s therapists' in out
    assert 'unknown therapist "Nobody Known" (rows 2): answer with --map therapist:"Nobody Known"=ID' in out
    good = schedule(tmp_path, "good.csv", [f"A1,W1,Theo Tester,{day(1)},4:00 PM,Scheduled"])
    call_command("import", "webpt-scheduled-visits", good, "--format", "json")
    import json

    result = json.loads(capsys.readouterr().out)
    assert result["applied"] and result["counts"]["created"] == 1 and result["rejections"] == []
    assert Appointment.objects.count() == 1


def test_imported_history_counts_on_the_authorizations_board(practice, caseload, office_manager, tmp_path,
                                                              django_capture_on_commit_callbacks):
    from pedsdesk.authorizations.figures import refresh_practice
    from pedsdesk.authorizations.models import AuthorizationFigures

    refresh_practice(practice)
    figures = AuthorizationFigures.objects.get(authorization__coverage__patient=caseload["ava"])
    used = figures.used
    last_week = (next_weekday(1) - dt.timedelta(days=7)).strftime("%m/%d/%Y")
    path = schedule(tmp_path, "history.csv", [f"H1,W1,Theo Tester,{last_week},4:00 PM,Checked Out"])
    with django_capture_on_commit_callbacks(execute=True):
        _, report = run_import(practice=practice, mapping=presets()["webpt-scheduled-visits"], path=path,
                               actor=office_manager, dry_run=False)
    assert not report.problems, report.problems
    figures.refresh_from_db()
    assert figures.used > used  # the visit the EMR recorded is on the board, not only in the chart

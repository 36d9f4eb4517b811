"""The Imports page as the office manager uses it, and the daily folder import."""

import pytest
from django.urls import reverse

from pedsdesk.audit.models import AuditEvent
from pedsdesk.interop.models import ImportFolder, ImportRun, SavedMapping
from pedsdesk.interop.tasks import import_folders
from pedsdesk.interop.tests.conftest import SAMPLES, snapshot
from pedsdesk.people.models import Patient
from pedsdesk.scheduling.models import Appointment
from pedsdesk.workqueue.models import Task

pytestmark = pytest.mark.django_db


def upload(client, name, content, mapping):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("imports"), {"mapping": mapping, "file": SimpleUploadedFile(name, content)})


def uploaded(client, capture, preset: str) -> ImportRun:
    """Upload a preset's sample file on the page (the worker runs on commit): the run it made."""
    with capture(execute=True):
        upload(client, f"{preset}.csv", (SAMPLES / f"{preset}.csv").read_bytes(), preset)
    return ImportRun.objects.latest("pk")


def pressed(client, capture, run: ImportRun, mode: str, **answers: str) -> ImportRun:
    """Press "Check again" (check) or "Apply this import" (apply) with answers for unknown names."""
    with capture(execute=True):
        client.post(reverse("import_run_apply", args=[run.pk]), {"mode": mode, **answers})
    return ImportRun.objects.latest("pk")


def test_upload_dry_run_then_apply(office_manager, client_for, django_capture_on_commit_callbacks):
    client = client_for(office_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "patients.csv", (SAMPLES / "webpt-patients.csv").read_bytes(), "webpt-patients")
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert run.status == "clean" and run.dry_run and not Patient.objects.exists()
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Dry run, nothing rejected" in page and "3 new" in page and "Apply this import" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_run_apply", args=[run.pk]), {"mode": "apply"})
    applied = ImportRun.objects.exclude(pk=run.pk).get()
    assert applied.status == "applied" and Patient.objects.count() == 3
    history = client.get(reverse("imports")).content.decode()
    assert "patients.csv" in history and "Applied" in history
    assert AuditEvent.objects.filter(action="import", object_id=str(applied.pk)).exists()


def test_unknown_therapist_answered_on_the_page(office_manager, therapist, client_for,
                                                django_capture_on_commit_callbacks):
    client, capture = client_for(office_manager), django_capture_on_commit_callbacks
    pressed(client, capture, uploaded(client, capture, "webpt-patients"), "apply")
    run = uploaded(client, capture, "webpt-extract-appointments")
    assert run.status == "rejected"
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Therapist “T17” (rows 2, 3, 4, 5)" in page and f'<option value="{therapist.pk}">Map to Theo Tester' in page
    assert "&quot;T17&quot; is not one of this practice&#x27;s therapists" in page
    checked = pressed(client, capture, run, "check", **{"therapist:T17": str(therapist.pk)})
    assert checked.status == "clean", checked.rejections
    assert checked.resolutions == {"therapist": {"T17": str(therapist.pk)}}
    pressed(client, capture, checked, "apply")
    assert Appointment.objects.filter(therapist=therapist).count() == 4


def test_a_bad_upload_says_what_to_fix(office_manager, client_for):
    response = upload(client_for(office_manager), "photo.png", b"\x89PNG", "webpt-patients")
    assert response.status_code == 400 and "Upload a .csv, .xlsx or .json file." in response.content.decode()


def test_a_preset_is_copied_and_adjusted_without_code(office_manager, client_for):
    client = client_for(office_manager)
    page = client.get(reverse("import_mapping", args=["therabill-sessions"])).content.decode()
    assert "Copy “Therabill: session report”" in page and "Late Cancel = late_cancel" in page
    form = {"name": "Therabill sessions, our classes", "encoding": "", "date_formats": "%m/%d/%Y",
            "header__external_id": "Session ID", "header__patient_external_id": "Client ID",
            "header__therapist": "Provider", "header__date": "Date of Service", "default__start_time": "9:00 AM",
            "default__minutes": "60", "header__status": "Session Class",
            "translate__status": "Regular = completed\nLate Cx = late_cancel\nNo Show = no_show\nBad line"}
    response = client.post(reverse("import_mapping", args=["therabill-sessions"]), form)
    assert response.status_code == 400 and 'Line 4 &quot;Bad line&quot; needs the form: EMR word = value.' in \
        response.content.decode()
    form["translate__status"] = "Regular = completed\nLate Cx = vanished"
    response = client.post(reverse("import_mapping", args=["therabill-sessions"]), form)
    assert "translate.status: vanished is not one of booked" in response.content.decode()
    form["translate__status"] = "Regular = completed\nLate Cx = late_cancel"
    assert client.post(reverse("import_mapping", args=["therabill-sessions"]), form).status_code == 302
    saved = SavedMapping.objects.get()
    assert saved.spec["translate"]["status"] == {"Regular": "completed", "Late Cx": "late_cancel"}
    assert saved.spec["columns"]["status"]["header"] == "Session Class"
    assert "Therabill sessions, our classes (this practice" in client.get(reverse("imports")).content.decode()


def test_the_daily_sweep_imports_the_folder_and_keeps_failures_with_their_report(practice, office_manager,
                                                                                  tmp_path):
    ImportFolder.objects.create(practice=practice, path=str(tmp_path), mapping_name="webpt-patients")
    (tmp_path / "good.csv").write_bytes((SAMPLES / "webpt-patients.csv").read_bytes())
    (tmp_path / "bad.csv").write_text("Patient ID,First Name,Last Name,Date of Birth\nW9,Ana,Diaz,02/30/2019\n")
    result = import_folders(practice=practice)
    assert result == {"imports": 2, "applied": 1}
    assert Patient.objects.count() == 3
    done = list((tmp_path / "done").rglob("good.csv"))
    assert len(done) == 1 and not (tmp_path / "good.csv").exists()
    assert (tmp_path / "failed" / "bad.csv").exists()
    report = (tmp_path / "failed" / "bad.csv.rejections.txt").read_text()
    assert "row 2, D \"Date of Birth\": 02/30/2019 is not a date that exists" in report
    tasks = {t.title: t for t in Task.objects.filter(kind="interop.import_result")}
    assert tasks["Import of bad.csv was rejected"].role == "office_manager"
    assert tasks["Import of bad.csv was rejected"].priority == 3
    assert tasks["Imported good.csv"].reason == "3 created"
    from pedsdesk.sweeps import registered

    assert "interop.import_folders" in {s.name for s in registered("daily", per_practice=True)}
    state = snapshot()
    assert import_folders(practice=practice) == {"imports": 0, "applied": 0} and snapshot() == state


def test_the_history_costs_the_same_queries_for_few_imports_and_many(practice, office_manager, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(office_manager)

    def make(n):
        ImportRun.objects.bulk_create([ImportRun(practice=practice, started_by=office_manager, mapping_name="WebPT",
                                                 source="webpt", record_type="patients", file_name=f"f{i}.csv",
                                                 file_sha256="0" * 64, status="applied") for i in range(n)])

    make(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("imports")).status_code == 200
    make(30)
    with CaptureQueriesContext(connection) as many:
        assert "f29.csv" in client.get(reverse("imports")).content.decode()
    assert len(many) == len(few)


def test_the_progress_line_updates_while_the_worker_runs(practice, office_manager, client_for):
    from django.core.cache import cache

    from pedsdesk.interop.actions import progress_key

    run = ImportRun.objects.create(practice=practice, started_by=office_manager, mapping_name="WebPT",
                                   mapping_key="webpt-patients", source="webpt", record_type="patients",
                                   file_name="big.csv", file_sha256="0" * 64, dry_run=True)
    cache.set(progress_key(run.pk), 12500)
    client = client_for(office_manager)
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 2s"' in page and "12500 rows read so far." in page
    reads = AuditEvent.objects.filter(action="read", object_id=str(run.pk)).count()
    partial = client.get(run.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "12500 rows read so far." in partial
    assert AuditEvent.objects.filter(action="read", object_id=str(run.pk)).count() == reads == 1


def test_a_folder_is_registered_for_the_daily_import_from_the_command_line(practice, tmp_path, capsys):
    from django.core.management import call_command

    call_command("import", "webpt-extract-appointments", str(tmp_path), "--daily", "on")
    folder = ImportFolder.objects.get()
    assert (folder.path, folder.mapping_name, folder.active) == (str(tmp_path), "webpt-extract-appointments", True)
    assert "imported every day with webpt-extract-appointments" in capsys.readouterr().out
    call_command("import", "webpt-extract-appointments", str(tmp_path), "--daily", "off")
    folder.refresh_from_db()
    assert not folder.active
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="is not a folder"):
        call_command("import", "webpt-patients", str(tmp_path / "nope"), "--daily", "on")
    assert AuditEvent.objects.filter(object_type="interop.importfolder").count() == 2


def test_the_readmes_webpt_import_step_by_step(office_manager, therapist, client_for,
                                               django_capture_on_commit_callbacks):
    """README, "Importing a WebPT export, step by step", as the office manager does it."""
    client, capture = client_for(office_manager), django_capture_on_commit_callbacks
    # Steps 1-2: the patient list, checked, then applied.
    patients = uploaded(client, capture, "webpt-patients")
    assert patients.status == "clean" and "3 new" in client.get(patients.get_absolute_url()).content.decode()
    assert pressed(client, capture, patients, "apply").status == "applied" and Patient.objects.count() == 3
    # Steps 3-4: the Scheduled Visits report; its therapist's name is unknown, mapped, checked again, applied.
    visits = uploaded(client, capture, "webpt-scheduled-visits")
    assert visits.status == "rejected" and not Appointment.objects.exists()
    page = client.get(visits.get_absolute_url()).content.decode()
    assert "Therapist “Dana Whitfield” (rows 2, 3, 4, 5, 6, 7)" in page and "Check again" in page
    assert "Apply this import" not in page
    checked = pressed(client, capture, visits, "check", **{"therapist:Dana Whitfield": str(therapist.pk)})
    assert checked.status == "clean" and "Apply this import" in client.get(checked.get_absolute_url()).content.decode()
    assert pressed(client, capture, checked, "apply").status == "applied"
    assert Appointment.objects.filter(therapist=therapist).count() == 6
    # Step 5: the next day's export, unchanged: left alone, and the answer is remembered.
    again = uploaded(client, capture, "webpt-scheduled-visits")
    assert again.status == "clean" and again.counts["unchanged"] == 6 and not again.unknown["therapist"]


def test_an_unknown_payer_is_offered_as_map_or_create_on_the_page(practice, office_manager, client_for,
                                                                  django_capture_on_commit_callbacks):
    from pedsdesk.authorizations.models import Authorization, Payer

    client, capture = client_for(office_manager), django_capture_on_commit_callbacks
    Payer.objects.create(practice=practice, name="Lone Star Medicaid", payer_type="medicaid_mco")
    pressed(client, capture, uploaded(client, capture, "webpt-patients"), "apply")
    run = uploaded(client, capture, "webpt-extract-authorizations")
    assert run.status == "rejected" and set(run.unknown["payer"]) == {"Blue Shield Texas"}
    before = {k: v for k, v in snapshot().items() if k != "audit"}  # the page's reads are audited
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Payer “Blue Shield Texas”" in page and '<option value="create">Create this payer</option>' in page
    assert "Map to Lone Star Medicaid" in page
    checked = pressed(client, capture, run, "check", **{"payer:Blue Shield Texas": "create"})
    assert checked.status == "clean" and {k: v for k, v in snapshot().items() if k != "audit"} == before
    pressed(client, capture, checked, "apply")
    assert Payer.objects.filter(practice=practice, name="Blue Shield Texas").exists()
    assert Authorization.objects.filter(coverage__patient__practice=practice).count() == 3

"""Import speed: a 100,000-row appointments export, as CSV and as XLSX, on SQLite.

    python benchmarks/import_speed.py [--rows 100000] [--future 0]

Builds a practice (12 therapists, 600 children known to WebPT) in a fresh SQLite
database, writes the visits in the WebPT Standard Extract's Appointments layout, and
imports them, each run in its own process on a copy of the database so its peak RSS
is its own: the CSV as a dry run, the CSV applied, the XLSX applied. ``--future``
rows are coming visits, booked one by one through the booking checks; the others are
history, recorded in batches. Prints rows per second, peak RSS and the dry-run time;
exits 1 when a target is missed (CSV under 60 s, RSS under 300 MB, XLSX under 2x CSV).
"""

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HEADER = ["appointmnet_id", "parent_appointment_id", "start_date", "end_date", "therapist_id", "appointment_type",
          "patient_id", "appointment_status", "reason", "export_flag"]


def _django(data_dir: str) -> None:
    os.environ["PEDSDESK_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pedsdesk.settings")
    import django

    django.setup()


def build(data_dir: str, rows: int, future: int, seed: int = 5) -> tuple[str, str]:
    """Migrate, make the practice, and write the CSV and XLSX files; return their paths."""
    _django(data_dir)
    import openpyxl
    from django.core.management import call_command

    from pedsdesk.interop.models import ExternalId
    from pedsdesk.people.models import Patient
    from pedsdesk.practices.models import Practice, Role, StaffMember, TherapistProfile

    call_command("migrate", verbosity=0)
    practice = Practice.objects.create(name="Benchmark Kids Therapy", npi="1234567893", time_zone="America/Chicago")
    therapists = []
    for n in range(12):
        member = StaffMember.objects.create(username=f"t{n}", first_name=f"Therapist{n}", last_name="Bench",
                                            practice=practice, role=Role.THERAPIST)
        TherapistProfile.objects.create(staff_member=member, discipline="OT", credentials="OTR/L", npi="1234567893")
        therapists.append(member)
    rng = random.Random(seed)
    patients = Patient.objects.bulk_create([
        Patient(practice=practice, first_name=f"Child{n}", last_name="Bench",
                date_of_birth=dt.date(2016, 1, 1) + dt.timedelta(days=n)) for n in range(600)])
    ExternalId.objects.bulk_create([ExternalId(practice=practice, source="webpt", record_type="patients",
                                               external_id=f"P{p.pk}", object_id=p.pk) for p in patients])
    csv_path = os.path.join(data_dir, "appointments.csv")
    xlsx_path = os.path.join(data_dir, "appointments.xlsx")
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Appointments")
    sheet.append(HEADER)
    # Each therapist's day has eight 45-minute slots; visits fill slots going back from
    # yesterday (history) and forward from next week (coming), never two in one slot.
    today = practice.local_now().date()
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            coming = n < future
            slot = n if coming else n - future
            therapist = slot % 12
            day_offset, hour = divmod(slot // 12, 8)
            day = today + dt.timedelta(days=7 + day_offset) if coming else today - dt.timedelta(days=1 + day_offset)
            start = dt.datetime.combine(day, dt.time(9 + hour))
            end = start + dt.timedelta(minutes=45)
            status = "Active" if coming or rng.random() > 0.12 else "Inactive"
            patient = patients[(slot * 7 + therapist) % len(patients)]
            row = [str(100000 + n), "", f"{start:%Y-%m-%d %H:%M:%S}", f"{end:%Y-%m-%d %H:%M:%S}",
                   f"Therapist{therapist} Bench", "Follow-Up", f"P{patient.pk}", status,
                   "Sick" if status == "Inactive" else "", "1"]
            writer.writerow(row)
            sheet.append(row)
    workbook.save(xlsx_path)
    from django.db import connection

    connection.close()
    return csv_path, xlsx_path


def child(data_dir: str, path: str, dry_run: bool) -> None:
    _django(data_dir)
    from pedsdesk.interop.actions import run_import
    from pedsdesk.interop.mapping import presets
    from pedsdesk.practices.models import Practice

    practice = Practice.objects.get()
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    start = time.perf_counter()
    _, report = run_import(practice=practice, mapping=presets()["webpt-extract-appointments"], path=path,
                           actor="benchmark", dry_run=dry_run)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, "rows": report.rows, "counts": report.counts,
                      "problems": [p.as_dict() for p in report.problems[:3]]}))


def run_child(template: str, path: str, dry_run: bool) -> dict:
    data_dir = tempfile.mkdtemp(prefix="pedsdesk-import-run-")
    shutil.copy(os.path.join(template, "pedsdesk.sqlite3"), os.path.join(data_dir, "pedsdesk.sqlite3"))
    args = [sys.executable, __file__, "--child", data_dir, path] + (["--dry-run"] if dry_run else [])
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    shutil.rmtree(data_dir, ignore_errors=True)
    if done.returncode:
        sys.exit(f"the import of {os.path.basename(path)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--future", type=int, default=0, help="How many rows are coming visits.")
    parser.add_argument("--child", nargs=2, metavar=("DATA_DIR", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.dry_run)
        return
    template = tempfile.mkdtemp(prefix="pedsdesk-import-bench-")
    csv_path, xlsx_path = build(template, args.rows, args.future)
    results = {"csv dry run": run_child(template, csv_path, True), "csv": run_child(template, csv_path, False),
               "xlsx": run_child(template, xlsx_path, False)}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {__import__('sqlite3').sqlite_version}")
    print(f"file: {args.rows:,} appointment rows ({args.future:,} coming), CSV "
          f"{os.path.getsize(csv_path) / 1e6:.1f} MB, XLSX {os.path.getsize(xlsx_path) / 1e6:.1f} MB")
    for name, result in results.items():
        print(f"{name:12} {result['seconds']:6.1f} s wall, {result['cpu']:6.1f} s CPU  "
              f"{result['rows'] / result['seconds']:8,.0f} rows/s  "
              f"peak RSS {result['peak_mb']:5.0f} MB  {result['counts']}"
              + (f"  problems: {result['problems']}" if result["problems"] else ""))
    ratio = results["xlsx"]["seconds"] / results["csv"]["seconds"]
    print(f"XLSX / CSV time: {ratio:.2f}")
    shutil.rmtree(template, ignore_errors=True)
    missed = (results["csv"]["seconds"] >= 60 or ratio >= 2
              or max(r["peak_mb"] for r in results.values()) >= 300
              or any(r["problems"] for r in results.values()))
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()

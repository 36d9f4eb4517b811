"""Backup drill: back up a running installation while workers write, restore it into a
fresh directory, and count.

    python benchmarks/backup_drill.py --writers 2 --seconds 20

1. Starts the crash drill's SMTP sink (records every Message-ID it accepts) and a fresh
   SQLite installation with a practice, a therapist and 60 self-pay children.
2. Runs --writers processes that book visits through ``book_appointment`` and queue an
   email for each in the same transaction (logging each after it commits), and a
   ``pedsdesk deliver`` worker sending to the sink.
3. Half-way, ``pedsdesk backup DIR`` runs while they write; they go on a while after.
4. ``pedsdesk restore DIR`` into a fresh data directory (same secret and audit keys),
   ``pedsdesk audit verify`` there, the restored row counts against the manifest, then a
   delivery worker drains the restored outbox into the same sink.
5. Counts: a visit or message committed before the backup began and missing after the
   restore is lost; a message the sink had accepted before the backup finished and
   receives again from the restored installation is a duplicate.

The last line is ``backup drill: N rows, M messages, D duplicates after restore, L lost``;
the exit status is 1 unless D = L = 0 and every check passed.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outbox_crash_drill import ROOT, Workers, free_port  # the same sink and workers

CHILDREN = 60


def _django(env: dict) -> None:
    os.environ.update(env)
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def seed(env: dict) -> None:
    _django(env)
    from django.core.management import call_command
    from django.utils import timezone

    from pedsdesk.people.models import Guardian, GuardianOf, Patient
    from pedsdesk.practices.models import Practice, StaffMember, TherapistProfile
    from pedsdesk.scheduling.models import WorkingHours

    call_command("migrate", verbosity=0)
    practice = Practice.objects.create(name="Drill Pediatric Therapy", npi="1234567893", phone="+15125550100",
                                       time_zone="America/Chicago")
    StaffMember.objects.create_user(username="desk", practice=practice, role="front_desk", email="desk@drill.example")
    therapist = StaffMember.objects.create_user(username="theo", practice=practice, role="therapist",
                                                email="theo@drill.example")
    TherapistProfile.objects.create(staff_member=therapist, discipline="OT", credentials="OTR/L", npi="1234567893")
    for weekday in range(7):
        WorkingHours.objects.create(therapist=therapist, weekday=weekday, start=dt.time(7), end=dt.time(20))
    for i in range(CHILDREN):
        child = Patient.objects.create(practice=practice, first_name=f"Child{i}", last_name="Drill",
                                       date_of_birth=dt.date(2018, 1, 1))
        guardian = Guardian.objects.create(practice=practice, first_name=f"Parent{i}", last_name="Drill",
                                           email=f"parent{i}@drill.example", preferred_channel="email", phone="",
                                           sms_consent_at=timezone.now())
        GuardianOf.objects.create(guardian=guardian, patient=child, relationship="mother", is_primary_contact=True)


def writer(env: dict, slot: int, log_path: Path, stop_path: Path) -> None:
    """Book visits and queue an email for each, until the stop file appears."""
    _django(env)
    from django.db import transaction
    from django.utils import timezone

    from pedsdesk.messaging.actions import queue_message
    from pedsdesk.people.models import Patient
    from pedsdesk.practices.models import Practice, StaffMember
    from pedsdesk.scheduling.actions import BookingRefused, book_appointment

    rng = random.Random(slot)
    practice = Practice.objects.get()
    desk, therapist = StaffMember.objects.get(username="desk"), StaffMember.objects.get(username="theo")
    children = list(Patient.objects.all())
    zone = practice.zone
    base = timezone.now().astimezone(zone).date() + dt.timedelta(days=2)
    with log_path.open("a") as log:
        n = 0
        while not stop_path.exists():
            child = rng.choice(children)
            day = base + dt.timedelta(days=rng.randrange(400))
            start = dt.datetime.combine(day, dt.time(rng.randrange(8, 19), rng.choice([0, 15, 30, 45])), zone)
            try:
                with transaction.atomic():
                    visit = book_appointment(actor=desk, practice=practice, therapist=therapist, patient=child,
                                             start_at=start, minutes=45)
                    guardian = child.guardians.first()
                    key = f"drill:{slot}:{n}"
                    queue_message(practice=practice, kind="contact_test", recipient=guardian, channel="email",
                                  context={}, idempotency_key=key)
            except BookingRefused:
                continue
            n += 1
            # After the commit: this line means "durably written at this time".
            log.write(f"{time.time():.6f} {visit.pk} {key}\n")
            log.flush()


def _committed(logs: list[Path], before: float) -> tuple[set[int], set[str]]:
    visits, keys = set(), set()
    for path in logs:
        for line in path.read_text().splitlines():
            at, visit, key = line.split()
            if float(at) < before:
                visits.add(int(visit))
                keys.add(key)
    return visits, keys


def _received(sink_log: Path) -> list[str]:
    return [line for line in sink_log.read_text().splitlines() if line] if sink_log.exists() else []


def _pedsdesk(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pedsdesk.cli", *args], env=env, capture_output=True, text=True,
                          cwd=ROOT, timeout=900, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20, help="how long the workers write in all")
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--writer", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer is not None or args.seed_only:
        env = json.loads(os.environ["DRILL_ENV"])
        workdir = Path(args.workdir)
        if args.seed_only:
            seed(env)
        else:
            writer(env, args.writer, workdir / f"writer-{args.writer}.log", workdir / "stop")
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="pedsdesk-backup-drill-"))
    sink_log = workdir / "sink.log"
    smtp_port, http_port = free_port(), free_port()
    keys = {"PEDSDESK_SECRET_KEY": "drill-secret-" + "s" * 40, "PEDSDESK_AUDIT_KEY": "drill-audit-" + "a" * 40}
    common = {**os.environ, **keys, "DJANGO_SETTINGS_MODULE": "pedsdesk.settings", "PYTHONPATH": str(ROOT),
              "PEDSDESK_EMAIL_CHANNEL": "smtp", "PEDSDESK_SMTP_HOST": "127.0.0.1", "PEDSDESK_SMTP_PORT": str(smtp_port),
              "PEDSDESK_EMAIL_LOOKUP_URL": f"http://127.0.0.1:{http_port}/lookup",
              "PEDSDESK_FROM_EMAIL": "office@drill.example", "PEDSDESK_SMTP_TIMEOUT": "2",
              "PEDSDESK_MESSAGE_LEASE_SECONDS": str(args.lease), "PEDSDESK_MESSAGE_RETRY_BASE_SECONDS": "1",
              "PEDSDESK_MESSAGING_KICK": "0", "PEDSDESK_LOG_LEVEL": "WARNING"}
    for name in ("DATABASE_URL", "REDIS_URL", "PEDSDESK_PRIVATE_DIR", "PEDSDESK_AUDIT_CHECKPOINT_DIR"):
        common.pop(name, None)
    live = {**common, "PEDSDESK_DATA_DIR": str(workdir / "live")}
    fresh = {**common, "PEDSDESK_DATA_DIR": str(workdir / "restored")}
    backup_dir = workdir / "backup"
    sink = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "outbox_crash_drill.py"), "--sink",
                             "--smtp-port", str(smtp_port), "--http-port", str(http_port), "--sink-log",
                             str(sink_log)], stdout=subprocess.PIPE, text=True)
    delivery, restored_delivery = Workers(live, workdir, 50), Workers(fresh, workdir, 50)
    writers: list[subprocess.Popen] = []
    checks_ok = True
    try:
        if sink.stdout.readline().strip() != "sink: ready":
            raise SystemExit("the SMTP sink did not start")
        me = [sys.executable, __file__, "--workdir", str(workdir)]
        drill_env = {**live, "DRILL_ENV": json.dumps(live)}
        subprocess.run([*me, "--seed-only"], env=drill_env, check=True, cwd=ROOT)
        import django

        print(f"machine: {os.cpu_count()} cores, {platform.platform(terse=True)}, Python {platform.python_version()}, "
              f"Django {django.get_version()}, SQLite {sqlite3.sqlite_version}; {args.writers} writer(s), "
              f"1 delivery worker, {args.seconds:.0f} s of writing")
        writers = [subprocess.Popen([*me, "--writer", str(slot)], env=drill_env, cwd=ROOT)
                   for slot in range(args.writers)]
        delivery.start(0)
        logs = [workdir / f"writer-{slot}.log" for slot in range(args.writers)]
        began = time.monotonic()
        while min((len(p.read_text().splitlines()) if p.exists() else 0) for p in logs) < 10:
            time.sleep(0.1)  # every writer is writing (they start slowly on a busy machine)
        time.sleep(max(args.seconds / 2 - (time.monotonic() - began), 0))

        received_before_backup = set(_received(sink_log))
        backup_began = time.time()
        run = _pedsdesk(live, "backup", str(backup_dir))
        backup_ended = time.time()
        received_by_backup_end = set(_received(sink_log))
        print(f"backup: {run.stdout.strip() or run.stderr.strip()} in {backup_ended - backup_began:.2f} s "
              f"while writing")
        if run.returncode:
            raise SystemExit(run.stderr)
        time.sleep(args.seconds / 2)
        (workdir / "stop").touch()
        for proc in writers:
            proc.wait(timeout=60)
        delivery.stop_all()
        all_visits, _ = _committed(logs, float("inf"))
        print(f"written: {len(all_visits)} visits and messages in all, "
              f"{len(received_by_backup_end)} messages accepted by the sink when the backup ended")

        run = _pedsdesk(fresh, "restore", str(backup_dir))
        print(f"restore: {run.stdout.strip() or run.stderr.strip()}")
        checks_ok &= run.returncode == 0
        run = _pedsdesk(fresh, "audit", "verify")
        print(f"restored {run.stdout.strip() or run.stderr.strip()}")
        checks_ok &= run.returncode == 0

        manifest = json.loads((backup_dir / "manifest.json").read_text())
        restored_db = workdir / "restored" / "pedsdesk.sqlite3"
        with sqlite3.connect(restored_db) as con:
            counts = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]  # noqa: S608
                      for t in manifest["tables"]}
            visits = {r[0] for r in con.execute("SELECT id FROM scheduling_appointment")}
            messages = {r[0] for r in con.execute("SELECT idempotency_key FROM messaging_message")}
            states = collections.Counter(r[0] for r in con.execute("SELECT state FROM messaging_message"))
        mismatched = {t: (n, counts[t]) for t, n in manifest["tables"].items() if counts[t] != n}
        checks_ok &= not mismatched
        print(f"backup inside the command: snapshot {manifest['snapshot_seconds']} s, all "
              f"{manifest['backup_seconds']} s (the rest of the command's time is starting Python and Django)")
        print(f"counts against the manifest: {len(manifest['tables'])} tables, {manifest['rows']} rows, "
              f"{len(mismatched)} differ {mismatched or ''}; restored outbox {dict(states)}")

        before_visits, before_keys = _committed(logs, backup_began)
        lost = len(before_visits - visits) + len(before_keys - messages)
        print(f"committed before the backup began: {len(before_visits)} visits, {len(before_keys)} messages; "
              f"after it began, in the backup too: {len(visits & (all_visits - before_visits))} visits")

        already = len(_received(sink_log))
        restored_delivery.start(0, until_empty=True)
        restored_delivery.wait_all(timeout=900)
        after_restore = collections.Counter(_received(sink_log)[already:])
        sent_by_old = set(_received(sink_log)[:already])
        duplicates = sum(n for mid, n in after_restore.items() if mid in received_before_backup)
        during = sum(n for mid, n in after_restore.items()
                     if mid in received_by_backup_end and mid not in received_before_backup)
        later = sum(n for mid, n in after_restore.items() if mid in sent_by_old and mid not in received_by_backup_end)
        print(f"after restore the worker sent {sum(after_restore.values())}: {duplicates} the sink had accepted "
              f"before the backup began, {during} it accepted while the backup ran (after its snapshot), {later} the "
              f"old installation sent after the backup ended (a restored snapshot cannot know of them), "
              f"{sum(after_restore.values()) - duplicates - during - later} never sent before")
        print(f"backup drill: {manifest['rows']} rows, {manifest['tables'].get('messaging_message', 0)} messages, "
              f"{duplicates} duplicates after restore, {lost} lost")
        return 0 if duplicates == lost == 0 and checks_ok else 1
    finally:
        (workdir / "stop").touch()
        for proc in writers:
            if proc.poll() is None:
                proc.kill()
        delivery.stop_all()
        restored_delivery.stop_all()
        sink.terminate()
        sink.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())

"""Crash drill for the outbox: SIGKILL delivery workers at random moments and count what
a real SMTP server received.

    python benchmarks/outbox_crash_drill.py --db sqlite --workers 1 --messages 3000 --kills 60
    python benchmarks/outbox_crash_drill.py --db postgres --workers 2 --messages 3000 --kills 60

1. Starts a sink in its own process: an aiosmtpd SMTP server that appends the
   Message-ID of every email it accepts to a file before it answers 250, plus a small
   HTTP lookup ("did you accept Message-ID X?") for the transport's crash recovery.
2. Creates a fresh database (SQLite in a temporary data directory, or a PostgreSQL
   database ``pedsdesk_drill``), a practice and 100 guardians.
3. Throughput: queues --throughput-messages emails and times --workers ``pedsdesk
   deliver`` processes draining them with no kills.
4. Drill: queues --messages emails, runs --workers workers and SIGKILLs one of them
   --kills times, each at a random moment after it started sending, restarting it each
   time; then lets the workers drain the queue (recovering leases of killed workers).
5. Counts the sink's file: every queued Message-ID must be there exactly once.

Every fifth email carries a calendar part (multipart/alternative) and an attached .ics,
as school-meeting invitations do, so the attachment path is drilled too.

The last line is ``drill: K kills, N messages, D duplicates, L lost``; the exit status
is 1 unless D = L = 0.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DRILL_DB = "pedsdesk_drill"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the sink process ---------------------------------------------------------------

def run_sink(smtp_port: int, http_port: int, log_path: str) -> None:
    from email.parser import BytesHeaderParser
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    from aiosmtpd.controller import Controller

    seen: set[str] = set()
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    parser = BytesHeaderParser()

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            message_id = (parser.parsebytes(envelope.content)["Message-ID"] or "").strip()
            # Recorded before the 250 reply: once the client may believe it, the file says so.
            os.write(fd, f"{message_id}\n".encode())
            seen.add(message_id)
            return "250 2.0.0 accepted"

    class Lookup(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            wanted = parse_qs(urlsplit(self.path).query).get("message_id", [""])[0]
            self.send_response(200 if wanted in seen else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    controller = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    http = ThreadingHTTPServer(("127.0.0.1", http_port), Lookup)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    print("sink: ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait()
    controller.stop()
    http.shutdown()


# --- the drill ------------------------------------------------------------------------

def setup_database(db: str, env: dict) -> None:
    if db == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DRILL_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DRILL_DB}")
        env["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DRILL_DB
    else:
        env.pop("DATABASE_URL", None)
    os.environ.update(env)
    for key in ("DATABASE_URL",):
        if key not in env:
            os.environ.pop(key, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pedsdesk.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed_practice():
    from django.utils import timezone

    from pedsdesk.people.models import Guardian
    from pedsdesk.practices.models import Practice

    practice = Practice.objects.create(name="Drill Pediatric Therapy", npi="1234567893", phone="+15125550100",
                                       time_zone="America/Chicago")
    guardians = [Guardian.objects.create(practice=practice, first_name=f"Parent{i}", last_name="Drill",
                                         email=f"parent{i}@drill.example", preferred_channel="email",
                                         phone="", sms_consent_at=timezone.now())
                 for i in range(100)]
    return practice, guardians


def queue(practice, guardians, prefix: str, count: int) -> list[str]:
    from django.db import transaction

    from pedsdesk.messaging.actions import Attachment, queue_message
    from pedsdesk.messaging.channels.base import message_id

    # Every fifth email carries a calendar part and an attached file, as invitations do.
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    parts = [Attachment("invite.ics", "text/calendar; method=REQUEST; charset=utf-8", ics, alternative=True),
             Attachment("invite.ics", "application/ics", ics)]
    ids = []
    with transaction.atomic():
        for i in range(count):
            message = queue_message(practice=practice, kind="contact_test", recipient=guardians[i % len(guardians)],
                                    context={}, channel="email", idempotency_key=f"{prefix}:{i}",
                                    attachments=parts if i % 5 == 0 else None)
            ids.append(message_id(message))
    return ids


class Workers:
    def __init__(self, env: dict, logdir: Path, batch: int):
        self.env, self.logdir, self.batch = env, logdir, batch
        self.procs: dict[int, tuple[subprocess.Popen, Path]] = {}
        self.started = 0

    def start(self, slot: int, until_empty: bool = False) -> None:
        self.started += 1
        log = self.logdir / f"worker-{slot}-{self.started}.log"
        args = [sys.executable, "-m", "pedsdesk.cli", "deliver", "--batch", str(self.batch), "--interval", "0.2"]
        args.append("--until-empty" if until_empty else "--forever")
        with log.open("w") as out:
            self.procs[slot] = (subprocess.Popen(args, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                                 cwd=ROOT), log)

    def wait_started(self, slot: int, timeout: float = 30) -> None:
        proc, log = self.procs[slot]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "deliver: started" in log.read_text():
                return
            if proc.poll() is not None:
                raise SystemExit(f"worker exited early:\n{log.read_text()[-2000:]}")
            time.sleep(0.01)
        raise SystemExit("worker did not start")

    def kill(self, slot: int) -> None:
        proc, _ = self.procs[slot]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for slot, (proc, log) in self.procs.items():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                raise SystemExit(f"worker {slot} did not finish:\n{log.read_text()[-2000:]}") from None
            if proc.returncode != 0:
                raise SystemExit(f"worker {slot} failed:\n{log.read_text()[-2000:]}")

    def stop_all(self) -> None:
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()


def count(sink_log: Path, expected: list[str]) -> tuple[int, int, int]:
    received = collections.Counter(line for line in sink_log.read_text().splitlines() if line)
    wanted = set(expected)
    duplicates = sum(n - 1 for mid, n in received.items() if n > 1)
    lost = sum(1 for mid in wanted if mid not in received)
    stray = sum(n for mid, n in received.items() if mid not in wanted)
    return duplicates, lost, stray


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--throughput-messages", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--lease", type=float, default=8.0, help="Lease seconds (short, so recovery is quick).")
    parser.add_argument("--max-gap", type=float, default=0.3,
                        help="A kill lands up to this many seconds after the worker started sending.")
    parser.add_argument("--no-lookup", action="store_true",
                        help="Plain SMTP: do not let recovery ask the sink (a crash after the server's 250 then "
                             "sends a second copy with the same Message-ID).")
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--smtp-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--http-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sink-log", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.smtp_port, args.http_port, args.sink_log)
        return 0

    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="pedsdesk-drill-"))
    sink_log = workdir / "sink.log"
    smtp_port, http_port = free_port(), free_port()
    env = {**os.environ, "PEDSDESK_DATA_DIR": str(workdir), "DJANGO_SETTINGS_MODULE": "pedsdesk.settings",
           "PEDSDESK_EMAIL_CHANNEL": "smtp", "PEDSDESK_SMTP_HOST": "127.0.0.1", "PEDSDESK_SMTP_PORT": str(smtp_port),
           "PEDSDESK_EMAIL_LOOKUP_URL": f"http://127.0.0.1:{http_port}/lookup",
           "PEDSDESK_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
           "PEDSDESK_FROM_EMAIL": "office@drill.example", "PEDSDESK_SMTP_TIMEOUT": "1",
           "PEDSDESK_MESSAGE_LEASE_SECONDS": str(args.lease), "PEDSDESK_MESSAGE_RETRY_BASE_SECONDS": "1",
           "PEDSDESK_MESSAGING_KICK": "0", "PEDSDESK_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    if args.no_lookup:
        env.pop("PEDSDESK_EMAIL_LOOKUP_URL")
    sink = subprocess.Popen([sys.executable, __file__, "--sink", "--smtp-port", str(smtp_port), "--http-port",
                             str(http_port), "--sink-log", str(sink_log)], stdout=subprocess.PIPE, text=True)
    workers = Workers(env, workdir, args.batch)
    try:
        if sink.stdout.readline().strip() != "sink: ready":
            raise SystemExit("the SMTP sink did not start")
        setup_database(args.db, env)
        practice, guardians = seed_practice()
        import django

        print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, Django {django.get_version()}, "
              f"database {args.db}, {args.workers} worker(s), provider lookup {'off' if args.no_lookup else 'on'}")

        # Throughput, no kills.
        clean_ids = queue(practice, guardians, "clean", args.throughput_messages)
        began = time.monotonic()
        for slot in range(args.workers):
            workers.start(slot, until_empty=True)
        workers.wait_all(timeout=600)
        elapsed = time.monotonic() - began
        clean_duplicates, clean_lost, _ = count(sink_log, clean_ids)
        print(f"throughput: {len(clean_ids)} messages in {elapsed:.1f} s with {args.workers} worker(s) = "
              f"{len(clean_ids) / elapsed:.0f} messages/s (process start included; {clean_duplicates} duplicates, "
              f"{clean_lost} lost)")

        # The drill.
        drill_ids = queue(practice, guardians, "drill", args.messages)
        began = time.monotonic()
        for slot in range(args.workers):
            workers.start(slot)
        for slot in range(args.workers):
            workers.wait_started(slot)
        kills = 0
        while kills < args.kills - args.workers:
            slot = rng.randrange(args.workers)
            workers.wait_started(slot)
            time.sleep(rng.uniform(0, args.max_gap))
            workers.kill(slot)
            kills += 1
            workers.start(slot)
            if kills % 10 == 0:
                done = len(sink_log.read_text().splitlines()) - len(clean_ids)
                print(f"  {kills} kills, {done} of {len(drill_ids)} received so far", flush=True)
        for slot in range(args.workers):
            workers.wait_started(slot)
            # The forever-workers make way for draining ones: killed like the others, and counted.
            time.sleep(rng.uniform(0, args.max_gap))
            workers.kill(slot)
            kills += 1
            workers.start(slot, until_empty=True)
        workers.wait_all(timeout=900)
        elapsed = time.monotonic() - began
        from pedsdesk.messaging.models import DeliveryAttempt, Message

        states = collections.Counter(Message.objects.filter(idempotency_key__startswith="drill:")
                                     .values_list("state", flat=True))
        outcomes = collections.Counter(DeliveryAttempt.objects.filter(message__idempotency_key__startswith="drill:")
                                       .values_list("outcome", flat=True))
        duplicates, lost, stray = count(sink_log, drill_ids)
        stray -= len(clean_ids)  # the throughput phase's emails
        print(f"under kills: {len(drill_ids)} messages in {elapsed:.1f} s = {len(drill_ids) / elapsed:.0f} "
              f"messages/s; outbox states {dict(states)}; attempts {dict(outcomes)}; stray {stray}")
        print(f"drill: {kills} kills, {len(drill_ids)} messages, {duplicates} duplicates, {lost} lost")
        return 0 if duplicates == lost == clean_duplicates == clean_lost == stray == 0 else 1
    finally:
        workers.stop_all()
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=10)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())

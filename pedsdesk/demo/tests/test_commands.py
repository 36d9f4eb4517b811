import io
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from conftest import make_practice
from pedsdesk import health
from pedsdesk.demo.generator import DEMO_PASSWORD
from pedsdesk.practices.models import Practice


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_demo_seeds_and_prints_address_and_logins(db):
    output = run("demo", size="small", no_serve=True, port=8123)
    assert "http://127.0.0.1:8123/" in output
    assert DEMO_PASSWORD in output
    for username in ("owner", "manager", "frontdesk", "billing", "therapist"):
        assert f"  {username} " in output
    assert Practice.objects.get().is_demo


def test_demo_logins_reach_the_dashboard_without_a_second_factor(db):
    run("demo", size="small", no_serve=True)
    client = Client()
    response = client.post("/login/", {"username": "frontdesk", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_a_group_demo_seeds_practices_apart_with_their_own_logins(db):
    from pedsdesk.people.models import Patient
    from pedsdesk.practices.models import StaffMember

    output = run("demo", size="small", no_serve=True, practices=3, no_simulate=True)
    practices = list(Practice.objects.order_by("pk"))
    assert [p.name for p in practices] == [f"Bright Paths Pediatric Therapy {i}" for i in (1, 2, 3)]
    assert all(p.is_demo for p in practices)
    for index, practice in enumerate(practices, start=1):
        desk = StaffMember.objects.get(username=f"c{index}-frontdesk")
        assert desk.practice == practice
        assert Patient.objects.filter(practice=practice).count() >= 30
    # Each practice its own children (its own seed), and the first practice's logins printed.
    names = [set(Patient.objects.filter(practice=p).values_list("first_name", "last_name")) for p in practices]
    assert names[0] != names[1] != names[2]
    assert "  c1-frontdesk " in output
    client = Client()
    assert client.post("/login/", {"username": "c2-frontdesk", "password": DEMO_PASSWORD}).status_code == 302
    assert client.get("/patients/").status_code == 200
    with pytest.raises(CommandError, match="from 1 to 500"):
        run("demo", size="small", no_serve=True, practices=0)


def test_demo_if_empty_keeps_an_existing_demo(db):
    run("demo", size="small", no_serve=True)
    output = run("demo", size="small", no_serve=True, if_empty=True)
    assert "not seeding" in output
    assert "owner" in output
    assert Practice.objects.count() == 1


def test_demo_twice_without_if_empty_is_refused(db):
    run("demo", size="small", no_serve=True)
    with pytest.raises(CommandError, match="already seeded"):
        run("demo", size="small", no_serve=True)


def test_demo_refuses_a_database_with_a_real_practice(db):
    make_practice()
    with pytest.raises(CommandError, match="real practice"):
        run("demo", size="small", no_serve=True)
    assert not Practice.objects.filter(is_demo=True).exists()


def _new_family_link() -> str:
    from pedsdesk.people.models import Guardian
    from pedsdesk.portal.actions import create_family_link

    guardian = Guardian.objects.filter(children__isnull=False).first()
    _, url = create_family_link(actor="test", guardian=guardian, patient=guardian.children.first().patient)
    return url


def test_demo_family_links_follow_the_port_served(db, monkeypatch):
    monkeypatch.delenv("PEDSDESK_BASE_URL", raising=False)
    run("demo", size="small", no_serve=True, port=9000)
    assert _new_family_link().startswith("http://127.0.0.1:9000/f/")


def test_demo_keeps_a_base_url_that_is_set(db, monkeypatch, settings):
    monkeypatch.setenv("PEDSDESK_BASE_URL", "https://kids.example.org")
    settings.PEDSDESK_BASE_URL = "https://kids.example.org"
    run("demo", size="small", no_serve=True, port=9000)
    assert _new_family_link().startswith("https://kids.example.org/f/")


def test_tests_keep_their_messages_out_of_the_demo_outbox():
    from pathlib import Path

    from django.conf import settings

    from pedsdesk.messaging.channels.console import ConsoleTransport

    demo_dir = Path(os.environ.get("PEDSDESK_DATA_DIR") or Path(settings.BASE_DIR).parent / "var").resolve()
    log = ConsoleTransport(channel="email").path
    assert demo_dir not in log.parents, f"test messages would be written to {log}"


def test_serve_needs_a_real_queue(db):
    with pytest.raises(CommandError, match="immediate"):
        run("serve", port=0)


def test_healthz_ok(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "queue": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_503_when_the_queue_storage_fails(db, monkeypatch):
    from huey.contrib import djhuey

    def broken():
        raise ConnectionError("queue storage unreachable")

    monkeypatch.setattr(djhuey.HUEY.storage, "queue_size", broken)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "queue": "error"}


def test_healthz_503_when_the_database_fails(db, monkeypatch):
    def broken():
        raise RuntimeError("database down")

    monkeypatch.setattr(health, "check_database", broken)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "queue": "ok"}


def test_healthz_is_read_only(db):
    assert Client().post("/healthz").status_code == 405


# --- the real processes ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path) -> dict[str, str]:
    # The child gets its own SQLite and queue under tmp_path, not the suite's PostgreSQL/Redis.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {**env, "DJANGO_SETTINGS_MODULE": "pedsdesk.settings", "PEDSDESK_DATA_DIR": str(tmp_path)}


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 -- our own test server
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_runs_web_and_queue_and_stops_cleanly(tmp_path, stop_signal):
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603 -- fixed argv: this interpreter and our own CLI
        [sys.executable, "-m", "pedsdesk.cli", "serve", "--port", str(port), "--threads", "2"],
        env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        status, body = 0, b""
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, body
        assert json.loads(body) == {"status": "ok", "database": "ok", "queue": "ok"}
        proc.send_signal(stop_signal)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert "Huey consumer started" in output
    assert "Stopped." in output


def test_demo_on_an_empty_data_directory_migrates_and_seeds(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pedsdesk.cli", "demo", "--size", "small", "--no-serve", "--port", "9000"],
        env={k: v for k, v in _env(tmp_path).items() if k != "PEDSDESK_BASE_URL"}, capture_output=True,
        text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Seeded demo practice" in result.stdout and "http://127.0.0.1:9000/" in result.stdout
    with sqlite3.connect(tmp_path / "pedsdesk.sqlite3") as db:
        bodies = [row[0] for row in db.execute("SELECT body FROM messaging_message WHERE body LIKE '%/f/%'")]
    assert bodies and all("http://127.0.0.1:9000/f/" in body for body in bodies)


def test_worker_runs_the_consumer_and_stops_on_sigint(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "pedsdesk.cli", "worker", "--workers", "1"],
        env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Huey consumer started" in line or not line:
                break
        assert any("Huey consumer started with 1 thread" in line for line in lines), lines
        time.sleep(1)  # huey logs "started" just before it installs its signal handlers
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0

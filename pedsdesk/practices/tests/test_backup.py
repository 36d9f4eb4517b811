"""`pedsdesk backup` and `pedsdesk restore` on a real SQLite installation (processes of
their own, as an operator runs them), and what restore refuses."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

KEY = "backup-test-audit-key-0123456789abcdefghij"
SEED = """
from conftest import make_patient, make_practice, make_staff
from pedsdesk.audit.actions import record_event
from pedsdesk.files.actions import check_upload, store_file
import io
from PIL import Image
practice = make_practice()
owner = make_staff(practice, "olivia", "owner")
patient = make_patient(practice)
for n in range(5):
    record_event(actor=owner, action="view", obj=patient, detail={"n": n})
out = io.BytesIO(); Image.new("RGB", (8, 8)).save(out, "PNG")
store_file(practice=practice, purpose="activity_picture", checked=check_upload(out.getvalue(), accept={"image"}),
           actor=owner, download_name="picture", patient_id=patient.pk)
"""


def _env(data_dir: Path, key: str = KEY) -> dict:
    env = {**os.environ, "PEDSDESK_DATA_DIR": str(data_dir), "PEDSDESK_AUDIT_KEY": key,
           "DJANGO_SETTINGS_MODULE": "pedsdesk.settings", "PEDSDESK_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    for name in ("DATABASE_URL", "REDIS_URL", "PEDSDESK_PRIVATE_DIR", "PEDSDESK_AUDIT_CHECKPOINT_DIR"):
        env.pop(name, None)
    return env


def _run(env: dict, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "pedsdesk.cli", *args], env=env, capture_output=True, text=True,  # noqa: S603
                         timeout=300, check=False)
    if ok:
        assert run.returncode == 0, run.stdout + run.stderr
    return run


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    data = tmp_path_factory.mktemp("live")
    env = _env(data)
    _run(env, "migrate", "--no-input", "-v", "0")
    _run(env, "shell", "-c", SEED)
    return data, env


@pytest.fixture(scope="module")
def made(installation, tmp_path_factory):
    _, env = installation
    target = tmp_path_factory.mktemp("backups") / "monday"
    out = _run(env, "backup", str(target)).stdout
    assert "backup written to" in out
    return target


def test_the_backup_holds_a_snapshot_and_a_signed_manifest(made, installation):
    manifest = json.loads((made / "manifest.json").read_text())
    assert manifest["tables"]["audit_auditevent"] == 6  # five reads and the stored picture
    assert manifest["tables"]["people_patient"] == 1
    assert manifest["audit_heads"] == [{"chain": 1, "seq": 6, "hash": manifest["audit_heads"][0]["hash"]}]
    assert {"pedsdesk.sqlite3", "huey.sqlite3"} <= set(manifest["files"])
    assert any(name.startswith("private/1/") for name in manifest["files"])
    assert not (made.parent / "monday.partial").exists()
    with sqlite3.connect(made / "pedsdesk.sqlite3") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_restore_into_a_fresh_directory_checks_everything(made, tmp_path):
    env = _env(tmp_path / "fresh")
    out = _run(env, "restore", str(made)).stdout
    assert "rows match the manifest, 6 audit entries verify, 1 private files" in out
    assert "audit chain intact: 6 entries" in _run(env, "audit", "verify").stdout
    assert len(list((tmp_path / "fresh" / "private" / "1").iterdir())) == 1


def test_restore_refuses_an_existing_database(made, installation):
    _, env = installation
    run = _run(env, "restore", str(made), ok=False)
    assert run.returncode != 0 and "already holds a database" in run.stderr


def test_restore_needs_the_audit_key_of_the_backup(made, tmp_path):
    run = _run(_env(tmp_path / "fresh", key="another-key-another-key-another-key"), "restore", str(made), ok=False)
    assert "PEDSDESK_AUDIT_KEY is not the key" in run.stderr


def test_restore_refuses_an_altered_backup(made, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(made, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["tables"]["people_patient"] = 0
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert "signature does not match" in _run(_env(tmp_path / "a"), "restore", str(copy), ok=False).stderr
    shutil.rmtree(copy)
    shutil.copytree(made, copy)
    with sqlite3.connect(copy / "pedsdesk.sqlite3") as con:
        con.execute("DELETE FROM audit_auditevent WHERE seq = 6")
    assert "does not match its hash" in _run(_env(tmp_path / "b"), "restore", str(copy), ok=False).stderr
    (copy / "manifest.json").unlink()
    assert "not a finished backup" in _run(_env(tmp_path / "c"), "restore", str(copy), ok=False).stderr


def test_backup_refuses_a_directory_in_use(made, installation):
    _, env = installation
    assert "is not empty" in _run(env, "backup", str(made), ok=False).stderr


def test_postgresql_is_backed_up_with_its_own_tools(tmp_path):
    env = {**_env(tmp_path), "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/nowhere"}
    assert "use pg_dump" in _run(env, "backup", str(tmp_path / "b"), ok=False).stderr

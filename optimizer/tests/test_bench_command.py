"""`pedsdesk bench refill` as a person runs it (in a subprocess: the optimizer's tests
import no Django themselves)."""

import json
import os
import pathlib
import subprocess
import sys
from xml.etree import ElementTree

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEYS = ["score_over_bound", "fill_rate", "utilization", "frequency_adherence", "makeups_within_week",
        "visits_outside_authorization", "messages_per_fill", "race_losers", "waitlist_days_to_evaluation",
        "decision_ms_p95"]


def bench(tmp_path, *args):
    env = {**os.environ, "PEDSDESK_DATA_DIR": str(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "pedsdesk.settings"}
    return subprocess.run(  # noqa: S603 -- fixed argv: this interpreter and our own CLI
        [sys.executable, "-m", "pedsdesk.cli", "bench", "refill", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300, check=False)


def test_json_output_is_one_object_per_policy_with_means_and_intervals(tmp_path):
    out = tmp_path / "out"
    result = bench(tmp_path, "--tier", "S", "--seeds", "1-2", "--format", "json", "--out", str(out), "--jobs", "2")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [entry["policy"] for entry in summary] == ["P0", "P1", "P2", "P3"]
    for entry in summary:
        assert list(entry) == ["policy", *[k for key in KEYS for k in (key, f"{key}_ci")]]
    assert str(out) in result.stderr
    assert (out / "refill-S-per-seed.csv").read_text().count("\n") == 1 + 2 * 4
    assert len(list((out / "logs").glob("S-seed*-P*.jsonl.gz"))) == 8
    # Well-formed (a bare "<24h" once broke it); the file is our own output, not untrusted XML.
    svg = ElementTree.parse(out / "refill-S-fill-by-notice.svg").getroot()  # noqa: S314
    assert svg.tag.endswith("svg")


def test_table_output_and_default_folder(tmp_path):
    result = bench(tmp_path, "--tier", "S", "--seeds", "2", "--format", "table", "--missed-rate", "0.3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["policy", "score_over_bound", "fill_rate"]
    assert [line.split()[0] for line in lines[1:]] == ["P0", "P1", "P2", "P3"]
    assert (tmp_path / "data" / "bench" / "refill-S-2" / "refill-S-per-seed.csv").exists()


def test_bad_seeds_are_a_clear_error(tmp_path):
    result = bench(tmp_path, "--seeds", "one-five")
    assert result.returncode != 0
    assert "--seeds" in result.stderr

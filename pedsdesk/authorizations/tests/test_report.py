"""`pedsdesk report authorizations` agrees with the board on the seeded demo practice."""

import csv
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from conftest import signed_in
from pedsdesk.demo.generator import demo_today, seed_demo
from pedsdesk.practices.models import StaffMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    return seed_demo(size="small", seed=7, today=demo_today())


def report(*args: str) -> str:
    """The issue's spelling, `pedsdesk report authorizations`; `authorizations report` is the same."""
    out = io.StringIO()
    call_command("report", "authorizations", *args, stdout=out)
    return out.getvalue()


def board_rows(client, **params) -> dict[int, dict]:
    """Every row of the board (all pages): the figures each cell shows."""
    rows: dict[int, dict] = {}
    page = 1
    while True:
        html = client.get(reverse("authorization_board"), {**params, "page": page}).content.decode()
        for pk, body in re.findall(r'<tr id="authorization-(\d+)"[^>]*>(.*?)</tr>', html, re.S):
            cells = dict(re.findall(r'data-field="(\w+)"[^>]*>\s*([^<\s]*)', body))
            values = dict(re.findall(r'data-field="(\w+)" data-value="([^"]*)"', body))
            rows[int(pk)] = {
                "authorized": int(values["authorized"]), "used": int(cells["used"]),
                "scheduled": int(cells["scheduled"]), "remaining": int(cells["remaining"]),
                "days_left": int(values["days_left"]), "end": values["end"],
                "projected_exhaustion": values["exhaustion"] or None,
                "flags": re.findall(r'data-flag="(\w+)"', body),
            }
        if f"page={page + 1}" not in html:
            return rows
        page += 1


def test_the_report_and_the_board_show_the_same_numbers(demo):
    rows = json.loads(report("--format", "json"))
    owner = StaffMember.objects.get(practice=demo.practice, role="owner")
    board = board_rows(signed_in(owner), show="all")
    assert len(rows) == len(board) >= 35
    for row in rows:
        assert board[row["id"]] == {key: row[key] for key in (
            "authorized", "used", "scheduled", "remaining", "days_left", "end", "projected_exhaustion", "flags")}, row
        assert sum(line["used"] for line in row["lines"]) == row["used"]
        assert sum(line["authorized"] for line in row["lines"]) == row["authorized"]
    # Something to see in each: flags, statuses and renewals of every kind.
    assert {f for row in rows for f in row["flags"]} >= {"runs_out", "unused_units", "denials", "expiring"}
    assert {row["status"] for row in rows} >= {"approved", "partially_approved", "requested", "pending", "denied",
                                               "expired", "exhausted"}
    assert {row["renewal"]["state"] for row in rows if row["renewal"]} == {
        "to_prepare", "waiting_on_therapist", "ready", "submitted", "pending", "approved", "partially_approved",
        "denied"}

    flagged = json.loads(report("--format", "json", "--flag", "runs_out"))
    assert flagged and all("runs_out" in row["flags"] for row in flagged)
    assert sorted(r["id"] for r in flagged) == sorted(board_rows(signed_in(owner), show="all", flag="runs_out"))

    table = csv.DictReader(io.StringIO(report("--format", "csv")))
    by_number = {line["number"]: line for line in table}
    first = rows[0]
    assert by_number[first["number"]]["remaining"] == str(first["remaining"])
    assert by_number[first["number"]]["flags"] == " ".join(first["flags"])
    text = report("--flag", "denials")
    denials = len(json.loads(report("--format", "json", "--flag", "denials")))
    assert "runs out" in text.splitlines()[0] and f"{denials} authorizations of {demo.practice}" in text


def test_the_report_needs_a_practice_when_there_are_several(practice, other_practice):
    with pytest.raises(CommandError, match="Say which practice with --practice"):
        report()
    assert report("--practice", str(practice.pk)).strip().endswith(f"0 authorizations of {practice} as of "
                                                                    f"{practice.local_now().date():%Y-%m-%d}.")

"""Every CSV pedsdesk writes neutralises formula-injection cells: `pedsdesk report ... --format
csv` and `pedsdesk authorizations report` go through the same writer as the exports back to
the EMR (``pedsdesk.sheets``), so a name typed as a formula opens as text in a spreadsheet."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command

from conftest import make_authorization, make_coverage, make_patient, make_payer
from pedsdesk import reports
from pedsdesk.schools import actions as school_actions

pytestmark = pytest.mark.django_db

HOSTILE = ["=HYPERLINK(\"http://x.invalid\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]


def csv_rows(*args: str) -> list[dict]:
    out = io.StringIO()
    call_command(*args, "--format", "csv", stdout=out)
    return list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))


@pytest.fixture
def hostile_children(practice):
    """One child per formula start, each with an authorization."""
    children = []
    for i, first in enumerate(HOSTILE):
        child = make_patient(practice, first, f"Kid{i}")
        make_authorization(make_coverage(child, make_payer(practice, f"Payer {i}")), quantity=10 + i)
        children.append(child)
    return children


@pytest.mark.parametrize("command", [("report", "authorizations"), ("authorizations", "report")])
def test_the_authorization_report_csv_neutralises_a_name_typed_as_a_formula(command, hostile_children):
    rows = csv_rows(*command)
    assert sorted(row["patient"] for row in rows) == sorted(f"'{first} Kid{i}" for i, first in enumerate(HOSTILE))
    # Numbers stay numbers: only text gets the apostrophe.
    assert sorted(row["authorized"] for row in rows) == [str(10 + i) for i in range(len(HOSTILE))]


def test_a_registered_report_csv_neutralises_a_name_typed_as_a_formula(practice, front_desk, therapist):
    child = make_patient(practice, "=cmd|' /C calc'!A0", "Lopez")
    school_actions.create_request(actor=front_desk, patient=child, requester="school", kind="progress_summary",
                                  due_on=practice.local_now().date() + dt.timedelta(days=3), assignee=therapist,
                                  requested_by="@Dana")
    [row] = csv_rows("report", "school-requests")
    # Only a cell's first character matters; booleans keep the JSON's spelling.
    assert row["patient"] == "'=cmd|' /C calc'!A0 Lopez" and row["requester"] == "School (@Dana)"
    assert row["overdue"] == "false"


@pytest.mark.parametrize("name", sorted(reports.registered()))
def test_every_registered_report_writes_csv_through_the_safe_writer(name):
    spec = reports.registered()[name]
    out = io.StringIO()
    hostile = [{column: value for column in spec.columns} for value in HOSTILE]
    reports.write(spec, [*hostile, {column: -3 for column in spec.columns}], "csv", out)
    table = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert table[0] == list(spec.columns)
    assert [row[0] for row in table[1:-1]] == ["'" + value for value in HOSTILE]
    assert all(len(set(row)) == 1 for row in table[1:]) and table[-1][0] == "-3"

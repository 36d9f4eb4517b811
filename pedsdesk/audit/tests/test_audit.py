import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from conftest import signed_in
from pedsdesk.audit.models import AppendOnlyError, AuditEvent
from pedsdesk.audit.queries import verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(front_desk, therapist, patient):
    """A few real audit entries: two people read and one edits the chart."""
    signed_in(front_desk).get(reverse("patient_detail", args=[patient.pk]))
    signed_in(therapist).get(reverse("patient_detail", args=[patient.pk]))
    signed_in(front_desk).post(
        reverse("patient_edit", args=[patient.pk]),
        {"first_name": "Ava", "last_name": "Lopez", "date_of_birth": "2018-04-12", "grade": "3", "is_active": "on",
         "school": patient.school_id},
    )
    return list(AuditEvent.objects.order_by("seq"))


def test_reads_and_changes_of_a_chart_are_recorded(chain, patient, front_desk, therapist):
    views = [e for e in chain if e.action == "view" and e.patient_id == patient.pk]
    assert {e.actor_id for e in views} == {front_desk.pk, therapist.pk}
    update = next(e for e in chain if e.action == "update")
    assert update.patient_id == patient.pk and "grade" in update.detail["fields"]
    assert update.ip == "127.0.0.1"


def test_intact_chain_verifies(chain, capsys):
    call_command("audit", "verify")
    assert f"audit chain intact: {len(chain)} entries" in capsys.readouterr().out


def test_editing_a_row_in_the_database_is_detected(chain):
    target = chain[1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_label = %s WHERE seq = %s", ["someone else", target.seq])
    report = verify_chain()
    assert not report.ok and report.bad_seq == target.seq
    with pytest.raises(CommandError, match=f"entry #{target.seq} was altered"):
        call_command("audit", "verify")


def test_deleting_a_row_is_detected(chain):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [chain[1].seq])
    with pytest.raises(CommandError, match=f"entry #{chain[1].seq} is missing"):
        call_command("audit", "verify")


def test_deleting_the_newest_rows_is_detected(chain):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [chain[-1].seq])
    report = verify_chain()
    assert not report.ok and "were removed" in report.problem


def test_the_orm_refuses_to_change_history(chain):
    event = chain[0]
    event.action = "nothing happened"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(action="x")


def test_owner_searches_the_log_in_the_practice_time_zone(chain, owner, patient, django_assert_max_num_queries):
    client = signed_in(owner)
    page = client.get(reverse("audit_search"), {"patient": patient.pk, "action": "view"})
    assert page.status_code == 200
    assert page.content.count(b"Fran Tester (Front desk)") >= 1 and b"Theo Tester (Therapist)" in page.content
    bad = client.get(reverse("audit_search"), {"start": "27/11/2026", "patient": "Ava"})
    assert b"Start date must look like 2026-11-27" in bad.content
    assert b"Patient must be the patient" in bad.content


def test_audit_page_lists_only_this_practice(chain, outsider):
    page = signed_in(outsider).get(reverse("audit_search"))
    assert b"Fran Tester" not in page.content


def test_the_page_says_who_did_what_to_whom_in_words(chain, owner, patient, django_assert_max_num_queries):
    client = signed_in(owner)
    client.get(reverse("audit_search"))
    with django_assert_max_num_queries(12):
        body = client.get(reverse("audit_search")).content.decode()
    assert f"Opened patient #{patient.pk}" in body and f"Changed patient #{patient.pk}" in body
    assert ">Ava Lopez</a>" in body and "Fran Tester (Front desk)" in body
    assert "people.patient" not in body and ">view<" not in body
    assert '<option value="family_link_opened">Family link opened</option>' in body

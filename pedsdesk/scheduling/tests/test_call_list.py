"""The front desk's call list: unconfirmed visits are rows of one list task a day, each
finished in place (Confirm, Cancel, Left a message), and each due at its real deadline."""

import datetime as dt

import pytest
from django.utils import timezone

from conftest import signed_in
from pedsdesk.audit.models import AuditEvent
from pedsdesk.scheduling.models import Appointment, AppointmentStatus
from pedsdesk.workqueue.models import LIST_KIND, OPEN_STATUSES, Task, TaskStatus
from pedsdesk.workqueue.rules import run_rules

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def visit(practice, patient, therapist, hours):
    start = timezone.now() + dt.timedelta(hours=hours)
    return Appointment.objects.create(practice=practice, patient=patient, therapist=therapist, start_at=start,
                                      end_at=start + dt.timedelta(minutes=45))


def row_for(appointment):
    return Task.objects.get(kind="visit_unconfirmed", subject_id=appointment.pk, status__in=OPEN_STATUSES)


def test_the_due_time_is_the_real_deadline_and_stays_put(practice, patient, working_week):
    soon = visit(practice, patient, working_week, 1)  # already past its confirm-by time
    later = visit(practice, patient, working_week, 10)
    now = timezone.now()
    run_rules(practice=practice, schedule="minute", now=now)
    assert row_for(soon).due_at == soon.start_at - dt.timedelta(hours=2)
    assert row_for(later).due_at == later.start_at - dt.timedelta(hours=2)
    run_rules(practice=practice, schedule="minute", now=now + dt.timedelta(minutes=30))
    assert row_for(soon).due_at == soon.start_at - dt.timedelta(hours=2)  # not re-written to "now"


def test_unconfirmed_visits_are_rows_of_todays_call_list(practice, patient, working_week, front_desk):
    visits = [visit(practice, patient, working_week, h) for h in (3, 5, 7)]
    run_rules(practice=practice, schedule="minute")
    call_list = Task.objects.get(kind=LIST_KIND, status__in=OPEN_STATUSES)
    assert call_list.role == "front_desk" and call_list.items.count() == 3
    body = signed_in(front_desk).get("/tasks/").content.decode()
    assert body.count('class="task task-list') == 1 and body.count('class="task"') == 0
    assert body.count('href="tel:+15125550142"') == 3 and "Call Rosa Lopez" in body
    for v in visits:
        assert f'action="/tasks/{row_for(v).pk}/visit/"' in body


def test_confirm_in_place_confirms_the_visit_and_finishes_the_row(practice, patient, working_week, front_desk):
    appointment = visit(practice, patient, working_week, 5)
    run_rules(practice=practice, schedule="minute")
    row = row_for(appointment)
    answer = signed_in(front_desk).post(f"/tasks/{row.pk}/visit/", {"do": "confirm", "layout": "item"}, **HTMX)
    body = answer.content.decode()
    assert answer.status_code == 200 and body.lstrip().startswith(f'<li id="task-{row.pk}"')
    assert "Confirmed." in body and "Confirmed by phone" in body and ">Confirm<" not in body
    appointment.refresh_from_db()
    row.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert row.status == TaskStatus.DONE and row.closed_by == front_desk
    assert AuditEvent.objects.filter(action="task_completed", object_id=str(row.pk)).exists()
    # The only row: its list is finished too.
    assert not Task.objects.filter(kind=LIST_KIND, status__in=OPEN_STATUSES).exists()


def test_cancel_in_place_needs_a_reason_and_then_frees_the_time(practice, patient, working_week, front_desk):
    appointment = visit(practice, patient, working_week, 30)
    run_rules(practice=practice, schedule="minute", now=timezone.now() + dt.timedelta(hours=7))
    row = row_for(appointment)
    client = signed_in(front_desk)
    refused = client.post(f"/tasks/{row.pk}/visit/", {"do": "cancel", "reason": "  ", "layout": "item"}, **HTMX)
    assert "Give the reason for the cancellation." in refused.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED and row_for(appointment).is_open
    client.post(f"/tasks/{row.pk}/visit/", {"do": "cancel", "reason": "Sick", "layout": "item"}, **HTMX)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED and appointment.cancel_reason == "Sick"
    assert Task.objects.get(pk=row.pk).business_status == "Cancelled by phone"


def test_left_a_message_finishes_the_row_and_leaves_the_visit_booked(practice, patient, working_week, front_desk):
    appointment = visit(practice, patient, working_week, 5)
    run_rules(practice=practice, schedule="minute")
    row = row_for(appointment)
    body = signed_in(front_desk).post(f"/tasks/{row.pk}/complete/", {"note": "Left a message", "layout": "item"},
                                      **HTMX).content.decode()
    assert "Left a message" in body and 'href="tel:+15125550142"' in body
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert Task.objects.get(pk=row.pk).business_status == "Left a message"


def test_without_htmx_the_buttons_are_plain_forms_that_come_back(practice, patient, working_week, front_desk):
    appointment = visit(practice, patient, working_week, 5)
    run_rules(practice=practice, schedule="minute")
    row = row_for(appointment)
    answer = signed_in(front_desk).post(f"/tasks/{row.pk}/visit/", {"do": "confirm", "next": "/tasks/"},
                                        follow=True)
    assert answer.redirect_chain[-1][0] == "/tasks/" and "Confirmed: " in answer.content.decode()


@pytest.mark.parametrize("data", [{"do": "nonsense"}, {"do": ""}, {}])
def test_an_unknown_button_says_so_and_changes_nothing(practice, patient, working_week, front_desk, data):
    appointment = visit(practice, patient, working_week, 5)
    run_rules(practice=practice, schedule="minute")
    row = row_for(appointment)
    body = signed_in(front_desk).post(f"/tasks/{row.pk}/visit/", {**data, "layout": "item"}, **HTMX).content
    assert b"Choose Confirm or Cancel" in body and row_for(appointment).is_open


def test_another_practice_or_role_cannot_use_the_row(practice, patient, working_week, outsider, billing):
    appointment = visit(practice, patient, working_week, 5)
    run_rules(practice=practice, schedule="minute")
    row = row_for(appointment)
    assert signed_in(outsider).post(f"/tasks/{row.pk}/visit/", {"do": "confirm"}).status_code in (403, 404)
    assert signed_in(billing).post(f"/tasks/{row.pk}/visit/", {"do": "confirm"}).status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED

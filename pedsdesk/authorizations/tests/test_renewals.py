"""Renewals: due dates from the payer's lead time, the checklist and the therapist's
tasks, submission, the payer's decision (full, partial, denied), the daily sweep and
the escalations, with the clock moved."""

import datetime as dt
import io
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from conftest import make_authorization, next_weekday
from pedsdesk.audit.models import AuditEvent
from pedsdesk.authorizations.actions import (
    RenewalError,
    decide_renewal,
    mark_pending,
    open_due_renewals,
    open_renewal,
    set_document,
    submit_renewal,
    update_renewal_request,
)
from pedsdesk.authorizations.models import Authorization, AuthorizationStatus, Renewal, RenewalState
from pedsdesk.authorizations.packet import renewal_packet
from pedsdesk.authorizations.projection import renewal_due
from pedsdesk.authorizations.queries import summarize, summary_of
from pedsdesk.authorizations.rules import run_authorization_rules
from pedsdesk.authorizations.tasks import run_daily
from pedsdesk.scheduling.actions import book_appointment, set_status
from pedsdesk.scheduling.timeslots import local_to_utc
from pedsdesk.sweeps import run_memo
from pedsdesk.workqueue.models import Task

pytestmark = pytest.mark.django_db
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
D = dt.date


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CHICAGO)


def open_tasks(kind: str) -> list[Task]:
    return list(Task.objects.filter(kind=kind, status__in=["open", "claimed", "snoozed"]).order_by("pk"))


@pytest.fixture
def authorization(patient):
    """Ava's 48 OT visits, Sep 1 2026 – Feb 28 2027; the payer wants three documents."""
    authorization = Authorization.objects.get(coverage__patient=patient)
    payer = authorization.coverage.payer
    payer.renewal_documents = ["progress_report", "plan_of_care", "physician_order"]
    payer.fax = "+15125550111"
    payer.portal_url = "https://portal.lonestar.example"
    payer.save()
    return authorization


def test_due_date_counts_back_from_the_earlier_of_end_and_exhaustion_within_the_payers_window():
    end = D(2027, 2, 28)
    # From the end: 21 days before; the window opens 30 days before.
    assert renewal_due(end=end, exhausted_on=None, recommended_days=21, earliest_days=30) == (
        D(2027, 2, 7), D(2027, 1, 29), "end")
    # Runs out on Feb 20: 21 days before that.
    assert renewal_due(end=end, exhausted_on=D(2027, 2, 20), recommended_days=21, earliest_days=30) == (
        D(2027, 1, 30), D(2027, 1, 29), "exhaustion")
    # Runs out in December: never before the payer accepts it (Jan 29).
    assert renewal_due(end=end, exhausted_on=D(2026, 12, 10), recommended_days=21, earliest_days=30) == (
        D(2027, 1, 29), D(2027, 1, 29), "exhaustion")
    # Exhaustion on the last day is the end.
    assert renewal_due(end=end, exhausted_on=end, recommended_days=14, earliest_days=30)[2] == "end"


def test_opening_a_renewal_builds_the_checklist_and_gives_the_therapist_tasks(authorization, therapist, front_desk):
    renewal, created = open_renewal(authorization=authorization, actor=front_desk, today=D(2027, 1, 29))
    assert created
    assert (renewal.due_date, renewal.window_opens, renewal.due_basis) == (D(2027, 2, 7), D(2027, 1, 29), "end")
    assert renewal.state == RenewalState.WAITING_ON_THERAPIST
    assert renewal.therapist == therapist
    assert [i.document for i in renewal.items.all()] == ["progress_report", "plan_of_care", "physician_order"]
    assert (renewal.requested_start, renewal.requested_end) == (D(2027, 3, 1), D(2027, 8, 28))
    assert [(ln.cpt_codes, ln.requested_quantity) for ln in renewal.lines.all()] == [
        (["97530", "97110", "97533"], 48)]
    documents = open_tasks("renewal_document")
    assert [t.assignee for t in documents] == [therapist, therapist]
    assert "Progress report for Ava Lopez's OT renewal" in documents[0].title
    assert [t.role for t in open_tasks("renewal_to_submit")] == ["front_desk"]
    assert AuditEvent.objects.filter(object_type="authorizations.renewal", action="create").exists()
    assert open_renewal(authorization=authorization, today=D(2027, 1, 30)) == (renewal, False)


def test_checklist_drives_the_state_and_closes_the_therapists_task(authorization, therapist, front_desk):
    renewal, _ = open_renewal(authorization=authorization, today=D(2027, 1, 29))
    set_document(actor=therapist, renewal=renewal, document="progress_report", received=True, today=D(2027, 1, 30))
    assert len(open_tasks("renewal_document")) == 1
    set_document(actor=therapist, renewal=renewal, document="plan_of_care", received=True)
    renewal.refresh_from_db()
    assert renewal.state == RenewalState.TO_PREPARE  # the physician's order is the front desk's to chase
    assert not open_tasks("renewal_document")
    set_document(actor=front_desk, renewal=renewal, document="physician_order", received=True)
    renewal.refresh_from_db()
    assert renewal.state == RenewalState.READY
    set_document(actor=front_desk, renewal=renewal, document="physician_order", received=False)
    renewal.refresh_from_db()
    assert renewal.state == RenewalState.TO_PREPARE
    with pytest.raises(RenewalError, match="not on this renewal's checklist"):
        set_document(actor=front_desk, renewal=renewal, document="re_evaluation", received=True)


def _ready(renewal, actor):
    for item in renewal.items.all():
        set_document(actor=actor, renewal=renewal, document=item.document, received=True)
    renewal.refresh_from_db()
    return renewal


def test_submission_needs_a_complete_checklist_and_the_payers_window(authorization, front_desk):
    renewal, _ = open_renewal(authorization=authorization, today=D(2027, 1, 20))
    with pytest.raises(RenewalError, match="Still missing from the checklist: progress report"):
        submit_renewal(actor=front_desk, renewal=renewal, submitted_on=D(2027, 1, 30), channel="fax",
                       today=D(2027, 1, 30))
    renewal = _ready(renewal, front_desk)
    with pytest.raises(ValidationError) as early:
        submit_renewal(actor=front_desk, renewal=renewal, submitted_on=D(2027, 1, 25), channel="fax",
                       today=D(2027, 1, 25))
    assert "accepts this renewal from Jan 29" in str(early.value)
    with pytest.raises(ValidationError) as bad:
        submit_renewal(actor=front_desk, renewal=renewal, submitted_on=D(2027, 2, 2), channel="pigeon",
                       today=D(2027, 1, 30))
    assert set(bad.value.message_dict) == {"channel", "submitted_on"}
    renewal = submit_renewal(actor=front_desk, renewal=renewal, submitted_on=D(2027, 1, 30), channel="portal",
                             payer_reference="LS-778812", today=D(2027, 1, 30))
    assert renewal.state == RenewalState.SUBMITTED and renewal.decision_due == D(2027, 2, 6)
    renewal = mark_pending(actor=front_desk, renewal=renewal)
    assert renewal.state == RenewalState.PENDING and renewal.payer_reference == "LS-778812"
    with pytest.raises(RenewalError, match="already pending"):
        submit_renewal(actor=front_desk, renewal=renewal, submitted_on=D(2027, 1, 30), channel="fax",
                       today=D(2027, 1, 30))


def test_expedited_requests_use_the_expedited_turnaround(authorization, front_desk):
    renewal, _ = open_renewal(authorization=authorization, today=D(2027, 1, 29))
    update_renewal_request(actor=front_desk, renewal=renewal, requested_start=D(2027, 3, 1),
                           requested_end=D(2027, 5, 31), expedited=True,
                           quantities={renewal.lines.get().pk: 26})
    renewal = _ready(Renewal.objects.get(pk=renewal.pk), front_desk)
    renewal = submit_renewal(actor=front_desk, renewal=renewal, submitted_on=D(2027, 2, 1), channel="electronic",
                             today=D(2027, 2, 1))
    assert renewal.decision_due == D(2027, 2, 4)  # 72 hours
    assert renewal.lines.get().requested_quantity == 26


def test_the_request_refuses_nonsense(authorization, front_desk):
    renewal, _ = open_renewal(authorization=authorization, today=D(2027, 1, 29))
    with pytest.raises(ValidationError) as refused:
        update_renewal_request(actor=front_desk, renewal=renewal, requested_start=D(2027, 3, 1),
                               requested_end=D(2027, 2, 1), expedited=False,
                               quantities={renewal.lines.get().pk: 0})
    assert "cannot end before it starts" in str(refused.value) and "Ask for at least 1" in str(refused.value)
    assert renewal.lines.get().requested_quantity == 48


SUBMITTED_ON = D(2027, 1, 30)


def _submitted(authorization, actor, on=SUBMITTED_ON):
    renewal, _ = open_renewal(authorization=authorization, today=on)
    renewal = _ready(renewal, actor)
    return submit_renewal(actor=actor, renewal=renewal, submitted_on=on, channel="fax", today=on)


def test_approval_creates_the_next_authorization_linked_to_the_last(authorization, front_desk, billing):
    renewal = _submitted(authorization, front_desk)
    line = renewal.lines.get()
    new = decide_renewal(actor=billing, renewal=renewal, approved=True, decided_on=D(2027, 2, 5), number="LS-2027-0042",
                         quantities={line.pk: 48}, today=D(2027, 2, 5))
    assert new.previous == authorization and new.status == AuthorizationStatus.APPROVED
    assert (new.start_date, new.end_date, new.discipline) == (D(2027, 3, 1), D(2027, 8, 28), "OT")
    assert [(ln.cpt_codes, ln.quantity, ln.requested_quantity) for ln in new.lines.all()] == [
        (["97530", "97110", "97533"], 48, None)]
    renewal.refresh_from_db()
    assert renewal.state == RenewalState.APPROVED and renewal.decided_by == billing
    assert "expiring" not in summary_of(authorization, D(2027, 2, 5)).flags
    assert not open_tasks("renewal_partial_approval")
    with pytest.raises(RenewalError, match="this one is approved"):
        decide_renewal(actor=billing, renewal=renewal, approved=False, decided_on=D(2027, 2, 5), reason="x",
                       today=D(2027, 2, 5))


def test_a_partial_approval_is_recorded_and_sent_to_the_office_manager(authorization, front_desk, billing):
    renewal = _submitted(authorization, front_desk)
    line = renewal.lines.get()
    new = decide_renewal(actor=billing, renewal=renewal, approved=True, decided_on=D(2027, 2, 5), number="LS-2027-0043",
                         quantities={line.pk: 30}, today=D(2027, 2, 5))
    assert new.status == AuthorizationStatus.PARTIALLY_APPROVED
    assert [(ln.quantity, ln.requested_quantity) for ln in new.lines.all()] == [(30, 48)]
    renewal.refresh_from_db()
    assert renewal.state == RenewalState.PARTIALLY_APPROVED
    assert renewal.lines.get().approved_quantity == 30
    event = AuditEvent.objects.get(object_type="authorizations.renewal", detail__state="partially_approved")
    assert event.detail["shortfall"] == [{"codes": ["97530", "97110", "97533"], "requested": 48, "approved": 30}]
    task = open_tasks("renewal_partial_approval")[0]
    assert task.role == "office_manager" and "30 of 48 visits" in task.reason


def test_a_shorter_period_is_a_partial_approval_too(authorization, front_desk, billing):
    renewal = _submitted(authorization, front_desk)
    new = decide_renewal(actor=billing, renewal=renewal, approved=True, decided_on=D(2027, 2, 5), number="LS-9",
                         end_date=D(2027, 5, 31), quantities={renewal.lines.get().pk: 48}, today=D(2027, 2, 5))
    assert new.status == AuthorizationStatus.PARTIALLY_APPROVED
    assert "period Mar 1–May 31 instead of Mar 1–Aug 28" in open_tasks("renewal_partial_approval")[0].reason


def test_decisions_refuse_bad_input_and_write_nothing(authorization, front_desk, billing):
    renewal = _submitted(authorization, front_desk)
    line = renewal.lines.get()
    count = Authorization.objects.count()
    cases = [
        ({"approved": True, "number": "", "quantities": {line.pk: 40}}, "number"),
        ({"approved": True, "number": "N1", "quantities": {}}, f"lines.{line.pk}.approved_quantity"),
        ({"approved": True, "number": "N1", "quantities": {line.pk: 0}}, "lines"),
        ({"approved": True, "number": "N1", "quantities": {line.pk: 40}, "end_date": D(2027, 2, 1)}, "end_date"),
        ({"approved": True, "number": authorization.number, "quantities": {line.pk: 40},
          "start_date": D(2027, 2, 20)}, "number"),
        ({"approved": False, "reason": " "}, "reason"),
        ({"approved": False, "reason": "Not medically necessary", "decided_on": D(2027, 1, 1)}, "decided_on"),
    ]
    for kwargs, field in cases:
        kwargs.setdefault("decided_on", D(2027, 2, 5))
        with pytest.raises(ValidationError) as refused:
            decide_renewal(actor=billing, renewal=renewal, today=D(2027, 2, 5), **kwargs)
        assert field in refused.value.message_dict, (kwargs, refused.value.message_dict)
        assert Authorization.objects.count() == count
        renewal.refresh_from_db()
        assert renewal.state == RenewalState.SUBMITTED


def test_a_denial_needs_the_reason_and_goes_to_the_office_manager(authorization, front_desk, billing):
    renewal = _submitted(authorization, front_desk)
    assert decide_renewal(actor=billing, renewal=renewal, approved=False, decided_on=D(2027, 2, 3),
                          reason="Progress report does not show measurable progress.", today=D(2027, 2, 5)) is None
    renewal.refresh_from_db()
    assert renewal.state == RenewalState.DENIED
    assert "measurable progress" in open_tasks("renewal_denied")[0].reason


def test_the_sweep_opens_a_renewal_when_the_authorization_enters_its_window(authorization, practice):
    assert open_due_renewals(practice=practice, today=D(2027, 1, 28)) == (0, 0)
    assert not Renewal.objects.exists()
    assert open_due_renewals(practice=practice, today=D(2027, 1, 29)) == (1, 0)
    assert Renewal.objects.get().due_date == D(2027, 2, 7)
    assert open_due_renewals(practice=practice, today=D(2027, 1, 30)) == (0, 0)


def test_the_sweep_opens_early_when_the_authorization_runs_out_first(patient, practice, front_desk, working_week):
    authorization = Authorization.objects.get(coverage__patient=patient)
    authorization.end_date = next_weekday(4, weeks_ahead=8)
    authorization.save()
    authorization.lines.update(quantity=2)
    plan = patient.plans_of_care.get()
    for weeks in (1, 2):
        book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                         start_at=local_to_utc(next_weekday(1, weeks), dt.time(16), practice.zone), minutes=45,
                         plan_of_care=plan)
    exhausted = next_weekday(1, 2)
    summary = summary_of(authorization, exhausted)
    assert summary.exhausted_on == exhausted and "runs_out" in summary.flags
    window_opens = authorization.end_date - dt.timedelta(days=30)
    # Due when the payer's window opens (the lead time from exhaustion falls before it);
    # opened a preparation week earlier.
    assert open_due_renewals(practice=practice, today=window_opens - dt.timedelta(days=8)) == (0, 0)
    assert open_due_renewals(practice=practice, today=window_opens - dt.timedelta(days=7)) == (1, 0)
    renewal = Renewal.objects.get()
    assert (renewal.due_date, renewal.due_basis) == (window_opens, "exhaustion")
    assert renewal.requested_start == exhausted + dt.timedelta(days=1)


def test_a_sweep_summarizes_once_and_its_rules_see_the_renewal_it_opened(patient, practice, front_desk,
                                                                        working_week):
    authorization = Authorization.objects.get(coverage__patient=patient)
    authorization.end_date = next_weekday(4, weeks_ahead=8)
    authorization.save()
    authorization.lines.update(quantity=2)
    for weeks in (1, 2):
        book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                         start_at=local_to_utc(next_weekday(1, weeks), dt.time(16), practice.zone), minutes=45,
                         plan_of_care=patient.plans_of_care.get())
    today = authorization.end_date - dt.timedelta(days=37)  # the renewal opens today
    with run_memo():
        result = run_daily(practice=practice, now=at(today), rules=True)
        assert result["renewals_opened"] == 1
        # Runs out, but its renewal is open: no task to start one.
        assert not open_tasks("authorization_runs_out")
        with CaptureQueriesContext(connection) as queries:
            live = summarize(practice, today=today, shared=True,
                             authorizations=Authorization.objects.filter(status=AuthorizationStatus.APPROVED))
        assert len(queries) == 1  # which ones: the summaries are the run's
        assert [s.authorization.pk for s in live] == [authorization.pk] and live[0].renewal is not None


def test_due_dates_follow_the_schedule_until_the_renewal_is_sent(authorization, practice, patient, front_desk,
                                                                 working_week):
    authorization.end_date = next_weekday(4, weeks_ahead=10)
    authorization.save()
    renewal, _ = open_renewal(authorization=authorization, today=authorization.end_date - dt.timedelta(days=30))
    assert renewal.due_basis == "end"
    authorization.lines.update(quantity=1)
    book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                     start_at=local_to_utc(next_weekday(1), dt.time(16), practice.zone), minutes=45,
                     plan_of_care=patient.plans_of_care.get())
    assert open_due_renewals(practice=practice, today=renewal.window_opens) == (0, 1)
    renewal.refresh_from_db()
    assert renewal.due_basis == "exhaustion" and renewal.due_date == renewal.window_opens


def test_late_renewals_and_late_decisions_escalate_to_the_office_manager_and_close_when_resolved(
        authorization, practice, front_desk, billing):
    renewal, _ = open_renewal(authorization=authorization, today=D(2027, 1, 29))
    run_authorization_rules(practice=practice, now=at(D(2027, 2, 7)))
    assert not open_tasks("renewal_overdue")  # due today: not late yet
    run_authorization_rules(practice=practice, now=at(D(2027, 2, 8)))
    overdue = open_tasks("renewal_overdue")
    assert [t.role for t in overdue] == ["office_manager"]
    assert "was due on Feb 7" in overdue[0].reason and "waiting on the therapist's documents" in overdue[0].reason
    renewal = _ready(renewal, front_desk)
    submit_renewal(actor=front_desk, renewal=renewal, submitted_on=D(2027, 2, 8), channel="fax",
                   today=D(2027, 2, 8))
    run_authorization_rules(practice=practice, now=at(D(2027, 2, 8)))
    assert not open_tasks("renewal_overdue") and not open_tasks("renewal_to_submit")
    assert Task.objects.get(kind="renewal_overdue").status == "cancelled"

    run_authorization_rules(practice=practice, now=at(D(2027, 2, 15)))
    assert not open_tasks("renewal_decision_overdue")  # decision due Feb 15
    run_authorization_rules(practice=practice, now=at(D(2027, 2, 16)))
    late = open_tasks("renewal_decision_overdue")
    assert [t.role for t in late] == ["office_manager"] and "due on Feb 15" in late[0].reason
    renewal.refresh_from_db()
    decide_renewal(actor=billing, renewal=renewal, approved=True, decided_on=D(2027, 2, 16), number="LS-NEXT",
                   quantities={renewal.lines.get().pk: 48}, today=D(2027, 2, 16))
    run_authorization_rules(practice=practice, now=at(D(2027, 2, 16)))
    assert not open_tasks("renewal_decision_overdue")


def test_the_daily_sweep_is_idempotent_and_marks_ended_authorizations_expired(authorization, practice):
    first = run_daily(practice=practice, now=at(D(2027, 1, 29)), rules=True)
    assert first["renewals_opened"] == 1
    again = run_daily(practice=practice, now=at(D(2027, 1, 29)), rules=True)
    assert again["renewals_opened"] == 0 and all(result == (0, 0) for result in again["rules"].values())
    run_daily(practice=practice, now=at(D(2027, 3, 1)))
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.EXPIRED


def test_authorizations_that_need_no_renewal_get_none(patient, practice):
    authorization = Authorization.objects.get(coverage__patient=patient)
    payer = authorization.coverage.payer
    payer.requires_authorization = False
    payer.save()
    assert open_due_renewals(practice=practice, today=D(2027, 2, 1)) == (0, 0)
    with pytest.raises(RenewalError, match="does not require authorization"):
        open_renewal(authorization=authorization, today=D(2027, 2, 1))
    payer.requires_authorization = True
    payer.save()
    denied = make_authorization(authorization.coverage, number="PA-DENIED", status="denied",
                                start_date=D(2027, 3, 1), end_date=D(2027, 4, 30))
    with pytest.raises(RenewalError, match="is denied"):
        open_renewal(authorization=denied, today=D(2027, 4, 1))


def test_the_packet_is_prefilled(authorization, patient, practice, front_desk, therapist, working_week):
    practice.street, practice.city, practice.state, practice.postal_code = "100 Main St", "Austin", "TX", "78701"
    practice.save()
    patient.diagnoses.create(code="F82", description="Developmental coordination disorder")
    appointment = book_appointment(
        actor=front_desk, practice=practice, therapist=working_week, patient=patient,
        start_at=local_to_utc(next_weekday(1), dt.time(16), practice.zone), minutes=45,
        plan_of_care=patient.plans_of_care.get())
    renewal, _ = open_renewal(authorization=authorization, today=D(2027, 1, 29))
    set_document(actor=therapist, renewal=renewal, document="progress_report", received=True, today=D(2027, 1, 30))
    pdf = renewal_packet(renewal, today=D(2027, 1, 30))
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in ["Prior authorization renewal request", "Sunny Steps Pediatric Therapy", "1234567893",
                     "100 Main St, Austin, TX 78701", "Lone Star Medicaid", "+15125550111",
                     "https://portal.lonestar.example", "Lopez, Ava", "04/12/2018", "M123456",
                     "F82 Developmental coordination disorder", "Theo Tester, OTR/L",
                     "#PA-OT-", "03/01/2027 to 08/28/2027", "97530, 97110, 97533", "48",
                     "Zips coat independently", "Writes first name legibly", "Progress report", "enclosed (01/30/2027)",
                     "Physician order / prescription", "to follow", "page 1 of 2"]:
        assert expected in text, expected
    assert "0 of 48 visits used, 1 scheduled" in text
    set_status(actor=front_desk, appointment=appointment, status="completed")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(renewal_packet(renewal, today=D(2027, 1, 30))))
                     .pages)
    assert "1 of 48 visits used, 0 scheduled" in text


def test_the_sweep_and_the_rules_are_registered(authorization, practice):
    from django.core.management import call_command

    from pedsdesk.sweeps import registered
    from pedsdesk.workqueue.rules import registered_rules

    assert "authorizations.daily" in {s.name for s in registered("daily")}
    schedules = {r.name: r.schedule for r in registered_rules()}
    assert schedules["authorization_renewal_overdue"] == "hourly"
    assert schedules["authorization_decision_overdue"] == "hourly"
    assert schedules["authorization_runs_out"] == "daily"
    out = io.StringIO()
    call_command("authorizations", "sweep", stdout=out)
    assert '"renewals_opened"' in out.getvalue()

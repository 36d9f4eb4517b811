"""Work-queue rules of authorizations and renewals.

Each rule is ``(practice, now) -> TaskSpec``s: the tasks that should be open now. They
are registered with the work queue's rule registry, whose sweeps hand each answer to
``sync_rule``: it opens the new tasks and closes those whose condition cleared (the
renewal was submitted, the decision recorded, the visit moved), so nobody closes
these by hand. The renewal rules are cheap and run hourly; the ones that project
every authorization run daily.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.utils import timezone

from pedsdesk.authorizations.actions import DOCUMENTS_RULE, TO_SUBMIT_RULE, document_task, submit_task
from pedsdesk.authorizations.models import (
    AWAITING_DECISION_STATES,
    PREPARING_STATES,
    THERAPIST_DOCUMENTS,
    Authorization,
    Renewal,
    RenewalItem,
)
from pedsdesk.authorizations.queries import AuthorizationSummary, summarize
from pedsdesk.practices.models import Practice, Role
from pedsdesk.sweeps import DueMarks, counted, joined
from pedsdesk.workqueue.actions import TaskSpec, sync_rule
from pedsdesk.workqueue.models import Priority
from pedsdesk.workqueue.rules import task_rule


def _today(practice: Practice, now: dt.datetime) -> dt.date:
    return now.astimezone(practice.zone).date()


def _end_of_day(practice: Practice, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(17), tzinfo=practice.zone)


def _short(day: dt.date) -> str:
    return f"{day:%b} {day.day}"


def _renewals(practice: Practice, states: Iterable[str]):
    return (Renewal.objects.filter(authorization__coverage__patient__practice=practice, state__in=list(states))
            .select_related("authorization__coverage__payer", "authorization__coverage__patient__practice",
                            "therapist").order_by("due_date", "pk"))


def renewal_documents(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Therapist: each document of a renewal in preparation that the therapist writes."""
    # The practice filtered here, not in a subquery of renewals: in a group's database the
    # subquery let PostgreSQL join every practice's items first (300 ms, not 5).
    items = (RenewalItem.objects.filter(renewal__authorization__coverage__patient__practice=practice,
                                        renewal__state__in=list(PREPARING_STATES),
                                        document__in=THERAPIST_DOCUMENTS, received_on__isnull=True)
             .select_related("renewal__authorization__coverage__payer",
                             "renewal__authorization__coverage__patient__practice", "renewal__therapist")
             .order_by("pk"))
    for item in items:
        yield document_task(item, item.renewal)


def renewals_to_submit(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Front desk: every renewal still being prepared, due on its due date."""
    for renewal in _renewals(practice, PREPARING_STATES):
        yield submit_task(renewal)


def renewals_overdue(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Office manager: a renewal not submitted by its due date."""
    today = _today(practice, now)
    for renewal in _renewals(practice, PREPARING_STATES).filter(due_date__lt=today):
        a = renewal.authorization
        patient = a.coverage.patient
        waiting = ("the therapist's documents" if renewal.state == "waiting_on_therapist"
                   else "documents on the checklist" if renewal.state == "to_prepare" else "someone to send it")
        yield TaskSpec(
            dedupe_key=f"renewal_overdue:{renewal.pk}",
            title=f"Renewal overdue: {patient}, {a.discipline}, {a.coverage.payer}",
            reason=(f"The renewal of authorization #{a.number} was due on {_short(renewal.due_date)} and has not "
                    f"been submitted; it is waiting on {waiting}. The authorization ends on {_short(a.end_date)}"
                    f"; visits after that are denied until the payer approves the renewal."),
            subject=renewal, patient_id=patient.pk, role=Role.OFFICE_MANAGER, priority=Priority.HIGH,
            due_at=_end_of_day(practice, max(today, renewal.due_date + dt.timedelta(days=1))),
            links=[{"label": "Renewal", "url": renewal.get_absolute_url()},
                   {"label": f"Authorization #{a.number}", "url": a.get_absolute_url()}],
        )


def decisions_overdue(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Office manager: a submitted renewal still without a decision past the payer's turnaround."""
    today = _today(practice, now)
    for renewal in _renewals(practice, AWAITING_DECISION_STATES).filter(decision_due__lt=today):
        a = renewal.authorization
        patient = a.coverage.patient
        payer = a.coverage.payer
        reference = f" (reference {renewal.payer_reference})" if renewal.payer_reference else ""
        yield TaskSpec(
            dedupe_key=f"renewal_decision_overdue:{renewal.pk}",
            title=f"No decision from {payer}: {patient}'s {a.discipline} renewal",
            reason=(f"The renewal was sent by {renewal.get_channel_display().lower()} on "
                    f"{_short(renewal.submitted_on)}{reference}; {payer} decides within "
                    f"{payer.decision_turnaround_days} days, so the decision was due on "
                    f"{_short(renewal.decision_due)}. Call {payer}"
                    f"{' at ' + payer.phone if payer.phone else ''} and ask for the status."),
            subject=renewal, patient_id=patient.pk, role=Role.OFFICE_MANAGER, priority=Priority.HIGH,
            due_at=_end_of_day(practice, max(today, renewal.decision_due + dt.timedelta(days=1))),
            links=[{"label": "Renewal", "url": renewal.get_absolute_url()}],
        )


def _running(practice: Practice, today: dt.date) -> list[AuthorizationSummary]:
    live = Authorization.objects.filter(status__in=("approved", "partially_approved"), end_date__gte=today)
    return summarize(practice, today=today, authorizations=live, shared=True)


def _unit_words(summary: AuthorizationSummary, count: int) -> str:
    unit = "visit" if summary.unit_type == "visits" else "unit"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def authorizations_running_out(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Front desk: the schedule uses the last unit before the authorization ends, and no
    renewal is open yet."""
    today = _today(practice, now)
    for s in _running(practice, today):
        if "runs_out" not in s.flags or s.renewal is not None or getattr(s.authorization, "continued", False):
            continue
        a = s.authorization
        yield TaskSpec(
            dedupe_key=f"authorization_runs_out:{a.pk}",
            title=f"{s.patient}'s {a.discipline} authorization runs out {_short(s.exhausted_on)}",
            reason=(f"Authorization #{a.number} with {s.payer} ends on {_short(a.end_date)}, but the visits "
                    f"booked and the recurring series use its last {'visit' if s.unit_type == 'visits' else 'unit'} on "
                    f"{_short(s.exhausted_on)}. "
                    "Start the renewal now (ask for more units), or reduce the visits."),
            subject=a, patient_id=s.patient.pk, role=Role.FRONT_DESK,
            due_at=_end_of_day(practice, max(today, s.exhausted_on - dt.timedelta(days=14))),
            links=[{"label": f"Authorization #{a.number}", "url": a.get_absolute_url()}],
        )


def authorizations_under_used(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Front desk: ending soon with a meaningful share of its units unbooked (the practice's
    threshold and weeks, in the flag)."""
    today = _today(practice, now)
    for s in _running(practice, today):
        a = s.authorization
        if "unused_units" not in s.flags:
            continue
        yield TaskSpec(
            dedupe_key=f"authorization_under_used:{a.pk}",
            title=f"{_unit_words(s, s.remaining)} unused: {s.patient}, {a.discipline}, ends {_short(a.end_date)}",
            reason=(f"Authorization #{a.number} with {s.payer} ends on {_short(a.end_date)} with "
                    f"{_unit_words(s, s.remaining)} that no booked visit will use. Offer the family makeup or "
                    "extra visits before then, or note why not."),
            subject=a, patient_id=s.patient.pk, role=Role.FRONT_DESK, priority=Priority.LOW,
            due_at=_end_of_day(practice, max(today, a.end_date - dt.timedelta(days=7))),
            links=[{"label": f"Authorization #{a.number}", "url": a.get_absolute_url()}],
        )


def visits_beyond_coverage(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Front desk: visits already booked or in a series that the authorization will not
    cover (after its end, beyond its units, over a cap): each a future denial."""
    today = _today(practice, now)
    for s in _running(practice, today):
        if not s.denials:
            continue
        a = s.authorization
        first = s.denials[0]
        named = "; ".join(d.message for d in s.denials[:3]) + (f"; and {len(s.denials) - 3} more"
                                                               if len(s.denials) > 3 else "")
        # Only visits still to come can be moved; those already held need the payer.
        advice = ("Move or cancel them, or get the authorization extended." if not s.past_denials else
                  "Ask the payer for a retroactive authorization or appeal the claims of visits already held."
                  if not s.upcoming_denials else
                  "Move or cancel the visits still to come, or get the authorization extended; for those already "
                  "held, ask the payer for a retroactive authorization or appeal the claims.")
        yield TaskSpec(
            dedupe_key=f"visits_beyond_coverage:{a.pk}",
            title=f"{len(s.denials)} visit{'s' if len(s.denials) != 1 else ''} not covered: {s.patient}, "
                  f"{a.discipline}",
            reason=f"Under authorization #{a.number} with {s.payer}: {named}. Each would be a denied claim. {advice}",
            subject=a, patient_id=s.patient.pk, role=Role.FRONT_DESK, priority=Priority.HIGH,
            due_at=_end_of_day(practice, max(today, first.visit.day - dt.timedelta(days=3))),
            links=[{"label": f"Authorization #{a.number}", "url": a.get_absolute_url()}],
        )


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    schedule: str
    label: str
    evaluate: Callable[[Practice, dt.datetime], Iterable[TaskSpec]]
    listed_in: str = ""  # the daily list task (workqueue/lists.py) that gathers kinds coming in dozens
    due: DueMarks | None = None


def _renewal_marks(now: dt.datetime) -> dict[int, tuple]:
    """Every renewal (its state, dates and decision), and the documents still to come in."""
    return joined(counted(Renewal.objects.all(), practice="authorization__coverage__patient__practice_id",
                          changed="updated_at"),
                  counted(RenewalItem.objects.filter(received_on__isnull=True),
                          practice="renewal__authorization__coverage__patient__practice_id"))


RULES = [
    Rule(DOCUMENTS_RULE, "renewal_document", "hourly", "Renewal document to write", renewal_documents,
         due=_renewal_marks),
    Rule(TO_SUBMIT_RULE, "renewal_to_submit", "hourly", "Renewal to submit", renewals_to_submit, "renewals",
         due=_renewal_marks),
    Rule("authorization_renewal_overdue", "renewal_overdue", "hourly", "Renewal overdue", renewals_overdue,
         due=_renewal_marks),
    Rule("authorization_decision_overdue", "renewal_decision_overdue", "hourly", "Payer decision overdue",
         decisions_overdue, due=_renewal_marks),
    Rule("authorization_runs_out", "authorization_runs_out", "daily", "Authorization runs out early",
         authorizations_running_out, "authorizations"),
    Rule("authorization_under_used", "authorization_under_used", "daily", "Authorized units unused",
         authorizations_under_used, "authorizations"),
    Rule("authorization_visits_beyond_coverage", "visits_beyond_coverage", "daily", "Visits not covered",
         visits_beyond_coverage, "authorizations"),
]
for _rule in RULES:
    task_rule(_rule.name, kind=_rule.kind, schedule=_rule.schedule, label=_rule.label,
              listed_in=_rule.listed_in, due=_rule.due)(_rule.evaluate)


def run_authorization_rules(*, practice: Practice, now: dt.datetime | None = None) -> dict[str, tuple[int, int]]:
    """Bring every authorization rule's tasks in step for one practice now, whatever their
    schedule: {rule: (opened, closed)}."""
    now = now or timezone.now()
    return {rule.name: sync_rule(practice=practice, rule=rule.name, kind=rule.kind,
                                 specs=list(rule.evaluate(practice, now)), now=now)
            for rule in RULES}

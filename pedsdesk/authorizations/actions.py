"""Changes to authorizations and renewals.

Keyword-only functions; each runs in one transaction and writes its audit event
there, so a change and its record land together or not at all. A person's change
names the person; the daily sweep's names "pedsdesk".
"""

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.authorizations.figures import figures_stale
from pedsdesk.authorizations.models import (
    AWAITING_DECISION_STATES,
    PREPARING_STATES,
    USABLE_STATUSES,
    Authorization,
    AuthorizationStatus,
    Coverage,
    Renewal,
    RenewalItem,
    RenewalLine,
    RenewalState,
    ServiceLine,
    SubmissionChannel,
)
from pedsdesk.authorizations.projection import renewal_due
from pedsdesk.authorizations.queries import SUMMARIES, AuthorizationSummary, summarize, summary_of
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.sweeps import forget
from pedsdesk.workqueue.actions import TaskSpec, close_task_by_rule, open_task
from pedsdesk.workqueue.models import OPEN_STATUSES, Priority, Task

SYSTEM_ACTOR = "pedsdesk"
# Renewals open this long before they fall due even when the payer's window opens later:
# the therapist needs about a week to write the progress report.
PREPARATION_DAYS = 7
# Rules whose tasks these actions open straight away (the daily rules keep them in step).
DOCUMENTS_RULE = "authorization_renewal_documents"
TO_SUBMIT_RULE = "authorization_renewal_to_submit"


class RenewalError(ValueError):
    """A renewal step that cannot be taken now; the message says why, for a person."""


Actor = StaffMember | str


def _today(practice: Practice, today: dt.date | None) -> dt.date:
    return today or timezone.now().astimezone(practice.zone).date()


def _end_of_day(practice: Practice, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(17), tzinfo=practice.zone)


def _short(day: dt.date) -> str:
    return f"{day:%b} {day.day}"


# Authorizations


def line_set_errors(lines: list[ServiceLine]) -> dict[int, dict[str, str]]:
    """Problems between the lines of one authorization: {line index: {field: message}}.

    A code on two lines would leave it to chance which line a visit draws on; visits and
    15-minute units on one authorization cannot be added up into one figure.
    """
    errors: dict[int, dict[str, str]] = {}
    seen: dict[str, int] = {}
    unit_type = None
    for i, line in enumerate(lines):
        for code in line.cpt_codes or []:
            if code in seen:
                errors.setdefault(i, {})["cpt_codes"] = (
                    f"{code} is already on line {seen[code] + 1}; list each code on one line.")
            seen.setdefault(code, i)
        if unit_type is None:
            unit_type = line.unit_type
        elif line.unit_type != unit_type:
            errors.setdefault(i, {})["unit_type"] = (
                "All lines of one authorization count the same unit (visits or 15-minute units); "
                "enter the other as its own authorization.")
    return errors


def save_authorization(*, actor: StaffMember, coverage: Coverage, data: dict[str, Any],
                       lines: list[dict[str, Any]] | None, authorization: Authorization | None = None,
                       request: HttpRequest | None = None) -> Authorization:
    """Create or change an authorization and (when ``lines`` is given) replace its lines.

    Every field and line is validated before anything is written; errors are keyed
    ``number``, ``lines.0.quantity`` … and nothing is half-saved.
    """
    creating = authorization is None or authorization.pk is None
    authorization = authorization or Authorization(coverage=coverage)
    changed = []
    for name, value in data.items():
        if getattr(authorization, name) != value:
            changed.append(name)
        setattr(authorization, name, value)
    if isinstance(authorization.number, str):
        authorization.number = authorization.number.strip()
    errors: dict[str, list[str]] = {}
    try:
        authorization.full_clean(exclude=["coverage", "previous"])
    except ValidationError as exc:
        errors.update({k: list(v) for k, v in exc.message_dict.items()})
    rows = [ServiceLine(authorization=authorization, **line) for line in lines] if lines is not None else []
    if lines is not None and not rows:
        errors["lines"] = ["An authorization needs at least one service line (codes and quantity)."]
    for i, row in enumerate(rows):
        row.cpt_codes = [c.strip() for c in row.cpt_codes or [] if c.strip()]
        try:
            row.full_clean(exclude=["authorization"])
        except ValidationError as exc:
            errors.update({f"lines.{i}.{k}": list(v) for k, v in exc.message_dict.items()})
    for i, fields in line_set_errors(rows).items():
        for name, message in fields.items():
            errors.setdefault(f"lines.{i}.{name}", []).append(message)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        authorization.save()
        if lines is not None:
            authorization.lines.all().delete()
            ServiceLine.objects.bulk_create(rows)
            changed.append("lines")
        record_event(actor=actor, action="create" if creating else "update", obj=authorization,
                     practice_id=coverage.patient.practice_id, detail={"fields": sorted(changed)}, request=request)
    return authorization


def refresh_statuses(*, practice: Practice, today: dt.date | None = None) -> int:
    """Approved authorizations whose end has passed become expired; those whose units are
    all used (attended visits) become exhausted. Returns how many changed."""
    today = _today(practice, today)
    changed = 0
    live = Authorization.objects.filter(status__in=(AuthorizationStatus.APPROVED,
                                                    AuthorizationStatus.PARTIALLY_APPROVED))
    for summary in summarize(practice, today=today, authorizations=live, shared=True):
        authorization = summary.authorization
        if authorization.end_date < today:
            status = AuthorizationStatus.EXPIRED
        elif summary.projection is not None and summary.used >= summary.authorized:
            status = AuthorizationStatus.EXHAUSTED
        else:
            continue
        with transaction.atomic():
            if Authorization.objects.filter(pk=authorization.pk, status=authorization.status).update(status=status):
                figures_stale(authorizations=[authorization.pk])  # an update() sends no signal
                record_event(actor=SYSTEM_ACTOR, action="update", obj=authorization, practice_id=practice.pk,
                             detail={"fields": ["status"], "status": status, "was": authorization.status})
                changed += 1
    return changed


# Renewals


def needs_renewal(summary: AuthorizationSummary) -> bool:
    """A usable authorization of a payer that requires one, still running, with no
    renewal and nothing after it yet, for a child still coming."""
    a = summary.authorization
    return (a.status in USABLE_STATUSES and a.status != AuthorizationStatus.EXPIRED
            and summary.payer.requires_authorization and summary.patient.is_active
            and a.end_date >= summary.today and not getattr(a, "continued", False) and summary.renewal is None)


def renewal_dates(summary: AuthorizationSummary) -> tuple[dt.date, dt.date, str]:
    payer = summary.payer
    return renewal_due(end=summary.authorization.end_date, exhausted_on=summary.exhausted_on,
                       recommended_days=payer.renewal_recommended_days, earliest_days=payer.renewal_earliest_days)


def opens_on(summary: AuthorizationSummary) -> dt.date:
    """When the daily sweep opens the renewal: as the payer's window opens, or a
    preparation week before it falls due, whichever is first."""
    due, window_opens, _ = renewal_dates(summary)
    return min(window_opens, due - dt.timedelta(days=PREPARATION_DAYS))


def _state_from_checklist(items: Iterable[RenewalItem]) -> str:
    outstanding = [item for item in items if not item.done]
    if any(item.therapist_writes for item in outstanding):
        return RenewalState.WAITING_ON_THERAPIST
    return RenewalState.TO_PREPARE if outstanding else RenewalState.READY


def document_task(item: RenewalItem, renewal: Renewal) -> TaskSpec:
    """The therapist's task for one document of a renewal."""
    a = renewal.authorization
    patient = a.coverage.patient
    due = max(renewal.due_date - dt.timedelta(days=3), renewal.created_at.astimezone(patient.practice.zone).date())
    assignee = renewal.therapist if renewal.therapist is not None and renewal.therapist.is_active else None
    return TaskSpec(
        dedupe_key=f"renewal_document:{item.pk}",
        title=f"{item.get_document_display()} for {patient}'s {a.discipline} renewal (due {_short(due)})",
        reason=(f"{patient}'s {a.discipline} authorization #{a.number} with {a.coverage.payer} ends on "
                f"{_short(a.end_date)}; the renewal must reach the payer by {_short(renewal.due_date)} and needs "
                f"your {item.get_document_display().lower()}. When it is written, tick it on the renewal's "
                "checklist."),
        subject=renewal, patient_id=patient.pk, role=Role.THERAPIST if assignee else Role.OFFICE_MANAGER,
        assignee=assignee, due_at=_end_of_day(patient.practice, due),
        links=[{"label": "Renewal checklist", "url": renewal.get_absolute_url()},
               {"label": str(patient), "url": patient.get_absolute_url()}],
    )


def submit_task(renewal: Renewal) -> TaskSpec:
    """The front desk's task to assemble and send a renewal."""
    a = renewal.authorization
    patient = a.coverage.patient
    return TaskSpec(
        dedupe_key=f"renewal_to_submit:{renewal.pk}",
        title=f"Submit {patient}'s {a.discipline} renewal to {a.coverage.payer} by {_short(renewal.due_date)}",
        reason=(f"Authorization #{a.number} ends on {_short(a.end_date)}"
                + (" and its units are projected to run out before then" if renewal.due_basis == "exhaustion" else "")
                + f". {a.coverage.payer} accepts renewals from {_short(renewal.window_opens)}. Collect the "
                  "documents on the checklist, download the packet and submit it."),
        subject=renewal, patient_id=patient.pk, role=Role.FRONT_DESK,
        due_at=_end_of_day(patient.practice, renewal.due_date),
        links=[{"label": "Renewal checklist", "url": renewal.get_absolute_url()},
               {"label": f"Authorization #{a.number}", "url": a.get_absolute_url()}],
    )


def open_renewal(*, authorization: Authorization, actor: Actor = SYSTEM_ACTOR, today: dt.date | None = None,
                 request: HttpRequest | None = None) -> tuple[Renewal, bool]:
    """Open the renewal of ``authorization`` (or return the open one): dates from the
    payer's policy, the checklist from its documents, the request copied from the lines.

    The therapist's documents become tasks for the plan's therapist. Returns
    (renewal, created).
    """
    existing = Renewal.objects.filter(authorization=authorization).first()
    if existing is not None:
        return existing, False
    practice = authorization.coverage.patient.practice
    today = _today(practice, today)
    summary = summary_of(authorization, today)
    payer = summary.payer
    if authorization.status not in USABLE_STATUSES:
        raise RenewalError(f"Authorization #{authorization.number} is {authorization.get_status_display().lower()}; "
                           "only an approved authorization is renewed.")
    if not payer.requires_authorization:
        raise RenewalError(f"{payer} does not require authorization, so there is nothing to renew.")
    due, window_opens, basis = renewal_dates(summary)
    length = authorization.end_date - authorization.start_date
    start = authorization.end_date + dt.timedelta(days=1)
    if summary.exhausted_on is not None and summary.exhausted_on < authorization.end_date:
        start = summary.exhausted_on + dt.timedelta(days=1)  # more units from the day they run out
    with transaction.atomic():
        renewal = Renewal.objects.create(
            authorization=authorization, due_date=due, window_opens=window_opens, due_basis=basis,
            therapist=summary.therapist, requested_start=start, requested_end=start + length,
            created_at=timezone.now(), updated_at=timezone.now(),
        )
        forget(SUMMARIES)  # a sweep's rules see the renewal now open
        items = RenewalItem.objects.bulk_create(
            RenewalItem(renewal=renewal, document=document) for document in dict.fromkeys(payer.renewal_documents))
        RenewalLine.objects.bulk_create(
            RenewalLine(renewal=renewal, source=line, cpt_codes=line.cpt_codes, modifier=line.modifier,
                        unit_type=line.unit_type, requested_quantity=line.requested_quantity or line.quantity,
                        per_week_cap=line.per_week_cap, per_month_cap=line.per_month_cap)
            for line in authorization.lines.all())
        renewal.state = _state_from_checklist(items)
        renewal.save(update_fields=["state"])
        record_event(actor=actor, action="create", obj=renewal, practice_id=practice.pk, request=request,
                     detail={"due_date": due.isoformat(), "due_basis": basis, "state": renewal.state})
        for item in RenewalItem.objects.filter(renewal=renewal).order_by("pk"):
            if item.therapist_writes:
                open_task(practice=practice, kind="renewal_document", spec=document_task(item, renewal),
                          rule=DOCUMENTS_RULE)
        open_task(practice=practice, kind="renewal_to_submit", spec=submit_task(renewal), rule=TO_SUBMIT_RULE)
    return renewal, True


def open_due_renewals(*, practice: Practice, today: dt.date | None = None) -> tuple[int, int]:
    """The daily sweep: open the renewals whose time has come, and move the due date of
    renewals still being prepared when the projection moved. Returns (opened, moved)."""
    today = _today(practice, today)
    opened = moved = 0
    candidates = Authorization.objects.filter(status__in=USABLE_STATUSES, end_date__gte=today,
                                              coverage__payer__requires_authorization=True)
    for summary in summarize(practice, today=today, authorizations=candidates, shared=True):
        renewal = summary.renewal
        if renewal is None:
            if needs_renewal(summary) and today >= opens_on(summary):
                _, created = open_renewal(authorization=summary.authorization, today=today)
                opened += created
        elif renewal.state in PREPARING_STATES:
            due, window_opens, basis = renewal_dates(summary)
            if (due, window_opens, basis) != (renewal.due_date, renewal.window_opens, renewal.due_basis):
                with transaction.atomic():
                    Renewal.objects.filter(pk=renewal.pk).update(due_date=due, window_opens=window_opens,
                                                                 due_basis=basis, updated_at=timezone.now())
                    record_event(actor=SYSTEM_ACTOR, action="update", obj=renewal, practice_id=practice.pk,
                                 detail={"fields": ["due_date"], "due_date": due.isoformat(),
                                         "was": renewal.due_date.isoformat(), "due_basis": basis})
                forget(SUMMARIES)
                moved += 1
    return opened, moved


def _locked(renewal: Renewal) -> Renewal:
    return Renewal.objects.select_for_update().select_related(
        "authorization__coverage__payer", "authorization__coverage__patient__practice").get(pk=renewal.pk)


def update_renewal_request(*, actor: StaffMember, renewal: Renewal, requested_start: dt.date,
                           requested_end: dt.date, expedited: bool, quantities: dict[int, int],
                           request: HttpRequest | None = None) -> Renewal:
    """Change what the renewal asks for (period, expedited, quantity per line) before it is sent."""
    with transaction.atomic():
        renewal = _locked(renewal)
        if renewal.state not in PREPARING_STATES:
            raise RenewalError("The renewal has been sent; what it asks for can no longer change.")
        renewal.requested_start, renewal.requested_end, renewal.expedited = requested_start, requested_end, expedited
        errors = {}
        if requested_end < requested_start:
            errors["requested_end"] = ["The requested period cannot end before it starts."]
        lines = list(renewal.lines.all())
        for line in lines:
            quantity = quantities.get(line.pk, line.requested_quantity)
            if quantity is None or quantity <= 0:
                errors[f"lines.{line.pk}.requested_quantity"] = ["Ask for at least 1."]
            line.requested_quantity = quantity
        if errors:
            raise ValidationError(errors)
        renewal.updated_at = timezone.now()
        renewal.save()
        RenewalLine.objects.bulk_update(lines, ["requested_quantity"])
        record_event(actor=actor, action="update", obj=renewal, request=request,
                     detail={"fields": ["requested_start", "requested_end", "expedited", "lines"]})
    return renewal


def set_document(*, actor: StaffMember, renewal: Renewal, document: str, received: bool, note: str = "",
                 today: dt.date | None = None, request: HttpRequest | None = None) -> RenewalItem:
    """Tick (or untick) one document on the checklist; the renewal's state follows."""
    with transaction.atomic():
        renewal = _locked(renewal)
        practice = renewal.authorization.coverage.patient.practice
        if renewal.state not in PREPARING_STATES:
            raise RenewalError("The renewal has been sent; its checklist is closed.")
        item = renewal.items.filter(document=document).first()
        if item is None:
            raise RenewalError(f"{document!r} is not on this renewal's checklist.")
        item.received_on = _today(practice, today) if received else None
        item.received_by = actor if received else None
        item.note = note.strip()[:200] or item.note
        item.save()
        renewal.state = _state_from_checklist(renewal.items.all())
        renewal.updated_at = timezone.now()
        renewal.save(update_fields=["state", "updated_at"])
        record_event(actor=actor, action="update", obj=renewal, request=request,
                     detail={"document": document, "received": received, "state": renewal.state})
        if received:
            for task in Task.objects.filter(practice=practice, dedupe_key=f"renewal_document:{item.pk}",
                                            status__in=OPEN_STATUSES):
                close_task_by_rule(task=task, reason="document received")
    return item


def _turnaround_days(renewal: Renewal) -> int:
    payer = renewal.authorization.coverage.payer
    if renewal.expedited:
        return max(1, math.ceil(payer.expedited_turnaround_hours / 24))
    return payer.decision_turnaround_days


def submit_renewal(*, actor: StaffMember, renewal: Renewal, submitted_on: dt.date, channel: str,
                   payer_reference: str = "", today: dt.date | None = None,
                   request: HttpRequest | None = None) -> Renewal:
    """Record that the renewal went to the payer: when, how, and the payer's reference."""
    with transaction.atomic():
        renewal = _locked(renewal)
        practice = renewal.authorization.coverage.patient.practice
        payer = renewal.authorization.coverage.payer
        today = _today(practice, today)
        if renewal.state not in PREPARING_STATES:
            raise RenewalError(f"This renewal is already {renewal.get_state_display().lower()}.")
        missing = [item.get_document_display().lower() for item in renewal.items.all() if not item.done]
        if missing:
            raise RenewalError("Still missing from the checklist: " + ", ".join(missing) + ".")
        errors = {}
        if channel not in SubmissionChannel.values:
            errors["channel"] = ["Say how it was sent: portal, fax or electronic."]
        if submitted_on > today:
            errors["submitted_on"] = ["The submission date cannot be in the future."]
        elif submitted_on < renewal.window_opens:
            errors["submitted_on"] = [f"{payer} accepts this renewal from {_short(renewal.window_opens)} "
                                      f"({payer.renewal_earliest_days} days before the authorization ends); "
                                      "one sent earlier is returned unread."]
        if errors:
            raise ValidationError(errors)
        renewal.state = RenewalState.SUBMITTED
        renewal.submitted_on, renewal.channel = submitted_on, channel
        renewal.payer_reference = payer_reference.strip()[:60]
        renewal.submitted_by = actor
        renewal.decision_due = submitted_on + dt.timedelta(days=_turnaround_days(renewal))
        renewal.updated_at = timezone.now()
        renewal.save()
        record_event(actor=actor, action="update", obj=renewal, request=request,
                     detail={"state": renewal.state, "channel": channel, "submitted_on": submitted_on.isoformat()})
    return renewal


def mark_pending(*, actor: StaffMember, renewal: Renewal, payer_reference: str = "",
                 request: HttpRequest | None = None) -> Renewal:
    """The payer acknowledged the request and is reviewing it."""
    with transaction.atomic():
        renewal = _locked(renewal)
        if renewal.state != RenewalState.SUBMITTED:
            raise RenewalError("Only a submitted renewal can be marked pending with the payer.")
        renewal.state = RenewalState.PENDING
        renewal.payer_reference = payer_reference.strip()[:60] or renewal.payer_reference
        renewal.updated_at = timezone.now()
        renewal.save()
        record_event(actor=actor, action="update", obj=renewal, request=request, detail={"state": renewal.state})
    return renewal


def decide_renewal(*, actor: StaffMember, renewal: Renewal, approved: bool, decided_on: dt.date,
                   number: str = "", start_date: dt.date | None = None, end_date: dt.date | None = None,
                   quantities: dict[int, int] | None = None, reason: str = "", note: str = "",
                   today: dt.date | None = None, request: HttpRequest | None = None) -> Authorization | None:
    """Record the payer's decision. An approval creates the next authorization, linked to
    this one, with the approved quantities; less than was asked for is a partial
    approval, recorded as such and sent to the office manager."""
    with transaction.atomic():
        renewal = _locked(renewal)
        old = renewal.authorization
        practice = old.coverage.patient.practice
        today = _today(practice, today)
        if renewal.state not in AWAITING_DECISION_STATES:
            raise RenewalError("Record the decision on a renewal that was submitted to the payer"
                               + (f"; this one is {renewal.get_state_display().lower()}." if renewal.is_decided
                                  else "; submit this one first."))
        errors: dict[str, list[str]] = {}
        if decided_on > today:
            errors["decided_on"] = ["The decision date cannot be in the future."]
        elif renewal.submitted_on and decided_on < renewal.submitted_on:
            errors["decided_on"] = [f"The decision cannot come before the submission on "
                                    f"{_short(renewal.submitted_on)}."]
        renewal.decided_on, renewal.decided_by, renewal.decision_note = decided_on, actor, note.strip()
        if not approved:
            if not reason.strip():
                errors["reason"] = ["Give the payer's reason for the denial."]
            if errors:
                raise ValidationError(errors)
            renewal.state = RenewalState.DENIED
            renewal.denial_reason = reason.strip()[:300]
            renewal.updated_at = timezone.now()
            renewal.save()
            record_event(actor=actor, action="update", obj=renewal, request=request,
                         detail={"state": renewal.state, "reason": renewal.denial_reason})
            open_task(practice=practice, kind="renewal_denied", spec=_denied_task(renewal))
            return None
        start_date = start_date or renewal.requested_start
        end_date = end_date or renewal.requested_end
        quantities = quantities or {}
        lines = list(renewal.lines.all())
        granted = []
        for line in lines:
            quantity = quantities.get(line.pk)
            if quantity is None or quantity < 0:
                errors[f"lines.{line.pk}.approved_quantity"] = [
                    f"Enter the approved quantity for {', '.join(line.cpt_codes)} (0 if the payer denied it)."]
                continue
            line.approved_quantity = quantity
            granted.append(line)
        if granted and len(granted) == len(lines) and not any(line.approved_quantity for line in lines):
            errors["lines"] = ["Nothing was approved: record a denial instead, with the payer's reason."]
        if errors:
            raise ValidationError(errors)
        short = [line for line in lines if line.approved_quantity < line.requested_quantity]
        shorter_period = end_date < renewal.requested_end or start_date > renewal.requested_start
        partial = bool(short) or shorter_period
        status = AuthorizationStatus.PARTIALLY_APPROVED if partial else AuthorizationStatus.APPROVED
        new = save_authorization(
            actor=actor, coverage=old.coverage, request=request,
            authorization=Authorization(coverage=old.coverage, previous=old),
            data={"discipline": old.discipline, "number": number, "start_date": start_date, "end_date": end_date,
                  "status": status},
            lines=[{"cpt_codes": line.cpt_codes, "modifier": line.modifier, "unit_type": line.unit_type,
                    "quantity": line.approved_quantity,
                    "requested_quantity": line.requested_quantity if line in short else None,
                    "per_week_cap": line.per_week_cap, "per_month_cap": line.per_month_cap}
                   for line in lines if line.approved_quantity],
        )
        RenewalLine.objects.bulk_update(lines, ["approved_quantity"])
        renewal.state = RenewalState.PARTIALLY_APPROVED if partial else RenewalState.APPROVED
        renewal.updated_at = timezone.now()
        renewal.save()
        shortfall = [{"codes": line.cpt_codes, "requested": line.requested_quantity,
                      "approved": line.approved_quantity} for line in short]
        record_event(actor=actor, action="update", obj=renewal, request=request,
                     detail={"state": renewal.state, "authorization": new.pk, "shortfall": shortfall,
                             "shorter_period": shorter_period})
        if partial:
            open_task(practice=practice, kind="renewal_partial_approval",
                      spec=_partial_task(renewal, new, short, shorter_period))
    return new


def _denied_task(renewal: Renewal) -> TaskSpec:
    a = renewal.authorization
    patient = a.coverage.patient
    return TaskSpec(
        dedupe_key=f"renewal_denied:{renewal.pk}",
        title=f"{a.coverage.payer} denied {patient}'s {a.discipline} renewal",
        reason=(f"The renewal of authorization #{a.number} was denied on {_short(renewal.decided_on)}: "
                f"{renewal.denial_reason} Decide whether to appeal, and tell the family before visits after "
                f"{_short(a.end_date)} are booked."),
        subject=renewal, patient_id=patient.pk, role=Role.OFFICE_MANAGER, priority=Priority.HIGH,
        due_at=_end_of_day(patient.practice, renewal.decided_on + dt.timedelta(days=2)),
        links=[{"label": "Renewal", "url": renewal.get_absolute_url()},
               {"label": str(patient), "url": patient.get_absolute_url()}],
    )


def _partial_task(renewal: Renewal, new: Authorization, short: list[RenewalLine], shorter_period: bool) -> TaskSpec:
    a = renewal.authorization
    patient = a.coverage.patient
    parts = [f"{', '.join(line.cpt_codes)}: {line.approved_quantity} of {line.requested_quantity} "
             f"{line.get_unit_type_display().lower()}" for line in short]
    if shorter_period:
        parts.append(f"period {_short(new.start_date)}–{_short(new.end_date)} instead of "
                     f"{_short(renewal.requested_start)}–{_short(renewal.requested_end)}")
    return TaskSpec(
        dedupe_key=f"renewal_partial:{renewal.pk}",
        title=f"Partial approval for {patient}'s {a.discipline} renewal (#{new.number})",
        reason=(f"{a.coverage.payer} approved less than was asked for ({'; '.join(parts)}). Check the schedule "
                "against the new authorization and decide whether to appeal."),
        subject=new, patient_id=patient.pk, role=Role.OFFICE_MANAGER, priority=Priority.HIGH,
        due_at=_end_of_day(patient.practice, renewal.decided_on + dt.timedelta(days=3)),
        links=[{"label": f"Authorization #{new.number}", "url": new.get_absolute_url()},
               {"label": "Renewal", "url": renewal.get_absolute_url()}],
    )

"""The booking guard: would this visit be covered?

Scheduling calls every registered guard before it books or moves a visit. This one
asks: is there an authorization for this date, discipline and code with units left
after everything already scheduled, and room in the benefit bucket? The payer's rule
decides whether a problem blocks the booking, warns, or is allowed.

In a run of bookings (a series booked ahead, ``BookingBatch``) the guard reads each
child's coverages, authorizations and schedule once and adds each visit booked to what
it holds, so the next visit costs no query here.
"""

import datetime as dt

from django.db.models import prefetch_related_objects

from pedsdesk.authorizations.models import BookingRule
from pedsdesk.authorizations.projection import Visit
from pedsdesk.authorizations.queries import (
    EVALUATION_CODE,
    ChildProjection,
    active_coverage,
    buckets_for,
    project_authorizations,
    visit_units,
)
from pedsdesk.people.models import Patient, PlanOfCare
from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.scheduling.actions import BookingBatch, BookingCheck, Problem
from pedsdesk.scheduling.models import Appointment, AppointmentKind

_DENIAL_WORDS = {
    "after_end": "is after the authorization ends",
    "beyond_units": "would use more units than are left",
    "weekly_cap": "would go over the authorization's weekly cap",
    "monthly_cap": "would go over the authorization's monthly cap",
    "code": "uses a code the authorization does not cover",
    "no_authorization": "has no authorization",
}


def _discipline(therapist: StaffMember, plan_of_care: PlanOfCare | None) -> str:
    profile = getattr(therapist, "therapist_profile", None)
    return plan_of_care.discipline if plan_of_care else (profile.discipline if profile else "")


def _hold(batch: BookingBatch, practice: Practice, patient_ids: list[int], day: dt.date) -> None:
    """Read the projections of the children the batch does not hold yet, all at once."""
    missing = [pk for pk in dict.fromkeys(patient_ids) if ("authorizations", pk) not in batch.memo]
    for pk, held in ChildProjection.read(practice, missing, day).items():
        batch.memo[("authorizations", pk)] = held

        def booked(appointment: Appointment, held: ChildProjection = held) -> None:
            held.add(appointment, _discipline(appointment.therapist, appointment.plan_of_care))

        batch.on_booked(booked)


def _held(batch: BookingBatch, practice: Practice, patient: Patient, day: dt.date) -> ChildProjection:
    """The child's projection this batch holds, read at its first visit."""
    _hold(batch, practice, [patient.pk], day)
    return batch.memo[("authorizations", patient.pk)]


def read_for_batch(*, batch: BookingBatch, practice: Practice, patients: list[Patient],
                   plans: list[PlanOfCare], day: dt.date) -> None:
    """What the guard will need to check these children in ``batch`` (BookingBatch.expect)."""
    _hold(batch, practice, [p.pk for p in patients], day)
    prefetch_related_objects([p for p in plans if p is not None], "services")


def authorization_guard(*, practice: Practice, therapist: StaffMember, patient: Patient | None,
                        start_at: dt.datetime, end_at: dt.datetime, kind: str,
                        plan_of_care: PlanOfCare | None, exclude=None,
                        batch: BookingBatch | None = None, series=None) -> BookingCheck:
    check = BookingCheck()
    if patient is None or kind == AppointmentKind.MEETING:
        return check
    day = start_at.astimezone(practice.zone).date()
    # A move (``exclude``) is never part of a batch: it reads afresh.
    held = _held(batch, practice, patient, day) if batch is not None and exclude is None else None
    coverage = held.coverage_on(day) if held else active_coverage(patient.pk, day)
    if coverage is None:
        return check  # self-pay or coverage not entered yet: nothing to deny
    payer = coverage.payer
    if payer.booking_rule == BookingRule.ALLOW:
        return check
    discipline = _discipline(therapist, plan_of_care)
    if not discipline:
        return check
    minutes = int((end_at - start_at).total_seconds() // 60)
    evaluation = kind in (AppointmentKind.EVALUATION, AppointmentKind.RE_EVALUATION)
    if evaluation or plan_of_care is None:
        services = [(EVALUATION_CODE[discipline], 1)]
    else:
        services = (held.plan_services(plan_of_care) if held
                    else [(s.cpt_code, s.units) for s in plan_of_care.services.all()])
    visit = Visit("new", day, visit_units(services, minutes, payer.rounding_rule), done=False,
                  label=f"This {discipline} visit on {day:%a %b %-d}", proposed=True,
                  series_id=series.pk if series is not None else None)
    problems: list[Problem] = []
    needs_authorization = payer.requires_authorization and (not evaluation or payer.evaluation_requires_authorization)
    exclude_id = exclude.pk if exclude is not None else None
    if needs_authorization:
        projections = (held.project(discipline, visit) if held else
                       project_authorizations(practice, [], extra_visit=(patient.pk, discipline, visit),
                                              exclude_appointment=exclude_id))
        denial = next((d for p in projections.values() for d in p.denials if d.visit.key == "new"), None)
        if not projections:
            problems.append(Problem("no_authorization",
                                    f"{patient.first_name} has no {discipline} authorization from {payer}."))
        elif denial is not None:
            problems.append(Problem(f"authorization_{denial.reason}",
                                    f"{visit.label} {_DENIAL_WORDS[denial.reason]} ({payer})."))
    uses = (held.buckets_for(coverage, day, visit, discipline) if held else
            buckets_for(coverage, day, extra=visit, extra_discipline=discipline, exclude_appointment=exclude_id))
    for bucket, use in uses:
        if any(v.key == "new" for v in use.over_limit):
            problems.append(Problem("benefit_limit", (
                f"{patient.first_name}'s {bucket.name} limit of {bucket.limit} "
                f"{bucket.get_unit_type_display().lower()} for the plan year is used up by visits already booked."
            )))
    if payer.booking_rule == BookingRule.BLOCK:
        check.blocks += problems
    else:
        check.warnings += problems
    return check

"""The foundation rules: conditions true of the records the foundation already has.

Each rule reads in the practice's local calendar, says why in words the person who
gets the task understands, and links to the record to fix. Later workflows
(authorizations, school requests, offers) add their rules in their own apps.
"""

import datetime as dt
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Prefetch, Q

from pedsdesk.authorizations.models import Coverage, PayerType
from pedsdesk.people.models import UNREACHABLE, Guardian, GuardianOf, Patient, PlanOfCare
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.sweeps import counted, joined
from pedsdesk.workqueue.actions import TaskSpec
from pedsdesk.workqueue.lists import list_row
from pedsdesk.workqueue.models import Priority
from pedsdesk.workqueue.rules import task_rule

PLAN_OF_CARE_WINDOW_DAYS = 14
PLAN_OF_CARE_LEAD_DAYS = 7  # the payer needs the new plan before the old one ends
COVERAGE_WINDOW_DAYS = 30
COVERAGE_LEAD_DAYS = 14


def _today(practice: Practice, now: dt.datetime) -> dt.date:
    return now.astimezone(practice.zone).date()


def _end_of_day(practice: Practice, day: dt.date) -> dt.datetime:
    """5 pm local on ``day``: a due time a person can act on before going home."""
    return dt.datetime.combine(day, dt.time(17, 0), tzinfo=practice.zone)


def _day(day: dt.date) -> str:
    return f"{day:%A, %B} {day.day}"


def _short(day: dt.date) -> str:
    return f"{day:%b} {day.day}"


def _in_days(day: dt.date, today: dt.date) -> str:
    days = (day - today).days
    return "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"


def _link(label: str, obj) -> dict:
    return {"label": label, "url": obj.get_absolute_url()}


def _names(people: list) -> str:
    names = [str(p) for p in people]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def load_guardian_rows(rows: list) -> None:
    """A call-list row of a guardian we cannot reach shows whom to call. One query."""
    guardians = Guardian.objects.in_bulk([r.subject_id for r in rows])
    for row in rows:
        row.guardian = guardians.get(row.subject_id)


list_row("guardian_unreachable", template="workqueue/_call_guardian_row.html", load=load_guardian_rows)


def _guardian_marks(now: dt.datetime) -> dict[int, tuple]:
    """The guardians nobody can reach, and the active children's guardians (named in the task)."""
    return joined(counted(Guardian.objects.filter(UNREACHABLE), changed="updated_at"),
                  counted(GuardianOf.objects.filter(patient__is_active=True), practice="patient__practice_id"))


def _plan_marks(now: dt.datetime) -> dict[int, tuple]:
    """Every plan of care, the active children, and who still works here (a plan's therapist)."""
    return joined(counted(PlanOfCare.objects.all(), practice="patient__practice_id", changed="updated_at"),
                  counted(Patient.objects.filter(is_active=True)), counted(StaffMember.objects.filter(is_active=True)))


def _coverage_marks(now: dt.datetime) -> dict[int, tuple]:
    return joined(counted(Coverage.objects.all(), practice="patient__practice_id", changed="updated_at"),
                  counted(Patient.objects.filter(is_active=True)))


@task_rule("guardian_unreachable", kind="guardian_unreachable", label="Guardian we cannot reach", listed_in="calls",
           due=_guardian_marks)
def guardian_unreachable(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Front desk: a guardian of an active child who can get neither texts nor email
    (opted out of texts or never agreed to them, or no phone, and no email)."""
    active_links = GuardianOf.objects.filter(patient__is_active=True).select_related("patient").order_by("patient_id")
    guardians = (
        Guardian.objects.filter(practice=practice)
        .filter(UNREACHABLE)
        .filter(Exists(GuardianOf.objects.filter(guardian=OuterRef("pk"), patient__is_active=True)))
        .prefetch_related(Prefetch("children", queryset=active_links, to_attr="active_links"))
        .order_by("pk")
    )
    for guardian in guardians:
        children = [link.patient for link in guardian.active_links]
        relationship = guardian.active_links[0].get_relationship_display().lower()
        who = f"{guardian} ({relationship} of {_names(children)})"
        if guardian.sms_opted_out_at and guardian.phone:
            stopped = _day(guardian.sms_opted_out_at.astimezone(practice.zone).date())
            reason = (
                f"{who} replied STOP to our texts on {stopped} and has no email address, so pedsdesk cannot "
                f"send reminders, home programs or offers. Call {guardian.phone_display} and ask for an email "
                f"address, or ask {guardian.first_name} to text START to get texts again."
            )
        elif guardian.phone:
            reason = (
                f"{who} has not agreed to text messages and has no email address, so pedsdesk cannot send "
                f"reminders, home programs or offers. Call {guardian.phone_display} and ask {guardian.first_name} "
                "to agree to texts (then record the consent on the guardian's page) or for an email address."
            )
        else:
            reason = (
                f"{who} has no mobile number and no email address on file, so pedsdesk cannot send reminders, "
                "home programs or offers. Ask the family for a mobile number or an email address and add it "
                f"to {guardian.first_name}'s record."
            )
        yield TaskSpec(
            dedupe_key=f"guardian_unreachable:{guardian.pk}",
            title=f"Get a way to reach {guardian}",
            reason=reason,
            subject=guardian,
            patient_id=children[0].pk if len(children) == 1 else None,
            role=Role.FRONT_DESK,
            due_in_days=2,
            links=[_link(str(guardian), guardian), *[_link(str(child), child) for child in children]],
        )


@task_rule("plan_of_care_ending", kind="plan_of_care_renewal", label="Plan of care to renew",
           recheck_after=dt.timedelta(days=3), listed_in="plans_of_care", due=_plan_marks)
def plan_of_care_ending(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """The plan's therapist: a plan ending within 14 days with no later plan of care
    for that child and discipline."""
    today = _today(practice, now)
    later = PlanOfCare.objects.filter(patient=OuterRef("patient"), discipline=OuterRef("discipline"),
                                      end_date__gt=OuterRef("end_date"))
    plans = (
        PlanOfCare.objects.filter(patient__practice=practice, patient__is_active=True, end_date__gte=today,
                                  end_date__lte=today + dt.timedelta(days=PLAN_OF_CARE_WINDOW_DAYS))
        .exclude(Exists(later))
        .select_related("patient", "therapist")
        .order_by("end_date", "pk")
    )
    for plan in plans:
        child, discipline = plan.patient, plan.get_discipline_display().lower()
        reason = (
            f"{child}'s {discipline} plan of care ({plan.frequency_per_week}x a week, {plan.minutes} minutes) ends "
            f"on {_day(plan.end_date)}, {_in_days(plan.end_date, today)}, and no new {plan.discipline} plan of "
            f"care follows it. Re-evaluate {child.first_name} or write the progress report, then enter the new "
            "plan of care so the visits stay authorized and billable. It is due a week before the plan ends so "
            "the payer has time to approve it."
        )
        assignee, role = plan.therapist, Role.THERAPIST
        if not plan.therapist.is_active:
            assignee, role = None, Role.OFFICE_MANAGER
            reason += f" {plan.therapist} no longer works here: choose who writes it."
        yield TaskSpec(
            dedupe_key=f"plan_of_care_ending:{plan.pk}",
            title=f"Renew {child}'s {plan.discipline} plan of care (ends {_short(plan.end_date)})",
            reason=reason,
            subject=plan,
            role=role,
            assignee=assignee,
            due_at=_end_of_day(practice, plan.end_date - dt.timedelta(days=PLAN_OF_CARE_LEAD_DAYS)),
            priority=Priority.HIGH if (plan.end_date - today).days <= PLAN_OF_CARE_LEAD_DAYS else Priority.NORMAL,
            links=[_link("Plan of care", plan), _link(str(child), child)],
        )


@task_rule("patient_without_plan_of_care", kind="plan_of_care_missing", label="Child without a plan of care",
           due=_plan_marks)
def patient_without_plan_of_care(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Office manager: an active child with no plan of care covering today."""
    today = _today(practice, now)
    current = PlanOfCare.objects.filter(patient=OuterRef("pk"), start_date__lte=today, end_date__gte=today)
    patients = (
        Patient.objects.filter(practice=practice, is_active=True)
        .exclude(Exists(current))
        .prefetch_related(Prefetch("plans_of_care", queryset=PlanOfCare.objects.select_related("therapist")
                                   .order_by("end_date", "pk")))
        .order_by("last_name", "first_name", "pk")
    )
    for child in patients:
        plans = list(child.plans_of_care.all())
        past = [p for p in plans if p.end_date < today]
        upcoming = [p for p in plans if p.start_date > today]
        links = [_link(str(child), child)]
        priority = Priority.NORMAL
        if upcoming:
            nxt = min(upcoming, key=lambda p: p.start_date)
            reason = (
                f"{child} has no plan of care for today; the next one ({nxt.discipline}) starts on "
                f"{_day(nxt.start_date)}. Visits before then are not covered by a plan of care: check that "
                "none are booked, or ask the therapist to start the plan earlier."
            )
            links.append(_link("Next plan of care", nxt))
            priority = Priority.LOW
        elif past:
            last = past[-1]
            reason = (
                f"{child}'s last plan of care ({last.discipline} with {last.therapist}) ended on "
                f"{_day(last.end_date)}, and there is none now. Visits without a current plan of care are not "
                f"billable. Ask {last.therapist} for the new plan of care, or mark {child.first_name} inactive "
                "if they were discharged."
            )
            links.append(_link("Last plan of care", last))
        else:
            reason = (
                f"{child} is an active patient with no plan of care on file. Book the evaluation, or mark "
                f"{child.first_name} inactive if they are not coming."
            )
        yield TaskSpec(
            dedupe_key=f"patient_without_plan_of_care:{child.pk}",
            title=f"No current plan of care: {child}",
            reason=reason,
            subject=child,
            role=Role.OFFICE_MANAGER,
            due_in_days=2,
            priority=priority,
            links=links,
        )


@task_rule("coverage_ending", kind="coverage_ending", label="Coverage ending", due=_coverage_marks)
def coverage_ending(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Billing: an active child's coverage ending within 30 days with nothing on file
    that continues it (a later coverage of the same priority)."""
    today = _today(practice, now)
    continues = Coverage.objects.filter(patient=OuterRef("patient"), priority=OuterRef("priority"),
                                        start_date__gt=OuterRef("start_date")).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=OuterRef("end_date")))
    coverages = (
        Coverage.objects.filter(patient__practice=practice, patient__is_active=True, end_date__gte=today,
                                end_date__lte=today + dt.timedelta(days=COVERAGE_WINDOW_DAYS))
        .exclude(Exists(continues))
        .select_related("patient", "payer")
        .order_by("end_date", "pk")
    )
    for coverage in coverages:
        child, payer = coverage.patient, coverage.payer
        reason = (
            f"{child}'s {payer} coverage ({coverage.get_priority_display().lower()}, member ID "
            f"{coverage.member_id}) ends on {_day(coverage.end_date)}, {_in_days(coverage.end_date, today)}, and "
            f"no coverage that continues it is on file. Check eligibility with the family and {payer}, then "
            f"enter the renewed or new coverage so visits after {_short(coverage.end_date)} are billed to the "
            "right payer."
        )
        if payer.payer_type in (PayerType.MEDICAID_FFS, PayerType.MEDICAID_MCO, PayerType.CHIP):
            reason += " Medicaid and CHIP renew only when the family returns the renewal packet: remind them."
        yield TaskSpec(
            dedupe_key=f"coverage_ending:{coverage.pk}",
            title=f"Coverage ends {_short(coverage.end_date)}: {child}, {payer}",
            reason=reason,
            subject=coverage,
            role=Role.BILLING,
            due_at=_end_of_day(practice, coverage.end_date - dt.timedelta(days=COVERAGE_LEAD_DAYS)),
            priority=Priority.HIGH if (coverage.end_date - today).days <= 7 else Priority.NORMAL,
            links=[_link("Coverage", coverage), _link(str(child), child)],
        )

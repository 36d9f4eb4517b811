import datetime as dt

from django.db.models import Count, Q

from pedsdesk.audit.actions import record_event
from pedsdesk.authorizations.models import Coverage
from pedsdesk.people.models import Guardian, Patient, PlanOfCare
from pedsdesk.practices.models import Role, StaffMember
from pedsdesk.scheduling.queries import density, refill_measures
from pedsdesk.workqueue.builtin_rules import UNREACHABLE
from pedsdesk.workqueue.queries import today as today_tasks


def dashboard_summary(user: StaffMember) -> dict:
    """What needs attention today, in the practice's local calendar: the user's tasks
    (overdue first), every queue for those who assign work, then the practice's figures."""
    practice = user.practice
    today = practice.local_now().date()
    soon = today + dt.timedelta(days=30)
    patients = Patient.objects.filter(practice=practice, is_active=True)
    active_plans = PlanOfCare.objects.filter(patient__practice=practice, start_date__lte=today, end_date__gte=today)
    if user.role == "therapist":
        active_plans = active_plans.filter(therapist=user)
    plans_ending = (
        active_plans.filter(end_date__lte=soon).select_related("patient", "therapist").order_by("end_date")[:15]
    )
    without_plan = (
        patients.annotate(
            current=Count("plans_of_care", filter=Q(plans_of_care__start_date__lte=today,
                                                   plans_of_care__end_date__gte=today))
        )
        .filter(current=0)
        .order_by("last_name")
    )
    coverages_ending = (
        Coverage.objects.filter(patient__practice=practice, end_date__gte=today, end_date__lte=soon)
        .select_related("patient", "payer")
        .order_by("end_date")[:15]
    )
    unreachable = Guardian.objects.filter(practice=practice).filter(UNREACHABLE)
    record_event(actor=user, action="list", object_type="dashboard")
    refill = user.role in (Role.OWNER, Role.OFFICE_MANAGER, Role.FRONT_DESK)
    return {
        **today_tasks(user),
        "measures": refill_measures(practice, today) if refill else None,
        "density": density(practice, today) if user.role in (Role.OWNER, Role.OFFICE_MANAGER) else None,
        "today": today,
        "active_patients": patients.count(),
        "active_plans": active_plans.count(),
        "plans_ending": plans_ending,
        "without_plan_count": without_plan.count(),
        "without_plan": without_plan[:10],
        "coverages_ending": coverages_ending,
        "unreachable_count": unreachable.count(),
        "unreachable": unreachable[:10],
    }

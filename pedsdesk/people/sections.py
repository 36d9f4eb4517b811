"""The people app's section of the Today page, registered from AppConfig.ready."""

import datetime as dt

from django.db.models import Count, Q

from pedsdesk.people.models import UNREACHABLE, Guardian, Patient, PlanOfCare
from pedsdesk.practices.models import Role
from pedsdesk.practices.today import TodayPage, today_section


@today_section("practice", template="people/_today_practice.html", order=80)
def today_practice(page: TodayPage) -> dict:
    """The practice's figures: active children and plans, plans ending in 30 days,
    children without a current plan, guardians we cannot reach."""
    practice, today = page.practice, page.today
    soon = today + dt.timedelta(days=30)
    patients = Patient.objects.filter(practice=practice, is_active=True)
    active_plans = PlanOfCare.objects.filter(patient__practice=practice, start_date__lte=today, end_date__gte=today)
    if page.role == Role.THERAPIST:
        active_plans = active_plans.filter(therapist=page.user)
    without_plan = (
        patients.annotate(current=Count("plans_of_care", filter=Q(plans_of_care__start_date__lte=today,
                                                                  plans_of_care__end_date__gte=today)))
        .filter(current=0)
        .order_by("last_name")
    )
    unreachable = Guardian.objects.filter(practice=practice).filter(UNREACHABLE)
    ending = active_plans.filter(end_date__lte=soon)
    return {
        "active_patients": patients.count(),
        "active_plans": active_plans.count(),
        "plans_ending": ending.select_related("patient", "therapist").order_by("end_date")[:15],
        "plans_ending_count": ending.count(),
        "without_plan_count": without_plan.count(),
        "without_plan": without_plan[:10],
        "unreachable_count": unreachable.count(),
        "unreachable": unreachable[:10],
    }

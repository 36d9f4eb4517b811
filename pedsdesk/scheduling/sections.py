"""The schedule's sections on other pages (chart, family portal, Today, visit panel), from AppConfig.ready."""

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from pedsdesk.people.chart import ChartPage, chart_section
from pedsdesk.people.models import GuardianOf
from pedsdesk.people.phones import display_phone
from pedsdesk.portal.sections import PortalPage, portal_section
from pedsdesk.practices.models import Role
from pedsdesk.practices.today import TodayPage, today_section
from pedsdesk.scheduling.confirmations import family_visits
from pedsdesk.scheduling.models import Appointment, AppointmentKind, AppointmentStatus, Opening
from pedsdesk.scheduling.panel import VisitPanel, visit_panel_section
from pedsdesk.scheduling.queries import density, refill_measures, upcoming_for
from pedsdesk.scheduling.timeslots import local_day_bounds

# Who says whether a visit is paid for: authorizations adds its answer from its AppConfig.ready
# (the schedule never imports it). Each hook gets the visits and their local day and returns
# {appointment pk: (state, words)}, state one of "covered", "not_covered", "no_need".
VISIT_COVERAGE: list[Callable[[list[Appointment], dt.date], dict[int, tuple[str, str]]]] = []
UNFILLED_DAYS = 14


@chart_section("upcoming-visits", template="scheduling/_upcoming.html", order=50)
def chart_upcoming_visits(chart: ChartPage) -> dict:
    return {"visits": upcoming_for(chart.patient, timezone.now())}


@portal_section("visits", template="scheduling/_portal_visits.html", order=10)
def portal_visits(page: PortalPage) -> dict:
    return family_visits(page.patient)


@today_section("openings", template="scheduling/_today_openings.html", order=40)
def today_openings(page: TodayPage) -> dict | None:
    """The week's openings and refill measures for the people who fill them; density for
    the owner and office manager."""
    if page.role not in (Role.OWNER, Role.OFFICE_MANAGER, Role.FRONT_DESK):
        return None
    managers = page.role in (Role.OWNER, Role.OFFICE_MANAGER)
    return {"measures": refill_measures(page.practice, page.today),
            "density": density(page.practice, page.today) if managers else None}


@visit_panel_section("guardians", template="scheduling/_panel_guardians.html", order=10)
def panel_guardians(panel: VisitPanel) -> dict | None:
    """Whom to call about the visit: the child's guardians, primary contact first."""
    if panel.appointment.patient_id is None:
        return None
    links = (GuardianOf.objects.filter(patient_id=panel.appointment.patient_id).select_related("guardian")
             .order_by("-is_primary_contact", "guardian__last_name", "guardian__first_name"))
    return {"guardians": [{"guardian": link.guardian, "relationship": link.get_relationship_display(),
                           "primary": link.is_primary_contact, "phone": display_phone(link.guardian.phone)}
                          for link in links]}


@today_section("visits-today", template="scheduling/_today_visits.html", order=5)
def today_visits(page: TodayPage) -> dict | None:
    """A therapist's visits today: time, child, confirmed or not, paid for or not, and the
    link to the visit's panel. Two queries, plus one per coverage hook."""
    if page.role != Role.THERAPIST:
        return None
    start, end = local_day_bounds(page.today, page.practice.zone)
    visits = list(Appointment.objects.filter(practice=page.practice, therapist=page.user, start_at__gte=start,
                                             start_at__lt=end).exclude(status__in=(AppointmentStatus.CANCELLED,
                                                                                   AppointmentStatus.LATE_CANCEL))
                  .select_related("patient", "plan_of_care", "practice").order_by("start_at"))
    coverage: dict[int, tuple[str, str]] = {}
    for hook in VISIT_COVERAGE:
        coverage.update(hook([v for v in visits if v.patient_id and v.kind != AppointmentKind.MEETING], page.today))
    for visit in visits:
        visit.coverage_state, visit.coverage_words = coverage.get(visit.pk, ("", ""))
    return {"visits": visits}


@today_section("unfilled-openings", template="scheduling/_today_unfilled.html", order=45)
def today_unfilled_openings(page: TodayPage) -> dict | None:
    """The owner's and office manager's openings still unfilled in the next 14 days. Two queries."""
    if page.role not in (Role.OWNER, Role.OFFICE_MANAGER):
        return None
    start = timezone.now()
    unfilled = Opening.objects.filter(practice=page.practice, status__in=(Opening.Status.OPEN, Opening.Status.OFFERING),
                                      start_at__gte=start, start_at__lt=start + dt.timedelta(days=UNFILLED_DAYS))
    return {"openings": list(unfilled.select_related("therapist").order_by("start_at")[:10]),
            "count": unfilled.count(), "days": UNFILLED_DAYS}

"""The schedule's sections on other pages (chart, family portal, Today, visit panel), from AppConfig.ready."""

from django.utils import timezone

from pedsdesk.people.chart import ChartPage, chart_section
from pedsdesk.people.models import GuardianOf
from pedsdesk.people.phones import display_phone
from pedsdesk.portal.sections import PortalPage, portal_section
from pedsdesk.practices.models import Role
from pedsdesk.practices.today import TodayPage, today_section
from pedsdesk.scheduling.confirmations import family_visits
from pedsdesk.scheduling.panel import VisitPanel, visit_panel_section
from pedsdesk.scheduling.queries import density, refill_measures, upcoming_for


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

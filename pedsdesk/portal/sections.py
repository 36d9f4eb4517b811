"""What the family portal page shows, as an ordered list of sections.

Each section is a template plus a function that builds its context from the page;
a section whose builder returns None is left out. Workflow apps (visits, home
programs) register theirs with ``portal_section`` from their AppConfig.ready, so the
portal never imports a workflow. See pedsdesk/sections.py.
"""

from dataclasses import dataclass
from functools import cached_property

from pedsdesk.people.models import PlanOfCare
from pedsdesk.people.phones import display_phone
from pedsdesk.portal.models import FamilyLink
from pedsdesk.sections import SectionRegistry

PORTAL = SectionRegistry("portal")
portal_section = PORTAL.section


@dataclass
class PortalPage:
    link: FamilyLink

    @property
    def guardian(self):
        return self.link.guardian

    @property
    def patient(self):
        return self.link.patient

    @property
    def practice(self):
        return self.link.practice

    @cached_property
    def child_name(self) -> str:
        return self.patient.preferred_name or self.patient.first_name

    @cached_property
    def current_plans(self) -> list[PlanOfCare]:
        today = self.practice.local_now().date()
        return list(
            PlanOfCare.objects.filter(patient=self.patient, start_date__lte=today, end_date__gte=today)
            .select_related("therapist__therapist_profile")
            .order_by("discipline", "-start_date")
        )


@portal_section("care-team", template="portal/sections/care_team.html", order=50)
def _care_team(page: PortalPage) -> dict:
    team = []
    for plan in page.current_plans:
        profile = getattr(plan.therapist, "therapist_profile", None)
        team.append({
            "discipline": plan.get_discipline_display(),
            "therapist": plan.therapist.get_full_name() or plan.therapist.username,
            "credentials": profile.credentials if profile else "",
            "visits_per_week": plan.frequency_per_week,
            "minutes": plan.minutes,
            "end_date": plan.end_date,
        })
    return {"team": team}


@portal_section("goals", template="portal/sections/goals.html", order=60)
def _goals(page: PortalPage) -> dict:
    return {"plans": [
        {"discipline": plan.get_discipline_display(),
         "goals": plan.goal_list}
        for plan in page.current_plans
    ]}


def portal_context(link: FamilyLink) -> dict:
    page = PortalPage(link)
    sections = PORTAL.build(page)
    return {
        "guardian": page.guardian,
        "child_name": page.child_name,
        "practice": page.practice,
        "practice_phone": display_phone(page.practice.phone),
        "sections": sections,
    }

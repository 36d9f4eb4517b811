"""Home programs on the pages that gather from several workflows: the family portal,
the patient chart, the schedule's visit panel and Today (registered from AppConfig.ready)."""

from pedsdesk.hep import queries
from pedsdesk.hep.actions import mark_opened
from pedsdesk.hep.family import portal_program
from pedsdesk.hep.models import HepPolicy
from pedsdesk.people.chart import ChartPage, chart_section
from pedsdesk.portal.sections import PortalPage, portal_section
from pedsdesk.practices.models import Role
from pedsdesk.practices.today import TodayPage, today_section
from pedsdesk.scheduling.panel import VisitPanel, visit_panel_section


@portal_section("home-program", template="hep/_portal_section.html", order=20)
def portal_home_program(page: PortalPage) -> dict | None:
    """The program in the guardian's language; viewing it marks the deliveries opened."""
    section = portal_program(page, page.guardian.language or "en")
    if section is not None:
        mark_opened(link=page.link)
    return section


def _summary(patient, page) -> dict | None:
    if not page.may("hep.view"):
        return None
    return {"summary": queries.summary(patient), "patient_id": patient.pk, "may_edit": page.may("hep.edit"),
            "may_follow_up": page.may("hep.follow_up"),
            "threshold": float(HepPolicy.for_practice(patient.practice).low_adherence)}


@chart_section("home-program", template="hep/_summary.html", order=70)
def chart_home_program(chart: ChartPage) -> dict | None:
    return _summary(chart.patient, chart)


@visit_panel_section("home-program", template="hep/_summary.html", order=30)
def panel_home_program(panel: VisitPanel) -> dict | None:
    if panel.appointment.patient_id is None:
        return None
    return _summary(panel.appointment.patient, panel)


@today_section("home-programs", template="hep/_today.html", order=30)
def today_home_programs(page: TodayPage) -> dict | None:
    """A therapist: today's visits whose child has no program, a program the family has not
    opened, low practice or a question waiting. The front desk and managers: how many
    families coming today have not opened theirs (a count and a link, never a long list)."""
    if not page.may("hep.view"):
        return None
    therapist = page.role == Role.THERAPIST
    visits = queries.visits_today(page.practice, page.today, therapist=page.user if therapist else None)
    if therapist:
        return {"mine": True, "visits": [v for v in visits if v.needs], "total": len(visits),
                "may_edit": page.may("hep.edit")}
    unopened = {v.visit.patient_id for v in visits if queries.NOT_OPENED in v.needs}
    return {"mine": False, "unopened": len(unopened), "coming": len({v.visit.patient_id for v in visits})}

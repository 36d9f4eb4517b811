"""The authorization sections other pages show (chart, Today, visit panel), registered from AppConfig.ready."""

import datetime as dt

from pedsdesk.authorizations.models import Coverage
from pedsdesk.authorizations.queries import patient_authorizations, visit_authorization
from pedsdesk.people.chart import ChartPage, chart_section
from pedsdesk.practices.today import TodayPage, today_section
from pedsdesk.scheduling.panel import VisitPanel, visit_panel_section


@chart_section("coverages", template="authorizations/_chart_coverages.html", order=40)
def chart_coverages(chart: ChartPage) -> dict:
    return {"coverages": list(chart.patient.coverages.select_related("payer").prefetch_related("benefit_buckets"))}


@chart_section("authorizations", template="authorizations/_patient_section.html", order=60)
def chart_authorizations(chart: ChartPage) -> dict | None:
    if not chart.may("authorizations.view"):
        return None
    return {**patient_authorizations(chart.patient, chart.today),
            "has_coverage": Coverage.objects.filter(patient=chart.patient).exists()}


@today_section("coverages-ending", template="authorizations/_today_coverages.html", order=90)
def today_coverages_ending(page: TodayPage) -> dict:
    today = page.today
    return {"coverages_ending": Coverage.objects.filter(
        patient__practice=page.practice, end_date__gte=today, end_date__lte=today + dt.timedelta(days=30))
        .select_related("patient", "payer").order_by("end_date")[:15]}


@visit_panel_section("authorization", template="authorizations/_panel_authorization.html", order=20)
def panel_authorization(panel: VisitPanel) -> dict | None:
    if not panel.may("authorizations.view"):
        return None
    return visit_authorization(panel.appointment, panel.appointment.practice.local_now().date())

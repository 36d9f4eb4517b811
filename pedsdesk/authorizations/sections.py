"""The authorization sections other pages show (chart, Today, visit panel), registered from AppConfig.ready."""

import datetime as dt

from django.db.models import Q

from pedsdesk.authorizations.models import PREPARING_STATES, USABLE_STATUSES, Authorization, Coverage, Renewal
from pedsdesk.authorizations.queries import patient_authorizations, summarize, visit_authorization
from pedsdesk.people.chart import ChartPage, chart_section
from pedsdesk.practices.models import Role, TherapistProfile
from pedsdesk.practices.today import TodayPage, today_section
from pedsdesk.scheduling.models import AppointmentKind
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


# Today, per role: is each of the therapist's visits paid for; billing's denials and
# authorizations running out; the owner's and office manager's next 14 days.

LOOK_AHEAD_DAYS = 14
SHOWN = 15


def visit_coverage(visits: list, day: dt.date) -> dict[int, tuple[str, str]]:
    """{appointment pk: (state, words)} for visits on ``day``: covered by an authorization
    (its number), not covered (over its units or dates, or none where the payer needs one),
    or no authorization needed. A fixed number of queries, whatever the number of visits."""
    if not visits:
        return {}
    patient_ids = {v.patient_id for v in visits}
    summaries = summarize(visits[0].practice, today=day, authorizations=Authorization.objects.filter(
        coverage__patient_id__in=patient_ids, start_date__lte=day, end_date__gte=day))
    coverages: dict[int, Coverage] = {}
    for coverage in Coverage.objects.filter(patient_id__in=patient_ids, start_date__lte=day).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=day)).select_related("payer").order_by("-priority"):
        coverages[coverage.patient_id] = coverage  # the primary one last, so it wins
    profiles = TherapistProfile.objects.filter(staff_member_id__in={v.therapist_id for v in visits})
    disciplines = {p.staff_member_id: p.discipline for p in profiles}
    result = {}
    for visit in visits:
        discipline = visit.plan_of_care.discipline if visit.plan_of_care else disciplines.get(visit.therapist_id)
        mine = [s for s in summaries if s.patient.pk == visit.patient_id and s.usable
                and s.authorization.discipline == discipline]
        denied = [d for s in mine for d in s.denials if d.visit.key == f"a{visit.pk}"]
        coverage = coverages.get(visit.patient_id)
        evaluation = visit.kind in (AppointmentKind.EVALUATION, AppointmentKind.RE_EVALUATION)
        if denied:
            result[visit.pk] = ("not_covered", "Not covered: " + denied[0].message)
        elif mine:
            result[visit.pk] = ("covered", f"Covered, #{mine[0].authorization.number}")
        elif coverage is None:
            result[visit.pk] = ("no_need", "No coverage on file (self-pay)")
        elif not coverage.payer.requires_authorization or (
                evaluation and not coverage.payer.evaluation_requires_authorization):
            result[visit.pk] = ("no_need", "No authorization needed")
        else:
            result[visit.pk] = ("not_covered", f"No authorization from {coverage.payer}")
    return result


def _current(page: TodayPage) -> list:
    return summarize(page.practice, today=page.today,
                     authorizations=Authorization.objects.filter(end_date__gte=page.today,
                                                                 status__in=USABLE_STATUSES))


@today_section("billing-risk", template="authorizations/_today_billing.html", order=20)
def today_billing(page: TodayPage) -> dict | None:
    """Billing: visits still to come that would be denied, and authorizations that run out
    before they end. A fixed number of queries."""
    if page.role != Role.BILLING:
        return None
    summaries = _current(page)
    denials = sorted(((s, d) for s in summaries for d in s.upcoming_denials), key=lambda sd: sd[1].visit.day)
    running_out = sorted((s for s in summaries if "runs_out" in s.flags), key=lambda s: s.exhausted_on)
    return {"denials": denials[:SHOWN], "denial_count": len(denials),
            "running_out": running_out[:SHOWN], "running_out_count": len(running_out)}


@today_section("next-14-days", template="authorizations/_today_lapsing.html", order=20)
def today_lapsing(page: TodayPage) -> dict | None:
    """The owner and office manager: authorizations that run out or lapse in the next 14
    days with nothing continuing them, and renewals due by then. A fixed number of queries."""
    if page.role not in (Role.OWNER, Role.OFFICE_MANAGER):
        return None
    horizon = page.today + dt.timedelta(days=LOOK_AHEAD_DAYS)
    lapsing = []
    for s in _current(page):
        continued = getattr(s.authorization, "continued", False) or (s.renewal is not None and s.renewal.is_decided)
        ends = min(d for d in (s.authorization.end_date, s.exhausted_on) if d is not None)
        if not continued and ends <= horizon:
            s.lapses_on, s.lapse_kind = ends, "runs out" if ends != s.authorization.end_date else "ends"
            lapsing.append(s)
    lapsing.sort(key=lambda s: s.lapses_on)
    renewals = Renewal.objects.filter(authorization__coverage__patient__practice=page.practice,
                                      state__in=PREPARING_STATES, due_date__lte=horizon)
    return {"lapsing": lapsing[:SHOWN], "lapsing_count": len(lapsing), "days": LOOK_AHEAD_DAYS,
            "renewals": list(renewals.select_related("authorization__coverage__patient",
                                                     "authorization__coverage__payer").order_by("due_date")[:SHOWN]),
            "renewal_count": renewals.count(), "today": page.today}

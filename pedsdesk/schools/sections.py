"""School coordination on Today (registered from AppConfig.ready): what staff act on
today. The office (owner, office manager, front desk) sees the practice's meetings this
week, overdue documentation requests, authorizations ending without a renewal and
IEP/504 reviews coming; a therapist sees their own meetings and overdue requests.
A fixed number of queries, whatever the number of rows."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from pedsdesk.practices.models import Role
from pedsdesk.practices.today import TodayPage, today_section
from pedsdesk.scheduling.timeslots import local_day_bounds
from pedsdesk.schools.models import (
    OUTSTANDING_REQUEST_STATES,
    DocumentRequest,
    Meeting,
    MeetingState,
    PlanType,
    StudentPlan,
)
from pedsdesk.schools.queries import authorizations_ending

#: Rows per list; a link to the whole list follows when there are more.
SHOWN = 5
MEETING_DAYS = 7
RENEWAL_DAYS = 30
REVIEW_DAYS = 30
OFFICE = (Role.OWNER, Role.OFFICE_MANAGER, Role.FRONT_DESK)


def _first(rows, limit: int = SHOWN) -> tuple[list, bool]:
    """The first ``limit`` rows and whether there are more (one query)."""
    got = list(rows[:limit + 1])
    return got[:limit], len(got) > limit


@today_section("schools", template="schools/_today.html", order=50)
def today_schools(page: TodayPage) -> dict | None:
    if page.role not in (*OFFICE, Role.THERAPIST) or not page.may("schools.view"):
        return None
    practice, today, office = page.practice, page.today, page.role in OFFICE
    start, _ = local_day_bounds(today, practice.zone)
    _, end = local_day_bounds(today + dt.timedelta(days=MEETING_DAYS - 1), practice.zone)
    meetings = (Meeting.objects.filter(practice=practice, state=MeetingState.SCHEDULED, start_at__gte=start,
                                       start_at__lt=end)
                .select_related("patient", "school", "therapist").order_by("start_at", "pk"))
    overdue = (DocumentRequest.objects.filter(practice=practice, state__in=OUTSTANDING_REQUEST_STATES,
                                              due_on__lt=today)
               .select_related("patient", "assignee").order_by("due_on", "pk"))
    if not office:
        meetings, overdue = meetings.filter(therapist=page.user), overdue.filter(assignee=page.user)
    section = {"today": today, "meeting_days": MEETING_DAYS}
    section["meetings"], section["more_meetings"] = _first(meetings)
    for meeting in section["meetings"]:
        meeting.local_start = meeting.start_at.astimezone(practice.zone)
        meeting.is_today = meeting.local_start.date() == today
    section["overdue"], section["more_overdue"] = _first(overdue)
    if office:
        section["ending"], section["more_ending"] = _first(authorizations_ending(practice, today, RENEWAL_DAYS))
        horizon = today + dt.timedelta(days=REVIEW_DAYS)
        reviews = (StudentPlan.objects.filter(patient__practice=practice, patient__is_active=True)
                   .exclude(plan_type=PlanType.NONE)
                   .filter(Q(annual_review_on__range=(today, horizon)) | Q(reevaluation_on__range=(today, horizon)))
                   .select_related("patient"))
        section["reviews"] = sorted(
            ({"plan": plan, "what": what, "on": day} for plan in reviews
             for what, day in (("annual review", plan.annual_review_on), ("re-evaluation", plan.reevaluation_on))
             if day and today <= day <= horizon), key=lambda row: (row["on"], row["plan"].pk))
        section["more_reviews"] = len(section["reviews"]) > SHOWN
        section["reviews"] = section["reviews"][:SHOWN]
    section["empty"] = not any(section.get(key) for key in ("meetings", "overdue", "ending", "reviews"))
    return section

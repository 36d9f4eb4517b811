"""The Today page's sections: the work queue, the schedule, authorizations, home programs
and schools each register theirs here from their AppConfig.ready, so the page never
imports a workflow. See pedsdesk/sections.py. A builder decides from ``page.user`` (role,
permissions) whether its section is for this reader and returns None when it is not."""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from pedsdesk.practices.models import Practice, StaffMember
from pedsdesk.practices.permissions import has_permission
from pedsdesk.sections import SectionRegistry

TODAY = SectionRegistry("today")
today_section = TODAY.section


@dataclass
class TodayPage:
    user: StaffMember
    now: dt.datetime = field(default_factory=timezone.now)

    @property
    def practice(self) -> Practice:
        return self.user.practice

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.practice.zone).date()

    @property
    def role(self) -> str:
        return self.user.role

    def may(self, permission: str) -> bool:
        return has_permission(self.user, permission)

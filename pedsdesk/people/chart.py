"""The patient chart's sections from other apps (schedule, authorizations, home programs,
schools): each registers a builder here from its AppConfig.ready, so the chart never
imports a workflow. See pedsdesk/sections.py."""

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from django.http import HttpRequest

from pedsdesk.people.models import Patient
from pedsdesk.practices.models import StaffMember
from pedsdesk.practices.permissions import has_permission
from pedsdesk.sections import SectionRegistry

CHART = SectionRegistry("chart")
chart_section = CHART.section


@dataclass
class ChartPage:
    """What a chart section builder gets: the reader, the child and the practice's today."""

    request: HttpRequest
    patient: Patient

    @property
    def user(self) -> StaffMember:
        return self.request.user

    @cached_property
    def now(self) -> dt.datetime:
        return self.patient.practice.local_now()

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def may(self, permission: str) -> bool:
        return has_permission(self.user, permission)

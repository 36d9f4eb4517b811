"""The schedule's visit panel: sections other apps (authorizations, home programs, schools)
add with ``visit_panel_section`` from their AppConfig.ready, so the schedule never imports
them. See pedsdesk/sections.py."""

from dataclasses import dataclass

from django.http import HttpRequest

from pedsdesk.practices.permissions import has_permission
from pedsdesk.scheduling.models import Appointment
from pedsdesk.sections import SectionRegistry

VISIT_PANEL = SectionRegistry("visit panel")
visit_panel_section = VISIT_PANEL.section


@dataclass
class VisitPanel:
    request: HttpRequest
    appointment: Appointment

    @property
    def user(self):
        return self.request.user

    def may(self, permission: str) -> bool:
        return has_permission(self.user, permission)


def panel_sections(request: HttpRequest, appointment: Appointment) -> list[dict]:
    return VISIT_PANEL.build(VisitPanel(request=request, appointment=appointment))

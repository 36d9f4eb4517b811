"""Registries of page sections.

Pages that gather from several workflows (the patient chart, the family portal, Today,
the schedule's visit panel) show whatever sections the apps have registered, so the
page's own app never imports a workflow. Each workflow app registers its sections from
its AppConfig.ready::

    from pedsdesk.people.chart import chart_section

    @chart_section("authorizations", template="authorizations/_patient_section.html", order=60)
    def authorizations(chart):
        return {"summaries": ...}  # or None to leave the section out

A builder gets the page (a small object with what every section needs: the user, the
patient, the practice's today) and returns the section's context, or None when the
section has nothing to show this reader. The page includes each section's template with
``section`` set to that context, in ``order`` and then key order.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Builder = Callable[[Any], dict | None]


@dataclass(frozen=True)
class Section:
    key: str
    template: str
    build: Builder
    order: int


class SectionRegistry:
    """The sections of one page, keyed so re-registering (autoreload, tests) replaces."""

    def __init__(self, page: str) -> None:
        self.page = page
        self._sections: dict[str, Section] = {}

    def section(self, key: str, *, template: str, order: int = 100) -> Callable[[Builder], Builder]:
        """Register ``build(page) -> dict | None`` as section ``key`` of this page."""

        def register(build: Builder) -> Builder:
            self._sections[key] = Section(key, template, build, order)
            return build

        return register

    def registered(self) -> list[Section]:
        return sorted(self._sections.values(), key=lambda s: (s.order, s.key))

    def unregister(self, key: str) -> None:
        """For tests that register a section of their own."""
        self._sections.pop(key, None)

    def build(self, page: Any) -> list[dict]:
        """Each registered section's context, with its ``key`` and ``template``, in order;
        sections that return None are left out."""
        shown = []
        for section in self.registered():
            data = section.build(page)
            if data is not None:
                shown.append({**data, "key": section.key, "template": section.template})
        return shown

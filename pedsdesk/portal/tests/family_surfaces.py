"""The registry the family time-and-language test walks (test_family_time.py).

Everything a family sees goes in here, so one test can hold every page and message to
the same rules: the practice's clock, the guardian's language. Each app lists its own
in ``pedsdesk/<app>/tests/family_pages.py`` (found by ``discover``):

    @family_page("home program", "family_home_program")      # the URL names it covers
    def _home_program(world: FamilyWorld) -> Shown:
        response = world.client.get(...)
        return Shown(text_of(response), [the instants the page must show])

    @message_context("home_program_reminder")
    def _reminder(world: FamilyWorld) -> Example:
        return Example({"child": "Ava", "start_at": world.before, ...}, [world.before])

    timeless_kinds("home_program_delivered")    # kinds that carry no time at all

The test fails for a URL under ``/f/`` (or a family calendar file) no page covers, and
for a registered message kind with neither an example context nor a timeless listing.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.test import Client
from django.utils.module_loading import autodiscover_modules

from pedsdesk.people.models import Guardian, Patient
from pedsdesk.practices.models import Practice, StaffMember


@dataclass
class FamilyWorld:
    """One practice in ``zone`` with Ava and her Spanish-speaking mother Rosa; Theo (OT)
    works Monday to Friday 8:00-18:00 and Saturday 9:00-13:00. ``before`` and ``after`` are
    two bookable visit times (local 9:00 on a Saturday, 16:00 the Monday after), on either
    side of a daylight-saving change in the DST week."""

    practice: Practice
    patient: Patient
    guardian: Guardian
    therapist: StaffMember
    front_desk: StaffMember
    client: Client
    token: str
    before: dt.datetime
    after: dt.datetime
    #: for a page's own follow-up
    extra: dict = field(default_factory=dict)

    def family_url(self, rest: str = "") -> str:
        return f"/f/{self.token}/{rest}"


@dataclass(frozen=True)
class Shown:
    """What the family read (plain text) and the instants it must show on the practice's clock."""

    text: str
    instants: list[dt.datetime]


@dataclass(frozen=True)
class FamilyPage:
    name: str
    url_names: tuple[str, ...]
    open: Callable[[FamilyWorld], Shown]


@dataclass(frozen=True)
class Example:
    context: dict
    instants: list[dt.datetime]


FAMILY_PAGES: dict[str, FamilyPage] = {}
MESSAGE_CONTEXTS: dict[str, Callable[[FamilyWorld], Example]] = {}
TIMELESS_KINDS: set[str] = set()


def family_page(name: str, *url_names: str):
    def register(fn: Callable[[FamilyWorld], Shown]) -> Callable[[FamilyWorld], Shown]:
        FAMILY_PAGES[name] = FamilyPage(name, url_names, fn)
        return fn

    return register


def message_context(kind: str):
    def register(fn: Callable[[FamilyWorld], Example]) -> Callable[[FamilyWorld], Example]:
        MESSAGE_CONTEXTS[kind] = fn
        return fn

    return register


def timeless_kinds(*kinds: str) -> None:
    TIMELESS_KINDS.update(kinds)


def discover() -> None:
    autodiscover_modules("tests.family_pages")


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def text_of(response: HttpResponse) -> str:
    """The words a family reads in a page, a PDF or a calendar file."""
    kind = response.get("Content-Type", "")
    if kind.startswith("application/pdf"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    body = response.content.decode()
    if kind.startswith("text/html"):
        main = re.search(r"<main\b.*?</main>", body, re.S | re.I)
        return " ".join(html.unescape(_TAGS.sub(" ", main.group(0) if main else body)).split())
    return body

"""Every time a family sees is on the practice's clock and in the guardian's language.

Walks every family page and every registered message kind (family_surfaces.py says how
an app adds its own) for a practice in America/Chicago and one in Pacific/Honolulu,
with a Spanish-speaking guardian, in an ordinary week and across a daylight-saving
change; and once for an English-speaking guardian in America/Los_Angeles. The expected
words are spelled out here, not produced by the code under test.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from conftest import (
    make_authorization,
    make_coverage,
    make_guardian,
    make_patient,
    make_payer,
    make_plan_of_care,
    make_practice,
    make_staff,
)
from pedsdesk.messaging.kinds import kind_of, registered_kinds, render
from pedsdesk.messaging.models import Message
from pedsdesk.portal.actions import create_family_link
from pedsdesk.portal.tests.family_surfaces import (
    FAMILY_PAGES,
    MESSAGE_CONTEXTS,
    TIMELESS_KINDS,
    FamilyWorld,
    discover,
)
from pedsdesk.portal.tests.helpers import path_of
from pedsdesk.scheduling.models import WorkingHours

discover()

DIAS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MESES = ["", "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
ENGLISH_SHORT = re.compile(r"\b(Mon|Tue|Tues|Wed|Thu|Thurs|Fri|Sat|Sun|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|"
                           r"Dec)\b")
ENGLISH_FULL = re.compile(r"\b(" + "|".join(DAYS + MONTHS[1:]) + r")\b")
TWELVE_HOUR = re.compile(r"\b(AM|PM)\b|[ap]\. ?m\.")

#: (zone, week, guardian's language)
CASES = [
    ("America/Chicago", "ordinary", "es"),
    ("America/Chicago", "dst", "es"),
    ("Pacific/Honolulu", "ordinary", "es"),
    ("Pacific/Honolulu", "dst", "es"),
    ("America/Los_Angeles", "dst", "en"),
]
CASE_IDS = ["-".join(case) for case in CASES]


def _next_change(after: dt.date) -> dt.date:
    """The first day from ``after`` whose noon has another US offset than the day before's."""
    chicago = ZoneInfo("America/Chicago")
    day = after
    while True:
        noon = dt.datetime.combine(day, dt.time(12), chicago)
        if noon.utcoffset() != (noon - dt.timedelta(days=1)).utcoffset():
            return day
        day += dt.timedelta(days=1)


def _week(kind: str, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """9:00 on a Saturday and 16:00 on the Monday after, local; for "dst" the clocks change
    on the Sunday between (in zones that keep daylight-saving time)."""
    today = timezone.now().astimezone(zone).date()
    sunday = _next_change(today + dt.timedelta(days=8))
    if kind == "ordinary":
        sunday = today + dt.timedelta(days=13 - today.weekday())
        while _next_change(sunday - dt.timedelta(days=1)) <= sunday + dt.timedelta(days=1):
            sunday += dt.timedelta(days=7)
    assert sunday.weekday() == 6
    return (dt.datetime.combine(sunday - dt.timedelta(days=1), dt.time(9), zone),
            dt.datetime.combine(sunday + dt.timedelta(days=1), dt.time(16), zone))


@pytest.fixture(params=CASES, ids=CASE_IDS)
def world(request, db) -> FamilyWorld:
    zone_name, week, language = request.param
    zone = ZoneInfo(zone_name)
    before, after = _week(week, zone)
    practice = make_practice(time_zone=zone_name)
    therapist = make_staff(practice, "theo", "therapist")
    front_desk = make_staff(practice, "fran", "front_desk")
    for weekday in range(5):
        WorkingHours.objects.create(therapist=therapist, weekday=weekday, start=dt.time(8), end=dt.time(18))
    WorkingHours.objects.create(therapist=therapist, weekday=5, start=dt.time(9), end=dt.time(13))
    patient = make_patient(practice)
    guardian = make_guardian(patient, language=language)
    today = timezone.now().astimezone(zone).date()
    period = {"start_date": today - dt.timedelta(days=30), "end_date": after.date() + dt.timedelta(days=30)}
    make_authorization(make_coverage(patient, make_payer(practice), start_date=period["start_date"]), **period)
    make_plan_of_care(patient, therapist, **period)
    _, url = create_family_link(actor=front_desk, guardian=guardian, patient=patient)
    token = path_of(url).strip("/").split("/")[1]
    return FamilyWorld(practice=practice, patient=patient, guardian=guardian, therapist=therapist,
                       front_desk=front_desk, client=Client(), token=token, before=before, after=after)


def _local_words(instant: dt.datetime, zone: ZoneInfo, language: str) -> tuple[str, str]:
    local = instant.astimezone(zone)
    if language == "es":
        return f"{DIAS[local.weekday()]} {local.day} de {MESES[local.month]}", f"{local:%H:%M}"
    half = "AM" if local.hour < 12 else "PM"
    return f"{DAYS[local.weekday()]}, {MONTHS[local.month]} {local.day}", f"{local.hour % 12 or 12}:{local:%M} {half}"


def assert_reads_right(text: str, instants: list[dt.datetime], zone: ZoneInfo, language: str, where: str) -> None:
    for instant in instants:
        day, clock = _local_words(instant, zone, language)
        assert day.lower() in text.lower(), f"{where}: expected the local day {day!r} in {text!r}"
        assert clock in text, f"{where}: expected the local time {clock!r} in {text!r}"
        _, utc_clock = _local_words(instant, ZoneInfo("UTC"), language)
        assert utc_clock not in text, f"{where}: shows the UTC time {utc_clock!r}: {text!r}"
    assert not ENGLISH_SHORT.search(text), f"{where}: English abbreviation {ENGLISH_SHORT.search(text)[0]!r}"
    if language == "es":
        assert not ENGLISH_FULL.search(text), f"{where}: English name {ENGLISH_FULL.search(text)[0]!r} in {text!r}"
        assert not TWELVE_HOUR.search(text), f"{where}: a 12-hour time in Spanish: {text!r}"
    assert ".." not in text.replace("...", ""), f"{where}: a doubled full stop: {text!r}"


def _family_urls() -> set[str]:
    found = set()

    def walk(patterns, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith(("f/", "calendar/visit/")):
                found.add(entry.name)

    walk(get_resolver().url_patterns)
    return found


def test_every_family_url_is_in_the_walk():
    covered = {name for page in FAMILY_PAGES.values() for name in page.url_names}
    missing = _family_urls() - covered
    assert not missing, f"add these family pages to your app's tests/family_pages.py: {sorted(missing)}"


def test_every_message_kind_is_in_the_walk():
    missing = set(registered_kinds()) - set(MESSAGE_CONTEXTS) - TIMELESS_KINDS
    assert not missing, f"give these kinds an example in your app's tests/family_pages.py: {sorted(missing)}"


@pytest.mark.parametrize("page", sorted(FAMILY_PAGES))
def test_family_pages_read_on_the_practice_clock_in_the_guardians_language(world, page):
    shown = FAMILY_PAGES[page].open(world)
    zone, language = world.practice.zone, world.guardian.language
    assert_reads_right(shown.text, shown.instants, zone, language, page)
    # and whatever the page's actions sent the family (booked, cancelled, reminders)
    for message in Message.objects.filter(guardian=world.guardian):
        assert_reads_right(message.subject + " " + message.body, [], zone, language, f"{page}: {message.kind}")


@pytest.mark.parametrize("kind", registered_kinds())
def test_message_kinds_read_on_the_practice_clock_in_the_readers_language(world, kind):
    example = MESSAGE_CONTEXTS[kind](world) if kind in MESSAGE_CONTEXTS else None
    staff = kind_of(kind).for_staff
    recipient, language = (world.front_desk, "en") if staff else (world.guardian, world.guardian.language)
    for channel in ("email",) if staff else ("sms", "email"):
        rendered = render(kind=kind, practice=world.practice, recipient=recipient, channel=channel,
                          language=language, context=example.context if example else {})
        assert_reads_right(rendered.subject + " " + rendered.body, example.instants if example else [],
                           world.practice.zone, language, f"{kind} by {channel}")

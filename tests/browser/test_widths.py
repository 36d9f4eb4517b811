"""Staff pages on a tablet (768 px) and a phone (390 px): nothing scrolls sideways, the
navigation stays short, and on a phone the week grid becomes a day agenda."""

import datetime as dt
import os

import pytest
from playwright.sync_api import expect

from conftest import make_guardian, make_patient, signed_in
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("PEDSDESK_SCREENSHOTS", "")

#: the staff pages, by a name for the report; {patient}, {visit}, {authorization} filled in
PAGES = {
    "today": "/", "my tasks": "/tasks/", "team tasks": "/tasks/team/", "patients": "/patients/",
    "chart": "/patients/{patient}/", "guardians": "/guardians/", "day list": "/schedule/day/?date={day}",
    "week grid": "/schedule/?date={day}", "visit": "/appointments/{visit}/", "openings": "/openings/",
    "waitlist": "/waitlist/", "gap list": "/gap-list/", "hours": "/schedule/availability/",
    "authorizations board": "/authorizations/", "authorization": "/authorizations/{authorization}/",
    "renewals": "/renewals/", "payers": "/payers/", "schools": "/schools/", "messages": "/messaging/outbox/",
    "audit": "/audit/", "staff": "/staff/", "practice": "/practice/", "account": "/account/",
}


@pytest.fixture
def records(practice, owner, front_desk, patient, working_week):
    """Ava and a child with a long name, visits today and this week, back to back."""
    valentina = make_patient(practice, "Valentina", "Montgomery-Hernández")
    make_guardian(valentina, first="Guadalupe", phone="+15125550177")
    today = practice.local_now().date()
    days = [today + dt.timedelta(days=n) for n in range(1, 8) if (today + dt.timedelta(days=n)).weekday() < 5][:3]
    visit = None
    for day in days:
        for child, time in ((patient, dt.time(16)), (valentina, dt.time(16, 45))):
            visit = book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=child,
                                     start_at=local_to_utc(day, time, practice.zone), minutes=45,
                                     plan_of_care=child.plans_of_care.first(), override_reason="test")
    authorization = patient.coverages.get().authorizations.get()
    return {"patient": patient.pk, "visit": visit.pk, "authorization": authorization.pk, "day": days[0]}


def _signed_in_page(page, live_server, user):
    client = signed_in(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    return page


def _fits(page) -> tuple[bool, int, int]:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return width <= inner, width, inner


def _nav_rows(page) -> int:
    """Rows of the main navigation: its items' tops, those within 16 px counted as one row."""
    tops = sorted(page.evaluate("""() => [...document.querySelectorAll('header nav li')]
        .filter(li => li.offsetParent !== null).map(li => li.getBoundingClientRect().top)"""))
    return sum(1 for i, top in enumerate(tops) if i == 0 or top - tops[i - 1] > 16)


@pytest.mark.parametrize("width", [768, 390])
def test_staff_pages_fit_the_screen(page, live_server, owner, records, width):
    page = _signed_in_page(page, live_server, owner)
    page.set_viewport_size({"width": width, "height": 1000})
    wide = []
    for name, path in PAGES.items():
        page.goto(path.format(**records))
        assert page.url.endswith(path.format(**records)), f"{name}: went to {page.url}"
        fits, scroll, _ = _fits(page)
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/{width}-{name.replace(' ', '-')}.png", full_page=True)
        if not fits:
            wide.append(f"{name} {scroll}px")
        if _nav_rows(page) > 2:
            wide.append(f"{name}: navigation in {_nav_rows(page)} rows")
    assert not wide, f"at {width} px: {wide}"


def test_on_a_phone_the_week_grid_is_a_day_agenda(page, live_server, owner, records):
    page = _signed_in_page(page, live_server, owner)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"/schedule/?date={records['day']}")
    expect(page.get_by_test_id("schedule-grid")).to_be_hidden()
    agenda = page.get_by_test_id("schedule-agenda")
    expect(agenda).to_be_visible()
    expect(agenda.get_by_role("link", name="Valentina M.").first).to_be_visible()
    assert _fits(page)[0]
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.get_by_test_id("schedule-grid")).to_be_visible()
    expect(agenda).to_be_hidden()


@pytest.mark.parametrize("width", [1280, 768])
def test_the_week_grid_keeps_a_linear_time_axis_and_whole_names(page, live_server, owner, records, width):
    page = _signed_in_page(page, live_server, owner)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/schedule/?date={records['day']}")
    heights = page.evaluate("""() => [...document.querySelectorAll('table.schedule tbody tr')]
        .map(tr => Math.round(tr.getBoundingClientRect().height))""")
    assert len(heights) == 44 and max(heights) - min(heights) <= 1, heights
    # back-to-back visits (4:00 and 4:45) are two blocks with a gap between them
    blocks = page.evaluate("""() => [...document.querySelectorAll('table.schedule a.block')]
        .map(a => { const r = a.getBoundingClientRect(); return [Math.round(r.left), r.top, r.bottom]; })""")
    first_day = sorted(b for b in blocks if b[0] == blocks[0][0])
    assert len(first_day) == 2 and first_day[1][1] > first_day[0][2], blocks
    # each line of a block is one line: "Valentina" ends in "…" rather than breaking
    lines = page.evaluate("""() => [...document.querySelectorAll('table.schedule a.block > span')]
        .map(s => [getComputedStyle(s).whiteSpace, Math.round(s.getBoundingClientRect().height)])""")
    assert lines and all(space == "nowrap" and height <= 20 for space, height in lines), lines
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/grid-{width}.png", full_page=True)

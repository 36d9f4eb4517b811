"""The office manager follows an authorization from the board to its burn-down and its
renewal in a real browser, on a desktop and on a phone, each page accessible."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from conftest import next_weekday
from pedsdesk.authorizations.actions import open_renewal
from pedsdesk.authorizations.models import Authorization
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.timeslots import local_to_utc
from tests.browser.conftest import assert_accessible
from tests.browser.test_work_queue import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_board_detail_and_renewal_are_usable_and_accessible(page, practice, office_manager, front_desk, patient,
                                                            working_week):
    authorization = Authorization.objects.get(coverage__patient=patient)
    authorization.lines.update(quantity=2)
    for weeks in (1, 2):
        book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                         start_at=local_to_utc(next_weekday(1, weeks), dt.time(16), practice.zone), minutes=45,
                         plan_of_care=patient.plans_of_care.get())
    payer = authorization.coverage.payer
    payer.renewal_documents = ["progress_report", "plan_of_care"]
    payer.save()
    open_renewal(authorization=authorization, today=authorization.end_date - dt.timedelta(days=30))

    sign_in(page, "maria")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Authorizations").click()
    expect(page.get_by_role("heading", name="Authorizations", exact=True)).to_be_visible()
    row = page.locator(f"#authorization-{authorization.pk}")
    expect(row.get_by_text("Runs out early")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Flag").select_option("runs_out")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(f"#authorization-{authorization.pk}")).to_be_visible()

    row.get_by_role("link", name="Ava Lopez").click()
    expect(page.get_by_role("heading", name=f"Authorization #{authorization.number}")).to_be_visible()
    expect(page.get_by_role("img", name=f"Burn-down of authorization #{authorization.number}")).to_be_visible()
    page.get_by_text("The chart as a table, week by week").click()
    expect(page.get_by_role("columnheader", name="Week ending")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Renewal: waiting on therapist").click()
    expect(page.get_by_role("heading", name=f"Renewal of #{authorization.number}")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Mark received").first.click()
    expect(page.get_by_text("received", exact=False).first).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/authorizations/{authorization.pk}/")
    expect(page.get_by_role("img", name=f"Burn-down of authorization #{authorization.number}")).to_be_visible()
    assert page.evaluate("document.querySelector('svg.burn-down').getBoundingClientRect().width") <= 390
    assert_accessible(page)


# A cell or table that overflows its scrolling region at 1280 px, and date cells that wrap.
_CLIPPED = """() => Array.from(document.querySelectorAll('main .overflow-auto'))
    .filter(region => region.scrollWidth > region.clientWidth + 1)
    .map(region => region.getAttribute('aria-label') + ' ' + region.scrollWidth + '>' + region.clientWidth)"""
_DATE_LINES = """() => Array.from(document.querySelectorAll('table.renewals td.date, table.renewals span.date'))
    .map(cell => { const range = document.createRange(); range.selectNodeContents(cell.firstChild);
                   return new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size; })"""


def test_board_chart_and_renewals_fit_a_1280_px_screen(page):
    from pedsdesk.authorizations.models import Authorization, Renewal
    from pedsdesk.demo.generator import DEMO_PASSWORD, seed_demo

    summary = seed_demo(size="small", seed=11, simulate_week=False)
    page.goto("/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    assert page.viewport_size["width"] == 1280
    flagged = Authorization.objects.filter(coverage__patient__practice=summary.practice).exclude(renewal=None)
    patients = {a.coverage.patient_id for a in flagged[:5]}
    for url in ["/authorizations/", "/authorizations/?show=all", "/renewals/", "/renewals/?state=all",
                *[f"/patients/{pk}/" for pk in sorted(patients)]]:
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), url
        assert page.evaluate(_CLIPPED) == [], url
    page.goto("/authorizations/?show=all")
    # The flags column is on the screen, not scrolled away to the right.
    assert page.evaluate("""() => Array.from(document.querySelectorAll('td[data-field="flags"]'))
        .every(cell => cell.getBoundingClientRect().right <= innerWidth)""")
    page.goto("/renewals/?state=all")
    assert Renewal.objects.exists()
    lines = page.evaluate(_DATE_LINES)
    assert lines and max(lines) == 1, lines

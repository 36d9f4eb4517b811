"""The API's documentation page in a real browser, under the site's CSP."""

import pytest

from conftest import make_staff
from pedsdesk.practices.actions import create_api_token
from pedsdesk.practices.models import Role


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_docs_page_renders_in_a_browser_without_csp_violations(browser, live_server, practice):
    """Swagger UI loads the spec and runs a request with a token, with nothing blocked by the CSP."""
    token = create_api_token(staff_member=make_staff(practice, "fran", Role.FRONT_DESK), name="docs")
    problems: list[str] = []
    # A context of its own, without bypass_csp: the point is that the CSP blocks nothing.
    context = browser.new_context()
    try:
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{live_server.url}/api/v1/docs")
        page.wait_for_selector(".opblock", timeout=15000)
        page.get_by_role("button", name="Authorize").first.click()
        page.locator(".auth-container input").fill(token)
        page.locator(".auth-btn-wrapper .authorize").click()
        page.locator(".btn-done").click()
        page.locator("#operations-staff-me .opblock-summary").click()
        page.get_by_role("button", name="Try it out").click()
        page.get_by_role("button", name="Execute").click()
        cell = "#operations-staff-me .live-responses-table tbody .response-col_status"
        page.wait_for_selector(cell, timeout=15000)
        status = page.locator(cell).first.inner_text()
    finally:
        context.close()
    assert status.strip() == "200"
    assert problems == []

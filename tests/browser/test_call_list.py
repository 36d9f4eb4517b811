"""The front desk of the medium demo opens My tasks to under 40 rows, and finishes call
list rows in place in a real browser: Confirm, Left a message and Cancel each swap the
row by htmx (the page does not reload)."""

import pyotp
import pytest
from playwright.sync_api import expect

from pedsdesk.demo.generator import DEMO_PASSWORD, seed_demo
from pedsdesk.scheduling.models import Appointment, AppointmentStatus
from pedsdesk.workqueue.models import LIST_KIND, Task, TaskStatus
from pedsdesk.workqueue.rules import bring_up_to_date
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if page.get_by_label("6-digit code").count():
        secret = page.get_by_test_id("totp-secret").inner_text()
        page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()


def test_the_medium_demos_front_desk_clears_its_call_list_in_place(page):
    summary = seed_demo(size="medium")
    bring_up_to_date(practice=summary.practice)
    sign_in(page, "frontdesk")
    page.goto("/tasks/")
    rows = page.locator("table.tasks > tbody > tr")
    assert 0 < rows.count() < 40
    assert page.evaluate("document.documentElement.scrollHeight") < 2 * 900 + 400  # two screens, give or take
    assert_accessible(page)

    call_list = Task.objects.get(kind=LIST_KIND, title__startswith="Calls to make", status="open")
    visits = list(call_list.items.filter(kind="visit_unconfirmed", status="open").order_by("due_at", "-priority",
                                                                                          "pk")[:3])
    assert len(visits) == 3
    page.evaluate("window.notReloaded = true")
    page.locator(f"#task-{call_list.pk} details.list-rows > summary").click()

    confirm = page.locator(f"#task-{visits[0].pk}")
    expect(confirm.locator("a[href^='tel:+1']")).to_be_visible()
    confirm.get_by_role("button", name="Confirm").click()
    expect(confirm.get_by_role("status")).to_have_text("Confirmed.")
    expect(confirm.get_by_role("button", name="Confirm")).to_have_count(0)

    message = page.locator(f"#task-{visits[1].pk}")
    message.get_by_role("button", name="Left a message").click()
    expect(message.get_by_role("status")).to_have_text("Done.")

    cancel = page.locator(f"#task-{visits[2].pk}")
    cancel.get_by_text("Cancel", exact=True).click()
    cancel.get_by_role("button", name="Cancel the visit").click()
    expect(cancel.get_by_role("alert")).to_have_text("Give the reason for the cancellation.")
    cancel.get_by_label("Why the family cancels").fill("Sick")
    cancel.get_by_role("button", name="Cancel the visit").click()
    expect(cancel.get_by_role("status")).to_contain_text("Cancelled")
    assert page.evaluate("window.notReloaded") is True
    assert_accessible(page)

    statuses = {a.pk: a.status for a in Appointment.objects.filter(pk__in=[v.subject_id for v in visits])}
    assert statuses[visits[0].subject_id] == AppointmentStatus.CONFIRMED
    assert statuses[visits[1].subject_id] == AppointmentStatus.BOOKED
    assert statuses[visits[2].subject_id] in (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCEL)
    assert all(Task.objects.get(pk=v.pk).status == TaskStatus.DONE for v in visits)


def test_on_a_phone_the_call_list_does_not_scroll_sideways(page):
    summary = seed_demo(size="small")
    bring_up_to_date(practice=summary.practice)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "frontdesk")
    page.goto("/tasks/")
    for summary_row in page.locator("details.list-rows > summary").all():
        summary_row.click()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")

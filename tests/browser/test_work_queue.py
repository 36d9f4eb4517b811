"""A front-desk person works a task from My tasks in a real browser: claim, then
complete, each swapped in place by htmx (the page does not reload), with the page
accessible at every step."""

import pyotp
import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from pedsdesk.workqueue.actions import TaskSpec, open_task
from pedsdesk.workqueue.models import Task, TaskStatus
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()


def test_front_desk_claims_and_completes_a_task_from_my_tasks(page, practice, front_desk, patient):
    rosa = patient.guardians.get()
    task, _ = open_task(practice=practice, kind="guardian_unreachable", rule="guardian_unreachable", spec=TaskSpec(
        dedupe_key="reach-rosa", title="Get a way to reach Rosa Lopez", subject=rosa, role="front_desk",
        reason="Rosa replied STOP and has no email address.",
        links=[{"label": "Rosa Lopez", "url": rosa.get_absolute_url()}]))
    sign_in(page, "fran")
    # The Today page lists it too.
    expect(page.get_by_role("link", name="Get a way to reach Rosa Lopez")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    expect(page.get_by_role("heading", name="My tasks")).to_be_visible()
    assert_accessible(page)
    page.evaluate("window.notReloaded = true")  # gone if the page reloads
    row = page.locator(f"#task-{task.pk}")

    row.get_by_role("button", name="Claim").click()
    expect(row.get_by_text("In progress")).to_be_visible()
    expect(row.get_by_role("status")).to_have_text("Claimed.")
    expect(row.get_by_role("button", name="Claim")).to_have_count(0)
    assert_accessible(page)
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED and task.assignee == front_desk

    row.get_by_role("button", name="Complete").click()
    expect(row.get_by_text("Done", exact=True)).to_be_visible()
    expect(row.get_by_role("button", name="Complete")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    assert_accessible(page)
    task = Task.objects.get(pk=task.pk)
    assert task.status == TaskStatus.DONE and task.closed_by == front_desk

    # The task page tells the story.
    page.get_by_role("link", name="Get a way to reach Rosa Lopez").click()
    expect(page.get_by_role("heading", name="Get a way to reach Rosa Lopez")).to_be_visible()
    history = page.get_by_role("table").last
    expect(history).to_contain_text("Claimed")
    expect(history).to_contain_text("Marked done")
    expect(page.get_by_role("link", name="Rosa Lopez", exact=True)).to_be_visible()
    assert_accessible(page)


def test_a_past_snooze_time_is_refused_in_place(page, practice, front_desk, patient):
    task, _ = open_task(practice=practice, kind="test", spec=TaskSpec(
        dedupe_key="x", title="Call the school", role="front_desk"))
    sign_in(page, "fran")
    page.goto(f"/tasks/{task.pk}/")
    page.get_by_label("or until (practice time)").fill("2020-01-06T09:00")
    page.get_by_role("button", name="Snooze").click()
    expect(page.get_by_role("alert")).to_contain_text("Snooze until a time in the future")
    assert_accessible(page)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN

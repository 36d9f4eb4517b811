"""The work queue's section of the Today page, registered from AppConfig.ready."""

from pedsdesk.practices.today import TodayPage, today_section
from pedsdesk.workqueue.queries import today


@today_section("tasks", template="workqueue/_today.html", order=10)
def today_tasks(page: TodayPage) -> dict:
    return today(page.user, now=page.now)

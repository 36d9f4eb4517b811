from pedsdesk.audit.actions import record_event
from pedsdesk.practices.models import StaffMember
from pedsdesk.practices.today import TODAY, TodayPage


def dashboard_summary(user: StaffMember) -> dict:
    """What needs attention today, in the practice's local calendar: the sections the
    work queue, the schedule, authorizations and the other apps register (practices/today.py)."""
    page = TodayPage(user=user)
    record_event(actor=user, action="list", object_type="dashboard")
    return {"today": page.today, "sections": TODAY.build(page)}

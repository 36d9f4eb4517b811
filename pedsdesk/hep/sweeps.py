"""The sweeps of home programs (see pedsdesk/sweeps.py)."""

from pedsdesk.hep.actions import sweep_deliveries
from pedsdesk.hep.followups import request_before_visits, send_nudges
from pedsdesk.sweeps import sweep


@sweep("hep.deliveries", "minute", since=True)
def _deliveries(*, since) -> dict:
    return sweep_deliveries(since=since)


@sweep("hep.feedback_requests", "hourly", per_practice=True)
def _feedback_requests(*, practice) -> dict:
    return {"before_visit": request_before_visits(practice=practice), "nudges": send_nudges(practice=practice)}

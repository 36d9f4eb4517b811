import datetime as dt

import pytest
from django.core.cache import cache

from pedsdesk.portal.actions import create_family_link


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # The throttle counts in the cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def current_plan(patient):
    """Ava's OT plan of care, moved so that it is current whatever today is."""
    plan = patient.plans_of_care.get()
    today = patient.practice.local_now().date()  # the practice's calendar, not UTC's
    plan.start_date, plan.end_date = today - dt.timedelta(days=30), today + dt.timedelta(days=150)
    plan.save()
    return plan


@pytest.fixture
def rosa(patient):
    return patient.guardians.get(first_name="Rosa")


@pytest.fixture
def make_link(owner):
    def make(guardian, patient, **kwargs):
        return create_family_link(actor=owner, guardian=guardian, patient=patient, **kwargs)

    return make

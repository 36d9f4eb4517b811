"""Checks of "today" use the practice's calendar: a Chicago evening is already tomorrow in UTC,
and a form filled in at 8 pm must not be judged against tomorrow's date."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pedsdesk.interop.fhir.export import patient_resources
from pedsdesk.schools.models import DisclosureAuthorization, InfoCategory

# Tuesday December 1, 2026, 8 pm in Chicago: 02:00 on Wednesday in UTC.
CHICAGO_EVENING = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
CHICAGO_TODAY = dt.date(2026, 12, 1)


@pytest.fixture
def evening(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: CHICAGO_EVENING)


def test_a_birth_date_of_utcs_tomorrow_is_in_the_future_for_the_practice(evening, patient):
    assert patient.practice.local_now().date() == CHICAGO_TODAY
    patient.date_of_birth = CHICAGO_TODAY + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="cannot be in the future"):
        patient.clean()
    patient.date_of_birth = CHICAGO_TODAY
    patient.clean()


def test_an_unsigned_authorization_may_end_on_the_practices_today(evening, patient):
    draft = DisclosureAuthorization(practice=patient.practice, patient=patient,
                                    categories=[InfoCategory.PROGRESS_SUMMARIES], purpose="IEP planning",
                                    recipient_school=patient.school, expires_on=CHICAGO_TODAY)
    errors = {}
    try:
        draft.clean()
    except ValidationError as refused:
        errors = refused.message_dict
    assert "expires_on" not in errors


def test_the_fhir_export_calls_a_plan_ending_on_the_practices_today_active(evening, patient):
    plan = patient.plans_of_care.get()
    plan.end_date = CHICAGO_TODAY
    plan.save(update_fields=["end_date"])
    [care_plan] = [r for r in patient_resources(patient) if r["resourceType"] == "CarePlan"]
    assert care_plan["status"] == "active"

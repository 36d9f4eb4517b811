"""School coordination fixtures: Ava's school team, a signed authorization and a signed
summary, plus the real SMTP server of the messaging tests."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from pedsdesk.messaging.tests.conftest import smtp_sink  # noqa: F401  (a fixture)
from pedsdesk.schools import actions
from pedsdesk.schools.models import ContactRole, InfoCategory, SchoolContact

# The personas' practice keeps Chicago's calendar; UTC's date runs ahead of it every evening.
PRACTICE_ZONE = ZoneInfo("America/Chicago")


def practice_today() -> dt.date:
    return timezone.localdate(timezone=PRACTICE_ZONE)


BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)"


def make_contact(practice, school, name="Dana Whitfield", role=ContactRole.CASE_MANAGER, **kwargs) -> SchoolContact:
    email = kwargs.pop("email", f"{name.split()[0].lower()}@{school.name.split()[0].lower() if school else 'district'}"
                                ".k12.example")
    return SchoolContact.objects.create(practice=practice, school=school, name=name, role=role, email=email, **kwargs)


@pytest.fixture
def contact(patient):
    return make_contact(patient.practice, patient.school)


@pytest.fixture
def draft(patient, front_desk, contact):
    return actions.create_authorization(
        actor=front_desk, patient=patient, categories=[InfoCategory.PROGRESS_SUMMARIES, InfoCategory.MEETINGS],
        purpose="IEP planning at the family's request", recipient_school=patient.school,
        expires_on=practice_today() + dt.timedelta(days=180))


@pytest.fixture
def authorization(draft, patient):
    return actions.sign_authorization(authorization=draft, guardian=patient.guardians.get(), typed_name="Rosa Lopez",
                                      agreed=True, ip="203.0.113.9", user_agent=BROWSER)


@pytest.fixture
def signed_summary(patient, therapist):
    today = practice_today()
    summary = actions.create_summary(actor=therapist, patient=patient, therapist=therapist,
                                     period_from=today - dt.timedelta(days=60), period_to=today)
    actions.save_summary(actor=therapist, summary=summary, progress="Ava buttons her coat on her own.",
                         recommendations="Offer a slant board for writing tasks.")
    return actions.sign_summary(actor=therapist, summary=summary, typed_name="Therapist Tester")

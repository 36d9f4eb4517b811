"""Test personas and records shared by every app's tests.

One practice, "Sunny Steps Pediatric Therapy", with a person in every role, and an
outsider who owns another practice. Build records with the ``make_*`` helpers.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from pedsdesk.authorizations.models import Authorization, BenefitBucket, Coverage, Payer, PayerType, ServiceLine
from pedsdesk.people.models import Guardian, GuardianOf, Patient, PlanOfCare, PlanOfCareService
from pedsdesk.practices.models import Practice, Role, StaffMember, TherapistProfile
from pedsdesk.scheduling.models import WorkingHours
from pedsdesk.schools.models import School

PASSWORD = "correct horse battery staple"
ROLES = ["owner", "office_manager", "front_desk", "therapist", "billing"]


def make_practice(name: str = "Sunny Steps Pediatric Therapy", **kwargs) -> Practice:
    defaults = {"time_zone": "America/Chicago", "npi": "1234567893", "phone": "+15125550100"}
    return Practice.objects.create(name=name, **{**defaults, **kwargs})


def make_staff(practice: Practice, username: str, role: str, discipline: str = "OT", **kwargs) -> StaffMember:
    member = StaffMember.objects.create_user(
        username=username, password=PASSWORD, practice=practice, role=role,
        first_name=username.capitalize(), last_name="Tester", email=f"{username}@example.org", **kwargs,
    )
    if role == Role.THERAPIST:
        TherapistProfile.objects.create(staff_member=member, discipline=discipline, credentials="OTR/L",
                                        npi="1234567893")
    return member


def make_school(practice: Practice, name: str = "Maple Elementary", **kwargs) -> School:
    return School.objects.create(practice=practice, name=name, start_time=dt.time(7, 45),
                                 dismissal_time=dt.time(15, 5), **kwargs)


def make_patient(practice: Practice, first: str = "Ava", last: str = "Lopez", **kwargs) -> Patient:
    kwargs.setdefault("date_of_birth", dt.date(2018, 4, 12))
    return Patient.objects.create(practice=practice, first_name=first, last_name=last, **kwargs)


def make_guardian(patient: Patient, first: str = "Rosa", language: str = "en", **kwargs) -> Guardian:
    kwargs.setdefault("phone", "+15125550142")
    kwargs.setdefault("email", f"{first.lower()}@example.org")
    guardian = Guardian.objects.create(practice=patient.practice, first_name=first, last_name=patient.last_name,
                                       language=language, sms_consent_at=timezone.now(), **kwargs)
    GuardianOf.objects.create(guardian=guardian, patient=patient, relationship="mother", is_primary_contact=True)
    return guardian


def make_payer(practice: Practice, name: str = "Lone Star Medicaid", **kwargs) -> Payer:
    kwargs.setdefault("payer_type", PayerType.MEDICAID_MCO)
    return Payer.objects.create(practice=practice, name=name, **kwargs)


def make_coverage(patient: Patient, payer: Payer, **kwargs) -> Coverage:
    kwargs.setdefault("start_date", dt.date(2026, 1, 1))
    coverage = Coverage.objects.create(patient=patient, payer=payer, member_id="M123456", **kwargs)
    BenefitBucket.objects.create(coverage=coverage, name="PT/OT combined", disciplines=["PT", "OT"], limit=60)
    return coverage


def make_authorization(coverage: Coverage, discipline: str = "OT", quantity: int = 48, unit_type: str = "visits",
                       codes: tuple[str, ...] = ("97530", "97110", "97533"), **kwargs) -> Authorization:
    kwargs.setdefault("start_date", dt.date(2026, 9, 1))
    kwargs.setdefault("end_date", dt.date(2027, 2, 28))
    kwargs.setdefault("number", f"PA-{discipline}-{coverage.pk}-{kwargs['start_date']:%y%m}")
    authorization = Authorization.objects.create(coverage=coverage, discipline=discipline, **kwargs)
    ServiceLine.objects.create(authorization=authorization, cpt_codes=list(codes), unit_type=unit_type,
                               quantity=quantity)
    return authorization


def make_plan_of_care(patient: Patient, therapist: StaffMember, **kwargs) -> PlanOfCare:
    defaults = {"discipline": therapist.therapist_profile.discipline, "frequency_per_week": 2, "minutes": 45,
                "start_date": dt.date(2026, 9, 1), "end_date": dt.date(2027, 2, 28),
                "goals": "Zips coat independently\nWrites first name legibly"}
    plan = PlanOfCare.objects.create(patient=patient, therapist=therapist, **{**defaults, **kwargs})
    PlanOfCareService.objects.create(plan_of_care=plan, cpt_code="97530", units=3)
    return plan


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; one test's failures must not lock out the next.
    Per-practice memos too: a rolled-back practice's id may come back as another."""
    from django.core.cache import cache

    from pedsdesk.practices.memo import forget_all

    cache.clear()
    forget_all()
    yield
    cache.clear()
    forget_all()


@pytest.fixture
def practice(db) -> Practice:
    return make_practice()


@pytest.fixture
def staff(practice) -> dict[str, StaffMember]:
    """owner, office_manager, front_desk, therapist, billing of the practice."""
    names = {"owner": "olivia", "office_manager": "maria", "front_desk": "fran", "therapist": "theo",
             "billing": "bill"}
    return {role: make_staff(practice, names[role], role) for role in ROLES}


@pytest.fixture
def owner(staff):
    return staff["owner"]


@pytest.fixture
def office_manager(staff):
    return staff["office_manager"]


@pytest.fixture
def front_desk(staff):
    return staff["front_desk"]


@pytest.fixture
def therapist(staff):
    return staff["therapist"]


@pytest.fixture
def billing(staff):
    return staff["billing"]


@pytest.fixture
def other_practice(db) -> Practice:
    return make_practice("Elsewhere Kids Therapy", npi="1245319599")


@pytest.fixture
def outsider(other_practice) -> StaffMember:
    """Owner of another practice: must never see this practice's records."""
    return make_staff(other_practice, "otto", Role.OWNER)


def signed_in(user: StaffMember) -> Client:
    """A client past both factors, as after a real sign-in."""
    client = Client()
    client.force_login(user)
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


def without_links(body: str) -> str:
    """A text's words without its links, whose random tokens may spell anything ("OT", "zip")."""
    return re.sub(r"https?://\S+", "", body)


@pytest.fixture
def client_for():
    return signed_in


def next_weekday(weekday: int, weeks_ahead: int = 1) -> dt.date:
    """A date safely in the future: ``weekday`` (0 = Monday) of a coming week, in Chicago."""
    today = timezone.now().astimezone(ZoneInfo("America/Chicago")).date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks_ahead)
    return monday + dt.timedelta(days=weekday)


@pytest.fixture
def working_week(staff) -> StaffMember:
    """Theo (OT) works Monday to Friday 8:00-18:00 and Saturday 9:00-13:00."""
    therapist = staff["therapist"]
    for weekday in range(5):
        WorkingHours.objects.create(therapist=therapist, weekday=weekday, start=dt.time(8), end=dt.time(18))
    WorkingHours.objects.create(therapist=therapist, weekday=5, start=dt.time(9), end=dt.time(13))
    return therapist


@pytest.fixture
def patient(practice, staff) -> Patient:
    """Ava Lopez, 8, at Maple Elementary, with her mother Rosa, Medicaid coverage with 48 authorized
    OT visits (Sep 2026 – Feb 2027) and an OT plan of care for the same period."""
    school = make_school(practice)
    child = make_patient(practice, school=school, grade="2")
    make_guardian(child)
    make_authorization(make_coverage(child, make_payer(practice)))
    make_plan_of_care(child, staff["therapist"])
    return child

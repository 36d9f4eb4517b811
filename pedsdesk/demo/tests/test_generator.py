import datetime as dt
import os
import subprocess
import sys
from collections import Counter

import pytest
from django.db import transaction

from pedsdesk import codes
from pedsdesk.audit.models import AuditEvent
from pedsdesk.authorizations.models import BenefitBucket, Coverage, Payer, PayerType
from pedsdesk.demo.generator import OT, PT, SIZES, SLP, DemoSize, _Phones, make_npi, school_calendar, seed_demo
from pedsdesk.demo.tests.digest import demo_digest
from pedsdesk.people.models import Diagnosis, Guardian, GuardianOf, Patient, PlanOfCare
from pedsdesk.people.phones import normalize_phone
from pedsdesk.practices.models import Role, StaffMember, validate_npi
from pedsdesk.schools.models import School, SchoolDay

TODAY = dt.date(2026, 3, 4)


class _Rollback(Exception):
    pass


def seeded_digest(**kwargs) -> str:
    """Seed, digest, and roll the seeding back so the next run starts from scratch."""
    try:
        with transaction.atomic():
            summary = seed_demo(**kwargs)
            digest = demo_digest(summary.practice)
            raise _Rollback
    except _Rollback:
        pass
    return digest


@pytest.fixture
def small(db):
    return seed_demo(size="small", seed=7, today=TODAY)


@pytest.fixture
def medium(db):
    return seed_demo(size="medium", seed=7, today=TODAY)


def test_same_seed_same_rows_and_other_seed_other_rows(db):
    first = seeded_digest(size="small", seed=7, today=TODAY)
    assert seeded_digest(size="small", seed=7, today=TODAY) == first
    assert seeded_digest(size="small", seed=8, today=TODAY) != first
    assert seeded_digest(size="small", seed=7, today=TODAY + dt.timedelta(days=1)) != first


def test_same_rows_whatever_the_hash_seed(tmp_path):
    # Set and dict order must not leak into the data: run in two interpreters with different hash seeds.
    script = (
        "import datetime, django; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from pedsdesk.demo.generator import seed_demo; from pedsdesk.demo.tests.digest import demo_digest;"
        "print(demo_digest(seed_demo(size='small', seed=3, today=datetime.date(2026, 3, 4)).practice))"
    )
    digests = []
    for hash_seed in ("1", "2"):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env = {**env, "PYTHONHASHSEED": hash_seed, "DJANGO_SETTINGS_MODULE": "pedsdesk.test_settings",
               "PEDSDESK_DATA_DIR": str(tmp_path), "PEDSDESK_SQLITE_PATH": ":memory:"}
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,  # noqa: S603 -- fixed script
                                timeout=120, check=True)
        digests.append(result.stdout.strip().splitlines()[-1])
    assert digests[0] == digests[1]


def test_small_counts(small):
    practice = small.practice
    assert practice.is_demo and not practice.require_second_factor
    assert practice.time_zone == "America/Chicago"
    practice.full_clean()
    assert 35 <= Patient.objects.filter(practice=practice).count() <= 45
    therapists = StaffMember.objects.filter(practice=practice, role=Role.THERAPIST)
    assert therapists.count() == 4
    assert set(therapists.values_list("therapist_profile__discipline", flat=True)) == {"OT", "PT", "SLP"}
    assert set(StaffMember.objects.filter(practice=practice).values_list("role", flat=True)) == set(Role.values)
    assert School.objects.filter(practice=practice).count() == 5
    assert School.objects.filter(practice=practice, is_preschool=True).count() == 1
    assert small.counts["patients"] == Patient.objects.filter(practice=practice).count()


@pytest.mark.parametrize("size", ["medium", "large"])
def test_size_targets(size):
    spec = SIZES[size]
    assert spec.children == {"medium": 300, "large": 2000}[size]
    assert sum(n for _, n in spec.therapists) == {"medium": 12, "large": 40}[size]


def test_demo_logins_share_one_password(small):
    usernames = {login.username for login in small.logins}
    assert {"owner", "manager", "frontdesk", "billing", "therapist"} <= usernames
    for login in small.logins:
        assert StaffMember.objects.get(username=login.username).check_password(small.password)


def test_every_payer_type_with_varied_policies(small):
    payers = list(Payer.objects.filter(practice=small.practice))
    types = Counter(p.payer_type for p in payers)
    assert set(types) == set(PayerType.values)
    assert 2 <= types[PayerType.COMMERCIAL] <= 3 and types[PayerType.MEDICAID_MCO] == 2
    assert {p.booking_rule for p in payers} == {"block", "warn", "allow"}
    assert {p.unit_type for p in payers} == {"visits", "units"}
    assert {p.rounding_rule for p in payers} == {"cms_8_minute", "per_session"}
    assert len({p.renewal_earliest_days for p in payers}) >= 3
    for payer in payers:
        payer.full_clean()


def test_spanish_families_are_about_a_quarter(medium):
    guardians = Guardian.objects.filter(practice=medium.practice)
    share = guardians.filter(language="es").count() / guardians.count()
    assert 0.15 <= share <= 0.35


def test_guardians_are_valid_and_reachable(medium):
    guardians = list(Guardian.objects.filter(practice=medium.practice))
    phones = [g.phone for g in guardians if g.phone]
    assert len(phones) == len(set(phones)), "every family has its own number"
    for guardian in guardians:
        assert normalize_phone(guardian.phone) == guardian.phone
        assert guardian.phone == "" or guardian.phone[5:9] == "5550"  # the fictional 555-01xx block
        assert guardian.email == "" or guardian.email.rsplit(".", 1)[0].endswith("@example")
        guardian.full_clean()
    assert sum(g.sms_opted_out_at is not None for g in guardians) >= 1
    assert sum(g.preferred_channel == "email" for g in guardians) >= 10
    assert sum(g.can_text for g in guardians) > len(guardians) * 0.7
    # Siblings share their guardians.
    links = Counter(GuardianOf.objects.filter(patient__practice=medium.practice).values_list("guardian", flat=True))
    assert max(links.values()) >= 2
    assert all(1 <= n <= 2 for n in Counter(
        GuardianOf.objects.filter(patient__practice=medium.practice).values_list("patient", flat=True)).values())


def test_every_record_passes_model_validation(small):
    practice = small.practice
    for patient in Patient.objects.filter(practice=practice):
        patient.full_clean()
    for diagnosis in Diagnosis.objects.filter(patient__practice=practice):
        diagnosis.full_clean()
        assert diagnosis.code in codes.COMMON_DIAGNOSES
    for coverage in Coverage.objects.filter(patient__practice=practice):
        coverage.full_clean()
    for bucket in BenefitBucket.objects.filter(coverage__patient__practice=practice):
        bucket.full_clean()
    for school in School.objects.filter(practice=practice):
        school.full_clean()
    for member in StaffMember.objects.filter(practice=practice, role=Role.THERAPIST):
        validate_npi(member.therapist_profile.npi)


def test_every_plan_of_care_validates(medium):
    plans = PlanOfCare.objects.filter(patient__practice=medium.practice).select_related("patient", "therapist")
    for plan in plans:
        plan.full_clean()
        assert plan.frequency_per_week in (1, 2, 3) and plan.minutes in (30, 45, 60)
        assert 2 <= len(plan.goal_list) <= 4
        services = list(plan.services.all())
        assert services
        for service in services:
            service.full_clean()
            entry = codes.cpt_for_discipline(service.cpt_code, plan.discipline)
            assert not entry.evaluation
            assert 2 <= service.units <= 4 if entry.timed else service.units == 1
        timed_units = sum(s.units for s in services if codes.CPT_CODES[s.cpt_code].timed)
        assert timed_units in (0, plan.minutes // 15)


def test_plan_of_care_mix(medium):
    practice = medium.practice
    patients = Patient.objects.filter(practice=practice)
    current = PlanOfCare.objects.filter(patient__practice=practice, start_date__lte=TODAY, end_date__gte=TODAY)
    per_child = Counter(current.values_list("patient", flat=True))
    assert set(per_child.values()) <= {1, 2, 3}
    without = patients.count() - len(per_child)
    assert 3 <= without <= 40
    ending_soon = current.filter(end_date__lte=TODAY + dt.timedelta(days=30)).count()
    assert 0.05 <= ending_soon / current.count() <= 0.3
    assert {p.discipline for p in current} == {"OT", "PT", "SLP"}
    for plan in current.select_related("therapist__therapist_profile"):
        assert plan.therapist.therapist_profile.discipline == plan.discipline
    # The named therapist login has a caseload to look at.
    assert current.filter(therapist__username="therapist").count() >= 10


def test_children_ages_schools_and_diagnoses(medium):
    patients = list(Patient.objects.filter(practice=medium.practice).select_related("school"))
    ages = [p.age_on(TODAY) for p in patients]
    assert min(ages) >= 1 and max(ages) <= 17
    assert sum(3 <= a <= 10 for a in ages) / len(ages) > 0.6
    for patient in patients:
        if patient.school and patient.school.is_preschool:
            assert patient.grade == "PK"
        if patient.age_on(TODAY) >= 7:
            assert patient.grade not in ("", "PK")
        assert 1 <= patient.diagnoses.count() <= 3
        assert patient.diagnoses.filter(is_primary=True).count() == 1
    assert any(p.school is None for p in patients)


def test_coverages_and_benefit_buckets(medium):
    coverages = Coverage.objects.filter(patient__practice=medium.practice)
    assert coverages.filter(priority=2).exists()
    assert set(coverages.values_list("payer__payer_type", flat=True)) == set(PayerType.values)
    buckets = BenefitBucket.objects.filter(coverage__patient__practice=medium.practice)
    assert buckets.filter(name="PT/OT combined", limit=60, reset="calendar_year").exists()
    assert buckets.filter(disciplines=["SLP"], limit=30).exists()
    assert buckets.filter(reset="plan_year").exists()
    for patient in Patient.objects.filter(practice=medium.practice):
        priorities = list(patient.coverages.values_list("priority", flat=True))
        assert priorities.count(1) == 1


def test_school_calendar_2025_26():
    days = {day: (kind, note) for day, kind, note in school_calendar(2025, preschool=False)}
    assert days[dt.date(2025, 9, 1)][1] == "Labor Day"
    assert all(days[dt.date(2025, 11, d)][0] == "no_school" for d in (24, 25, 26, 27, 28))
    assert days[dt.date(2025, 12, 19)] == ("early_release", "Last day before winter break")
    assert days[dt.date(2026, 1, 1)][1] == "Winter break"
    assert days[dt.date(2026, 1, 19)][1] == "Martin Luther King Jr. Day"
    assert days[dt.date(2026, 4, 3)][1] == "Good Friday (student holiday)"
    assert all(day.weekday() < 5 for day in days)
    kinds = Counter(kind for kind, _ in days.values())
    assert kinds["no_school"] >= 20 and kinds["early_release"] >= 6
    preschool = {day: kind for day, kind, _ in school_calendar(2025, preschool=True)}
    assert dt.date(2025, 10, 1) not in preschool  # no district teacher-planning Wednesdays


def test_school_calendar_rows(small):
    school = School.objects.get(practice=small.practice, name="Maple Grove Elementary")
    assert SchoolDay.objects.filter(school=school, kind="early_release").exists()
    assert SchoolDay.objects.filter(school=school, date=dt.date(2026, 1, 19)).exists()
    assert school.early_release_time < school.dismissal_time


def test_make_npi_always_valid():
    import random

    rng = random.Random(1)
    for _ in range(200):
        validate_npi(make_npi(rng))


def test_a_practice_with_more_staff_than_names_seeds(db, monkeypatch):
    # A 10,000-child practice has 200 therapists; the name lists hold about 100 first names.
    monkeypatch.setitem(SIZES, "wide", DemoSize(40, ((OT, 60), (PT, 40), (SLP, 50))))
    summary = seed_demo(size="wide", seed=7, today=TODAY, simulate_week=False, history_weeks=1)
    staff = StaffMember.objects.filter(practice=summary.practice)
    assert staff.filter(role=Role.THERAPIST).count() == 150
    assert len(set(staff.values_list("username", flat=True))) == staff.count()


def test_phone_numbers_outlast_the_texas_area_codes():
    import random

    phones = _Phones(random.Random(7))
    numbers = [phones.take() for _ in range(13_000)]  # the guardians of a 10,000-child practice
    assert len(set(numbers)) == len(numbers)
    assert all(normalize_phone(n) == n and n[5:9] == "5550" for n in numbers)
    assert numbers[0].startswith("+1512")


def test_seeding_writes_no_audit_events(db):
    seed_demo(size="small", seed=7, today=TODAY, simulate_week=False)
    assert not AuditEvent.objects.exists()


def test_the_simulated_week_is_audited_as_the_front_desks_work(db):
    summary = seed_demo(size="small", seed=5)
    assert summary.counts["demo_cancellations"] >= 1
    actors = set(AuditEvent.objects.values_list("actor_label", flat=True))
    # Therapists complete and sign the school summaries the school coordination demo asks for.
    expected = ("frontdesk", "scheduler", "demo family", "family link", "therapist", "ot", "pt", "slp")
    assert actors and all(label.startswith(expected) for label in actors)


def test_unknown_size_is_refused(db):
    with pytest.raises(ValueError, match="small, medium, large"):
        seed_demo(size="huge")

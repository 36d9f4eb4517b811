"""Seeds the demo practice: synthetic staff, schools, payers, children, families,
coverages and plans of care.

Deterministic by construction: every random choice comes from one
``random.Random(seed)``, lists are walked in a fixed order, and the only reading of
the clock is one "today" in the practice's time zone (passed in, or taken once).
The same seed and the same today give the same rows, field for field.

Nothing here writes audit events: seeding is not a person reading patient data.
"""

from __future__ import annotations

import datetime as dt
import random
import string
import unicodedata
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pedsdesk import codes
from pedsdesk.authorizations.figures import forget_pending, refresh_practice
from pedsdesk.authorizations.models import (
    BenefitBucket,
    BookingRule,
    Coverage,
    Payer,
    PayerType,
    RenewalDocument,
    RoundingRule,
    UnitType,
)
from pedsdesk.demo import names
from pedsdesk.demo.schedule import HISTORY_WEEKS, seed_lists, seed_refills, seed_schedule
from pedsdesk.demo.seeders import run_seeders
from pedsdesk.people.models import (
    Channel,
    Diagnosis,
    Guardian,
    GuardianOf,
    Language,
    Patient,
    PlanOfCare,
    PlanOfCareService,
)
from pedsdesk.practices.models import Practice, Role, StaffMember, TherapistProfile, validate_npi
from pedsdesk.schools.models import School, SchoolDay

OT, PT, SLP = codes.OT, codes.PT, codes.SLP
DEMO_PASSWORD = "pedsdesk-demo"  # noqa: S105 -- printed on purpose: the demo has no secrets
DEMO_PRACTICE_NAME = "Bright Paths Pediatric Therapy"
TIME_ZONE = "America/Chicago"

T = TypeVar("T")


@dataclass(frozen=True)
class DemoSize:
    children: int
    therapists: tuple[tuple[str, int], ...]  # (discipline, how many), in creation order


SIZES: dict[str, DemoSize] = {
    "small": DemoSize(40, ((OT, 2), (PT, 1), (SLP, 1))),
    "medium": DemoSize(300, ((OT, 5), (PT, 3), (SLP, 4))),
    "large": DemoSize(2000, ((OT, 16), (PT, 10), (SLP, 14))),
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    name: str


@dataclass
class DemoSummary:
    practice: Practice
    size: str
    seed: int
    today: dt.date
    password: str
    logins: list[DemoLogin]
    counts: dict[str, int] = field(default_factory=dict)


def demo_today() -> dt.date:
    """Today in the demo practice's time zone: the one clock reading seeding uses."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(TIME_ZONE)).date()


def seed_demo(*, size: str = "medium", seed: int = 7, today: dt.date | None = None,
              simulate_week: bool = True, practice_name: str = DEMO_PRACTICE_NAME,
              login_prefix: str = "", history_weeks: int = HISTORY_WEEKS) -> DemoSummary:
    """Create the demo practice and everything in it, in one transaction.

    The records are written directly (no audit events: nobody read them). With
    ``simulate_week`` the front desk then records a few of this week's cancellations
    through the real workflow, which is audited like any person's work.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    builder = _Builder(SIZES[size], random.Random(seed), today or demo_today(), practice_name=practice_name,
                       login_prefix=login_prefix)
    with transaction.atomic():
        builder.build()
        builder.counts.update(seed_schedule(builder.practice, random.Random(seed + 1), builder.today,
                                            history_weeks=history_weeks))
        builder.counts.update(seed_lists(builder.practice, random.Random(seed + 2), builder.today))
        builder.counts.update(run_seeders(practice=builder.practice, seed=seed, today=builder.today))
        refresh_practice(builder.practice)  # the board's stored figures: the rows above went in bulk
        forget_pending()
    if simulate_week:
        # After the commit: cancellations run the real refill workflow, which reads the clock.
        builder.counts.update(seed_refills(builder.practice, random.Random(seed + 3)))
        builder.counts.update(run_seeders(practice=builder.practice, seed=seed, today=builder.today, workflow=True))
    return DemoSummary(
        practice=builder.practice, size=size, seed=seed, today=builder.today, password=DEMO_PASSWORD,
        logins=builder.logins, counts=builder.counts,
    )


# --- reference data -----------------------------------------------------------------

# Fictional numbers: 555-0100 to 555-0199 is set aside for fiction in every area code
# and passes phonenumbers' validation. Austin codes first, then the rest of Texas.
_AREA_CODES = [
    512, 737, 254, 830, 210, 726, 361, 979, 936, 409, 713, 281, 832, 346, 214, 469, 972, 945, 817, 682,
    940, 903, 430, 325, 432, 915, 806, 956, 405, 918, 501, 479, 504, 225, 318, 337, 985, 505, 575, 316,
]
# Taken only when those run out (a practice of more than about 3,000 children), so the
# smaller demos keep their numbers and their random sequence.
_MORE_AREA_CODES = [
    209, 213, 310, 323, 408, 415, 424, 510, 530, 559, 562, 619, 626, 650, 657, 661, 707, 714, 760, 805,
    818, 831, 858, 909, 916, 925, 949, 951, 239, 305, 321, 352, 386, 407, 561, 727, 754, 772, 786, 813,
    850, 863, 904, 941, 954, 212, 315, 347, 516, 518, 585, 607, 631, 646, 716, 718, 845, 914, 917, 929,
    217, 224, 309, 312, 331, 618, 630, 708, 773, 779, 815, 847, 872, 201, 267, 215, 412, 484, 570, 610,
    717, 724, 814, 856, 862, 908, 973, 732, 404, 470, 478, 678, 706, 762, 770, 912, 229, 303, 719, 720,
    970, 480, 520, 602, 623, 928, 702, 775, 801, 385, 435, 206, 253, 360, 425, 509, 503, 541, 971, 208,
    406, 307, 313, 517, 586, 616, 734, 810, 269, 248, 231, 906, 216, 234, 330, 419, 440, 513, 614, 740,
    937, 317, 260, 574, 765, 812, 219,
]

_DIAGNOSES_BY_DISCIPLINE = {
    OT: ["F82", "F84.0", "F88", "F90.2", "R27.8", "R63.3", "R62.0", "R62.50", "Q90.9", "G80.1"],
    PT: ["G80.1", "M62.81", "R26.89", "Q66.89", "R62.0", "F82", "Q90.9", "R27.8"],
    SLP: ["F80.0", "F80.1", "F80.2", "F80.81", "F84.0", "H90.3", "R63.3", "Q90.9", "R62.0"],
}
_DIAGNOSIS_MIN_AGE = {"F90.2": 5, "F82": 4, "F80.81": 3}
_FEEDING = "R63.3"

# Treatment codes (no evaluations) with weights; timed codes get 2-4 units.
_TREATMENT_CODES = {
    OT: [("97530", 5), ("97533", 3), ("97110", 2), ("97112", 2), ("97535", 2), ("97140", 1), ("97760", 1)],
    PT: [("97110", 4), ("97530", 3), ("97112", 3), ("97116", 2), ("97140", 1), ("97760", 1), ("97535", 1)],
    SLP: [("92507", 1)],
}
_MODIFIER = {OT: "GO", PT: "GP", SLP: "GN"}
_CREDENTIALS = {OT: ["OTR/L", "MOT, OTR/L", "MS, OTR/L", "OTD, OTR/L"], PT: ["PT, DPT", "DPT", "DPT, PCS"],
                SLP: ["MS, CCC-SLP", "MA, CCC-SLP", "CCC-SLP"]}

# (name, type, claims payer id, policy); the mix covers every type and policy variant.
_PAYERS: list[tuple[str, str, str, dict]] = [
    ("Bluebonnet Health Plan", PayerType.COMMERCIAL, "BBH01", dict(
        renewal_earliest_days=30, renewal_recommended_days=14, decision_turnaround_days=7,
        renewal_documents=[RenewalDocument.PLAN_OF_CARE, RenewalDocument.PROGRESS_REPORT],
        unit_type=UnitType.VISITS, rounding_rule=RoundingRule.PER_SESSION, booking_rule=BookingRule.WARN)),
    ("Prairie Mutual Insurance", PayerType.COMMERCIAL, "PMI22", dict(
        renewal_earliest_days=21, renewal_recommended_days=10, decision_turnaround_days=15,
        renewal_documents=[RenewalDocument.PROGRESS_REPORT],
        unit_type=UnitType.UNITS, rounding_rule=RoundingRule.EIGHT_MINUTE, booking_rule=BookingRule.WARN)),
    ("Cedar Point Health PPO", PayerType.COMMERCIAL, "CPH07", dict(
        renewal_earliest_days=14, renewal_recommended_days=7, decision_turnaround_days=10,
        renewal_documents=[], requires_authorization=False,
        unit_type=UnitType.VISITS, rounding_rule=RoundingRule.PER_SESSION, booking_rule=BookingRule.ALLOW)),
    ("Lone Star Medicaid (fee-for-service)", PayerType.MEDICAID_FFS, "LSM00", dict(
        renewal_earliest_days=30, renewal_recommended_days=21, decision_turnaround_days=7,
        expedited_turnaround_hours=72,
        renewal_documents=[RenewalDocument.PLAN_OF_CARE, RenewalDocument.PHYSICIAN_ORDER,
                           RenewalDocument.PROGRESS_REPORT],
        unit_type=UnitType.UNITS, rounding_rule=RoundingRule.EIGHT_MINUTE, booking_rule=BookingRule.BLOCK)),
    ("Pecan Health Kids (Medicaid)", PayerType.MEDICAID_MCO, "PHK31", dict(
        renewal_earliest_days=30, renewal_recommended_days=21, decision_turnaround_days=7,
        evaluation_requires_authorization=True,
        renewal_documents=[RenewalDocument.PLAN_OF_CARE, RenewalDocument.PHYSICIAN_ORDER,
                           RenewalDocument.RE_EVALUATION],
        unit_type=UnitType.UNITS, rounding_rule=RoundingRule.EIGHT_MINUTE, booking_rule=BookingRule.BLOCK)),
    ("Riverbend Community Care (Medicaid)", PayerType.MEDICAID_MCO, "RCC44", dict(
        renewal_earliest_days=45, renewal_recommended_days=30, decision_turnaround_days=7,
        renewal_documents=[RenewalDocument.PLAN_OF_CARE, RenewalDocument.PROGRESS_REPORT,
                           RenewalDocument.PHYSICIAN_ORDER],
        unit_type=UnitType.VISITS, rounding_rule=RoundingRule.PER_SESSION, booking_rule=BookingRule.WARN)),
    ("Pecan Health CHIP", PayerType.CHIP, "PHC32", dict(
        renewal_earliest_days=30, renewal_recommended_days=21, decision_turnaround_days=7,
        renewal_documents=[RenewalDocument.PLAN_OF_CARE, RenewalDocument.PHYSICIAN_ORDER],
        unit_type=UnitType.UNITS, rounding_rule=RoundingRule.PER_SESSION, booking_rule=BookingRule.BLOCK)),
    ("Pecan Valley ISD (district contract)", PayerType.SCHOOL, "", dict(
        renewal_earliest_days=60, renewal_recommended_days=45, decision_turnaround_days=14,
        renewal_documents=[RenewalDocument.PROGRESS_REPORT], requires_authorization=False,
        unit_type=UnitType.VISITS, rounding_rule=RoundingRule.PER_SESSION, booking_rule=BookingRule.ALLOW)),
    ("Self-pay", PayerType.SELF_PAY, "", dict(
        renewal_earliest_days=0, renewal_recommended_days=0, decision_turnaround_days=0,
        renewal_documents=[], requires_authorization=False,
        unit_type=UnitType.VISITS, rounding_rule=RoundingRule.PER_SESSION, booking_rule=BookingRule.ALLOW)),
]

# (name, preschool, start, dismissal, early release, street)
_SCHOOLS = [
    ("Little Acorns Preschool", True, dt.time(8, 0), dt.time(14, 30), dt.time(11, 30), "915 Acorn Way"),
    ("Maple Grove Elementary", False, dt.time(7, 45), dt.time(15, 5), dt.time(12, 15), "2400 Maple Grove Dr"),
    ("Cedar Ridge Elementary", False, dt.time(7, 50), dt.time(15, 10), dt.time(12, 20), "7710 Cedar Ridge Rd"),
    ("Bluebonnet Middle School", False, dt.time(8, 45), dt.time(16, 5), dt.time(13, 15), "5100 Bluebonnet Pkwy"),
    ("Live Oak High School", False, dt.time(8, 30), dt.time(15, 55), dt.time(12, 55), "1 Live Oak Blvd"),
]
_DISTRICT = "Pecan Valley ISD"

_AGE_WEIGHTS = {1: 2, 2: 4, 3: 8, 4: 10, 5: 11, 6: 11, 7: 10, 8: 9, 9: 8, 10: 7, 11: 5, 12: 4, 13: 3, 14: 3,
                15: 2, 16: 2, 17: 1}
# Weighted so each discipline's share of plans is close to its share of therapists.
_DISCIPLINE_MIXES = [((SLP,), 30), ((OT,), 31), ((PT,), 19), ((OT, SLP), 12), ((OT, PT), 6), ((PT, SLP), 2)]


# --- small helpers ------------------------------------------------------------------


def _weighted(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _on_or_after(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _on_or_before(day: dt.date, weekday: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - weekday) % 7)


def _easter(year: int) -> dt.date:
    # Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


def make_npi(rng: random.Random) -> str:
    """A random NPI (individuals start with 1) whose Luhn check digit is right."""
    payload = "1" + "".join(rng.choice(string.digits) for _ in range(8))
    for check in string.digits:
        try:
            validate_npi(payload + check)
        except ValidationError:
            continue
        return payload + check
    raise AssertionError("unreachable: one check digit always fits")  # pragma: no cover


MON, TUE, WED, THU, FRI = range(5)


def school_year_start(today: dt.date) -> int:
    """The calendar year the current school year began (or begins, from July)."""
    return today.year if today.month >= 7 else today.year - 1


def school_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """First and last day of the school year starting in August of ``year``."""
    return _on_or_after(dt.date(year, 8, 13), WED), _nth_weekday(year + 1, 5, MON, 4) - dt.timedelta(days=4)


def school_calendar(year: int, *, preschool: bool, extras: str = "") -> list[tuple[dt.date, str, str]]:
    """Non-school and early-release weekdays of the school year starting in August of ``year``."""
    no, early = SchoolDay.Kind.NO_SCHOOL, SchoolDay.Kind.EARLY_RELEASE
    nxt = year + 1
    first_day, last_day = school_year_bounds(year)
    thanksgiving = _nth_weekday(year, 11, THU, 4)
    winter_last = _on_or_before(dt.date(year, 12, 20), FRI)
    winter_return = _on_or_after(dt.date(nxt, 1, 6), TUE)
    spring_monday = _nth_weekday(nxt, 3, MON, 2)
    columbus = _nth_weekday(year, 10, MON, 2)
    days: dict[dt.date, tuple[str, str]] = {}

    def add(day: dt.date, kind: str, note: str) -> None:
        if day.weekday() < 5 and first_day <= day <= last_day:
            days.setdefault(day, (kind, note))

    def add_range(start: dt.date, end: dt.date, kind: str, note: str) -> None:
        for offset in range((end - start).days + 1):
            add(start + dt.timedelta(days=offset), kind, note)

    add(_nth_weekday(year, 9, MON, 1), no, "Labor Day")
    add(columbus, no, "Staff development (student holiday)")
    add_range(thanksgiving - dt.timedelta(days=3), thanksgiving + dt.timedelta(days=1), no, "Thanksgiving break")
    add_range(winter_last + dt.timedelta(days=3), winter_return - dt.timedelta(days=2), no, "Winter break")
    add(winter_return - dt.timedelta(days=1), no, "Staff development (student holiday)")
    add(_nth_weekday(nxt, 1, MON, 3), no, "Martin Luther King Jr. Day")
    add(_nth_weekday(nxt, 2, MON, 3), no, "Presidents' Day (student holiday)")
    add_range(spring_monday, spring_monday + dt.timedelta(days=4), no, "Spring break")
    add(_easter(nxt) - dt.timedelta(days=2), no, "Good Friday (student holiday)")
    if preschool:
        add(_nth_weekday(year, 10, FRI, 1), no, "Preschool in-service day")
        add(_nth_weekday(nxt, 2, FRI, 1), no, "Preschool in-service day")
    else:
        for month_year, month in ((year, 9), (year, 10), (year, 11), (nxt, 2), (nxt, 3), (nxt, 4)):
            add(_nth_weekday(month_year, month, WED, 1), early, "Early release: teacher planning")
        add(columbus + dt.timedelta(days=3), early, "Parent-teacher conferences")
        add(columbus + dt.timedelta(days=4), early, "Parent-teacher conferences")
    add(thanksgiving - dt.timedelta(days=6), early, "Early release before Thanksgiving break")
    add(winter_last, early, "Last day before winter break")
    add(last_day, early, "Last day of school")
    if extras == "field_day":
        add(_on_or_before(last_day - dt.timedelta(days=10), FRI), early, "Field day: early release")
    elif extras == "campus_day":
        add(_nth_weekday(nxt, 2, MON, 3) + dt.timedelta(days=4), no, "Campus staff development")
    elif extras == "exams":
        for day in (winter_last - dt.timedelta(days=2), winter_last - dt.timedelta(days=1),
                    last_day - dt.timedelta(days=2), last_day - dt.timedelta(days=1)):
            add(day, early, "Semester exams: early release")
    return [(day, kind, note) for day, (kind, note) in sorted(days.items())]


class _Phones:
    """Unique fictional numbers, Austin first."""

    def __init__(self, rng: random.Random) -> None:
        self._pool: list[str] = []
        for area in _AREA_CODES:
            self._pool.extend(self._block(area, rng))
        self._more = iter(_MORE_AREA_CODES)
        self._next = 0

    @staticmethod
    def _block(area: int, rng: random.Random) -> list[str]:
        block = [f"+1{area}5550{n}" for n in range(100, 200)]
        rng.shuffle(block)
        return block

    def take(self) -> str:
        if self._next >= len(self._pool):
            area = next(self._more, None)
            if area is None:
                raise RuntimeError("The demo ran out of fictional 555-01xx phone numbers; add area codes.")
            self._pool.extend(self._block(area, random.Random(area)))
        number = self._pool[self._next]
        self._next += 1
        return number


# --- the builder --------------------------------------------------------------------


@dataclass
class _Family:
    spanish: bool
    surname: str
    hispanic: bool
    guardians: list[tuple[Guardian, str, bool]] = field(default_factory=list)  # guardian, relationship, legal
    primary_type: str = ""
    payer: Payer | None = None
    secondary: Payer | None = None
    member_base: str = ""
    group: str = ""
    plan_month: int = 1
    coverage_start: dt.date | None = None
    dependents: int = 0


class _Builder:
    def __init__(self, size: DemoSize, rng: random.Random, today: dt.date, *, practice_name: str = DEMO_PRACTICE_NAME,
                 login_prefix: str = "") -> None:
        self.practice_name, self.login_prefix = practice_name, login_prefix
        self.size = size
        self.rng = rng
        self.today = today
        self.zone = zoneinfo.ZoneInfo(TIME_ZONE)
        self.phones = _Phones(rng)
        self.logins: list[DemoLogin] = []
        self.counts: dict[str, int] = {}
        self.emails: set[str] = set()  # membership only, never iterated
        self.member_ids: set[str] = set()
        self.year = school_year_start(today)

    # Moments are built from today so that they never read the clock.
    def at(self, day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.zone)

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(low, high))

    def build(self) -> None:
        self.make_practice()
        self.make_staff()
        self.make_schools()
        self.make_payers()
        self.make_children()

    # practice and staff

    def make_practice(self) -> None:
        self.practice = Practice.objects.create(
            name=self.practice_name, time_zone=TIME_ZONE, npi=make_npi(self.rng),
            phone=self.phones.take(), email="hello@brightpaths.example.com", street="4800 Larkspur Lane, Suite 120",
            city="Austin", state="TX", postal_code="78745", is_demo=True, require_second_factor=False,
            created_at=self.at(self.today - dt.timedelta(days=400)),
        )
        self.counts["practices"] = 1

    def make_staff(self) -> None:
        rng = self.rng
        salt = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(22))
        # One hash for every demo login: argon2 is slow by design and the password is public.
        password = make_password(DEMO_PASSWORD, salt=salt)
        every_first = names.WOMAN_NAMES + names.MAN_NAMES + names.HISPANIC_WOMAN_NAMES
        every_last = names.SURNAMES + names.HISPANIC_SURNAMES
        first_names, last_names = list(every_first), list(every_last)

        def person() -> tuple[str, str]:
            # Distinct first and last names, so staff are easy to tell apart in the demo; a
            # practice with more staff than names (200 therapists for 10,000 children) starts
            # the lists again.
            first_names.extend([] if first_names else every_first)
            last_names.extend([] if last_names else every_last)
            first, last = rng.choice(first_names), rng.choice(last_names)
            first_names.remove(first)
            last_names.remove(last)
            return first, last

        people: list[tuple[str, str, str | None]] = [
            ("owner", Role.OWNER, None), ("manager", Role.OFFICE_MANAGER, None),
            ("frontdesk", Role.FRONT_DESK, None), ("billing", Role.BILLING, None),
        ]
        for discipline, count in self.size.therapists:
            for i in range(1, count + 1):
                first_ot = discipline == OT and i == 1
                username = "therapist" if first_ot else f"{discipline.lower()}{i}"
                people.append((username, Role.THERAPIST, discipline))
        members, profiles = [], []
        self.therapists: dict[str, list[StaffMember]] = {OT: [], PT: [], SLP: []}
        joined = self.at(self.today - dt.timedelta(days=400))
        for username, role, discipline in people:
            first, last = person()
            username = self.login_prefix + username
            member = StaffMember(
                username=username, password=password, first_name=first, last_name=last,
                email=f"{username}@brightpaths.example.com", practice=self.practice, role=role,
                phone=self.phones.take(), date_joined=joined + dt.timedelta(days=rng.randint(0, 300)),
            )
            members.append(member)
            if discipline:
                self.therapists[discipline].append(member)
                profiles.append(TherapistProfile(staff_member=member, discipline=discipline,
                                                 credentials=rng.choice(_CREDENTIALS[discipline]),
                                                 npi=make_npi(rng)))
        StaffMember.objects.bulk_create(members)
        TherapistProfile.objects.bulk_create(profiles)
        for profile in profiles:
            # PlanOfCare.clean reads this; set the cached reverse side without a query.
            profile.staff_member.therapist_profile = profile
        self.counts["staff"] = len(members)
        self.counts["therapists"] = len(profiles)
        shown = {self.login_prefix + name for name in ("owner", "manager", "frontdesk", "billing", "therapist", "pt1",
                                                       "slp1")}
        self.logins = [
            DemoLogin(m.username, _login_role(m, profiles), f"{m.first_name} {m.last_name}")
            for m in members if m.username in shown
        ]
        self.caseload: dict[str, int] = {m.username: 0 for m in members}

    # schools

    def make_schools(self) -> None:
        schools, days = [], []
        first_day, last_day = school_year_bounds(self.year)
        extras = ["", "field_day", "campus_day", "exams", "exams"]
        for (name, preschool, start, dismissal, early, street), extra in zip(_SCHOOLS, extras, strict=True):
            school = School(
                practice=self.practice, name=name, district="" if preschool else _DISTRICT, is_preschool=preschool,
                start_time=start, dismissal_time=dismissal, early_release_time=early, phone=self.phones.take(),
                street=street, city="Austin", first_day=first_day, last_day=last_day,
            )
            schools.append(school)
            for day, kind, note in school_calendar(self.year, preschool=preschool, extras=extra):
                days.append(SchoolDay(school=school, date=day, kind=kind, note=note))
        School.objects.bulk_create(schools)
        SchoolDay.objects.bulk_create(days)
        self.preschool = schools[0]
        self.elementary = schools[1:3]
        self.middle, self.high = schools[3], schools[4]
        self.counts["schools"] = len(schools)
        self.counts["school_days"] = len(days)

    # payers

    def make_payers(self) -> None:
        payers = []
        for name, payer_type, payer_id, policy in _PAYERS:
            slug = _ascii(name.split(" (")[0])[:20]
            payers.append(Payer(
                practice=self.practice, name=name, payer_type=payer_type, payer_id=payer_id,
                phone="" if payer_type == PayerType.SELF_PAY else self.phones.take(),
                fax="" if payer_type in (PayerType.SELF_PAY, PayerType.SCHOOL) else self.phones.take(),
                portal_url="" if payer_type == PayerType.SELF_PAY else f"https://{slug}.example.net/providers",
                **policy,
            ))
        Payer.objects.bulk_create(payers)
        by_type: dict[str, list[Payer]] = {}
        for payer in payers:
            by_type.setdefault(payer.payer_type, []).append(payer)
        self.payers = by_type
        self.counts["payers"] = len(payers)

    # children and families

    def make_children(self) -> None:
        rng = self.rng
        patients: list[Patient] = []
        diagnoses: list[Diagnosis] = []
        guardians: list[Guardian] = []
        links: list[GuardianOf] = []
        coverages: list[Coverage] = []
        buckets: list[BenefitBucket] = []
        plans: list[PlanOfCare] = []
        services: list[PlanOfCareService] = []
        remaining = self.size.children
        while remaining > 0:
            kids = min(remaining, _weighted(rng, [(1, 80), (2, 16), (3, 4)]))
            remaining -= kids
            family = self.make_family()
            guardians.extend(g for g, _, _ in family.guardians)
            first_names: list[str] = []
            for _ in range(kids):
                patient, plan_rows, dx_rows = self.make_child(family, first_names)
                patients.append(patient)
                diagnoses.extend(dx_rows)
                for plan, plan_services in plan_rows:
                    plans.append(plan)
                    services.extend(plan_services)
                for n, (guardian, relationship, legal) in enumerate(family.guardians):
                    links.append(GuardianOf(guardian=guardian, patient=patient, relationship=relationship,
                                            legal_authority=legal, is_primary_contact=n == 0))
                for coverage, coverage_buckets in self.make_coverages(family, patient):
                    coverages.append(coverage)
                    buckets.extend(coverage_buckets)
        Patient.objects.bulk_create(patients)
        Diagnosis.objects.bulk_create(diagnoses)
        Guardian.objects.bulk_create(guardians)
        GuardianOf.objects.bulk_create(links)
        Coverage.objects.bulk_create(coverages)
        BenefitBucket.objects.bulk_create(buckets)
        PlanOfCare.objects.bulk_create(plans)
        PlanOfCareService.objects.bulk_create(services)
        self.counts.update(
            patients=len(patients), diagnoses=len(diagnoses), guardians=len(guardians), guardian_links=len(links),
            coverages=len(coverages), benefit_buckets=len(buckets), plans_of_care=len(plans),
            plan_services=len(services),
        )

    def make_family(self) -> _Family:
        rng = self.rng
        spanish = rng.random() < 0.25
        hispanic = spanish or rng.random() < 0.15
        surname = rng.choice(names.HISPANIC_SURNAMES if hispanic else names.SURNAMES)
        family = _Family(spanish=spanish, surname=surname, hispanic=hispanic)
        first = _weighted(rng, [("mother", 72), ("father", 18), ("grandparent", 5), ("foster_parent", 2),
                                ("legal_guardian", 3)])
        relations = [(first, True)]
        if rng.random() < 0.6:
            if first == "mother":
                relations.append(_weighted(rng, [(("father", True), 85), (("grandparent", False), 10),
                                                 (("other", False), 5)]))
            elif first == "father":
                relations.append(_weighted(rng, [(("mother", True), 85), (("grandparent", False), 15)]))
            elif first == "grandparent":
                relations.append(("grandparent", True))
            else:
                relations.append((first, True))
        used_first: list[str] = []
        for relationship, legal in relations:
            family.guardians.append((self.make_guardian(family, relationship, used_first), relationship, legal))
        self.choose_payers(family)
        return family

    def make_guardian(self, family: _Family, relationship: str, used_first: list[str]) -> Guardian:
        rng = self.rng
        woman = relationship == "mother" or (relationship not in ("father",) and rng.random() < 0.75)
        if relationship == "grandparent" and woman:
            pool = names.HISPANIC_GRANDMOTHER_NAMES if family.hispanic else names.GRANDMOTHER_NAMES
        elif family.hispanic and (family.spanish or rng.random() < 0.6):
            pool = names.HISPANIC_WOMAN_NAMES if woman else names.HISPANIC_MAN_NAMES
        else:
            pool = names.WOMAN_NAMES if woman else names.MAN_NAMES
        first = rng.choice([n for n in pool if n not in used_first] or pool)
        used_first.append(first)
        last = family.surname
        if relationship in ("mother", "grandparent", "other", "foster_parent") and rng.random() < 0.25:
            last = rng.choice(names.HISPANIC_SURNAMES if family.hispanic else names.SURNAMES)
        no_phone = rng.random() < 0.02
        has_email = no_phone or rng.random() < 0.85
        email = self.email_for(first, last) if has_email else ""
        consented = self.at(self.days_ago(20, 900), rng.randint(8, 17), rng.choice((0, 15, 30, 45)))
        roll = rng.random()
        opted_out = None
        if no_phone:
            consent, channel = None, Channel.EMAIL
        elif roll < 0.04:
            if not email:
                email = self.email_for(first, last)
            consent, channel = consented, Channel.EMAIL
            opted_out = consented + dt.timedelta(days=rng.randint(3, 15), hours=rng.randint(0, 8))
        elif roll < 0.12:
            consent, channel = None, Channel.EMAIL if email else Channel.SMS
        else:
            consent = consented
            channel = Channel.EMAIL if email and rng.random() < 0.15 else Channel.SMS
        return Guardian(
            practice=self.practice, first_name=first, last_name=last,
            phone="" if no_phone else self.phones.take(), email=email,
            language=Language.ES if family.spanish else Language.EN, preferred_channel=channel,
            sms_consent_at=consent, sms_opted_out_at=opted_out,
        )

    def email_for(self, first: str, last: str) -> str:
        rng = self.rng
        first_a, last_a = _ascii(first), _ascii(last)
        local = rng.choice([f"{first_a}.{last_a}", f"{first_a[0]}{last_a}", f"{first_a}{last_a}{rng.randint(1, 99)}",
                            f"{first_a}_{last_a}"])
        domain = rng.choice(["example.com", "example.org", "example.net"])
        address, n = f"{local}@{domain}", 1
        while address in self.emails:
            n += 1
            address = f"{local}{n}@{domain}"
        self.emails.add(address)
        return address

    def make_child(
        self, family: _Family, used_first: list[str]
    ) -> tuple[Patient, list[tuple[PlanOfCare, list[PlanOfCareService]]], list[Diagnosis]]:
        rng = self.rng
        girl = rng.random() < 0.4  # referrals skew to boys
        if family.hispanic and (family.spanish or rng.random() < 0.5):
            pool = names.HISPANIC_GIRL_NAMES if girl else names.HISPANIC_BOY_NAMES
        else:
            pool = names.GIRL_NAMES if girl else names.BOY_NAMES
        first = rng.choice([n for n in pool if n not in used_first] or pool)
        used_first.append(first)
        preferred = names.NICKNAMES.get(first, "") if rng.random() < 0.35 else ""
        age = _weighted(rng, list(_AGE_WEIGHTS.items()))
        latest = _years_before(self.today, age)
        earliest = _years_before(self.today, age + 1) + dt.timedelta(days=1)
        dob = earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))
        school, grade = self.school_for(dob)
        patient = Patient(practice=self.practice, first_name=first, last_name=family.surname,
                          preferred_name=preferred, date_of_birth=dob, school=school, grade=grade)

        disciplines = _weighted(rng, _DISCIPLINE_MIXES)
        if age < 3 and disciplines != (PT,) and len(disciplines) == 1 and rng.random() < 0.3:
            disciplines = (*disciplines, PT)  # toddlers often come for motor milestones
        pool_codes: list[str] = []
        for discipline in disciplines:
            for code in _DIAGNOSES_BY_DISCIPLINE[discipline]:
                if code not in pool_codes and age >= _DIAGNOSIS_MIN_AGE.get(code, 0):
                    pool_codes.append(code)
        picked = rng.sample(pool_codes, k=min(len(pool_codes), _weighted(rng, [(1, 45), (2, 40), (3, 15)])))
        dx_rows = [Diagnosis(patient=patient, code=code, description=codes.COMMON_DIAGNOSES[code],
                             is_primary=i == 0) for i, code in enumerate(picked)]

        plan_rows = []
        status = _weighted(rng, [("current", 94), ("expired", 3), ("none", 3)])
        if status != "none":
            for discipline in disciplines:
                plan_rows.append(self.make_plan(patient, discipline, picked, expired=status == "expired"))
        starts = [plan.start_date for plan, _ in plan_rows] or [self.days_ago(5, 40)]
        patient.created_at = self.at(min(starts) - dt.timedelta(days=rng.randint(7, 60)), rng.randint(8, 16))
        return patient, plan_rows, dx_rows

    def school_for(self, dob: dt.date) -> tuple[School | None, str]:
        rng = self.rng
        sept_first = dt.date(self.year, 9, 1)
        age = sept_first.year - dob.year - ((sept_first.month, sept_first.day) < (dob.month, dob.day))
        if age < 3:
            return None, ""
        if age < 5:
            return (self.preschool, "PK") if rng.random() < 0.7 else (None, "")
        grade_number = min(age - 5, 12)
        grade = "K" if grade_number == 0 else str(grade_number)
        if rng.random() < 0.1:
            return None, grade  # home-schooled or at a school outside the practice's list
        if grade_number <= 5:
            return rng.choice(self.elementary), grade
        return (self.middle if grade_number <= 8 else self.high), grade

    def make_plan(
        self, patient: Patient, discipline: str, diagnoses: list[str], *, expired: bool
    ) -> tuple[PlanOfCare, list[PlanOfCareService]]:
        rng = self.rng
        therapist = self.pick_therapist(discipline)
        length = _weighted(rng, [(90, 35), (120, 15), (180, 50)])
        if expired:
            end = self.days_ago(3, 45)
        elif rng.random() < 0.12:
            end = self.today + dt.timedelta(days=rng.randint(1, 30))  # renewal season
        else:
            end = self.today + dt.timedelta(days=rng.randint(31, length - 1))
        start = end - dt.timedelta(days=length - 1)
        minutes = _weighted(rng, [(30, 35), (45, 40), (60, 25)])
        frequency = _weighted(rng, [(1, 45), (2, 45), (3, 10)])
        goal_count = min(len(names.GOALS[discipline]), _weighted(rng, [(2, 30), (3, 45), (4, 25)]))
        name = patient.preferred_name or patient.first_name
        goals = "\n".join(
            template.format(name=name, pct=rng.choice((70, 75, 80, 85, 90)), cue=rng.choice(names.CUES))
            for template in rng.sample(names.GOALS[discipline], k=goal_count)
        )
        plan = PlanOfCare(
            patient=patient, discipline=discipline, therapist=therapist, frequency_per_week=frequency,
            minutes=minutes, start_date=start, end_date=end, goals=goals,
            created_at=self.at(start - dt.timedelta(days=rng.randint(0, 7)), rng.randint(8, 17)),
        )
        modifier = _MODIFIER[discipline]
        lines: list[tuple[str, int]] = []
        feeding = _FEEDING in diagnoses and discipline in (OT, SLP) and rng.random() < 0.7
        if discipline == SLP:
            lines.append(("92507", 1))
            if feeding:
                lines.append(("92526", 1))
        else:
            if feeding:
                lines.append(("92526", 1))
            # Timed units match the visit length under the 8-minute rule: 30 min -> 2, 45 -> 3, 60 -> 4.
            timed_units = minutes // 15
            options = _TREATMENT_CODES[discipline]
            first = _weighted(rng, options)
            if timed_units == 4 and rng.random() < 0.4:
                second = _weighted(rng, [o for o in options if o[0] != first])
                lines.extend([(first, 2), (second, 2)])
            else:
                lines.append((first, timed_units))
        services = [PlanOfCareService(plan_of_care=plan, cpt_code=code, modifier=modifier, units=units)
                    for code, units in lines]
        return plan, services

    def pick_therapist(self, discipline: str) -> StaffMember:
        # The least-loaded two share new children, so caseloads stay even but not uniform.
        candidates = sorted(self.therapists[discipline], key=lambda m: (self.caseload[m.username], m.username))
        chosen = self.rng.choice(candidates[:2])
        self.caseload[chosen.username] += 1
        return chosen

    # coverage

    def choose_payers(self, family: _Family) -> None:
        rng = self.rng
        kind = _weighted(rng, [(PayerType.COMMERCIAL, 41), (PayerType.MEDICAID_MCO, 31),
                               (PayerType.MEDICAID_FFS, 13), (PayerType.CHIP, 10), (PayerType.SELF_PAY, 5)])
        family.primary_type = kind
        if kind == PayerType.COMMERCIAL:
            commercial = self.payers[PayerType.COMMERCIAL]
            family.payer = _weighted(rng, list(zip(commercial, (45, 35, 20), strict=True)))
            family.member_base = f"{family.payer.payer_id[:3]}{rng.randint(100000000, 999999999)}"
            family.group = f"G{rng.randint(100000, 999999)}"
            family.plan_month = 1 if rng.random() < 0.75 else rng.choice((4, 7, 10))
            start = dt.date(self.today.year - rng.randint(0, 4), family.plan_month, 1)
            if start > self.today:
                start = start.replace(year=start.year - 1)
            family.coverage_start = start
            roll = rng.random()
            if roll < 0.15:
                medicaid = self.payers[PayerType.MEDICAID_FFS] + self.payers[PayerType.MEDICAID_MCO]
                family.secondary = rng.choice(medicaid)
            elif roll < 0.20:
                family.secondary = rng.choice([p for p in commercial if p is not family.payer])
        elif kind == PayerType.SELF_PAY:
            family.payer = self.payers[PayerType.SELF_PAY][0]
        else:
            family.payer = rng.choice(self.payers[kind])

    def medicaid_id(self) -> str:
        while True:
            member_id = str(self.rng.randint(500000000, 799999999))
            if member_id not in self.member_ids:
                self.member_ids.add(member_id)
                return member_id

    def make_coverages(self, family: _Family, patient: Patient) -> list[tuple[Coverage, list[BenefitBucket]]]:
        rng = self.rng
        child_name = f"{patient.first_name} {patient.last_name}"
        guardian = family.guardians[0][0]
        subscriber = f"{guardian.first_name} {guardian.last_name}"
        district_school = patient.school is not None and not patient.school.is_preschool
        if district_school and rng.random() < 0.04:
            # The district contracts for this child's IEP services.
            school_payer = self.payers[PayerType.SCHOOL][0]
            coverage = Coverage(
                patient=patient, payer=school_payer, member_id=f"IEP-{rng.randint(100000, 999999)}",
                subscriber_name=_DISTRICT, plan_year_start_month=8, plan_year_start_day=1,
                start_date=dt.date(self.year, 8, 1), end_date=dt.date(self.year + 1, 7, 31),
            )
            return [(coverage, [])]
        rows: list[tuple[Coverage, list[BenefitBucket]]] = []
        payer = family.payer
        if family.primary_type == PayerType.COMMERCIAL:
            family.dependents += 1
            coverage = Coverage(
                patient=patient, payer=payer, priority=Coverage.Priority.PRIMARY,
                member_id=f"{family.member_base}-{family.dependents + 1:02d}", group_number=family.group,
                subscriber_name=subscriber, plan_year_start_month=family.plan_month, start_date=family.coverage_start,
            )
            rows.append((coverage, self.commercial_buckets(coverage, payer, family.plan_month)))
        elif family.primary_type == PayerType.SELF_PAY:
            coverage = Coverage(patient=patient, payer=payer, member_id=f"SELF-{self.medicaid_id()[-6:]}",
                                subscriber_name=subscriber, start_date=self.days_ago(30, 400))
            rows.append((coverage, []))
        elif family.primary_type == PayerType.CHIP:
            start = self.days_ago(0, 360)
            coverage = Coverage(
                patient=patient, payer=payer, member_id=self.medicaid_id(), subscriber_name=child_name,
                plan_year_start_month=start.month, plan_year_start_day=min(start.day, 28), start_date=start,
                end_date=_years_before(start, -1) - dt.timedelta(days=1),
            )
            buckets = [BenefitBucket(coverage=coverage, name=f"{d} visits", disciplines=[d], limit=24,
                                     reset=BenefitBucket.Reset.PLAN_YEAR) for d in (OT, PT, SLP)]
            rows.append((coverage, buckets))
        else:
            coverage = Coverage(patient=patient, payer=payer, member_id=self.medicaid_id(), subscriber_name=child_name,
                                start_date=self.days_ago(60, 1500))
            rows.append((coverage, []))
        if family.secondary is not None:
            secondary = family.secondary
            if secondary.payer_type == PayerType.COMMERCIAL:
                coverage = Coverage(
                    patient=patient, payer=secondary, priority=Coverage.Priority.SECONDARY,
                    member_id=f"{secondary.payer_id[:3]}{rng.randint(100000000, 999999999)}-01",
                    group_number=f"G{rng.randint(100000, 999999)}", subscriber_name=subscriber,
                    start_date=self.days_ago(100, 1200),
                )
                rows.append((coverage, self.commercial_buckets(coverage, secondary, 1)))
            else:
                coverage = Coverage(patient=patient, payer=secondary, priority=Coverage.Priority.SECONDARY,
                                    member_id=self.medicaid_id(), subscriber_name=child_name,
                                    start_date=self.days_ago(60, 1500))
                rows.append((coverage, []))
        return rows

    def commercial_buckets(self, coverage: Coverage, payer: Payer, plan_month: int) -> list[BenefitBucket]:
        rng = self.rng
        reset = BenefitBucket.Reset.CALENDAR_YEAR if plan_month == 1 else BenefitBucket.Reset.PLAN_YEAR
        if payer.name.startswith("Bluebonnet"):
            return [
                BenefitBucket(coverage=coverage, name="PT/OT combined", disciplines=[PT, OT],
                              limit=rng.choice((60, 60, 40)), reset=reset),
                BenefitBucket(coverage=coverage, name="Speech therapy", disciplines=[SLP],
                              limit=rng.choice((30, 30, 20)), reset=reset),
            ]
        if payer.name.startswith("Prairie"):
            return [
                BenefitBucket(coverage=coverage, name="PT/OT combined", disciplines=[PT, OT], unit_type=UnitType.UNITS,
                              limit=rng.choice((120, 160, 200)), reset=reset),
                BenefitBucket(coverage=coverage, name="Speech therapy", disciplines=[SLP],
                              limit=rng.choice((25, 30, 35)), reset=reset),
            ]
        return [BenefitBucket(coverage=coverage, name="Habilitative therapy (all)", disciplines=[OT, PT, SLP],
                              limit=rng.choice((30, 40, 50)), reset=reset)]


def _login_role(member: StaffMember, profiles: list[TherapistProfile]) -> str:
    if member.role != Role.THERAPIST:
        return member.get_role_display()
    profile = next(p for p in profiles if p.staff_member is member)
    return f"Therapist ({profile.discipline})"

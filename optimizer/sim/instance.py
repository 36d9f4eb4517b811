"""A seeded practice over several weeks, and everything that will happen to it.

The same (tier, seed, params) always gives the same practice, the same cancellations,
illnesses and absences, and the same hidden answers: whether a family would say yes to
a time and how fast they reply are fixed per (seed, child, slot) by a hash, so every
policy faces the same world and the validator can re-derive every answer.

Time is whole minutes from ``EPOCH`` (a Monday, 00:00 in the practice's zone; the
simulated practice keeps no daylight saving). Day ``d`` is ``d // 1440``; its weekday is
``d % 7`` (0 = Monday); treatment weeks run Monday to Saturday.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from statistics import NormalDist

from optimizer.model import default_notice_factor

EPOCH = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)  # a Monday; 26 weeks stay inside one calendar plan year
DAY, WEEK = 1440, 7 * 1440
AFTER_SCHOOL = 15 * 60 + 30  # after-school time starts at 15:30
DISCIPLINES = ("OT", "SLP", "PT")
NOTICE_BUCKETS = ("<24h", "1-3d", "3-7d", "7-21d")
OWN_THERAPIST, OTHER_THERAPIST = 1.0, 0.75


@dataclass(frozen=True)
class Tier:
    name: str
    therapists: int
    children: int
    weeks: int


TIERS = {
    "S": Tier("S", 4, 80, 4),
    "M": Tier("M", 20, 400, 12),
    "L": Tier("L", 60, 1200, 26),
}


@dataclass(frozen=True)
class WorldParams:
    """The knobs of the world, the same for every policy. ``missed_rate`` scales every
    kind of missed visit (late and advance cancellations, no-shows, illness, therapist
    absence) so that about that share of booked visits is missed."""

    missed_rate: float = 0.18
    after_school_ratio: float = 1.15  # after-school demand ÷ after-school capacity (what binds)
    daytime_utilization: float = 0.85  # daytime demand ÷ daytime capacity
    gap_share: float = 0.15  # children on the fill-the-gap list (want one extra visit a week)
    waitlist_share: float = 0.08  # waitlist at the start, as a share of the caseload
    referrals_per_week: float = 0.015  # new referrals a week, as a share of the caseload
    quiet_start: int = 20 * 60  # no offers from 20:00 …
    quiet_end: int = 8 * 60  # … until 08:00
    min_notice: int = 120  # minutes: no offer for a time closer than this
    book_by: int = 60  # minutes: a yes must arrive this long before the start


@dataclass(frozen=True)
class Therapist:
    id: str
    discipline: str
    hours: dict[int, tuple[int, int]]  # weekday -> (start, end), minutes of the day


@dataclass(frozen=True)
class Authorization:
    id: str
    start_day: int  # inclusive, a Monday (week-aligned: keeps the bound's network laminar)
    end_day: int  # inclusive, a Sunday
    quantity: int  # visits left at the start of the horizon


@dataclass
class Person:
    """A child in care (``therapist`` set) or on the waitlist (``waitlist`` True)."""

    id: str
    discipline: str
    minutes: int
    school_age: bool
    windows: dict[int, list[tuple[int, int]]]  # weekday -> windows, minutes of the day
    propensity: float  # hidden: the family's real readiness to say yes
    estimate: float  # what the practice believes it is (from history)
    reply_median: float  # minutes (hidden)
    reply_estimate: float = 30.0  # what the practice believes it is
    therapist: str = ""
    frequency: int = 0  # plan of care visits a week
    frequency_cap: int = 0  # frequency, +1 on the gap list
    self_pay: bool = False
    authorizations: list[Authorization] = field(default_factory=list)
    bucket: int | None = None  # benefit visits left in the plan year; None: no binding limit
    waitlist: bool = False
    referral_day: int = 0
    eligible_day: int = 0  # intake done: may be offered an evaluation from this day
    evaluation_authorized: bool = True
    series: list[tuple[int, int]] = field(default_factory=list)  # (weekday, start minute of day)
    days_waiting_at_start: int = 0
    discharged_on: int | None = None  # day the plan of care ends with an authorization not renewed

    def active_on(self, day: int) -> bool:
        return self.discharged_on is None or day < self.discharged_on

    def active_week(self, week: int) -> bool:
        return self.active_on(7 * week)


@dataclass(frozen=True)
class Visit:
    id: str
    child: str
    therapist: str
    day: int
    start: int  # absolute minute
    minutes: int

    @property
    def week(self) -> int:
        return self.day // 7


@dataclass(frozen=True)
class Cancellation:
    visit: str
    at: int  # absolute minute the practice learns of it (for a no-show: the start)
    cause: str  # "late", "advance", "illness", "absence", "noshow"

    @property
    def frees_opening(self) -> bool:
        return self.cause in ("late", "advance", "illness")


@dataclass
class Instance:
    tier: Tier
    seed: int
    params: WorldParams
    therapists: dict[str, Therapist]
    people: dict[str, Person]  # children and waitlist entries
    visits: dict[str, Visit]  # originally booked
    cancellations: dict[str, Cancellation]  # visit id -> how it goes missing
    ill_days: dict[str, set[int]]  # child -> days they are ill (hidden until the illness is reported)
    illness_reports: list[tuple[int, str, tuple[int, ...]]]  # (at, child, days)
    absences: list[tuple[int, str, tuple[int, ...]]]  # (announced at, therapist, days)
    unbooked: int  # series occurrences not booked: past an authorization or bucket

    @property
    def horizon(self) -> int:
        return self.tier.weeks * WEEK

    def children(self) -> list[Person]:
        return [p for p in self.people.values() if not p.waitlist]

    def waitlist(self) -> list[Person]:
        return [p for p in self.people.values() if p.waitlist]

    def working_minutes(self) -> int:
        """Therapist minutes over the horizon, less absences."""
        absent = {(t, d) for _, t, days in self.absences for d in days}
        total = 0
        for day in range(self.tier.weeks * 7):
            for therapist in self.therapists.values():
                span = therapist.hours.get(day % 7)
                if span and (therapist.id, day) not in absent:
                    total += span[1] - span[0]
        return total


def notice_bucket(notice_minutes: int) -> str:
    hours = notice_minutes / 60
    return "<24h" if hours < 24 else "1-3d" if hours < 72 else "3-7d" if hours < 168 else "7-21d"


def clock(minute: int) -> dt.datetime:
    return EPOCH + dt.timedelta(minutes=minute)


def date_of(day: int) -> dt.date:
    return EPOCH.date() + dt.timedelta(days=day)


# -- hidden truth ---------------------------------------------------------------------

def _unit(seed: int, *parts: str) -> float:
    digest = hashlib.blake2b("|".join((str(seed), *parts)).encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2**64


@dataclass(frozen=True)
class Answer:
    """What a family does if offered this slot at a given moment (hidden from policies)."""

    accepts: bool
    replies: bool  # a yes always replies; a no replies 60 % of the time, else stays silent
    delay: int  # minutes from the offer to the reply


def true_acceptance(person: Person, therapist_id: str, notice_minutes: int) -> float:
    factor = OWN_THERAPIST if person.waitlist or person.therapist == therapist_id else OTHER_THERAPIST
    return person.propensity * default_notice_factor(notice_minutes / 60) * factor


def acceptance_draw(seed: int, person_id: str, slot_id: str) -> float:
    return _unit(seed, "accept", person_id, slot_id)


def answer(inst: Instance, person_id: str, slot_id: str, therapist_id: str, notice_minutes: int) -> Answer:
    """The fixed answer of ``person_id`` to ``slot_id`` offered with ``notice_minutes``.
    More notice never turns a yes into a no (one draw, compared with a rising curve)."""
    person = inst.people[person_id]
    accepts = acceptance_draw(inst.seed, person_id, slot_id) < true_acceptance(person, therapist_id, notice_minutes)
    z = NormalDist().inv_cdf(_unit(inst.seed, "delay", person_id, slot_id))
    delay = max(1, round(person.reply_median * math.exp(z)))
    replies = accepts or _unit(inst.seed, "says-no", person_id, slot_id) < 0.6
    return Answer(accepts, replies, delay)


# -- the generator --------------------------------------------------------------------

def _windows(rng: random.Random, school_age: bool) -> dict[int, list[tuple[int, int]]]:
    windows: dict[int, list[tuple[int, int]]] = {}
    never = rng.randrange(5) if rng.random() < 0.3 else None  # a weekday that never works (pick-up)
    if school_age:
        release = 15 * 60 + 30 + 15 * rng.randrange(3)  # dismissal plus travel
        until = 18 * 60 + 30 + 30 * rng.randrange(3)
        for weekday in range(5):
            if weekday != never:
                windows[weekday] = [(release, until)]
        if rng.random() < 0.6:
            windows[5] = [(9 * 60, 13 * 60)]
    else:
        until = rng.choice((14 * 60, 15 * 60 + 30, 17 * 60))
        for weekday in range(5):
            if weekday != never:
                windows[weekday] = [(8 * 60 + 30, until)]
        if rng.random() < 0.3:
            windows[5] = [(9 * 60, 13 * 60)]
    return windows


def _person(rng: random.Random, pid: str, discipline: str, waitlist: bool) -> Person:
    school_age = rng.random() < 0.7
    propensity = rng.betavariate(4, 2) if waitlist else rng.betavariate(2, 2.5)
    reply_median = math.exp(rng.uniform(math.log(5), math.log(90)))
    return Person(
        id=pid, discipline=discipline, minutes=rng.choices((30, 45, 60), (0.3, 0.5, 0.2))[0],
        school_age=school_age, windows=_windows(rng, school_age), propensity=propensity,
        estimate=min(0.95, max(0.05, propensity + rng.gauss(0, 0.1))),
        reply_median=reply_median, reply_estimate=reply_median * math.exp(rng.gauss(0, 0.3)), waitlist=waitlist,
    )


def _first_free(busy: list[tuple[int, int]], windows: list[tuple[int, int]], hours: tuple[int, int],
                minutes: int) -> int | None:
    for w_start, w_end in windows:
        for start in range(max(w_start, hours[0]), min(w_end, hours[1]) - minutes + 1, 15):
            if not _overlaps(busy, start, start + minutes):
                return start
    return None


def _overlaps(busy: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < e and s < end for s, e in busy)


def generate(tier: Tier | str, seed: int, params: WorldParams | None = None) -> Instance:
    """The practice, its schedule and the events of ``tier.weeks`` weeks, for ``seed``."""
    tier = TIERS[tier] if isinstance(tier, str) else tier
    params = params or WorldParams()
    rng = random.Random(f"refill-instance:{tier.name}:{seed}")  # noqa: S311 -- a simulation, not secrets
    weeks, days = tier.weeks, tier.weeks * 7

    # Therapists and their caseloads: about the same number of children each.
    therapists_list = [(f"t{i}", DISCIPLINES[i % 3] if i % 5 != 4 else "OT") for i in range(tier.therapists)]
    children: list[Person] = []
    for i in range(tier.children):
        tid, discipline = therapists_list[i % tier.therapists]
        child = _person(rng, f"c{i}", discipline, waitlist=False)
        child.therapist = tid
        child.frequency = rng.choices((1, 2, 3), (0.45, 0.45, 0.10))[0]
        child.frequency_cap = child.frequency + (1 if rng.random() < params.gap_share else 0)
        child.self_pay = rng.random() < 0.06
        children.append(child)

    # Working hours sized from demand: after-school capacity is what binds.
    therapists: dict[str, Therapist] = {}
    for tid, discipline in therapists_list:
        caseload = [c for c in children if c.therapist == tid]
        after = sum(c.frequency * c.minutes for c in caseload if c.school_age)
        daytime = sum(c.frequency * c.minutes for c in caseload if not c.school_age)
        saturday = rng.random() < 0.35
        weekday_after = max(60.0, (after / params.after_school_ratio - (240 if saturday else 0)) / 5)
        # Most children are out of school by 15:45, so that is where usable capacity starts.
        end = min(19 * 60 + 30, AFTER_SCHOOL + 15 + 15 * round(weekday_after / 15))
        start = max(8 * 60, min(15 * 60, AFTER_SCHOOL - 15 * round(daytime / params.daytime_utilization / 5 / 15)))
        hours = {weekday: (start, end) for weekday in range(5)}
        if saturday:
            hours[5] = (9 * 60, 13 * 60)
        therapists[tid] = Therapist(tid, discipline, hours)

    # The weekly series: first visits for everyone, then second and third ones, each
    # where the child's windows meet free therapist time (a practice spreads scarce
    # after-school times before it doubles anyone up).
    busy: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    order = sorted(children, key=lambda c: rng.random())
    for round_ in range(3):
        for child in order:
            if len(child.series) > round_ or len(child.series) >= child.frequency:
                continue
            hours = therapists[child.therapist].hours
            used = {weekday for weekday, _ in child.series}
            weekdays = [w for w in child.windows if w in hours and w not in used]
            rng.shuffle(weekdays)
            for weekday in weekdays:
                start = _first_free(busy[(child.therapist, weekday)], child.windows[weekday], hours[weekday],
                                    child.minutes)
                if start is not None:
                    busy[(child.therapist, weekday)].append((start, start + child.minutes))
                    child.series.append((weekday, start))
                    break

    # Authorizations (week-aligned) and benefit buckets, sized to run short or long.
    for child in children:
        if child.self_pay:
            continue
        end_week = rng.randint(1, weeks + 10)
        child.authorizations.append(Authorization(
            f"{child.id}-a1", -7 * rng.randint(1, 20), 7 * end_week - 1,
            max(1, round(child.frequency * end_week * rng.uniform(0.7, 1.2)))))
        if end_week < weeks:
            if rng.random() < 0.75:  # renewed, sometimes after a gap in which the child waits unauthorized
                start_week = end_week + (0 if rng.random() < 0.5 else rng.randint(1, 3))
                if start_week < weeks:
                    child.authorizations.append(Authorization(
                        f"{child.id}-a2", 7 * start_week, 7 * (weeks + 26) - 1,
                        round(child.frequency * (weeks - start_week) * rng.uniform(0.9, 1.3)) + 2))
            else:  # goals met or care ends: discharged when the authorization ends
                child.discharged_on = 7 * end_week
        if rng.random() < 0.2:
            child.bucket = max(1, round(child.frequency * weeks * rng.uniform(0.5, 1.0)))

    # The booked visits: every series occurrence an authorization and the bucket cover.
    visits: dict[str, Visit] = {}
    unbooked = 0
    for child in children:
        used: dict[str, int] = defaultdict(int)
        bucket_used = 0
        for week in range(weeks):
            for weekday, start in sorted(child.series):
                day = 7 * week + weekday
                if not child.self_pay:
                    auth = next((a for a in child.authorizations
                                 if a.start_day <= day <= a.end_day and used[a.id] < a.quantity), None)
                    if auth is None or (child.bucket is not None and bucket_used >= child.bucket):
                        unbooked += 1
                        continue
                    used[auth.id] += 1
                    bucket_used += 1
                vid = f"v{len(visits)}"
                visits[vid] = Visit(vid, child.id, child.therapist, day, day * DAY + start, child.minutes)

    # The waitlist: some waiting already, more referred as the weeks go by.
    waitlist: list[Person] = []
    for i in range(round(params.waitlist_share * tier.children)):
        entry = _person(rng, f"w{i}", rng.choice(DISCIPLINES), waitlist=True)
        entry.referral_day = -rng.randint(0, 90)
        waitlist.append(entry)
    rate = params.referrals_per_week * tier.children
    for week in range(weeks):
        for _ in range(_poisson(rng, rate)):
            entry = _person(rng, f"w{len(waitlist)}", rng.choice(DISCIPLINES), waitlist=True)
            entry.referral_day = 7 * week + rng.randrange(5)
            waitlist.append(entry)
    for entry in waitlist:
        entry.eligible_day = max(0, entry.referral_day + 3)
        entry.minutes = 60
        entry.evaluation_authorized = rng.random() < 0.8
        entry.days_waiting_at_start = max(0, -entry.referral_day)

    # What goes wrong: absences first (they cancel everything that day), then illness,
    # then each remaining visit on its own.
    scale = params.missed_rate / 0.18
    by_therapist_day: dict[tuple[str, int], list[Visit]] = defaultdict(list)
    by_child_day: dict[tuple[str, int], list[Visit]] = defaultdict(list)
    for visit in visits.values():
        by_therapist_day[(visit.therapist, visit.day)].append(visit)
        by_child_day[(visit.child, visit.day)].append(visit)
    cancellations: dict[str, Cancellation] = {}
    absences = []
    for tid in therapists:
        for week in range(weeks):
            if rng.random() >= 0.04 * scale:
                continue
            first = 7 * week + rng.randrange(5)
            if rng.random() < 0.5:
                length, announced = rng.randint(1, 2), first * DAY + 7 * 60
            else:
                length = rng.randint(1, 5)
                announced = max(0, (first - rng.randint(7, 21)) * DAY + 12 * 60)
            absent = tuple(d for d in range(first, min(days, first + length)) if d % 7 != 6)
            absences.append((announced, tid, absent))
            for day in absent:
                for visit in by_therapist_day[(tid, day)]:
                    if visit.id not in cancellations or cancellations[visit.id].at > announced:
                        cancellations[visit.id] = Cancellation(visit.id, min(announced, visit.start), "absence")
    ill_days: dict[str, set[int]] = defaultdict(set)
    illness_reports = []
    for child in children:
        for week in range(weeks):
            if rng.random() >= 0.11 * scale:
                continue
            onset = 7 * week + rng.randrange(7)
            sick = tuple(range(onset, min(days, onset + rng.randint(1, 5))))
            reported = onset * DAY + 7 * 60
            ill_days[child.id].update(sick)
            illness_reports.append((reported, child.id, sick))
            for day in sick:
                for visit in by_child_day[(child.id, day)]:
                    if visit.id not in cancellations:
                        cancellations[visit.id] = Cancellation(visit.id, min(reported, visit.start), "illness")
    for visit in visits.values():
        if visit.id in cancellations:
            continue
        roll = rng.random()
        if roll < 0.04 * scale:
            cancellations[visit.id] = Cancellation(visit.id, visit.start, "noshow")
        elif roll < 0.085 * scale:
            hours = rng.uniform(1, 8) if rng.random() < 0.6 else rng.uniform(8, 24)
            cancellations[visit.id] = Cancellation(visit.id, max(0, visit.start - round(hours * 60)), "late")
        elif roll < 0.12 * scale:
            notice = round(math.exp(rng.uniform(0, math.log(21))) * DAY)
            cancellations[visit.id] = Cancellation(visit.id, max(0, visit.start - notice), "advance")

    people = {p.id: p for p in children + waitlist}
    return Instance(tier, seed, params, therapists, people, visits, cancellations, dict(ill_days),
                    sorted(illness_reports), sorted(absences), unbooked)


def _poisson(rng: random.Random, rate: float) -> int:
    threshold, k, product = math.exp(-rate), 0, rng.random()
    while product > threshold:
        k += 1
        product *= rng.random()
    return k

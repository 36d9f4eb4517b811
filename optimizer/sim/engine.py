"""The event loop: cancellations free openings, policies send offers, families answer as
the hidden truth says, the first valid yes books.

Policies:

* P0 does not refill.
* P1 broadcasts each opening once, to every child the calendar allows (discipline,
  windows, no visit that day, room in the week), the moment it may text; first yes
  wins. It does not know authorizations, as most products do not.
* P2 is pedsdesk's baseline ranker one at a time: ``plan_offers(mode="sequential")``,
  a new offer every 10 minutes (or at once after a no) until someone says yes.
* P3 is ``plan_offers(mode="optimized")``, re-planned over every open opening of the
  discipline whenever something changes for it.

Offers are texts: none go out in quiet hours (20:00–08:00); a policy that wants to send
then waits until 08:00. An offer stays answerable until the time is filled or its
book-by time passes; a yes to a filled time (or from a child who no longer fits) loses
the race and gets a "taken" text. The booking layer re-checks the calendar, and for
P2 and P3 the authorization and benefit bucket too.
"""

from __future__ import annotations

import dataclasses
import gzip
import heapq
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from optimizer.model import AuthorizationRoom, BucketRoom, Candidate, CandidateKind, OfferPolicy, Opening
from optimizer.plan import plan_offers
from optimizer.sim.instance import (
    DAY,
    EPOCH,
    NOTICE_BUCKETS,
    Instance,
    Person,
    answer,
    clock,
    date_of,
    notice_bucket,
)

POLICIES = ("P0", "P1", "P2", "P3")
# Order of simultaneous events: what the practice learns first, then answers, then timers.
_REPORT, _CANCEL, _REPLY, _TIMER = 0, 1, 2, 3


@dataclass
class OpenSlot:
    id: str  # the cancelled visit's id: a slot is that visit's time with that therapist
    therapist: str
    discipline: str
    day: int
    start: int
    end: int
    released: int
    fits: list[str]  # people the slot could ever suit (discipline, length, windows)
    filled_by: str = ""
    filled_at: int = -1
    offered: dict[str, int] = field(default_factory=dict)  # person -> minute offered
    expires: dict[str, int] = field(default_factory=dict)  # person -> minute the offer lapses (policy's view)

    @property
    def minutes(self) -> int:
        return self.end - self.start

    @property
    def notice(self) -> int:
        return self.start - self.released


@dataclass
class Booking:
    slot: str
    person: str
    at: int
    day: int
    minutes: int


def static_fit(person: Person, slot: OpenSlot | None = None, *, discipline: str = "", day: int = 0,
               start: int = 0, minutes: int = 0) -> bool:
    """Discipline, length and windows: what never changes between a person and a slot."""
    if slot is not None:
        discipline, day, start, minutes = slot.discipline, slot.day, slot.start, slot.minutes
    if person.discipline != discipline or person.minutes > minutes:
        return False
    offset = start - day * DAY
    return any(s <= offset and offset + person.minutes <= e for s, e in person.windows.get(day % 7, ()))


class Engine:
    def __init__(self, inst: Instance, policy: str, log_path: Path | None = None):
        self.inst, self.policy, self.now = inst, policy, 0
        self.params = inst.params
        self.queue: list[tuple] = []
        self.seq = 0
        self.slots: dict[str, OpenSlot] = {}
        self.bookings: list[Booking] = []
        self.messages = self.offers = self.race_losers = 0
        self.decision_ms: list[float] = []
        self.log: list = []
        self.log_path = log_path
        # What the practice knows, per child.
        self.visits_by_child: dict[str, list] = defaultdict(list)
        for visit in inst.visits.values():
            self.visits_by_child[visit.child].append(visit)
        self.original_days = {c: {v.day for v in vs} for c, vs in self.visits_by_child.items()}
        self.booked_days: dict[str, set[int]] = defaultdict(set)
        self.known_ill: dict[str, set[int]] = defaultdict(set)
        self.scheduled: dict[tuple[str, int], int] = defaultdict(int)  # (child, week) originals not known missed
        self.owed: dict[tuple[str, int], list[int]] = defaultdict(list)  # (child, week) -> minutes known cancelled
        self.refills: dict[tuple[str, int], int] = defaultdict(int)
        self.auth_of: dict[str, str] = {}  # visit -> authorization charged
        self.auth_used: dict[str, int] = defaultdict(int)  # originals not known missed + refills
        self.bucket_used: dict[str, int] = defaultdict(int)
        self.evaluated: dict[str, int] = {}  # waitlist id -> day of the evaluation
        self.version: dict[str, int] = defaultdict(int)
        self._rows: dict[tuple[str, int, int], tuple[int, Candidate | None]] = {}
        for child_id, child_visits in self.visits_by_child.items():
            person = inst.people[child_id]
            for visit in sorted(child_visits, key=lambda v: v.start):
                self.scheduled[(child_id, visit.week)] += 1
                self.bucket_used[child_id] += 1
                if not person.self_pay:
                    auth = next(a for a in person.authorizations if a.start_day <= visit.day <= a.end_day
                                and self.auth_used[a.id] < a.quantity)
                    self.auth_used[auth.id] += 1
                    self.auth_of[visit.id] = auth.id
        self.check_authorization = policy in ("P2", "P3")
        self.offer_policy = {
            "P2": OfferPolicy(mode="sequential", hold_minutes=10, min_notice=_td(self.params.min_notice),
                              book_by=_td(self.params.book_by)),
            "P3": OfferPolicy(mode="optimized", min_notice=_td(self.params.min_notice),
                              book_by=_td(self.params.book_by), quiet_start=_clock_time(self.params.quiet_start),
                              quiet_end=_clock_time(self.params.quiet_end)),
        }.get(policy)
        self.dirty: set[str] = set()  # P3: disciplines to re-plan at the current minute
        self.open_by_discipline: dict[str, dict[str, OpenSlot]] = defaultdict(dict)
        self.next_plan: dict[str, int] = {}
        self.timers: set[tuple[int, str]] = set()

    # -- events ------------------------------------------------------------------------

    def push(self, at: int, order: int, kind: str, data: tuple) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, order, self.seq, kind, data))

    def run(self) -> Engine:
        inst = self.inst
        for at, child, days in inst.illness_reports:
            self.push(at, _REPORT, "ill", (child, days))
        for cancellation in inst.cancellations.values():
            self.push(cancellation.at, _CANCEL, "cancel", (cancellation.visit,))
        while self.queue:
            if self.dirty and self.queue[0][0] != self.now:
                self._flush()  # may schedule events before the next one: look again
                continue
            at, _, _, kind, data = heapq.heappop(self.queue)
            if at >= inst.horizon:
                break
            self.now = at
            getattr(self, f"_on_{kind}")(*data)
        self._flush()
        if self.log_path is not None:
            with gzip.open(self.log_path, "wt") as handle:
                header = {"tier": inst.tier.name, "seed": inst.seed, "policy": self.policy,
                          "params": dataclasses.asdict(self.params)}
                handle.write(json.dumps(header) + "\n")
                for entry in self.log:
                    handle.write(json.dumps(entry, separators=(",", ":")) + "\n")
        return self

    def _on_ill(self, child: str, days: tuple[int, ...]) -> None:
        self.known_ill[child].update(days)
        self._touch(child)

    def _on_cancel(self, visit_id: str) -> None:
        visit = self.inst.visits[visit_id]
        cancellation = self.inst.cancellations[visit_id]
        key = (visit.child, visit.week)
        self.scheduled[key] -= 1
        if cancellation.cause != "noshow":
            self.owed[key].append(self.now)
        if visit_id in self.auth_of:
            self.auth_used[self.auth_of[visit_id]] -= 1  # a missed visit is not billed
        self.bucket_used[visit.child] -= 1
        self._touch(visit.child)
        if not cancellation.frees_opening:
            return
        slot = OpenSlot(visit.id, visit.therapist, self.inst.therapists[visit.therapist].discipline, visit.day,
                        visit.start, visit.start + visit.minutes, self.now, [])
        slot.fits = [p.id for p in self.inst.people.values() if p.id != visit.child and static_fit(p, slot)]
        self.slots[slot.id] = slot
        if self._offerable(slot):
            self.open_by_discipline[slot.discipline][slot.id] = slot
        self.log.append(["release", self.now, slot.id])
        if self.policy == "P1":
            self._wake_at(self._sendable(self.now), f"broadcast:{slot.id}")
        elif self.policy == "P2":
            self._wake_at(self._sendable(self.now), f"next:{slot.id}")

    def _on_reply(self, slot_id: str, person_id: str, accepts: bool) -> None:
        slot = self.slots[slot_id]
        self.log.append(["reply", self.now, slot_id, person_id, int(accepts)])
        if accepts:
            if not slot.filled_by and self.now <= slot.start - self.params.book_by and self._fits(person_id, slot):
                self._book(slot, person_id)
            else:
                self.race_losers += 1
                self.messages += 1  # "the time is taken" text
                self.log.append(["lost", self.now, slot_id, person_id])
        slot.expires.pop(person_id, None)
        if self.policy == "P2" and not slot.filled_by and not accepts:
            self._wake_at(self._sendable(self.now), f"next:{slot.id}")
        self._mark(slot.discipline)

    def _on_timer(self, key: str) -> None:
        self.timers.discard((self.now, key))
        what, _, arg = key.partition(":")
        if what == "broadcast":
            slot = self.slots[arg]
            self._broadcast(slot)
            if self._offerable(slot):  # each morning, to children who have come to fit since
                self._wake_at(self._next_morning(), key)
        elif what == "next":
            self._decide_p2(self.slots[arg])
        elif what == "plan":
            self.dirty.add(arg)

    # -- state ---------------------------------------------------------------------------

    def _touch(self, person_id: str) -> None:
        self.version[person_id] += 1
        self._mark(self.inst.people[person_id].discipline)

    def _mark(self, discipline: str) -> None:
        if self.policy == "P3":
            self.dirty.add(discipline)

    def _flush(self) -> None:
        """P3 re-plans once per minute per discipline that changed, not once per event."""
        while self.dirty:
            discipline = min(self.dirty)
            self.dirty.discard(discipline)
            self._decide_p3(discipline)

    def _quiet(self, minute: int) -> bool:
        of_day = minute % DAY
        return of_day >= self.params.quiet_start or of_day < self.params.quiet_end

    def _sendable(self, minute: int) -> int:
        if not self._quiet(minute):
            return minute
        day = minute // DAY + (1 if minute % DAY >= self.params.quiet_start else 0)
        return day * DAY + self.params.quiet_end

    def _next_morning(self) -> int:
        return (self.now // DAY + 1) * DAY + self.params.quiet_end

    def _wake_at(self, at: int, key: str) -> None:
        if (at, key) not in self.timers:
            self.timers.add((at, key))
            self.push(at, _TIMER, "timer", (key,))

    def _offerable(self, slot: OpenSlot) -> bool:
        return not slot.filled_by and slot.start - self.now >= self.params.min_notice

    def _fits(self, person_id: str, slot: OpenSlot, check_authorization: bool | None = None) -> bool:
        """The booking layer's checks, as the practice knows things now."""
        person = self.inst.people[person_id]
        if person.waitlist:
            if person_id in self.evaluated or self.now < person.eligible_day * DAY:
                return False
        else:
            if slot.day in self.original_days.get(person_id, ()) or slot.day in self.booked_days[person_id]:
                return False
            if slot.day in self.known_ill[person_id] or not person.active_on(slot.day):
                return False
            key = (person_id, slot.day // 7)
            if person.frequency_cap - self.scheduled[key] - self.refills[key] < 1:
                return False
        check = self.check_authorization if check_authorization is None else check_authorization
        return not check or self._covered(person, slot.day)

    def _covered(self, person: Person, day: int) -> bool:
        if person.waitlist:
            return person.evaluation_authorized
        if person.self_pay:
            return True
        auth = next((a for a in person.authorizations if a.start_day <= day <= a.end_day), None)
        if auth is None or self.auth_used[auth.id] >= auth.quantity:
            return False
        return person.bucket is None or self.bucket_used[person.id] < person.bucket

    def _book(self, slot: OpenSlot, person_id: str) -> None:
        person = self.inst.people[person_id]
        slot.filled_by, slot.filled_at = person_id, self.now
        self.bookings.append(Booking(slot.id, person_id, self.now, slot.day, person.minutes))
        self.log.append(["book", self.now, slot.id, person_id])
        if person.waitlist:
            self.evaluated[person_id] = slot.day
        else:
            self.booked_days[person_id].add(slot.day)
            self.refills[(person_id, slot.day // 7)] += 1
            auth = next((a for a in person.authorizations if a.start_day <= slot.day <= a.end_day), None)
            if auth is not None:
                self.auth_used[auth.id] += 1
            self.bucket_used[person_id] += 1
        self._touch(person_id)

    def _send(self, slot: OpenSlot, person_id: str, expires: int | None = None) -> None:
        truth = answer(self.inst, person_id, slot.id, slot.therapist, slot.start - self.now)
        slot.offered[person_id] = self.now
        if expires is not None:
            slot.expires[person_id] = expires
        self.offers += 1
        self.messages += 1
        self.log.append(["offer", self.now, slot.id, person_id])
        if truth.replies and self.now + truth.delay <= slot.start:
            self.push(self.now + truth.delay, _REPLY, "reply", (slot.id, person_id, truth.accepts))

    # -- policies ------------------------------------------------------------------------

    def _broadcast(self, slot: OpenSlot) -> None:
        started = time.perf_counter()
        if self._offerable(slot):
            for person_id in slot.fits:
                if person_id not in slot.offered and self._fits(person_id, slot, check_authorization=False):
                    self._send(slot, person_id)
        self._timed(started)

    def _decide_p2(self, slot: OpenSlot) -> None:
        if not self._offerable(slot):
            return
        if self._quiet(self.now):
            self._wake_at(self._sendable(self.now), f"next:{slot.id}")
            return
        started = time.perf_counter()
        if any(expires > self.now for expires in slot.expires.values()):
            self._timed(started)
            return  # someone still holds it
        opening, candidates = self._inputs([slot])
        plan = plan_offers([opening[0]], candidates, self.offer_policy, clock(self.now))
        for offer in plan.offers:
            self._send(slot, offer.child_id, self.now + self.offer_policy.hold_minutes)
        self._timed(started)
        if plan.offers:
            self._wake_at(self.now + self.offer_policy.hold_minutes, f"next:{slot.id}")
        else:  # the list is used up: look again tomorrow morning, as a front desk would
            self._wake_at(self._next_morning(), f"next:{slot.id}")

    def _decide_p3(self, discipline: str) -> None:
        open_slots = self.open_by_discipline[discipline]
        for slot_id in [k for k, slot in open_slots.items() if not self._offerable(slot)]:
            del open_slots[slot_id]
        live = list(open_slots.values())
        if not live:
            return
        if self._quiet(self.now):
            self._wake_at(self._sendable(self.now), f"plan:{discipline}")
            return
        started = time.perf_counter()
        openings, candidates = self._inputs(live)
        plan = plan_offers(openings, candidates, self.offer_policy, clock(self.now))
        by_id = {s.id: s for s in live}
        for offer in plan.offers:
            expires = _minutes_from_epoch(offer.expires_at)
            self._send(by_id[offer.opening_id], offer.child_id, expires)
        self._timed(started)
        reviews = [_minutes_from_epoch(at) for slot_id, at in plan.review_at.items() if not by_id[slot_id].filled_by]
        if reviews:
            # One wake-up per discipline: the plan is redone for every opening at once.
            at = max(self.now + 1, min(reviews))
            if self.next_plan.get(discipline, -1) <= self.now or at < self.next_plan[discipline]:
                self.next_plan[discipline] = at
                self._wake_at(at, f"plan:{discipline}")

    def _timed(self, started: float) -> None:
        ms = round((time.perf_counter() - started) * 1000, 3)  # as logged, so a replay gets the same p95
        self.decision_ms.append(ms)
        self.log.append(["decision", self.now, ms])

    # -- building the optimizer's inputs -------------------------------------------------

    def _inputs(self, slots: list[OpenSlot]) -> tuple[list[Opening], list[Candidate]]:
        openings, wanted = [], set()
        for slot in slots:
            week = slot.day // 7
            pending = frozenset(self._row_id(p, week) for p, exp in slot.expires.items() if exp > self.now)
            offered = frozenset(self._row_id(p, week) for p in slot.offered)
            openings.append(Opening(slot.id, slot.therapist, slot.discipline, clock(slot.start), clock(slot.end),
                                    date_of(slot.day), offered, pending))
            for person_id in slot.fits:
                wanted.add((person_id, week))
            for person_id in slot.expires:
                wanted.add((person_id, week))
        candidates = []
        for person_id, week in sorted(wanted):
            row = self._row(person_id, week)
            if row is not None:
                candidates.append(row)
        return openings, candidates

    @staticmethod
    def _row_id(person_id: str, week: int) -> str:
        return person_id if person_id.startswith("w") else f"{person_id}:{week}"

    def _row(self, person_id: str, week: int) -> Candidate | None:
        """One candidate row per (child, week), rebuilt when the child's state changed or a
        day went by (days waiting, intake done)."""
        key = (person_id, week if not person_id.startswith("w") else -1, self.now // DAY)
        version = self.version[person_id]
        cached = self._rows.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        row = self._build_row(self.inst.people[person_id], week)
        self._rows[key] = (version, row)
        return row

    def _build_row(self, person: Person, week: int) -> Candidate | None:
        if person.waitlist:
            if person.id in self.evaluated or self.now < person.eligible_day * DAY:
                return None
            days = range(max(self.now // DAY, person.eligible_day), self.inst.horizon // DAY)
            rooms = (AuthorizationRoom(f"{person.id}-eval", EPOCH.date(), date_of(self.inst.horizon // DAY), 1),) \
                if person.evaluation_authorized else ()
            return Candidate(person.id, person.id, CandidateKind.WAITLIST, person.discipline, person.minutes,
                             self._windows(person, days), {}, requires_authorization=True, authorizations=rooms,
                             days_waiting=self.now // DAY - person.referral_day, response_rate=person.estimate,
                             reply_minutes=person.reply_estimate)
        key = (person.id, week)
        room = person.frequency_cap - self.scheduled[key] - self.refills[key]
        if room < 1 or not person.active_week(week):
            return None
        busy = self.original_days.get(person.id, set()) | self.booked_days[person.id] | self.known_ill[person.id]
        days = [d for d in range(7 * week, 7 * week + 6)
                if d not in busy and d >= self.now // DAY and person.active_on(d)]
        if not days:
            return None
        owed = self.owed[key]
        if len(owed) > self.refills[key]:
            kind, waiting = CandidateKind.MAKEUP, (self.now - owed[0]) // DAY
        elif self.scheduled[key] + self.refills[key] < person.frequency:
            kind, waiting = CandidateKind.BELOW_FREQUENCY, week * 7 - 0
        else:
            kind, waiting = CandidateKind.GAP, 0
        auths = tuple(AuthorizationRoom(a.id, date_of(max(a.start_day, 0)), date_of(a.end_day),
                                        a.quantity - self.auth_used[a.id]) for a in person.authorizations)
        buckets = () if person.bucket is None else (
            BucketRoom(f"{person.id}-bucket", person.bucket - self.bucket_used[person.id]),)
        return Candidate(f"{person.id}:{week}", person.id, kind, person.discipline, person.minutes,
                         self._windows(person, days), {date_of(7 * week): room},
                         preferred_therapist_id=person.therapist, requires_authorization=not person.self_pay,
                         authorizations=auths, buckets=buckets, days_waiting=max(0, waiting),
                         response_rate=person.estimate, reply_minutes=person.reply_estimate)

    @staticmethod
    def _windows(person: Person, days) -> tuple:
        windows = []
        for day in days:
            for start, end in person.windows.get(day % 7, ()):
                windows.append((clock(day * DAY + start), clock(day * DAY + end)))
        return tuple(windows)

    # -- results -------------------------------------------------------------------------

    def bookings_for_bound(self) -> list[tuple[str, str]]:
        return [(b.slot, b.person) for b in self.bookings]


def _td(minutes: int):
    import datetime as dt

    return dt.timedelta(minutes=minutes)


def _clock_time(minute_of_day: int):
    import datetime as dt

    return dt.time(minute_of_day // 60, minute_of_day % 60)


def _minutes_from_epoch(moment) -> int:
    return int(-(-(moment - EPOCH).total_seconds() // 60))


def simulate(inst: Instance, policy: str, log_path: Path | None = None) -> Engine:
    """Run one policy over the instance; the engine keeps the state the metrics read."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}")
    return Engine(inst, policy, log_path).run()


__all__ = ["NOTICE_BUCKETS", "POLICIES", "Booking", "Engine", "OpenSlot", "notice_bucket", "simulate", "static_fit"]

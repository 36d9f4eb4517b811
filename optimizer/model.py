"""The plain records the offer planner reads and writes. No Django: the scheduling code
maps its rows onto these, the simulator builds them from its own state.

Times are timezone-aware datetimes (UTC is fine); dates (``day``, authorization
``start``/``end``, the Monday keys of ``week_room``) are the practice's local dates.

Mapping pedsdesk's rows (scheduling code):

* ``Opening``: the opening row's id, its therapist's id and discipline, ``start_at`` /
  ``end_at``, the local date; ``offered`` = ids of the candidates any ``Offer`` of it
  went to, ``pending`` = those whose offer is still pending and unexpired.
* ``Candidate``: one per row of the candidate list (makeup owed, below frequency, gap
  list entry, waitlist entry), id unique per row (e.g. ``"makeup:123"``) and
  ``child_id`` the patient (or waitlist entry) id. ``windows``: the child's
  availability (school, family windows) minus their booked visits, over the days of
  the openings passed. ``week_room``: plan-of-care frequency (+1 for a gap-list
  entry) minus visits holding time that week. ``authorizations``: one
  ``AuthorizationRoom`` per authorization of the discipline, ``units_left`` =
  ``Projection.remaining`` and ``units_per_visit`` from ``visit_units``; ``buckets``
  from ``buckets_for`` (``remaining``). ``requires_authorization`` False for self-pay
  or a payer whose booking rule is "allow". ``response_rate`` and ``reply_minutes``
  from the family's past offers (accepted ÷ answered, median minutes to answer).
* ``OfferPolicy``: the practice's offer policy (mode, hold = offer expiry, batch size,
  minimum notice) and the messaging policy's quiet hours and time zone.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum


class CandidateKind(IntEnum):
    """Why a child is a candidate. The order is a good front desk's order (issue 5, item 7)."""

    MAKEUP = 0  # owed a makeup this treatment week (a visit of that week was cancelled)
    BELOW_FREQUENCY = 1  # fewer visits booked this week than the plan of care's frequency
    GAP = 2  # on the fill-the-gap list: asked for an earlier or extra time
    WAITLIST = 3  # a referred child waiting for an evaluation


@dataclass(frozen=True)
class Opening:
    """Time worth filling: usually freed by a cancellation.

    ``offered`` holds every candidate id already offered this opening (never offered
    twice); ``pending`` those of them whose offer is still unexpired and unanswered:
    they count toward the batch and toward that candidate's room.
    """

    id: str
    therapist_id: str
    discipline: str  # "OT", "PT", "SLP"
    start: dt.datetime
    end: dt.datetime
    day: dt.date  # local date of ``start``
    offered: frozenset[str] = frozenset()
    pending: frozenset[str] = frozenset()

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class AuthorizationRoom:
    """What is left on one authorization for this candidate's visits, after everything
    already booked (``projection.Projection.remaining``): the same arithmetic as the
    booking guard, so a visit proposed here is one the guard would let through."""

    id: str
    start: dt.date
    end: dt.date
    units_left: int
    units_per_visit: int = 1  # 1 on a visit line; billed units (8-minute rule) on a unit line
    week_cap_left: Mapping[dt.date, int] | None = None  # per-week cap room by Monday; None: no cap


@dataclass(frozen=True)
class BucketRoom:
    """A benefit limit (visits or units a plan year), shared by every candidate row of the
    child whose discipline it counts. Several rows may name the same ``id``."""

    id: str
    remaining: int
    units_per_visit: int = 1
    start: dt.date = dt.date.min  # plan-year period
    end: dt.date = dt.date.max


@dataclass(frozen=True)
class Candidate:
    """One reason to offer a child (or waitlisted child) a time.

    A child may appear several times (owed a makeup this week and on the gap list, or
    below frequency in two weeks): ``child_id`` ties the rows together so the plan never
    offers one child two times on one day, nor more than their authorization covers.

    ``windows`` are the times the child could be here, already narrowed by school,
    family constraints and the child's own visits; a visit of ``minutes`` must fit
    inside one window, starting at the opening's start. ``week_room`` says how many more
    visits each treatment week (keyed by its Monday) may take under the plan of care's
    frequency; weeks not listed take none. A waitlist evaluation has no weekly frequency:
    leave ``week_room`` empty, set ``kind=WAITLIST`` and ``minutes`` to the evaluation's
    length; it is offered one evaluation at a time.
    """

    id: str
    child_id: str
    kind: CandidateKind
    discipline: str
    minutes: int
    windows: tuple[tuple[dt.datetime, dt.datetime], ...]
    week_room: Mapping[dt.date, int] = field(default_factory=dict)
    therapist_ids: frozenset[str] | None = None  # None: any therapist of the discipline
    preferred_therapist_id: str | None = None
    requires_authorization: bool = True  # False: self-pay, or a payer that allows booking without one
    authorizations: tuple[AuthorizationRoom, ...] = ()
    buckets: tuple[BucketRoom, ...] = ()
    days_waiting: int = 0  # since the makeup was owed, the gap request, or the referral
    response_rate: float = 0.4  # the family's share of offers accepted, from history (prior 0.4)
    reply_minutes: float = 30.0  # the family's median time to answer an offer, from history
    other_therapist_factor: float = 0.75  # how much less likely they take a time with another therapist


def default_notice_factor(notice_hours: float) -> float:
    """How much likelier a family says yes with more notice: 0.3 with none, 0.81 a day
    ahead, ~1 three days ahead. Calibrated on the simulator's families; replace with the
    practice's own history when there is enough of it."""
    return 0.3 + 0.7 * (1.0 - math.exp(-max(0.0, notice_hours) / 18.0))


@dataclass(frozen=True)
class OfferPolicy:
    """How a practice offers openings.

    ``mode``: "sequential" (one at a time, next after ``hold_minutes``), "batch" (up to
    ``batch_size`` at once, first to accept), "broadcast" (everyone eligible at once), or
    "optimized" (the solver chooses whom and how many per opening, see ``plan_offers``).
    """

    mode: str = "optimized"
    hold_minutes: int = 10  # sequential/batch: how long an offer is held before the next goes out
    batch_size: int = 3
    max_batch: int = 8  # optimized: never more offers out at once for one opening
    min_notice: dt.timedelta = dt.timedelta(hours=2)  # no offer for a time closer than this
    book_by: dt.timedelta = dt.timedelta(hours=1)  # acceptances count until this long before the start
    target_fill_probability: float = 0.95  # optimized: aim for this chance of a yes before ``book_by``
    check_authorization: bool = True
    bonus: Mapping[CandidateKind, int] = field(default_factory=lambda: {
        CandidateKind.MAKEUP: 15, CandidateKind.BELOW_FREQUENCY: 10, CandidateKind.GAP: 0,
        CandidateKind.WAITLIST: 15,
    })  # minute-equivalents a booking of each kind is worth on top of its minutes
    quiet_start: dt.time | None = None  # optimized: texts wait from this local time …
    quiet_end: dt.time | None = None  # … until this one (the messaging layer's quiet hours)
    time_zone: str = "UTC"  # the practice's zone, for quiet hours


@dataclass(frozen=True)
class PlannedOffer:
    opening_id: str
    candidate_id: str
    child_id: str
    rank: int  # 1 = first choice for this opening
    acceptance: float  # estimated probability of a yes
    expires_at: dt.datetime  # re-plan after this if nobody said yes; a later yes may still book if open


@dataclass(frozen=True)
class Skip:
    opening_id: str
    candidate_id: str
    reason: str  # "authorization_after_end", "authorization_units", "benefit_limit", "weekly_cap", ...


@dataclass
class OfferPlan:
    """What to send now, and what comes next.

    ``offers`` go out now, in order. ``ranked[opening_id]`` is every eligible, not yet
    offered candidate in the order they would be offered. ``batch_size[opening_id]`` is
    how many offers the plan wants out at once for it. Call ``plan_offers`` again at
    ``review_at[opening_id]`` if nobody has said yes, and whenever a reply comes in.
    ``skipped`` lists candidates that did not fit and why (authorization and benefit
    reasons are the ones worth showing the front desk).
    """

    offers: list[PlannedOffer] = field(default_factory=list)
    ranked: dict[str, list[str]] = field(default_factory=dict)
    batch_size: dict[str, int] = field(default_factory=dict)
    review_at: dict[str, dt.datetime] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)
    solver: str = ""  # "min_cost_flow" or "ranked"

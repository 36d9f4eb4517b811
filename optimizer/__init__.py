"""pedsdesk's ranking and optimisation core for filling openings: pure Python, no Django.

The scheduling code maps its rows onto the dataclasses in ``optimizer.model`` and calls
``plan_offers``; the practice simulator in ``optimizer.sim`` calls the same function and
measures it against broadcast offers and the hindsight-optimal bound.
"""

from optimizer.model import (
    AuthorizationRoom,
    BucketRoom,
    Candidate,
    CandidateKind,
    OfferPlan,
    OfferPolicy,
    Opening,
    PlannedOffer,
    Skip,
    default_notice_factor,
)
from optimizer.plan import acceptance, baseline_key, baseline_rank, coverage_problem, fit_problem, plan_offers

__all__ = [
    "AuthorizationRoom",
    "BucketRoom",
    "Candidate",
    "CandidateKind",
    "OfferPlan",
    "OfferPolicy",
    "Opening",
    "PlannedOffer",
    "Skip",
    "acceptance",
    "baseline_key",
    "baseline_rank",
    "coverage_problem",
    "default_notice_factor",
    "fit_problem",
    "plan_offers",
]

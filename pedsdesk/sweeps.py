"""The registry of periodic sweeps.

Each app registers the functions that bring its state up to date (due messages,
offer expiries, task rules, digests). huey runs them on a schedule; ``pedsdesk sweep``
runs every one of them once, now, for cron users and tests. A sweep must be safe to
run at any time, as often as anyone likes, on several machines at once.
"""

from collections.abc import Callable
from dataclasses import dataclass

SCHEDULES = ("minute", "hourly", "daily")


@dataclass(frozen=True)
class Sweep:
    name: str
    schedule: str
    run: Callable[[], object]


_SWEEPS: dict[str, Sweep] = {}


def sweep(name: str, schedule: str) -> Callable:
    """Register ``function`` as a sweep run every minute, hour or day."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}")

    def register(function: Callable[[], object]) -> Callable[[], object]:
        _SWEEPS[name] = Sweep(name, schedule, function)
        return function

    return register


def registered(schedule: str | None = None) -> list[Sweep]:
    return [s for s in _SWEEPS.values() if schedule is None or s.schedule == schedule]

"""The registry of periodic sweeps.

Each app registers the functions that bring its state up to date (due messages,
offer expiries, task rules, digests). huey runs them on a schedule; ``pedsdesk sweep``
runs every one of them once, now, for cron users and tests. A sweep must be safe to
run at any time, as often as anyone likes, on several machines at once.

A sweep registered with ``per_practice=True`` is called as ``run(practice=...)`` once
per practice: the worker fans those out into one task per practice, so several workers
share the work and one practice's failure holds up no other (``pedsdesk/operations``).
"""

from collections.abc import Callable
from dataclasses import dataclass

SCHEDULES = ("minute", "hourly", "daily")


@dataclass(frozen=True)
class Sweep:
    name: str
    schedule: str
    run: Callable[..., object]
    per_practice: bool = False


_SWEEPS: dict[str, Sweep] = {}


def sweep(name: str, schedule: str, *, per_practice: bool = False) -> Callable:
    """Register ``function`` as a sweep run every minute, hour or day; with
    ``per_practice`` it takes ``practice=`` and runs once for each practice."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}")

    def register(function: Callable[..., object]) -> Callable[..., object]:
        _SWEEPS[name] = Sweep(name, schedule, function, per_practice)
        return function

    return register


def registered(schedule: str | None = None, *, per_practice: bool | None = None) -> list[Sweep]:
    return [s for s in _SWEEPS.values() if (schedule is None or s.schedule == schedule)
            and (per_practice is None or s.per_practice == per_practice)]

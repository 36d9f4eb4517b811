"""The registry of demo seeders.

The demo generator builds the practice, its people, payers and schedule; each
workflow app (home programs, schools, imports) adds its own demo records by
registering a seeder here from its AppConfig.ready, so the demo never imports a
workflow. Seeders run in registration order inside the generator's transaction,
after the schedule, and return counts for the summary.
"""

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

Seeder = Callable[..., dict[str, int] | None]


@dataclass(frozen=True)
class DemoSeeder:
    name: str
    run: Seeder  # run(practice=..., rng=..., today=...) -> counts


_SEEDERS: dict[str, DemoSeeder] = {}


def demo_seeder(name: str) -> Callable[[Seeder], Seeder]:
    """Register ``function(*, practice, rng, today)`` to add an app's demo records."""

    def register(function: Seeder) -> Seeder:
        _SEEDERS[name] = DemoSeeder(name, function)
        return function

    return register


def run_seeders(*, practice, seed: int, today: dt.date) -> dict[str, int]:
    counts: dict[str, int] = {}
    for offset, seeder in enumerate(_SEEDERS.values()):
        # A generator per seeder, so adding one never changes another's records.
        result = seeder.run(practice=practice, rng=random.Random(f"{seed}:{seeder.name}:{offset}"), today=today)
        counts.update(result or {})
    return counts

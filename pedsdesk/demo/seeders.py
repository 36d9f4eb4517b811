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
    #: runs after the commit, with the simulated week, through the real (audited) workflow
    workflow: bool = False


_SEEDERS: dict[str, DemoSeeder] = {}


def demo_seeder(name: str, *, workflow: bool = False) -> Callable[[Seeder], Seeder]:
    """Register ``function(*, practice, rng, today)`` to add an app's demo records.

    ``workflow=True``: the records come from the app's own actions (which audit, as a
    person's work does), so the seeder runs after the commit, with the simulated week.
    """

    def register(function: Seeder) -> Seeder:
        _SEEDERS[name] = DemoSeeder(name, function, workflow)
        return function

    return register


def run_seeders(*, practice, seed: int, today: dt.date, workflow: bool = False) -> dict[str, int]:
    counts: dict[str, int] = {}
    for offset, seeder in enumerate(s for s in _SEEDERS.values() if s.workflow == workflow):
        # A generator per seeder, so adding one never changes another's records.
        result = seeder.run(practice=practice, rng=random.Random(f"{seed}:{seeder.name}:{offset}"), today=today)
        counts.update(result or {})
    return counts

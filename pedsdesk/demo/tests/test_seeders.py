import datetime as dt

import pytest

from pedsdesk.demo import seeders
from pedsdesk.demo.generator import seed_demo


@pytest.mark.django_db
def test_a_registered_seeder_adds_its_records_to_the_demo(monkeypatch):
    seen = []

    def seed_things(*, practice, rng, today):
        seen.append((practice.name, today, rng.random()))
        return {"things": 3}

    monkeypatch.setattr(seeders, "_SEEDERS", {})
    seeders.demo_seeder("things")(seed_things)
    summary = seed_demo(size="small", seed=7, today=dt.date(2026, 11, 30), simulate_week=False)
    assert summary.counts["things"] == 3
    assert seen[0][0] == summary.practice.name and seen[0][1] == dt.date(2026, 11, 30)
    # The seeder's own random stream: the same seed gives it the same draws.
    again = seeders.run_seeders(practice=summary.practice, seed=7, today=dt.date(2026, 11, 30))
    assert again == {"things": 3} and seen[1][2] == seen[0][2]

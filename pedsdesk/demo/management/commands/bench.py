"""``pedsdesk bench refill``: the practice simulator (issue 6).

The work is in ``optimizer.sim.bench``, which needs no Django; this command parses
arguments, names the output folder and prints the summary.
"""

import json
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from optimizer.sim.bench import parse_seeds, run, seed_label, table, with_missed_rate
from optimizer.sim.instance import TIERS, WorldParams


class Command(BaseCommand):
    help = (
        "Measure gap-filling policies (P0 no refill, P1 broadcast, P2 one at a time, P3 the optimizer) in "
        "the seeded practice simulator against the hindsight bound. Prints a JSON list (or a table) of the "
        "mean of each metric across seeds with 95% confidence intervals; writes per-seed CSV, decision logs "
        "and a chart to the folder it names."
    )

    def add_arguments(self, parser):
        parser.add_argument("benchmark", choices=["refill"], help="Which benchmark (only refill so far).")
        parser.add_argument("--tier", choices=list(TIERS), default="S",
                            help="S = 4 therapists/80 children/4 weeks, M = 20/400/12, L = 60/1,200/26.")
        parser.add_argument("--seeds", default="1-5", help="Seeds: 1-20, 7, or 1,4,9 (default 1-5).")
        parser.add_argument("--format", choices=["json", "table"], default="json")
        parser.add_argument("--out", default="", help="Folder for CSV, logs and chart "
                            "(default <data dir>/bench/refill-<tier>-<seeds>).")
        parser.add_argument("--jobs", type=int, default=0, help="Processes (default: one per core).")
        parser.add_argument("--missed-rate", type=float, default=None,
                            help="Share of visits missed (base case 0.18; the issue sweeps 0.08-0.30).")
        parser.add_argument("--no-validate", action="store_true", help="Skip replaying the decision logs.")

    def handle(self, *args, benchmark: str, tier: str, seeds: str, format: str, out: str, jobs: int,
               missed_rate: float | None, no_validate: bool, **options):
        try:
            seed_list = parse_seeds(seeds)
        except ValueError as error:
            raise CommandError(f"--seeds: {seeds!r} is not like 1-20, 7 or 1,4,9") from error
        if missed_rate is not None and not 0 < missed_rate < 1:
            raise CommandError("--missed-rate is a share between 0 and 1, e.g. 0.18")
        params = with_missed_rate(WorldParams(), missed_rate)
        folder = Path(out) if out else Path(settings.DATA_DIR) / "bench" / \
            f"refill-{tier}-{seed_label(seed_list)}"
        started = time.monotonic()
        rows, summary = run(tier, seed_list, folder, params=params, jobs=jobs or None, check=not no_validate)
        elapsed = time.monotonic() - started
        if format == "json":
            self.stdout.write(json.dumps(summary, indent=2))
        else:
            self.stdout.write(table(summary))
        disagreements = [f"seed {r['seed']} {r['policy']}" for r in rows if r.get("validator_agrees") is False]
        # Where the files went and how long it took go to stderr, so stdout stays pure JSON.
        sys.stderr.write(f"refill tier {tier}, seeds {seed_label(seed_list)}: {elapsed:.1f} s; per-seed CSV, "
                         f"decision logs and chart in {folder}\n")
        if disagreements:
            raise CommandError(f"the validator disagrees with: {', '.join(disagreements)}")

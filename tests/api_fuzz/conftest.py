"""Hypothesis profiles for the API fuzz run (test_openapi_fuzz.py).

``ci`` (the default, and what `make test` runs): a fixed number of examples per
operation, derandomized, so the run takes the same few minutes every time.
``dev``: many more examples and a fresh random seed each run, for people by hand:

    HYPOTHESIS_PROFILE=dev .venv/bin/pytest tests/api_fuzz -q
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": list(HealthCheck), "database": None, "print_blob": True}
settings.register_profile("ci", max_examples=int(os.environ.get("PEDSDESK_FUZZ_EXAMPLES", "15")), derandomize=True,
                          **_COMMON)
settings.register_profile("dev", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

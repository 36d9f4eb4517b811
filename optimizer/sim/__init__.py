"""The practice simulator: seeded instances, policies P0-P3, the hindsight bound, metrics, validator and bench."""

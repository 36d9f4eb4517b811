"""``pedsdesk bench refill``: every policy over a tier and a range of seeds.

Per seed: generate the practice, solve the hindsight bound, run P0–P3 (each writing its
decision log), measure, and replay every log through the validator. Across seeds: the
mean of each metric and a 95 % confidence interval (Student's t). Writes per-seed CSV,
the decision logs, the summary JSON and a chart of fill rate by notice to ``out``.
"""

from __future__ import annotations

import csv
import json
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from optimizer.sim.bound import BONUS, hindsight
from optimizer.sim.engine import POLICIES, simulate
from optimizer.sim.instance import NOTICE_BUCKETS, TIERS, WorldParams, generate
from optimizer.sim.metrics import HEADLINE, measure
from optimizer.sim.validator import read_log, validate

# Two-sided 95 % Student t quantiles by degrees of freedom (no SciPy needed).
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
COMPARED = ("score_over_bound", "fill_rate", "fill_rate_booked", "utilization", "frequency_adherence",
            "frequency_adherence_p10", "makeups_within_week", "visits_outside_authorization", "messages_per_fill",
            "race_losers", "waitlist_days_to_evaluation", "decision_ms_p50", "decision_ms_p95")


def parse_seeds(text: str) -> list[int]:
    """'1-20', '3', '1,4,9' or '1-5,9'."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    if not seeds:
        raise ValueError("no seeds")
    return seeds


def mean_ci(values: Iterable[float | None]) -> tuple[float | None, list[float] | None]:
    present = [v for v in values if v is not None]
    if not present:
        return None, None
    n = len(present)
    mean = sum(present) / n
    if n == 1:
        return mean, [mean, mean]
    sd = math.sqrt(sum((v - mean) ** 2 for v in present) / (n - 1))
    half = (_T95[n - 2] if n - 2 < len(_T95) else 1.96) * sd / math.sqrt(n)
    return mean, [mean - half, mean + half]


def run_seed(tier: str, seed: int, out: Path | None, params: WorldParams, check: bool = True) -> list[dict]:
    """All policies on one seed; each row is validated against its own decision log."""
    inst = generate(tier, seed, params)
    started = time.perf_counter()
    bound = hindsight(inst)
    bound_seconds = time.perf_counter() - started
    rows = []
    for policy in POLICIES:
        log_path = out / "logs" / f"{tier}-seed{seed}-{policy}.jsonl.gz" if out is not None else None
        started = time.perf_counter()
        engine = simulate(inst, policy, log_path)
        seconds = time.perf_counter() - started
        row = {"tier": tier, "seed": seed, "policy": policy, **measure(engine, bound.value),
               "run_seconds": round(seconds, 3), "bound_seconds": round(bound_seconds, 3)}
        if check and log_path is not None:
            header, entries = read_log(log_path)
            replayed = validate(inst, header, entries, bound.value, {k.name: v for k, v in BONUS.items()})
            row["validator_agrees"] = agrees(row, replayed)
        rows.append(row)
        if row["score"] > bound.value:  # cannot happen: the bound's network admits every policy's bookings
            raise AssertionError(f"{policy} scored {row['score']} above the bound {bound.value} (seed {seed})")
    return rows


def agrees(own: dict, replayed: dict) -> bool:
    keys = [*COMPARED, "score", "fills", *(f"fill_rate_{b}" for b in NOTICE_BUCKETS)]
    for key in keys:
        a, b = own.get(key), replayed.get(key)
        if a is None or b is None:
            if a is not b:
                return False
        elif abs(a - b) > 1e-9 * max(1.0, abs(a)):
            return False
    return True


def _job(args: tuple) -> list[dict]:
    return run_seed(*args)


def run(tier: str, seeds: list[int], out: Path, *, params: WorldParams | None = None, jobs: int | None = None,
        check: bool = True, progress: Callable[[str], None] | None = None) -> tuple[list[dict], list[dict]]:
    """Per-seed rows and the per-policy summary; writes everything under ``out``."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}")
    params = params or WorldParams()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(seeds)))
    tasks = [(tier, seed, out, params, check) for seed in seeds]
    rows: list[dict] = []
    if jobs == 1:
        for task in tasks:
            rows.extend(_job(task))
            if progress:
                progress(f"seed {task[1]} done")
    else:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for seed_rows in pool.imap_unordered(_job, tasks):
                rows.extend(seed_rows)
                if progress:
                    progress(f"seed {seed_rows[0]['seed']} done")
    rows.sort(key=lambda r: (r["seed"], r["policy"]))
    summary = summarize(rows)
    write_csv(out / f"refill-{tier}-per-seed.csv", rows)
    (out / f"refill-{tier}-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    more = extended(rows)
    buckets = {p: {b: more[p][f"fill_rate_{b}"] for b in NOTICE_BUCKETS} for p in POLICIES}
    (out / f"refill-{tier}-fill-by-notice.svg").write_text(
        chart(summary, f"tier {tier}, seeds {seed_label(seeds)}", buckets))
    return rows, summary


def summarize(rows: list[dict]) -> list[dict]:
    """One object per policy: ``policy``, the mean of each headline metric and ``<name>_ci``."""
    summary = []
    for policy in POLICIES:
        mine = [r for r in rows if r["policy"] == policy]
        entry: dict = {"policy": policy}
        for key in HEADLINE:
            mean, ci = mean_ci(r[key] for r in mine)
            entry[key], entry[f"{key}_ci"] = mean, ci
        summary.append(entry)
    return summary


def extended(rows: list[dict]) -> dict[str, dict]:
    """Means of the secondary numbers (by notice bucket, booked fill, p10 adherence...)."""
    keys = ["fill_rate_booked", "frequency_adherence_p10", "decision_ms_p50", "fills", "offers", "bound",
            "score", "run_seconds", *(f"fill_rate_{b}" for b in NOTICE_BUCKETS)]
    result = {}
    for policy in POLICIES:
        mine = [r for r in rows if r["policy"] == policy]
        result[policy] = {key: mean_ci(r[key] for r in mine)[0] for key in keys}
        result[policy]["validator_agrees"] = all(r.get("validator_agrees", True) for r in mine)
    return result


def write_csv(path: Path, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})


def seed_label(seeds: list[int]) -> str:
    if len(seeds) == 1:
        return str(seeds[0])
    return f"{seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ",".join(map(str, seeds))


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(summary: list[dict]) -> str:
    """The summary for people: one row per policy, mean and [95 % CI] per column."""
    digits = {"visits_outside_authorization": 1, "race_losers": 1, "waitlist_days_to_evaluation": 1,
              "messages_per_fill": 2, "decision_ms_p95": 2}
    header = ["policy", *HEADLINE]
    lines = []
    for entry in summary:
        cells = [entry["policy"]]
        for key in HEADLINE:
            d = digits.get(key, 3)
            ci = entry[f"{key}_ci"]
            cells.append(f"{_fmt(entry[key], d)} [{_fmt(ci[0], d)}, {_fmt(ci[1], d)}]" if ci else "—")
        lines.append(cells)
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in lines]
    return "\n".join(out)


def chart(summary_or_rows: list[dict], title: str, by_bucket: dict[str, dict] | None = None) -> str:
    """A small SVG: fill rate (billable minutes) by notice bucket, one bar per policy."""
    values = by_bucket or {}
    if not values:
        for entry in summary_or_rows:
            values[entry["policy"]] = {b: entry.get(f"fill_rate_{b}") for b in NOTICE_BUCKETS}
    colors = {"P0": "#9e9e9e", "P1": "#e07b39", "P2": "#3b7dd8", "P3": "#2e9e5b"}
    width, height, left, bottom, top = 640, 330, 50, 50, 40
    plot_h = height - bottom - top
    group_w = (width - left - 20) / len(NOTICE_BUCKETS)
    bar_w = group_w / (len(POLICIES) + 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{left}" y="22" font-size="14" font-weight="bold">Fill rate of freed minutes by notice '
             f'(billable) — {_escape(title)}</text>']
    for i in range(6):
        y = top + plot_h - plot_h * i / 5
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{i * 20}%</text>')
    for g, bucket in enumerate(NOTICE_BUCKETS):
        x0 = left + g * group_w + bar_w / 2
        for p, policy in enumerate(POLICIES):
            value = values.get(policy, {}).get(bucket) or 0.0
            h = plot_h * value
            x = x0 + p * bar_w
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                         f'fill="{colors[policy]}"><title>{policy} {_escape(bucket)}: {value:.1%}</title></rect>')
        parts.append(f'<text x="{x0 + bar_w * len(POLICIES) / 2:.1f}" y="{top + plot_h + 18}" '
                     f'text-anchor="middle">{_escape(bucket)} notice</text>')
    for p, policy in enumerate(POLICIES):
        x = left + p * 90
        parts.append(f'<rect x="{x}" y="{height - 18}" width="12" height="12" fill="{colors[policy]}"/>')
        parts.append(f'<text x="{x + 16}" y="{height - 8}">{policy}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def with_missed_rate(params: WorldParams, missed_rate: float | None) -> WorldParams:
    return params if missed_rate is None else replace(params, missed_rate=missed_rate)

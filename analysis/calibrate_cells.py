"""The cells of the calibration: each procedure of the reports run on thousands of simulated samples whose truth is
known, at the seed counts the studies use (``python -m analysis.calibrate`` runs them and writes the table).

Why cells: a procedure's coverage or false-positive rate depends on the data's shape and the number of seeds, so
each is measured on a grid of both, each cell with its own seeded random stream (``seeded_rng``), so that any cell can
be re-run alone and gives the same numbers.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from analysis import every_seed, power, stats

SEED = 20261201
SEEDS = (3, 5, 10)  # seeds per group: the laptop presets use 3 to 6, the cluster presets 5 to 10
SPREADS = (3, 4)    # the larger SD of two groups against the smaller one's 1


def seeded_rng(*key: int) -> np.random.Generator:
    """The random stream of one cell (or one simulated study), keyed by the calibration's seed and the cell."""
    return np.random.default_rng([SEED, *key])


def _normal(rng, n):
    return rng.normal(0.0, 1.0, n)


def _lognormal(rng, n):
    return rng.lognormal(0.0, 1.0, n)


DISTRIBUTIONS: dict[str, tuple[Callable, float]] = {  # name -> (sampler, true mean)
    "normal": (_normal, 0.0),
    "lognormal (sigma = 1)": (_lognormal, math.exp(0.5)),
}


def _cover(lo: float, hi: float, truth: float) -> bool:
    return bool(lo <= truth <= hi)


def interval_rows(reps: int) -> list[dict]:
    """Coverage of mean_ci and diff_ci, and the false-positive rate of diff_pvalue at 0.05."""
    rows = []
    for dist_i, (name, (draw, mean)) in enumerate(DISTRIBUTIONS.items()):
        for n in SEEDS:
            rng = seeded_rng(1, dist_i, n)
            cov_m = cov_d = fp = 0
            for _ in range(reps):
                x, y = draw(rng, n), draw(rng, n)
                cov_m += _cover(*stats.mean_ci(x), mean)
                cov_d += _cover(*stats.diff_ci(x, y), 0.0)
                fp += stats.diff_pvalue(x, y) < stats.ALPHA
            rows.append({"data": name, "n": n, "mean_ci": cov_m / reps, "diff_ci": cov_d / reps,
                         "diff_pvalue": fp / reps})
    for ratio in SPREADS:  # unequal spreads, where Welch differs from Student
        for n in SEEDS:
            rng = seeded_rng(2, n) if ratio == 3 else seeded_rng(2, n, ratio)
            cov_d = fp = 0
            for _ in range(reps):
                x, y = _normal(rng, n), rng.normal(0.0, float(ratio), n)
                cov_d += _cover(*stats.diff_ci(x, y), 0.0)
                fp += stats.diff_pvalue(x, y) < stats.ALPHA
            rows.append({"data": f"normal, SD 1 against SD {ratio}", "n": n, "mean_ci": math.nan,
                         "diff_ci": cov_d / reps, "diff_pvalue": fp / reps})
    return rows


FAIL_RATES = (0.0, 0.2, 0.5)
TWO_PART_SEEDS = (3, 6, 10)  # 6: the architecture ablation's preset
POWER_TESTS = 16  # Holm's strictest level in the architecture ablation's answer: 0.05 / 16


def _seeds(rng: np.random.Generator, n: int, fail_rate: float, shift: float = 0.0, sd: float = 1.0) -> every_seed.Seeds:
    """n seeds: each fails with probability ``fail_rate``, a failed one collapses or diverges with probability 1/2
    each; finished and collapsed values normal(shift, sd)."""
    u, v = rng.random(n), rng.normal(shift, sd, n)
    failed = u < fail_rate
    collapsed = failed & (u < fail_rate / 2)
    return every_seed.Seeds(v[~failed], v[collapsed], int((failed & ~collapsed).sum()))


def _every_seed_p(x: every_seed.Seeds, y: every_seed.Seeds) -> float:
    p = every_seed.every_seed_test(x, y, "min")["p"]
    return p if math.isfinite(p) else 1.0


def two_part_rows(reps: int) -> list[dict]:
    """The test over every seed (Welch's t when no seed failed, else the two-part test) where each seed fails with
    probability 0, 0.2 or 0.5 in both groups: its false positives at 0.05 (equal spreads, and one group's SD 4
    times the other's), and the share of repetitions in which it passes Holm's strictest level over 16
    comparisons for a shift of the finished seeds by d80 (the no-failure d80 of ``detectable_effect``) and by 10
    SDs, and for a variant that collapsed in every seed (its values 10 SDs worse) against a baseline failing at the
    rate. Nothing is called "clear" here: the p-value alone, two-sided."""
    rows = []
    level = stats.ALPHA / POWER_TESTS
    for n in TWO_PART_SEEDS:
        d80 = power.detectable_effect(n, POWER_TESTS)
        for r_i, rate in enumerate(FAIL_RATES):
            rng = seeded_rng(3, n, r_i)
            row = {"n": n, "fail_rate": rate, "d80": d80}
            for key, sd in (("false_positive", 1.0), ("false_positive_sd4", 4.0)):
                row[key] = sum(_every_seed_p(_seeds(rng, n, rate, sd=sd), _seeds(rng, n, rate)) < stats.ALPHA
                               for _ in range(reps)) / reps
            for key, d in (("power_d80", d80), ("power_10", 10.0)):
                row[key] = sum(_every_seed_p(_seeds(rng, n, rate, shift=d), _seeds(rng, n, rate)) < level
                               for _ in range(reps)) / reps
            dead = sum(_every_seed_p(every_seed.Seeds(np.zeros(0), rng.normal(10.0, 1.0, n), 0), _seeds(rng, n, rate))
                       < level for _ in range(reps))
            row["power_all_collapsed"] = dead / reps
            rows.append(row)
    return rows


def proportion_rows(reps: int) -> list[dict]:
    """Coverage of proportion_diff_ci and the false-positive rate of proportion_diff_pvalue, equal true shares."""
    rows = []
    for share in (0.5, 0.8):
        for n in SEEDS:
            rng = seeded_rng(4, int(share * 100), n)
            cov = fp = 0
            for _ in range(reps):
                kx, ky = int(rng.binomial(n, share)), int(rng.binomial(n, share))
                cov += _cover(*stats.proportion_diff_ci(kx, n, ky, n), 0.0)
                fp += stats.proportion_diff_pvalue(kx, n, ky, n) < stats.ALPHA
            rows.append({"share": share, "n": n, "coverage": cov / reps, "false_positive": fp / reps})
    return rows


def power_rows(reps: int, n_tests: int) -> list[dict]:
    """How often a planted difference of d SDs passes Welch's test at Holm's strictest level alpha / n_tests."""
    rows = []
    for n in (3, 6, 10):
        d80 = power.detectable_effect(n, n_tests)
        for d in (2.0, 3.0, 6.0, round(d80, 2)):
            rng = seeded_rng(5, n, int(d * 100))
            hits = sum(stats.diff_pvalue(_normal(rng, n) + d, _normal(rng, n)) < stats.ALPHA / n_tests
                       for _ in range(reps))
            rows.append({"n": n, "d": d, "power": hits / reps, "d80": d80})
    return rows

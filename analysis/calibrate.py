"""``python -m analysis.calibrate``: the simulation that checks every interval and test of the reports, and writes
docs/STATISTICS.md.

Why a simulation: a 95% interval is only as good as the share of the time it covers the truth, and a test only as
good as its false-positive rate, at the sample sizes the studies use (a handful of seeds), where textbook
asymptotics do not hold. An earlier version of the reports used percentile-bootstrap intervals that covered the
truth 78% of the time at 3 seeds; one worked example had passed its tests. So each procedure of ``analysis.stats``
is run here on thousands of simulated samples whose truth is known, and the whole answer of a study is run through
the real report code on synthetic results directories with no true effect, to count how often it calls anything
"clear" (``_null_effects``: the directory's trials as ``analysis.load`` reads them, outcomes drawn per study, then
``analysis.effects.compute_effects``; the test suite checks it against ``load_results`` on written directories).
Every number in docs/STATISTICS.md comes from this script, with its seed: anyone can re-run it (``--reps`` sets
the repetitions per cell, ``--study-reps`` the simulated studies per scenario, ``--jobs`` the worker processes
that share the studies; the defaults' run time: benchmarks/RESULTS.md, "Study and tool run times").
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from analysis import every_seed, power, stats

SEED = 20261201
SEEDS = (3, 5, 10)  # seeds per group: the laptop presets use 3 to 6, the cluster presets 5 to 10
VARIANTS = 9        # the architecture ablation: a baseline and 8 comparisons
LABELS = ("baseline", *(f"v{i}" for i in range(1, VARIANTS)))  # a null study's variants, baseline first
FD_MEAN, FD_SD = 100.0, 10.0
SPREADS = (3, 4)    # the larger SD of two groups against the smaller one's 1
Z95 = 1.959963984540054


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([SEED, *key])


def _mc_error(p: float, reps: int) -> float:
    """Half-width of a 95% normal interval of a simulated rate: how far it may lie from the truth by chance."""
    return Z95 * math.sqrt(max(p * (1 - p), 1e-12) / reps)


# ------------------------------------------------------------------------------------- the data of one cell
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
            rng = _rng(1, dist_i, n)
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
            rng = _rng(2, n) if ratio == 3 else _rng(2, n, ratio)
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
            rng = _rng(3, n, r_i)
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
            rng = _rng(4, int(share * 100), n)
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
            rng = _rng(5, n, int(d * 100))
            hits = sum(stats.diff_pvalue(_normal(rng, n) + d, _normal(rng, n)) < stats.ALPHA / n_tests
                       for _ in range(reps))
            rows.append({"n": n, "d": d, "power": hits / reps, "d80": d80})
    return rows


# ------------------------------------------------------------------------- whole studies through the reports
SCENARIOS = {  # name -> fd lognormal?, per-seed failure probabilities, each variant's SD against the baseline's
    "normal fd, no failures": {"lognormal": False, "p_diverge": 0.0, "p_collapse": 0.0, "spreads": (1.0,)},
    "normal fd, 20% of seeds fail (10% diverge, 10% collapse)": {"lognormal": False, "p_diverge": 0.1,
                                                                 "p_collapse": 0.1, "spreads": (1.0,)},
    "normal fd, 50% of seeds fail (25% diverge, 25% collapse)": {"lognormal": False, "p_diverge": 0.25,
                                                                 "p_collapse": 0.25, "spreads": (1.0,)},
    "normal fd, variants' SD 1 to 4 times the baseline's, no failures": {"lognormal": False, "p_diverge": 0.0,
                                                                         "p_collapse": 0.0,
                                                                         "spreads": (1.0, 2.0, 3.0, 4.0)},
    "lognormal fd, 15% of seeds diverge, 10% collapse": {"lognormal": True, "p_diverge": 0.15, "p_collapse": 0.10,
                                                         "spreads": (1.0,)},
}


def _draws(n: int, scenario: dict, rng: np.random.Generator) -> list[tuple[str, int, float, str]]:
    """The seeds of a synthetic architecture ablation with no true effect, as (variant, seed, final fd, stability
    status): every variant's seeds from one distribution (in the unequal-spread scenario, one mean: variant i's SD
    is ``spreads[i % len(spreads)]`` times the baseline's 1); a seed diverges or collapses independently of its
    variant, and a collapsed seed keeps its drawn fd."""
    out = []
    for i, label in enumerate(LABELS):
        spread = 1.0 if i == 0 else scenario["spreads"][(i - 1) % len(scenario["spreads"])]
        for seed in range(n):
            noise = rng.normal() * spread
            fd = FD_MEAN * math.exp(noise) if scenario["lognormal"] else FD_MEAN + FD_SD * noise
            u = rng.random()
            status = "diverged" if u < scenario["p_diverge"] else \
                "collapsed" if u < scenario["p_diverge"] + scenario["p_collapse"] else "stable"
            out.append((label, seed, fd, status))
    return out


def _null_study(root: Path, n: int, scenario: dict, rng: np.random.Generator) -> Path:
    """``_draws`` written as a Ray results directory (``analysis.synthetic``); each report carries the seed's
    stability status, as the trainer writes it."""
    from analysis.synthetic import trial_rows, write_experiment
    from gan_core.config import GANConfig

    base = GANConfig.from_flat({"dataset": "mnist5k", "steps": 200, "eval_every": 50}).to_flat()
    trials = []
    for label, seed, fd, status in _draws(n, scenario, rng):
        params = {**base, "seed": seed, "variant": label}
        final = {"fd": fd, "top_share": 0.95 if status == "collapsed" else 0.15, "diversity": 0.6}
        rows = trial_rows(params, final, diverge_at=3 if status == "diverged" else None,
                          stability="diverged" if status == "diverged" else status)
        trials.append({"params": params, "rows": rows})
    study = {"study": "null", "primary_metric": "fd", "mode": "min", "baseline_variant": "baseline",
             "variants": {label: {} for label in LABELS}, "command": ["calibrate"]}
    return write_experiment(root, "null", trials, study)


_TEMPLATES: dict[int, tuple] = {}  # n -> (trials, design, metrics, modes) of one study read by the report code


def _template(n: int) -> tuple:
    """A null study with n seeds a variant, written and read once per process by ``read_study`` and
    ``infer_design``, cut to the columns the effects read."""
    if n not in _TEMPLATES:
        from analysis.design import infer_design
        from analysis.load import read_study

        with tempfile.TemporaryDirectory(prefix="gan-study-calibrate-") as tmp:
            data = read_study(str(_null_study(Path(tmp), n, SCENARIOS["normal fd, no failures"], _rng(0))))
        trials, design = infer_design(data.trials, data.meta)
        keep = ["trial_dir", "variant", "seed", "status", "configuration", "stability", "final_fd", "first_fd",
                "three_quarter_fd", "g_steps", "steps", "flops", "train_time_s",  # the compute (analysis.compute)
                *(f.column for f in design.factors)]
        trials = trials[list(dict.fromkeys(keep))].reset_index(drop=True)
        _TEMPLATES[n] = (trials, design, data.metrics, {m: data.metric_mode(m) for m in data.metrics})
    return _TEMPLATES[n]


def _null_effects(n: int, scenario: dict, rng: np.random.Generator):
    """The effects the report code computes for ``_null_study(n, scenario, rng)`` without writing and reading
    the directory: the template's trials given the drawn outcomes as ``analysis.load`` reads them (a diverged
    trial: trainer status diverged, final fd NaN; a trained one's fd falls linearly from 1.75 x its final value
    at the first evaluation to 1.25 x at 3/4), then ``compute_effects``; the test suite checks that both ways
    agree."""
    from analysis.effects import compute_effects

    trials, design, metrics, modes = _template(n)
    got = {(label, seed): (fd, status) for label, seed, fd, status in _draws(n, scenario, rng)}
    keys = list(zip(trials["variant"], trials["seed"].astype(int)))
    fd = np.array([got[k][0] for k in keys])
    status = np.array([got[k][1] for k in keys], dtype=object)
    diverged = status == "diverged"
    trials = trials.assign(status=np.where(diverged, "diverged", "ok"), stability=status,
                           final_fd=np.where(diverged, np.nan, fd), first_fd=1.75 * fd,
                           three_quarter_fd=1.25 * fd)
    return compute_effects(trials, design, metrics, modes)


def _clear_calls(job: tuple[int, str, int]) -> tuple[int, int, int]:
    """(clear calls of the answer, of them on fd, on stability) in one simulated study (a worker's job)."""
    n, scenario, rep = job
    from analysis.effects import CLEAR

    e = _null_effects(n, SCENARIOS[scenario], _rng(6, n, list(SCENARIOS).index(scenario), rep))
    calls = e[(e["family"] == "answer") & e["direction"].isin(CLEAR)]
    return len(calls), int((calls["metric"] == "fd").sum()), int((calls["metric"] == "stability").sum())


def study_rows(reps: int, jobs: int) -> list[dict]:
    """The family-wise false-positive rate of a whole study's answer: the share of null studies with any "clear"
    call, through the report code's effects (``_null_effects``) of synthetic results directories."""
    rows = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for n in (3, 6):
            for scenario in SCENARIOS:
                got = list(pool.map(_clear_calls, [(n, scenario, r) for r in range(reps)], chunksize=16))
                rows.append({"n": n, "scenario": scenario, "fwer": sum(c > 0 for c, _, _ in got) / reps,
                             "fd_calls": sum(f for _, f, _ in got) / reps, "stability_calls": sum(s for *_, s in got)
                             / reps})
    return rows


# ---------------------------------------------------------------------------------------------------- report
COVERAGE_TARGET, FALSE_POSITIVE_TARGET = (0.93, 0.97), (0.03, 0.06)


def _interval_verdict(intervals: list[dict]) -> str:
    """The sentence under the interval table, from its numbers: the normal cells against the targets, the skewed
    ones as they came out."""
    def span(rows, key):
        vals = [r[key] for r in rows if not math.isnan(r[key])]
        return min(vals), max(vals)

    normal = [r for r in intervals if r["data"].startswith("normal")]
    skewed = [r for r in intervals if r["data"].startswith("lognormal")]
    cov = (*span(normal, "mean_ci"), *span(normal, "diff_ci"))
    fp = span(normal, "diff_pvalue")
    inside = COVERAGE_TARGET[0] <= min(cov) and max(cov) <= COVERAGE_TARGET[1] and \
        FALSE_POSITIVE_TARGET[0] <= fp[0] and fp[1] <= FALSE_POSITIVE_TARGET[1]
    m_lo, m_hi = span(skewed, "mean_ci")
    d_lo, d_hi = span(skewed, "diff_ci")
    f_lo, f_hi = span(skewed, "diff_pvalue")
    return (f"Normal data: coverage from {min(cov):.3f} to {max(cov):.3f}, false positives from {fp[0]:.3f} to "
            f"{fp[1]:.3f}, against the targets [{COVERAGE_TARGET[0]}, {COVERAGE_TARGET[1]}] and "
            f"[{FALSE_POSITIVE_TARGET[0]}, {FALSE_POSITIVE_TARGET[1]}]: "
            + ("every cell within them." if inside else "NOT every cell within them.")
            + f" Lognormal data (skewed), as they come out: the interval of one mean covers only {m_lo:.3f} to "
            f"{m_hi:.3f} (in a small skewed sample the mean and the spread are low together, so the interval "
            f"misses high), while the difference of two groups of the same shape errs on the safe side (coverage "
            f"{d_lo:.3f} to {d_hi:.3f}, false positives {f_lo:.3f} to {f_hi:.3f}): the comparisons the answers "
            f"rest on keep their level, a single configuration's interval of a skewed metric runs short.")


def _spread_verdict(intervals: list[dict]) -> str:
    """The sentence on unequal spreads: where Welch's test runs above its level, and what guards the answer."""
    worst = max((r for r in intervals if "against" in r["data"]), key=lambda r: r["diff_pvalue"])
    return (f"Unequal spreads: Welch's test is exact only for normal data with equal spreads; its largest false-"
            f"positive rate here is {worst['diff_pvalue']:.3f} ({worst['data']}, {worst['n']} seeds a side: with "
            f"few seeds, Satterthwaite's degrees of freedom, estimated from the two variances, run high). A "
            f"study's answer corrects over its comparisons (Holm), and its family-wise rate with spreads up to 4:1 "
            f"is in the table of whole studies below.")


def _two_part_verdict(rows: list[dict], reps: int) -> str:
    eq = max(rows, key=lambda r: r["false_positive"])
    sd4 = max(rows, key=lambda r: r["false_positive_sd4"])
    six = {r["fail_rate"]: r for r in rows if r["n"] == 6}
    text = (f"Largest false-positive rate with equal spreads: {eq['false_positive']:.3f} ({eq['n']} seeds, failure "
            f"rate {eq['fail_rate']:g}); with SD 1 against 4: {sd4['false_positive_sd4']:.3f} ({sd4['n']} seeds, "
            f"failure rate {sd4['fail_rate']:g}); Monte Carlo error +-{_mc_error(0.05, reps):.3f}. The failure part "
            f"is exact and Welch's part holds its level given which seeds failed, so the test is as good as Welch's "
            f"test over the finished seeds (see unequal spreads above).")
    if six and 0.0 in six and 0.2 in six and 0.5 in six:
        text += (f" At 6 seeds a side, failures cost power: at d80 ({six[0.0]['d80']:.2f} SDs) it is "
                 f"{six[0.0]['power_d80']:.3f} with no failures, {six[0.2]['power_d80']:.3f} when a seed fails with "
                 f"probability 0.2 and {six[0.5]['power_d80']:.3f} at 0.5 (fewer finished seeds, a quarter of the "
                 f"level where failures could decide); a 10-SD shift is called in {six[0.2]['power_10']:.3f} and "
                 f"{six[0.5]['power_10']:.3f} of repetitions; a variant that collapsed in every seed in "
                 f"{six[0.0]['power_all_collapsed']:.3f}, {six[0.2]['power_all_collapsed']:.3f} and "
                 f"{six[0.5]['power_all_collapsed']:.3f} (it needs the baseline's failures to be fewer, and "
                 f"collapsed ones better than its own).")
    return text


def _study_verdict(studies: list[dict], study_reps: int) -> str:
    top = max(studies, key=lambda r: r["fwer"])
    within = all(r["fwer"] <= stats.ALPHA for r in studies)
    return (f"Target: at most 0.05 in every scenario (Monte Carlo error +-{_mc_error(0.05, study_reps):.3f} at "
            f"0.05); the largest here: {top['fwer']:.3f} ({top['scenario']}, {top['n']} seeds a variant): "
            + ("every scenario within it." if within else "NOT every scenario within it.")
            + " It stays below 0.05 because Holm guards against any dependence between the tests and several of "
              "them are exact, discrete tests that cannot reach their level. The studies are run through "
              "`analysis.effects.compute_effects` on the trials `analysis.load` reads from the synthetic results "
              "directory, which is written and read once per seed count; the test suite checks that this gives the "
              "effects `load_results` gives a directory written for every study.")


def _f(x: float, digits: int = 3) -> str:
    return "n/a" if isinstance(x, float) and math.isnan(x) else f"{x:.{digits}f}"


def render(reps: int, study_reps: int, intervals, ranks, proportions, power, studies, n_tests: int) -> str:
    mc = _mc_error(0.95, reps)
    lines = [
        "# How sure: the statistics of the reports, checked by simulation",
        "",
        "Written by `python -m analysis.calibrate` (seed {}, {} repetitions a cell, {} for whole studies); "
        "re-run it to check. The procedures are in `analysis/stats.py` (the rank test in `ranks.py`, the test over "
        "every seed in `every_seed.py`, seed counts in `power.py`), their use in `analysis/effects.py`."
        .format(SEED, reps, study_reps),
        "",
        "## What the reports use, and why",
        "",
        "- **Means: Student's t interval; differences of means: Welch's interval and test.** At 3 to 10 seeds a "
        "percentile bootstrap runs narrow (it covered the truth 78% of the time at 3 seeds, 88% at 5, in the "
        "project's earlier reports), because a few values cannot show the spread they come from; the t quantile "
        "pays exactly for that under normality, and Welch's degrees of freedom for unequal spreads.",
        "- **A comparison with failed seeds (diverged or collapsed): the two-part test.** Dropping a failed seed "
        "ranks a configuration on its survivors; ranking it behind every finished seed in one rank test lets one "
        "failed baseline seed block a variant whose every finished seed is worse. So the test has two parts: how "
        "the seeds failed (an exact permutation test of mean ranks, every finished seed tied ahead, a collapsed one "
        "behind them by its value, a diverged one last) and how well the finished seeds did (Welch's test over "
        "them), joined by a weighted Bonferroni split: 3/4 of the level to the failures when they can reach 0.05 "
        "at that weight, none when they cannot (one failed seed, or many tied ones), all of it when no "
        "relabelling leaves 2 finished seeds a side. The weight depends only on the pooled seeds, and given which "
        "seeds failed the finished ones are still two samples of one distribution, so the split is a valid test.",
        "- **Stability rates: Newcombe's hybrid score interval and Boschloo's exact test.** Never of zero width "
        "at 0 of n against n of n, and exact.",
        "- **One Holm correction over the answer.** A study's answer calls an effect clear only when Holm's "
        "adjusted p over all of its primary-metric and stability comparisons (16 in the architecture "
        "ablation) is below 0.05 and the evidence does not point both ways, so the chance that an answer with no "
        "true effect calls "
        "anything clear is at most 5%.",
        "",
        f"A simulated rate has a Monte Carlo error of about +-{mc:.3f} at 0.95 and +-{_mc_error(0.05, reps):.3f} at "
        f"0.05 with {reps} repetitions.",
        "",
        "## Intervals and Welch's test: coverage of a 95% interval, false positives at 0.05",
        "",
        "Two groups of n values from the same distribution (no true effect); the mean's interval is read "
        "against the distribution's true mean.",
        "",
        "| data | n per group | `mean_ci` coverage | `diff_ci` coverage | `diff_pvalue` false positives |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['data']} | {r['n']} | {_f(r['mean_ci'])} | {_f(r['diff_ci'])} | {_f(r['diff_pvalue'])} |"
              for r in intervals]
    lines += [
        "",
        _interval_verdict(intervals),
        "",
        _spread_verdict(intervals),
        "",
        "## The test over every seed where seeds fail",
        "",
        "Each seed fails with the given probability in both groups (a failed seed collapses or diverges with "
        "probability 1/2 each; finished and collapsed values normal): Welch's t test where no seed failed, else "
        "the two-part test, as the reports run it. False positives at 0.05 with no true effect (equal spreads, and "
        "one group's SD 4 times the other's); then the share of repetitions in which its p is below Holm's "
        f"strictest level over {POWER_TESTS} comparisons (0.05 / {POWER_TESTS}) for the finished seeds shifted by "
        "d80 (the difference Welch's test finds with 80% probability when no seed fails) and by 10 SDs, and for "
        "a variant that collapsed in every seed (its values 10 SDs worse) against a baseline failing at the rate.",
        "",
        "| n per group | failure rate | false positives at 0.05 | same, SD 1 against 4 | d80 | power at d80 | "
        "power at 10 SDs | power, variant collapsed in every seed |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['n']} | {r['fail_rate']:g} | {_f(r['false_positive'])} | {_f(r['false_positive_sd4'])} | "
              f"{r['d80']:.2f} | {_f(r['power_d80'])} | {_f(r['power_10'])} | {_f(r['power_all_collapsed'])} |"
              for r in ranks]
    lines += [
        "",
        _two_part_verdict(ranks, reps),
        "",
        "## Stability rates",
        "",
        "| true share (both groups) | n per group | Newcombe coverage | Boschloo false positives at 0.05 |",
        "| ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['share']} | {r['n']} | {_f(r['coverage'])} | {_f(r['false_positive'])} |" for r in proportions]
    lines += [
        "",
        f"Newcombe's interval covers from {min(r['coverage'] for r in proportions):.3f} to "
        f"{max(r['coverage'] for r in proportions):.3f} (a discrete count cannot hit 0.95 exactly); Boschloo's test "
        f"is exact: its false-positive rate stays at or below 0.05 (largest "
        f"{max(r['false_positive'] for r in proportions):.3f}).",
        "",
        "## Whole studies through the report code: the family-wise false-positive rate",
        "",
        f"A synthetic architecture ablation ({VARIANTS} variants, n seeds each, no true effect), written as a Ray "
        "results directory (`analysis/synthetic.py`) and read by the code behind every report; a study counts as "
        "a false positive when its answer calls any comparison clear. Failures strike every variant alike; in the "
        "unequal-spread scenario the variants' SDs are 1, 2, 3 and 4 times the baseline's, means equal.",
        "",
        "| n per variant | scenario | any clear call (family-wise rate) | mean clear fd calls | mean clear "
        "stability calls |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['n']} | {r['scenario']} | {_f(r['fwer'])} | {_f(r['fd_calls'])} | "
              f"{_f(r['stability_calls'])} |" for r in studies]
    lines += [
        "",
        _study_verdict(studies, study_reps),
        "",
        "## What a study can detect",
        "",
        f"A planted difference of d seed-to-seed SDs between two groups of n seeds, no failures: the share of "
        f"repetitions in which Welch's test passes Holm's strictest level, 0.05 / {n_tests} (the architecture "
        f"ablation's answer), beside d80, the difference that `analysis.power.detectable_effect` (which the "
        f"reports quote) says Welch's test finds with 80% probability (its own simulation, with another seed).",
        "",
        "| n per group | d | power | d80 |",
        "| ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['n']} | {r['d']:g} | {_f(r['power'])} | {r['d80']:.2f} |" for r in power]
    lines += [
        "",
        "Where seeds fail, the table of the test over every seed above gives the power beside the no-failure "
        "power, and each report's \"How sure\" line gives the difference its own comparisons can detect: the "
        "finished seeds they kept, at the share of the level the two-part test gives them.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.calibrate", description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=4000, help="repetitions per cell (default 4000; at least 2000)")
    p.add_argument("--study-reps", type=int, default=2000, help="simulated studies per cell (default 2000)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes for the studies")
    p.add_argument("--out", default="docs/STATISTICS.md", help="where to write the tables")
    args = p.parse_args(argv)
    if args.reps < 1 or args.study_reps < 1 or args.jobs < 1:
        p.error("--reps, --study-reps and --jobs must be >= 1")
    n_tests = 2 * (VARIANTS - 1)
    print("intervals ...", flush=True)
    intervals = interval_rows(args.reps)
    print("the test over every seed ...", flush=True)
    ranks = two_part_rows(args.reps)
    print("proportions ...", flush=True)
    proportions = proportion_rows(args.reps)
    print("power ...", flush=True)
    power = power_rows(args.reps, n_tests)
    print("whole studies ...", flush=True)
    studies = study_rows(args.study_reps, args.jobs)
    text = render(args.reps, args.study_reps, intervals, ranks, proportions, power, studies, n_tests)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Whole studies through the report code: the family-wise false-positive rate of a study's answer, measured on
synthetic architecture ablations with no true effect.

Why through the report code: a study's answer is many comparisons, corrected together (Holm) and read from what
``analysis.load`` makes of a results directory; its false-positive rate is the answer's, not any one test's. So
each simulated study is a results directory's trials, as ``analysis.load`` reads them, with outcomes drawn per
study (``_null_effects``), then ``analysis.effects.compute_effects``; the test suite checks it against
``load_results`` on written directories.
"""
from __future__ import annotations

import math
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from analysis.calibrate_cells import seeded_rng

VARIANTS = 9        # the architecture ablation: a baseline and 8 comparisons
LABELS = ("baseline", *(f"v{i}" for i in range(1, VARIANTS)))  # a null study's variants, baseline first
FD_MEAN, FD_SD = 100.0, 10.0

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
            data = read_study(str(_null_study(Path(tmp), n, SCENARIOS["normal fd, no failures"], seeded_rng(0))))
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

    e = _null_effects(n, SCENARIOS[scenario], seeded_rng(6, n, list(SCENARIOS).index(scenario), rep))
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

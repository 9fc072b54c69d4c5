"""Fixtures: synthetic Ray Tune results directories with known effects (written by ``analysis.synthetic``); real
trainer checkpoints are tests/conftest.py's (``ring8_checkpoint``, ``dcgan_checkpoint``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.synthetic import trial_rows, with_stability, write_experiment

IMAGE_METRICS = ("fd", "cis", "precision", "recall", "density", "coverage", "classes_covered", "class_kl")
# fixed per-seed noise: groups sharing it have exactly the planted difference of means
NOISE = np.array([-1.5, 0.5, 1.0, -0.5, 0.5, 0.0, 1.5, -1.5])


def base_params(**over: Any) -> dict[str, Any]:
    """A flat GANConfig dict as the studies write it (every key resolved), for mnist5k with a small DCGAN."""
    from gan_core.config import GANConfig

    flat = GANConfig.from_flat({"dataset": "mnist5k", "ngf": 8, "ndf": 8, "nz": 16, "steps": 200,
                                "eval_every": 50, "device": "cpu"}).to_flat()
    variant = over.pop("variant", None)
    flat.update(over)
    if variant is not None:
        flat["variant"] = variant
    return flat


def ablation_trials(effects: dict[str, float], seeds: int = 6, diverged: dict[str, int] | None = None,
                    checkpoint: Path | None = None, changes: dict[str, dict[str, Any]] | None = None,
                    metrics: tuple[str, ...] = IMAGE_METRICS) -> list[dict[str, Any]]:
    """Variants with fd = 40 + planted effect + NOISE[seed]; the first ``diverged[v]`` seeds of v diverge."""
    out = []
    for variant, eff in effects.items():
        for seed in range(seeds):
            params = base_params(seed=seed, variant=variant, **(changes or {}).get(variant, {}))
            final = {"fd": 40 + eff + NOISE[seed], "cis": 5.0 + 0.1 * NOISE[seed], "precision": 0.6,
                     "recall": 0.5, "density": 0.9, "coverage": 0.7, "classes_covered": 10.0, "class_kl": 0.05}
            final = {m: v for m, v in final.items() if m in metrics}
            div = (diverged or {}).get(variant, 0) > seed
            spec = {"params": params, "rows": trial_rows(params, final, diverge_at=3 if div else None)}
            if checkpoint is not None:
                spec["checkpoint"] = checkpoint
            out.append(spec)
    return out


ABLATION_STUDY = {"study": "ablation", "primary_metric": "fd", "mode": "min", "baseline_variant": "baseline",
                  "variants": {"baseline": {}, "batchnorm_d_off": {"batchnorm_d": False},
                               "g_output_off": {"g_output": "linear"}},
                  "command": ["python", "-m", "studies.ablation"]}


@pytest.fixture
def ablation_dir(tmp_path: Path) -> Path:
    """batchnorm_d_off: fd +12 (planted), 2 of 6 seeds diverge; g_output_off: no effect (0)."""
    trials = ablation_trials({"baseline": 0.0, "batchnorm_d_off": 12.0, "g_output_off": 0.0},
                             diverged={"batchnorm_d_off": 2},
                             changes={"batchnorm_d_off": {"batchnorm_d": False},
                                      "g_output_off": {"g_output": "linear"}})
    return write_experiment(tmp_path, "ablation", trials, ABLATION_STUDY)


UNSTABLE_STUDY = {"study": "unstable", "primary_metric": "fd", "mode": "min", "baseline_variant": "baseline",
                  "variants": {"baseline": {}, "collapsed": {"g_output": "sigmoid"}, "d_wins": {"batchnorm_d": False}},
                  "command": ["python", "-m", "studies.ablation"]}


def unstable_trials(seeds: int = 3) -> list[dict[str, Any]]:
    """Trainer status "ok" in every trial, yet: "collapsed" ends with 95% of its samples on one class (top_share 0.95,
    classes_covered 1; its fd finite, 40 + 30 + NOISE[seed]), "d_wins" has D(G(z)) = 0.01 and D(x) = 0.99 over its
    last quarter (g_steps 150 and 200 of 200; fd 40 + 5 + NOISE[seed]); the baseline (fd 40 + NOISE[seed],
    classes_covered 10, top_share 0.12) trains stably."""
    trials = ablation_trials({"baseline": 0.0, "collapsed": 30.0, "d_wins": 5.0}, seeds=seeds,
                             changes={"collapsed": {"g_output": "sigmoid"}, "d_wins": {"batchnorm_d": False}},
                             metrics=("fd", "classes_covered"))
    for t in trials:
        variant = t["params"]["variant"]
        for row in t["rows"]:
            row["top_share"] = 0.12
            if variant == "collapsed" and row["status"] == "ok":
                row["classes_covered"], row["top_share"] = 1.0, 0.95
            if variant == "d_wins" and row["g_steps"] >= 150:
                row["d_fake"], row["d_real"] = 0.01, 0.99
        with_stability(t["rows"], "fd")  # as the trainer reports these evaluations
    return trials


@pytest.fixture
def unstable_dir(tmp_path: Path) -> Path:
    """3 seeds each of baseline (stable), collapsed and d_wins (see ``unstable_trials``): all trainer status ok."""
    return write_experiment(tmp_path, "unstable", unstable_trials(), UNSTABLE_STUDY)


@pytest.fixture
def ksweep_dir(tmp_path: Path) -> Path:
    """k in {1, 2, 5} x g_loss in {non_saturating, minimax}, 4 seeds: fd = 30 + 4 (k - 1) + 10 [minimax]."""
    trials = []
    for k in (1, 2, 5):
        for loss in ("non_saturating", "minimax"):
            for seed in range(4):
                params = base_params(k=k, g_loss=loss, seed=seed)
                fd = 30 + 4 * (k - 1) + (10 if loss == "minimax" else 0) + NOISE[seed]
                trials.append({"params": params, "rows": trial_rows(params, {"fd": fd, "cis": 6.0})})
    study = {"study": "k_sweep", "primary_metric": "fd", "mode": "min", "baseline_variant": None, "variants": {},
             "command": ["python", "-m", "studies.k_sweep"]}
    return write_experiment(tmp_path, "k_sweep", trials, study)


@pytest.fixture
def synth(tmp_path: Path):
    """The helpers above for tests that build their own studies (conftest modules are not importable)."""
    import types

    return types.SimpleNamespace(
        write=lambda name, trials, study=None, **kw: write_experiment(tmp_path, name, trials, study, **kw),
        trial_rows=trial_rows, with_stability=with_stability, base_params=base_params, ablation_trials=ablation_trials, noise=NOISE,
        ablation_study=dict(ABLATION_STUDY), root=tmp_path)


def summary_row(**over):
    """One row of summary.csv for the sentence tests, with ``over`` changed."""
    base = {"configuration": "baseline", "changes": "", "fd_n": 3, "fd_mean": 45.2, "fd_ci_low": 40.1,
            "fd_ci_high": 50.3, "fd_improving": False, "fd_gain_share": 0.04, "n_finished": 3, "n_stable": 3,
            "n_diverged": 0, "n_collapsed": 0, "n_d_dominates": 0, "stability": 1.0, "stability_ci_low": 0.4385,
            "stability_ci_high": 1.0, "n_stopped": 0, "n_other": 0, "n_trials": 3, "flops_per_run": 3.2e12,
            "train_s_per_run": 41.0}
    base.update(over)
    return pd.Series(base)


@pytest.fixture
def drawn(monkeypatch):
    """The figure each plot function saves (analysis.plots and analysis.forest), drawn (so that text extents are
    known) before it is closed."""
    from analysis import forest, plots

    seen = []
    save = plots.save_figure

    def spy(fig, path, title):
        fig.canvas.draw()
        fig.test_renderer = fig.canvas.get_renderer()  # closing the figure takes its canvas
        seen.append(fig)
        return save(fig, path, title)

    monkeypatch.setattr(plots, "save_figure", spy)
    monkeypatch.setattr(forest, "save_figure", spy)
    return seen

"""Per configuration, seeds pooled: how many seeds finished, diverged or collapsed, each quality metric's mean, std
and 95% t interval, the stability rate, and whether the primary metric was still improving.

What is summarised, and why: a trial's *final* metric values (its answer at the study's budget, not its luckiest
evaluation), over the trials that ran the whole budget (trainer status ok or diverged: ``analysis.load``); a trial
that a scheduler stopped early was measured at another budget and is only counted (``n_stopped``), as are errored,
pending, running, incomplete, damaged and missing ones (``n_other``). Every configuration row says how its seeds
ended: ``n_finished`` of ``n_trials``, and by stability status ``n_stable``, ``n_diverged``, ``n_collapsed``,
``n_d_dominates`` (they add up to ``n_finished``). A metric's mean rests on its finite values (``<metric>_n`` of
them: a diverged seed has none); the effects (``analysis.effects``) are where the failed seeds enter the comparison.
The stability rate is the share of finished seeds whose stability status is stable, with a Wilson interval.
``<primary>_improving`` and ``<primary>_gain_share`` come from ``analysis.convergence``; ``flops_per_run`` (gan_core's
cost model, NaN where the reports did not record it) and ``train_s_per_run`` (measured) from ``analysis.compute``:
what a run of the configuration cost, stated beside what it achieved. One seed gives no spread: its CI is NaN, noted
in ``ci_note``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import stats
from analysis.compute import compute_of
from analysis.convergence import still_improving
from analysis.design import Design
from analysis.trial_frame import FINISHED, STABLE, stability_labels


def finished(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["status"].isin(FINISHED)]


def configuration_order(trials: pd.DataFrame, design: Design) -> list[str]:
    """Baseline first, then in the order of the factors' levels."""
    def key(label: str):
        row = trials[trials["configuration"] == label].iloc[0]
        return (label != design.baseline_config,
                *(f.levels.index(row[f.column]) if row[f.column] in f.levels else len(f.levels)
                  for f in design.factors))
    return sorted(trials["configuration"].unique(), key=key)


def summarize(trials: pd.DataFrame, design: Design, metrics: list[str], modes: dict[str, str]) -> pd.DataFrame:
    """One row per configuration; ``modes`` maps each metric to "min" or "max", ``metrics[0]`` is the primary."""
    rows = []
    for label in configuration_order(trials, design):
        group = trials[trials["configuration"] == label]
        done = finished(group)
        labels = stability_labels(done)
        n_stable = int((labels == STABLE).sum())
        lo, hi = stats.wilson_interval(n_stable, len(done))
        row = {"configuration": label}
        for f in design.factors:
            row[f.name] = group[f.column].iloc[0]
        if design.changes:
            row["changes"] = design.changes.get(label, "")
        n_stopped = int((group["status"] == "stopped").sum())
        row.update({"n_trials": len(group), "n_finished": len(done), "n_stable": n_stable,
                    "n_diverged": int((labels == "diverged").sum()),
                    "n_collapsed": int((labels == "collapsed").sum()),
                    "n_d_dominates": int((labels == "d_dominates").sum()), "n_stopped": n_stopped,
                    "n_other": len(group) - len(done) - n_stopped,
                    "stability": n_stable / len(done) if len(done) else np.nan,
                    "stability_ci_low": lo, "stability_ci_high": hi, **compute_of(group)})
        for col in ("steps_to_90pct", "oscillation"):
            x = stats.finite(done[col]) if col in done.columns else np.array([])
            row.update({f"{col}_mean": x.mean() if len(x) else np.nan, f"{col}_n": len(x)})
        few = []
        for m in metrics:
            x = stats.finite(done[f"final_{m}"])
            lo, hi = stats.mean_ci(x)
            row.update({f"{m}_n": len(x), f"{m}_mean": x.mean() if len(x) else np.nan,
                        f"{m}_std": x.std(ddof=1) if len(x) > 1 else np.nan,
                        f"{m}_ci_low": lo, f"{m}_ci_high": hi})
            if len(x) < 2:
                few.append(m)
        if metrics:
            improving, share = still_improving(done.assign(_label=labels), metrics[0], modes[metrics[0]])
            row.update({f"{metrics[0]}_improving": improving, f"{metrics[0]}_gain_share": share})
        row["ci_note"] = (f"fewer than 2 finite values of {', '.join(few)}: no CI" if few else "")
        rows.append(row)
    return pd.DataFrame(rows)

"""Per configuration, seeds pooled: each quality metric's mean, std and 95% bootstrap CI, and the stability rate.

What is summarised, and why: a trial's *final* metric values (its answer at the study's budget, not its luckiest
evaluation), over the trials whose values were measured (status ok, diverged, or stopped early by a scheduler: see
``analysis.load``; errored, pending and still-running trials are counted but not summarised). Non-finite values
are left out and ``<metric>_n`` says how many values a mean rests on. The stability rate is the share of the
finished seeds (trainer status ok or diverged) whose stability status (``analysis.load``: ok, diverged, collapsed,
d_dominates) is ok, with a Wilson interval; ``n_ok``, ``n_diverged``, ``n_collapsed`` and ``n_d_dominates`` count
the finished seeds by stability status (they add up to ``n_finished``). ``steps_to_90pct_mean`` and
``oscillation_mean`` are plain means over the finished seeds' finite values (``_n``: how many). One seed gives no
spread: its CI is NaN, noted in ``ci_note``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import stats
from analysis.design import Design
from analysis.load import FINISHED, MEASURED, stability_labels


def finished(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["status"].isin(FINISHED)]


def measured(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["status"].isin(MEASURED)]


def configuration_order(trials: pd.DataFrame, design: Design) -> list[str]:
    """Baseline first, then in the order of the factors' levels."""
    def key(label: str):
        row = trials[trials["configuration"] == label].iloc[0]
        return (label != design.baseline_config,
                *(f.levels.index(row[f.column]) if row[f.column] in f.levels else len(f.levels)
                  for f in design.factors))
    return sorted(trials["configuration"].unique(), key=key)


def summarize(trials: pd.DataFrame, design: Design, metrics: list[str],
              n_resamples: int = stats.N_RESAMPLES) -> pd.DataFrame:
    rows = []
    for label in configuration_order(trials, design):
        group = trials[trials["configuration"] == label]
        done = finished(group)
        labels = stability_labels(done)
        n_ok = int((labels == "ok").sum())
        lo, hi = stats.wilson_interval(n_ok, len(done))
        row = {"configuration": label}
        for f in design.factors:
            row[f.name] = group[f.column].iloc[0]
        if design.changes:
            row["changes"] = design.changes.get(label, "")
        n_stopped = int((group["status"] == "stopped").sum())
        row.update({"n_trials": len(group), "n_finished": len(done), "n_ok": n_ok,
                    "n_diverged": int((labels == "diverged").sum()),
                    "n_collapsed": int((labels == "collapsed").sum()),
                    "n_d_dominates": int((labels == "d_dominates").sum()), "n_stopped": n_stopped,
                    "n_other": len(group) - len(done) - n_stopped,
                    "stability": n_ok / len(done) if len(done) else np.nan,
                    "stability_ci_low": lo, "stability_ci_high": hi})
        for col in ("steps_to_90pct", "oscillation"):
            x = stats.finite(done[col]) if col in done.columns else np.array([])
            row.update({f"{col}_mean": x.mean() if len(x) else np.nan, f"{col}_n": len(x)})
        few = []
        for m in metrics:
            x = stats.finite(measured(group)[f"final_{m}"])
            ci = stats.bootstrap_mean_ci(x, n_resamples=n_resamples)
            row.update({f"{m}_n": len(x), f"{m}_mean": x.mean() if len(x) else np.nan,
                        f"{m}_std": x.std(ddof=1) if len(x) > 1 else np.nan,
                        f"{m}_ci_low": ci[0], f"{m}_ci_high": ci[1]})
            if len(x) < 2:
                few.append(m)
        row["ci_note"] = (f"fewer than 2 finite values of {', '.join(few)}: no CI" if few else "")
        rows.append(row)
    return pd.DataFrame(rows)

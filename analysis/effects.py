"""Each factor level against its baseline level: difference of means, 95% bootstrap CI, permutation p-value.

How a comparison is made, and why:
- For a study with variants, each variant against the baseline variant. For a grid or a search, each level of each
  factor against that factor's baseline level, pooling the trials over the other factors' levels (a marginal,
  "main" effect: it uses every trial, which a random learning-rate search needs; in a full grid it averages the
  other factors over the same levels on both sides).
- The values are the trials' final metrics (over the measured trials, see ``analysis.summary``), plus
  ``stability``: 1 for a finished seed whose stability status is ok and 0 for one that diverged, collapsed or whose
  D dominated (``analysis.load``), so its effect is a difference of stability rates. ``n_unstable_level`` counts
  the finished seeds of the level whose stability status is not ok, ``n_diverged_level``, ``n_collapsed_level``
  and ``n_d_dominates_level`` those of each status.
- effect = mean(level) - mean(baseline), in the metric's units; its CI is a percentile bootstrap that resamples
  seeds within each group; p is a two-sided permutation test (``analysis.stats``); ``p_holm`` adjusts p over all
  the comparisons of one metric (Holm), for a reader scanning a whole table.
- ``std_effect`` divides the effect by the pooled standard deviation of the two groups: the size used to sort the
  table, by the primary metric (largest first), so the factors that matter most come first.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis import stats
from analysis.design import Design, Factor
from analysis.load import FINISHED, MEASURED, stability_labels

STABILITY = "stability"


def compare_label(factor: Factor, level: str) -> str:
    return level if factor.name == "variant" else f"{factor.name}={level}"


def _values(group: pd.DataFrame, metric: str) -> np.ndarray:
    if metric == STABILITY:
        done = group[group["status"].isin(FINISHED)]
        return (stability_labels(done) == "ok").to_numpy(dtype=float)
    return stats.finite(group.loc[group["status"].isin(MEASURED), f"final_{metric}"])


def _direction(effect: float, lo: float, hi: float, mode: str) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "no CI"
    if lo <= 0 <= hi:
        return "unclear"
    better = effect < 0 if mode == "min" else effect > 0
    return "better" if better else "worse"


def compute_effects(trials: pd.DataFrame, design: Design, metrics: list[str], modes: dict[str, str],
                    n_resamples: int = stats.N_RESAMPLES) -> pd.DataFrame:
    """One row per (factor level, metric). ``modes`` maps each metric to "min" or "max" (better direction)."""
    done = trials[trials["status"].isin(MEASURED)]
    order = [*metrics[:1], STABILITY, *metrics[1:]]
    rows = []
    for factor in design.factors:
        base = done[done[factor.column] == factor.baseline]
        for level in factor.others:
            group = done[done[factor.column] == level]
            everyone = trials[trials[factor.column] == level]
            labels = stability_labels(everyone[everyone["status"].isin(FINISHED)])
            for metric in order:
                x, y = _values(group, metric), _values(base, metric)
                effect = float(x.mean() - y.mean()) if len(x) and len(y) else math.nan
                lo, hi = stats.bootstrap_diff_ci(x, y, n_resamples=n_resamples)
                sd = stats.pooled_sd(x, y)
                if sd > 0:
                    std_effect = effect / sd
                elif math.isfinite(effect) and sd == 0:
                    std_effect = 0.0 if effect == 0 else math.copysign(math.inf, effect)
                else:
                    std_effect = math.nan
                mode = "max" if metric == STABILITY else modes.get(metric, "min")
                rows.append({
                    "factor": factor.name, "level": level, "baseline": compare_label(factor, factor.baseline),
                    "comparison": compare_label(factor, level),
                    "changes": design.changes.get(level, "") if factor.name == "variant" else "",
                    "metric": metric, "mode": mode,
                    "n_level": len(x), "n_baseline": len(y),
                    "mean_level": x.mean() if len(x) else math.nan,
                    "mean_baseline": y.mean() if len(y) else math.nan,
                    "effect": effect, "ci_low": lo, "ci_high": hi,
                    "p_value": stats.permutation_pvalue(x, y, n_resamples=n_resamples),
                    "std_effect": std_effect,
                    "direction": _direction(effect, lo, hi, mode),
                    "n_trials_level": len(everyone),
                    "n_finished_level": len(labels),
                    "n_unstable_level": int((labels != "ok").sum()),
                    "n_diverged_level": int((labels == "diverged").sum()),
                    "n_collapsed_level": int((labels == "collapsed").sum()),
                    "n_d_dominates_level": int((labels == "d_dominates").sum()),
                })
    columns = ["factor", "level", "baseline", "comparison", "changes", "metric", "mode", "n_level", "n_baseline",
               "mean_level", "mean_baseline", "effect", "ci_low", "ci_high", "p_value", "p_holm", "std_effect",
               "direction", "n_trials_level", "n_finished_level", "n_unstable_level", "n_diverged_level",
               "n_collapsed_level", "n_d_dominates_level"]
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(rows)
    out["p_holm"] = np.nan
    for metric, idx in out.groupby("metric").groups.items():
        out.loc[idx, "p_holm"] = stats.holm(out.loc[idx, "p_value"].to_numpy())
    return _sort(out[columns], order)


def _sort(out: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Comparisons by |std_effect| of the primary metric, largest first (then by that of stability, then by the
    raw |effect|; sizes that cannot be computed last); rows within a comparison in the metric order."""
    def size(comp_rows: pd.DataFrame, metric: str) -> float:
        v = comp_rows.loc[comp_rows["metric"] == metric, "std_effect"]
        return -1.0 if not len(v) or np.isnan(v.iloc[0]) else abs(float(v.iloc[0]))

    def raw(comp_rows: pd.DataFrame) -> float:  # one seed a side has no spread: fall back to the raw size
        v = comp_rows.loc[comp_rows["metric"] == order[0], "effect"]
        return -1.0 if not len(v) or np.isnan(v.iloc[0]) else abs(float(v.iloc[0]))

    keys = {comp: (size(g, order[0]), size(g, STABILITY), raw(g))
            for comp, g in out.groupby("comparison", sort=False)}
    first = sorted(keys, key=lambda c: keys[c], reverse=True)  # sorted() is stable: ties keep factor order
    rank = {m: i for i, m in enumerate(order)}
    out = out.assign(_c=out["comparison"].map({c: i for i, c in enumerate(first)}), _m=out["metric"].map(rank))
    out = out.sort_values(["_c", "_m"], kind="stable")
    return out.drop(columns=["_c", "_m"]).reset_index(drop=True)

"""Each factor level against its baseline: the effect, its 95% CI, a test over every seed, and a corrected verdict.

How a comparison is made, and why (the procedures are in ``analysis.stats``, their calibration in
docs/STATISTICS.md):
- **Which trials.** For a study with variants, each variant against the baseline variant; for a grid, each level
  of each factor against that factor's baseline level, pooling the other factors' levels (a main effect). Only
  trials that ran the study's whole budget are compared (trainer status ok or diverged): a trial a scheduler
  stopped early was measured at another budget.
- **Every seed counts.** A seed whose stability status is diverged or collapsed is a *failed* seed: it has no
  metric value, or one that does not measure a working generator. The all-seeds test (``p_value``, ``test``)
  is Welch's t test when no seed of either group failed, and otherwise the exact worst-rank test, in which every
  failed seed ranks behind every finished one; ``prob_worse`` is the share of (level seed, baseline seed) pairs in
  which the level's seed did worse, failed seeds included (0.5: no difference). ``effect`` (mean difference),
  ``ci_low``/``ci_high`` (Welch's 95% interval) and ``p_measured`` use the *measured* seeds only (a finite final
  value): a variant that diverged in 2 of 3 seeds has a measured effect from one seed, which is why the verdict
  does not rest on it. ``direction_measured`` is the verdict those seeds alone would give, for the report to show
  where it differs.
- **Stability** (the share of seeds whose stability status is ok): Newcombe's interval of the difference of two
  shares and Boschloo's exact test.
- **Corrected verdicts.** The study's answer rests on its primary metric and its stability comparisons; Holm's
  correction runs over all of them together (``p_holm``), so the chance that any "clear" call of the answer is
  false stays at most 5% when nothing has an effect. Each other metric is corrected over its own comparisons.
  ``direction`` is better / worse only when ``p_holm`` < 0.05 and the effect's CI agrees (excludes 0 on that
  side, or for a worst-rank test, does not lie on the other side); "not resolvable" when the test cannot reach
  that at these seed counts whatever the data (``p_floor`` times the number of corrected comparisons is at least
  0.05; ``seeds_needed`` per side could), "no test" when a side has too few seeds, else "unclear".
- ``improving_level``: whether the level's primary metric was still improving over the last quarter of training
  (``analysis.convergence``), so a verdict can say "worse at this budget, still improving".
- ``std_effect`` divides the measured effect by the pooled standard deviation of the two groups. Comparisons are
  sorted by how far ``prob_worse`` of the primary metric lies from 0.5, then by ``|std_effect|``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis import stats
from analysis.convergence import still_improving
from analysis.design import Design, Factor
from analysis.trial_frame import FINISHED, STABLE, stability_labels

STABILITY = "stability"
FAILED = ("diverged", "collapsed")  # stability statuses that count as the worst outcome of a seed
CLEAR = ("better", "worse")
WELCH, WORST_RANK, BOSCHLOO = "welch", "worst-rank", "boschloo"

COLUMNS = ["factor", "level", "baseline", "comparison", "changes", "metric", "mode", "family",
           "n_level", "n_baseline", "n_failed_level", "n_failed_baseline", "n_measured_level", "n_measured_baseline",
           "mean_level", "mean_baseline", "effect", "ci_low", "ci_high", "std_effect", "prob_worse",
           "test", "p_value", "p_floor", "p_holm", "direction", "seeds_needed",
           "p_measured", "p_holm_measured", "direction_measured",
           "improving_level", "gain_share_level", "improving_baseline",
           "n_trials_level", "n_finished_level", "n_unstable_level", "n_diverged_level", "n_collapsed_level",
           "n_d_dominates_level"]


def compare_label(factor: Factor, level: str) -> str:
    return level if factor.name == "variant" else f"{factor.name}={level}"


def _quality(level: pd.DataFrame, base: pd.DataFrame, metric: str, mode: str) -> dict:
    """The comparison of one quality metric: measured effect and CI, the all-seeds test, prob_worse."""
    col = f"final_{metric}"
    sides = []
    for g in (level, base):
        v = pd.to_numeric(g[col], errors="coerce").to_numpy(dtype=float) if col in g else np.full(len(g), np.nan)
        failed = g["_label"].isin(FAILED).to_numpy() | ~np.isfinite(v)
        sides.append((stats.finite(v), v[~failed], int(failed.sum())))
    (x, x_ok, fx), (y, y_ok, fy) = sides
    lo, hi = stats.diff_ci(x, y)
    sx, sy = stats.worst_rank_scores(x_ok, fx, mode), stats.worst_rank_scores(y_ok, fy, mode)
    if fx + fy == 0:
        test, p, floor = WELCH, stats.diff_pvalue(x, y), 0.0 if len(x) >= 2 and len(y) >= 2 else math.nan
    else:
        test, p, floor = WORST_RANK, stats.rank_pvalue(sx, sy), stats.rank_floor(len(sx), len(sy))
    sd = stats.pooled_sd(x, y)
    effect = float(x.mean() - y.mean()) if len(x) and len(y) else math.nan
    return {"n_failed_level": fx, "n_failed_baseline": fy, "n_measured_level": len(x), "n_measured_baseline": len(y),
            "mean_level": x.mean() if len(x) else math.nan, "mean_baseline": y.mean() if len(y) else math.nan,
            "effect": effect, "ci_low": lo, "ci_high": hi, "prob_worse": stats.prob_worse(sx, sy),
            "std_effect": effect / sd if sd > 0 else math.nan, "test": test, "p_value": p, "p_floor": floor,
            "p_measured": stats.diff_pvalue(x, y)}


def _stability(level: pd.DataFrame, base: pd.DataFrame) -> dict:
    """The comparison of the shares of seeds whose stability status is stable."""
    kx, nx = int((level["_label"] == STABLE).sum()), len(level)
    ky, ny = int((base["_label"] == STABLE).sum()), len(base)
    lo, hi = stats.proportion_diff_ci(kx, nx, ky, ny)
    p = stats.proportion_diff_pvalue(kx, nx, ky, ny)
    rx, ry = (kx / nx if nx else math.nan), (ky / ny if ny else math.nan)
    return {"n_failed_level": nx - kx, "n_failed_baseline": ny - ky, "n_measured_level": nx,
            "n_measured_baseline": ny, "mean_level": rx, "mean_baseline": ry, "effect": rx - ry,
            "ci_low": lo, "ci_high": hi, "prob_worse": math.nan, "std_effect": math.nan, "test": BOSCHLOO,
            "p_value": p, "p_floor": stats.proportion_floor(nx, ny), "p_measured": p}


def compute_effects(trials: pd.DataFrame, design: Design, metrics: list[str], modes: dict[str, str]) -> pd.DataFrame:
    """One row per (factor level, metric). ``modes`` maps each metric to "min" or "max" (the better direction);
    ``metrics[0]`` is the primary metric (none: only stability is compared)."""
    done = trials[trials["status"].isin(FINISHED)]
    done = done.assign(_label=stability_labels(done))
    primary = metrics[0] if metrics else None
    order = [*metrics[:1], STABILITY, *metrics[1:]]
    rows = []
    for factor in design.factors:
        base = done[done[factor.column] == factor.baseline]
        for level in factor.others:
            group = done[done[factor.column] == level]
            everyone = trials[trials[factor.column] == level]
            labels = group["_label"]
            common = {
                "factor": factor.name, "level": level, "baseline": compare_label(factor, factor.baseline),
                "comparison": compare_label(factor, level),
                "changes": design.changes.get(level, "") if factor.name == "variant" else "",
                "n_level": len(group), "n_baseline": len(base),
                "n_trials_level": len(everyone), "n_finished_level": len(group),
                "n_unstable_level": int((labels != STABLE).sum()),
                "n_diverged_level": int((labels == "diverged").sum()),
                "n_collapsed_level": int((labels == "collapsed").sum()),
                "n_d_dominates_level": int((labels == "d_dominates").sum()),
            }
            for metric in order:
                if metric == STABILITY:
                    row = {**common, "metric": metric, "mode": "max", **_stability(group, base)}
                else:
                    mode = modes[metric]
                    row = {**common, "metric": metric, "mode": mode, **_quality(group, base, metric, mode)}
                if metric == primary:
                    row["improving_level"], row["gain_share_level"] = still_improving(group, metric, mode)
                    row["improving_baseline"] = still_improving(base, metric, mode)[0]
                rows.append(row)
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.DataFrame(rows).reindex(columns=COLUMNS)
    out["family"] = out["metric"].where(~out["metric"].isin([primary, STABILITY]), "answer")
    for col in ("direction", "direction_measured", "seeds_needed"):
        out[col] = pd.Series([None] * len(out), index=out.index, dtype=object)
    for _, idx in out.groupby("family").groups.items():
        _verdicts(out, idx)
    return _sort(out, order)


def _verdicts(out: pd.DataFrame, idx: pd.Index) -> None:
    """p_holm, direction, seeds_needed and the measured-seeds verdict of one family of comparisons, in place."""
    fam = out.loc[idx]
    out.loc[idx, "p_holm"] = stats.holm(fam["p_value"].to_numpy(dtype=float))
    out.loc[idx, "p_holm_measured"] = stats.holm(fam["p_measured"].to_numpy(dtype=float))
    m = int(np.isfinite(fam["p_value"].to_numpy(dtype=float)).sum())
    m_measured = int(np.isfinite(fam["p_measured"].to_numpy(dtype=float)).sum())
    for i in idx:
        r = out.loc[i]
        out.at[i, "direction"] = _direction(r["p_value"], out.at[i, "p_holm"], r["p_floor"], m, r, r["test"])
        measured_test = BOSCHLOO if r["test"] == BOSCHLOO else WELCH
        floor = r["p_floor"] if measured_test == BOSCHLOO else (0.0 if math.isfinite(r["p_measured"]) else math.nan)
        out.at[i, "direction_measured"] = _direction(r["p_measured"], out.at[i, "p_holm_measured"], floor,
                                                     m_measured, r, measured_test)
        if out.at[i, "direction"] == "not resolvable":
            floor_of = stats.rank_floor if r["test"] == WORST_RANK else stats.proportion_floor
            out.at[i, "seeds_needed"] = stats.seeds_needed(floor_of, m)


def _direction(p: float, p_holm: float, floor: float, n_tests: int, r: pd.Series, test: str) -> str:
    if not (math.isfinite(p) and math.isfinite(floor)):
        return "no test"
    if floor * n_tests >= stats.ALPHA:
        return "not resolvable"
    if not p_holm < stats.ALPHA:
        return "unclear"
    lo, hi, mode = r["ci_low"], r["ci_high"], r["mode"]
    if test == WORST_RANK:
        worse = r["prob_worse"] > 0.5
        if r["prob_worse"] == 0.5:
            return "unclear"
        better_side = (hi < 0) if mode == "min" else (lo > 0)
        worse_side = (lo > 0) if mode == "min" else (hi < 0)
        contradicts = better_side if worse else worse_side  # the measured CI lies on the other side
        return "unclear" if contradicts else ("worse" if worse else "better")
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 <= hi:
        return "unclear"
    better = r["effect"] < 0 if mode == "min" else r["effect"] > 0
    return "better" if better else "worse"


def _sort(out: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Comparisons by |prob_worse - 0.5| of the primary metric, then |std_effect| (sizes that cannot be computed
    last); rows within a comparison in the metric order."""
    def size(comp_rows: pd.DataFrame) -> tuple[float, float]:
        prim = comp_rows[comp_rows["metric"] == order[0]]
        if prim.empty:
            return -1.0, -1.0
        pw, se = float(prim["prob_worse"].iloc[0]), float(prim["std_effect"].iloc[0])
        return (abs(pw - 0.5) if math.isfinite(pw) else -1.0, abs(se) if math.isfinite(se) else -1.0)

    keys = {comp: size(g) for comp, g in out.groupby("comparison", sort=False)}
    first = sorted(keys, key=lambda c: keys[c], reverse=True)  # sorted() is stable: ties keep factor order
    rank = {m: i for i, m in enumerate(order)}
    out = out.assign(_c=out["comparison"].map({c: i for i, c in enumerate(first)}), _m=out["metric"].map(rank))
    out = out.sort_values(["_c", "_m"], kind="stable")
    return out.drop(columns=["_c", "_m"]).reset_index(drop=True)

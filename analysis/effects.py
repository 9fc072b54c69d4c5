"""Each factor level against its baseline: the effect, its 95% CI, a test over every seed, and a corrected verdict.

How a comparison is made, and why (the procedures are in ``analysis.stats``, ``ranks``, ``every_seed`` and
``power``, their calibration in docs/STATISTICS.md):
- **Which trials.** For a study with variants, each variant against the baseline variant; for a grid, each level
  of each factor against that factor's baseline level, pooling the other factors' levels (a main effect). Only
  trials that ran the study's whole budget are compared (trainer status ok or diverged): a trial a scheduler
  stopped early was measured at another budget.
- **Every seed counts.** A seed whose stability status is diverged or collapsed is a *failed* seed: it has no
  metric value, or one that does not measure a working generator. The all-seeds test (``p_value``, ``test``)
  is Welch's t test when no seed of either group failed, and otherwise the two-part test (``analysis.every_seed``):
  how the seeds failed (an exact rank test in which every finished seed ranks ahead of every failed one, a
  collapsed seed by its value behind them, a diverged one last: ``p_failure``) and how well the finished seeds
  did (Welch's test over them: ``p_quality``), joined by a weighted Bonferroni split (``w_failure``, the failure
  part's share). A failed baseline seed therefore does not stop a variant whose every finished seed is worse from
  being called worse, and a variant that failed in every seed is worse when its failures are. ``prob_worse`` is
  the share of (level seed, baseline seed) pairs in which the level's seed did worse over every seed (finished by
  value, then collapsed by value, then diverged; 0.5: no difference). ``effect`` (mean difference),
  ``ci_low``/``ci_high`` (Welch's 95% interval), ``mean_level``/``mean_baseline`` and ``p_measured`` use the
  *finished* seeds only (not failed, with a finite value: ``n_measured_*``): a collapsed seed's value is not a
  measurement, and a variant that failed in 2 of 3 seeds has a measured effect from one seed, which is why the
  verdict does not rest on it alone. ``direction_measured`` is the verdict the finished seeds alone would give,
  for the report to show where it differs.
- **Stability** (the share of seeds whose stability status is ok): Newcombe's interval of the difference of two
  shares and Boschloo's exact test.
- **Corrected verdicts.** The study's answer rests on its primary metric and its stability comparisons; Holm's
  correction runs over all of them together (``p_holm``), so the chance that any "clear" call of the answer is
  false stays at most 5% when nothing has an effect. Each other metric is corrected over its own comparisons.
  ``direction`` is better / worse when ``p_holm`` < 0.05, in the direction of the test's deciding part (for the
  two-part test: the part with the smaller weighted p; its failures, or its finished seeds' mean difference),
  unless the evidence points both ways ("unclear"): for Welch's test (and Boschloo's) a CI that includes 0; for
  the two-part test, ``prob_worse`` over every seed on the other side of 0.5 (two surviving seeds far better do
  not make a variant that failed in four "better") or its other part clearly (p < 0.05) the other way. When
  ``p_holm`` >= 0.05 it is "not resolvable" if the comparison could not pass Holm's correction whatever its data
  (its p replaced by ``p_floor``, the smallest p its seeds' outcomes allow, against the family's other p-values as
  they are; ``seeds_needed`` per side could), "no test" when a side has too few seeds, else "unclear". Holm is
  read first: its adjusted p is what the call rests on, and a floor times the number of comparisons is no bound
  on it (Holm multiplies the later-ranked p-values by less).
- ``improving_level`` / ``improving_baseline``: whether the level's (the baseline's) primary metric was still
  improving over the last quarter of training (``analysis.convergence``: its trained seeds' mean curve), with
  ``n_failed_level`` / ``n_failed_baseline`` beside them: the answer says "may only be slower" (or "faster") only
  when every seed of that side trained, since a failed seed is not a slow one.
- ``flops_ratio`` / ``seconds_ratio``: the level's compute per run over the baseline's (``analysis.compute``: FLOPs
  by gan_core's cost model, NaN where the reports did not record them; measured training seconds), so that an
  effect is read beside its price.
- ``std_effect`` divides the measured effect by the pooled standard deviation of the two groups. Comparisons are
  sorted by how far ``prob_worse`` of the primary metric lies from 0.5, then by ``|std_effect|``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis import every_seed, power, ranks, stats
from analysis.compute import ratios
from analysis.convergence import still_improving
from analysis.design import Design, Factor
from analysis.trial_frame import FINISHED, STABLE, stability_labels

STABILITY = "stability"
FAILED = ("diverged", "collapsed")  # stability statuses of a failed seed: worse than any finished one
CLEAR = ("better", "worse")
WELCH, TWO_PART, BOSCHLOO = "welch", "two-part", "boschloo"

COLUMNS = ["factor", "level", "baseline", "comparison", "changes", "metric", "mode", "family",
           "n_level", "n_baseline", "n_failed_level", "n_failed_baseline", "n_measured_level", "n_measured_baseline",
           "mean_level", "mean_baseline", "effect", "ci_low", "ci_high", "std_effect", "prob_worse",
           "test", "p_value", "p_floor", "p_holm", "direction", "seeds_needed",
           "p_failure", "p_quality", "w_failure", "prob_worse_failure",
           "p_measured", "p_holm_measured", "direction_measured",
           "improving_level", "gain_share_level", "improving_baseline",
           "n_trials_level", "n_finished_level", "n_unstable_level", "n_diverged_level", "n_collapsed_level",
           "n_d_dominates_level", "flops_ratio", "seconds_ratio"]


def compare_label(factor: Factor, level: str) -> str:
    return level if factor.name == "variant" else f"{factor.name}={level}"


def seeds_of(g: pd.DataFrame, metric: str, mode: str) -> every_seed.Seeds:
    """A group's seeds by outcome on ``metric``: finished values, collapsed values, and how many diverged or failed
    without a finite value (``_label``: the stability labels)."""
    col = f"final_{metric}"
    v = pd.to_numeric(g[col], errors="coerce").to_numpy(dtype=float) if col in g else np.full(len(g), np.nan)
    label = g["_label"].to_numpy()
    ok = np.isfinite(v)
    collapsed = (label == "collapsed") & ok
    finished = ok & ~np.isin(label, FAILED)
    return every_seed.Seeds(v[finished], v[collapsed], int(len(v) - finished.sum() - collapsed.sum()))


def _quality(level: pd.DataFrame, base: pd.DataFrame, metric: str, mode: str) -> dict:
    """The comparison of one quality metric: the finished seeds' effect and CI, the all-seeds test, prob_worse."""
    sx, sy = seeds_of(level, metric, mode), seeds_of(base, metric, mode)
    x, y = sx.finished, sy.finished
    fx, fy = sx.n - len(x), sy.n - len(y)
    lo, hi = stats.diff_ci(x, y)
    got = every_seed.every_seed_test(sx, sy, mode)
    test, p, floor = got["test"], got["p"], got["floor"]
    out = {k: got[k] for k in ("p_failure", "w_failure", "prob_worse_failure")}
    sd = stats.pooled_sd(x, y)
    effect = float(x.mean() - y.mean()) if len(x) and len(y) else math.nan
    every_x = every_seed.worst_rank_scores(x, sx.n_diverged, mode, collapsed=sx.collapsed)
    every_y = every_seed.worst_rank_scores(y, sy.n_diverged, mode, collapsed=sy.collapsed)
    return {**out, "n_failed_level": fx, "n_failed_baseline": fy, "n_measured_level": len(x),
            "n_measured_baseline": len(y), "mean_level": x.mean() if len(x) else math.nan,
            "mean_baseline": y.mean() if len(y) else math.nan, "effect": effect, "ci_low": lo, "ci_high": hi,
            "prob_worse": ranks.prob_worse(every_x, every_y), "std_effect": effect / sd if sd > 0 else math.nan,
            "test": test, "p_value": p, "p_floor": floor, "p_measured": stats.diff_pvalue(x, y),
            "p_quality": stats.diff_pvalue(x, y), "_seeds": (sx, sy)}


def best_configuration(trials: pd.DataFrame, metric: str, mode: str,
                       order: list[str] | None = None) -> tuple[str, float | None, int] | None:
    """The best configuration on ``metric`` by the rule the tests use, over every seed: where no seed of any
    configuration failed, the best mean (Welch's test compares means); else the best mean rank among the pooled
    seeds of every configuration in ``worst_rank_scores``' order (finished by value, then collapsed by value,
    then diverged), so that a configuration is never best on its survivors. (label, its mean rank or None for the
    mean rule, the number of seeds ranked); None when no configuration has a finished seed. Ties: the first in
    ``order`` (default: as ``trials`` lists them)."""
    done = trials[trials["status"].isin(FINISHED)]
    done = done.assign(_label=stability_labels(done))
    present = set(done["configuration"])
    labels = [c for c in (order or list(dict.fromkeys(done["configuration"]))) if c in present]
    seeds = {c: seeds_of(done[done["configuration"] == c], metric, mode) for c in labels}
    if not any(len(s.finished) for s in seeds.values()):
        return None
    if all(s.n == len(s.finished) for s in seeds.values()):
        means = {c: s.finished.mean() for c, s in seeds.items() if len(s.finished)}
        pick = min if mode == "min" else max
        best = pick(means, key=lambda c: means[c])
        return best, None, sum(len(s.finished) for s in seeds.values())
    mean_ranks = ranks.mean_ranks([every_seed.worst_rank_scores(s.finished, s.n_diverged, mode,
                                                                collapsed=s.collapsed) for s in seeds.values()])
    best = min(range(len(labels)), key=lambda i: mean_ranks[i])
    return labels[best], mean_ranks[best], sum(s.n for s in seeds.values())


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
            "p_value": p, "p_floor": stats.proportion_floor(nx, ny), "p_measured": p, "p_quality": math.nan,
            "p_failure": math.nan, "w_failure": math.nan, "prob_worse_failure": math.nan, "_seeds": None}


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
        base_all = trials[trials[factor.column] == factor.baseline]
        base_improving = still_improving(base, primary, modes[primary])[0] if primary else None
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
                **ratios(everyone, base_all),
            }
            for metric in order:
                if metric == STABILITY:
                    row = {**common, "metric": metric, "mode": "max", **_stability(group, base)}
                else:
                    mode = modes[metric]
                    row = {**common, "metric": metric, "mode": mode, **_quality(group, base, metric, mode)}
                if metric == primary:
                    row["improving_level"], row["gain_share_level"] = still_improving(group, metric, mode)
                    row["improving_baseline"] = base_improving
                rows.append(row)
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    seeds = [r.pop("_seeds") for r in rows]  # [rows]: each quality comparison's seeds, for seeds_needed
    out = pd.DataFrame(rows).reindex(columns=COLUMNS)
    out["_seeds"] = seeds
    out["family"] = out["metric"].where(~out["metric"].isin([primary, STABILITY]), "answer")
    for col in ("direction", "direction_measured", "seeds_needed"):
        out[col] = pd.Series([None] * len(out), index=out.index, dtype=object)
    for _, idx in out.groupby("family").groups.items():
        _verdicts(out, idx)
    return _sort(out.drop(columns="_seeds"), order)


def _verdicts(out: pd.DataFrame, idx: pd.Index) -> None:
    """p_holm, direction, seeds_needed and the finished seeds' verdict of one family of comparisons, in place."""
    fam = out.loc[idx]
    p = fam["p_value"].to_numpy(dtype=float)
    p_measured = fam["p_measured"].to_numpy(dtype=float)
    out.loc[idx, "p_holm"] = stats.holm(p)
    out.loc[idx, "p_holm_measured"] = stats.holm(p_measured)
    m = int(np.isfinite(p).sum())
    for j, i in enumerate(idx):
        r = out.loc[i]
        floor = float(r["p_floor"])
        out.at[i, "direction"] = _direction(r, out.at[i, "p_holm"], _resolvable(p, j, floor))
        if r["test"] == BOSCHLOO:
            out.at[i, "direction_measured"] = _direction(r, out.at[i, "p_holm_measured"],
                                                         _resolvable(p_measured, j, floor))
        else:
            out.at[i, "direction_measured"] = _direction(r, out.at[i, "p_holm_measured"], True, measured=True)
        if out.at[i, "direction"] == "not resolvable":
            if r["test"] == BOSCHLOO:
                out.at[i, "seeds_needed"] = power.seeds_needed(stats.proportion_floor, m)
            else:
                sx, sy = r["_seeds"]
                out.at[i, "seeds_needed"] = power.seeds_needed(
                    lambda n, _: every_seed.two_part_floor(n, sx, sy, r["mode"]), m)


def _resolvable(p: np.ndarray, j: int, floor: float) -> bool:
    """Whether comparison j could pass Holm's correction with its smallest possible p, the family's others as they
    are."""
    if not math.isfinite(floor):
        return False
    best = p.copy()
    best[j] = floor
    return bool(stats.holm(best)[j] < stats.ALPHA)


def _direction(r: pd.Series, p_holm: float, resolvable: bool, measured: bool = False) -> str:
    """better / worse / unclear / not resolvable / no test (module docstring); ``measured``: Welch's test over the
    finished seeds alone."""
    p = r["p_measured"] if measured else r["p_value"]
    if not math.isfinite(p):
        return "no test"
    if not p_holm < stats.ALPHA:
        return "unclear" if resolvable else "not resolvable"
    mode, test = r["mode"], (WELCH if measured else r["test"])
    quality_says = _side(r["effect"], mode) if math.isfinite(r["effect"]) else 0  # +1 worse, -1 better, 0 none
    quality_clear = math.isfinite(r["p_quality"]) and r["p_quality"] < stats.ALPHA
    if test in (WELCH, BOSCHLOO):  # the CI must agree: exclude 0
        lo, hi = r["ci_low"], r["ci_high"]
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 <= hi:
            return "unclear"
        says, against = _side(r["effect"], mode), 0
    else:
        w, pf, pq = r["w_failure"], r["p_failure"], r["p_quality"]
        by_failure = w > 0 and math.isfinite(pf) and \
            (not (w < 1 and math.isfinite(pq)) or pf / w <= pq / (1 - w))
        failure_says = 0 if r["prob_worse_failure"] == 0.5 else (1 if r["prob_worse_failure"] > 0.5 else -1)
        failure_clear = math.isfinite(pf) and pf < stats.ALPHA
        says = failure_says if by_failure else quality_says
        against = (-says if quality_clear and quality_says == -says else 0) if by_failure else \
            (-says if failure_clear and failure_says == -says else 0)
    if test == TWO_PART and (r["prob_worse"] == 0.5 or (r["prob_worse"] > 0.5) != (says > 0)):
        return "unclear"  # over every seed the level is not on that side: e.g. better survivors of many failures
    if says == 0 or against:
        return "unclear"
    return "worse" if says > 0 else "better"


def _side(effect: float, mode: str) -> int:
    """+1 when an effect of this sign is worse, -1 when better, 0 for none."""
    if effect == 0:
        return 0
    return (1 if effect > 0 else -1) if mode == "min" else (1 if effect < 0 else -1)


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

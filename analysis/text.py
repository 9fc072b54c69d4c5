"""The report's words: one plain sentence per table row, and the study's answer stated up front.

Why sentences as well as tables: a reader should not have to know which column holds the CI, nor which direction is
better, to learn what a row says; and the answer ("which factors matter, by how much, how sure") is what the study
was run for, so it comes first.
"""
from __future__ import annotations

import pandas as pd

from analysis.effects import STABILITY
from analysis.markdown import better_text, ci, num, pct, pvalue
from analysis.stats import smallest_pvalue


UNSTABLE = ("diverged", "collapsed", "d_dominates")  # the stability statuses other than ok, in the order checked
STABILITY_RATE = "stability = share of finished seeds (trainer status ok or diverged) whose stability status is ok"
STABILITY_STATUSES_TEXT = (
    "A seed's stability status is ok, diverged (non-finite losses, samples or final metric), collapsed (G covers at "
    "most one class or mode, or its samples have almost no spread) or d_dominates (D(x) near 1 and D(G(z)) near 0 "
    "over the last quarter of training), as gan_core.metrics.assess_stability labels it; thresholds: README, "
    "section \"Metrics\".")


def _seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def unstable_phrase(n_finished: int, counts: dict[str, int]) -> str:
    """Every stability status other than ok with its count: "3 of 3 seeds collapsed", "1 of 3 seeds diverged,
    2 collapsed", "D dominated in 1 of 3 seeds"; "all seeds stable" when there is none."""
    parts = []
    for status in UNSTABLE:
        k = int(counts.get(status, 0) or 0)
        if not k:
            continue
        of = f"{k} of {_seeds(n_finished)}" if not parts else str(k)
        parts.append(f"D dominated in {of}" if status == "d_dominates" else f"{of} {status}")
    return ", ".join(parts) if parts else "all seeds stable"


def _counts(row: pd.Series, suffix: str = "") -> dict[str, int]:
    return {s: int(row.get(f"n_{s}{suffix}", 0) or 0) for s in UNSTABLE}


def metric_phrase(row: pd.Series, metric: str) -> str:
    """ "fd 45.2 [40.1, 50.3] over 3 seeds", "fd 45.2 (1 seed: no CI)" or "no finite fd"."""
    n = int(row[f"{metric}_n"]) if f"{metric}_n" in row.index else 0
    if n == 0:
        return f"no finite {metric}"
    if n == 1:
        return f"{metric} {num(row[f'{metric}_mean'])} (1 seed: no CI)"
    return f"{metric} {num(row[f'{metric}_mean'])} {ci(row[f'{metric}_ci_low'], row[f'{metric}_ci_high'])} " \
           f"over {_seeds(n)}"


def stability_phrase(row: pd.Series) -> str:
    n, k = int(row["n_finished"]), int(row["n_ok"])
    if n == 0:
        return "no seed finished"
    text = (f"stable in {k} of {n} finished seeds ({pct(row['stability'])} "
            f"[{pct(row['stability_ci_low'])}, {pct(row['stability_ci_high'])}])")
    if k < n:
        text += f": {unstable_phrase(n, _counts(row))}"
    if int(row.get("n_stopped", 0)):
        text += f"; {int(row['n_stopped'])} stopped early by the scheduler (last values used for the metrics)"
    if int(row["n_other"]):
        text += f"; {int(row['n_other'])} more did not finish"
    return text


def summary_sentence(row: pd.Series, primary: str) -> str:
    changes = f" ({row['changes']})" if isinstance(row.get("changes"), str) and row.get("changes") else ""
    return f"**{row['configuration']}**{changes}: {metric_phrase(row, primary)}; {stability_phrase(row)}."


def effect_sentence(rows: pd.DataFrame, metric: str) -> str:
    """One comparison (the rows of effects.csv with one ``comparison``) read out on ``metric``."""
    r = rows[rows["metric"] == metric].iloc[0]
    changes = f" ({r['changes']})" if r["changes"] else ""
    if r["n_level"] == 0 or r["n_baseline"] == 0:
        head = f"{r['comparison']}{changes}: no finite {metric} to compare"
    else:
        unit = " (share of seeds with stability ok)" if metric == STABILITY else ""
        interval = "" if r["direction"] == "no CI" else " " + ci(r["ci_low"], r["ci_high"], signed=True)
        head = (f"{r['comparison']}{changes}: {metric}{unit} {num(r['effect'], signed=True)}{interval} "
                f"against {r['baseline']}")
        counts = f"{r['n_level']} vs {r['n_baseline']} seeds"
        if r["direction"] == "no CI":
            head += f" (no CI: {counts})"
        elif r["direction"] == "unclear":
            head += f" (CI covers 0: no clear effect; p = {pvalue(r['p_value'])}, {counts})"
        else:
            head += f" ({r['direction']}; p = {pvalue(r['p_value'])}, {counts})"
    n_fin, n_all = int(r["n_finished_level"]), int(r["n_trials_level"])
    tail = unstable_phrase(n_fin, _counts(r, "_level")) if n_fin else "no seed finished"
    if n_all > n_fin:
        tail += f" ({n_all - n_fin} of {_seeds(n_all)} did not run to the end)"
    return f"{head}; {tail}."


def answer(effects: pd.DataFrame, summary: pd.DataFrame, trials: pd.DataFrame, primary: str, mode: str,
           baseline: str | None) -> list[str]:
    """The study's answer in a few bullet points, most important first."""
    n_trials = len(trials)
    counts = trials["status"].value_counts()
    n_ok, n_div = int(counts.get("ok", 0)), int(counts.get("diverged", 0))
    if n_ok + n_div == 0:
        statuses = ", ".join(f"{v} {k}" for k, v in counts.items())
        return [f"No trial finished ({statuses}): there is nothing to compare yet."]
    out = []
    if n_ok == 0:
        out.append(f"All {n_div} finished trials diverged: no configuration trained stably, so there are no "
                   f"{primary} values to compare; only stability is reported.")
    seeds = summary["n_finished"]
    seeds_text = _seeds(int(seeds.min())) if seeds.min() == seeds.max() else \
        f"{int(seeds.min())} to {int(seeds.max())} seeds"
    if effects.empty:
        row = summary.iloc[0]
        quality = f"{metric_phrase(row, primary)}; " if f"{primary}_n" in row.index else ""
        out.append(f"One configuration (only the seed varies): {quality}{stability_phrase(row)}.")
        return out
    prim = effects[effects["metric"] == primary]
    if len(prim) and n_ok:
        clear = prim[prim["direction"].isin(["better", "worse"])]
        intro = (f"On {primary} ({better_text(mode)}), {len(clear)} of {len(prim)} comparisons against the baseline "
                 f"({baseline or 'each factor at its baseline level'}) have a 95% CI that excludes 0 "
                 f"({seeds_text} per configuration)")
        if len(clear):
            out.append(intro + ":")
            for comp in clear["comparison"]:
                out.append("  - " + effect_sentence(effects[effects["comparison"] == comp], primary))
            rest = len(prim) - len(clear)
            if rest:
                out.append(f"The other {rest} comparison{'s' if rest > 1 else ''} (CI covering 0, or no CI) "
                           f"show{'' if rest > 1 else 's'} no effect on {primary} at this number of seeds.")
        elif prim["direction"].eq("no CI").all():
            out.append(intro + f". No comparison has the 2 or more seeds on each side that a CI needs: this study "
                       f"cannot say which factors matter for {primary}; run more seeds or trials.")
        else:
            top = prim[prim["direction"] != "no CI"].iloc[0]
            out.append(intro + f". No factor is shown to matter for {primary}; the largest estimated effect is "
                       f"{top['comparison']} ({num(top['effect'], signed=True)} "
                       f"{ci(top['ci_low'], top['ci_high'], signed=True)}).")
        out += _few_seeds_lines(prim)
        best = summary.dropna(subset=[f"{primary}_mean"]) if f"{primary}_mean" in summary else summary.iloc[:0]
        if len(best):
            b = best.loc[best[f"{primary}_mean"].idxmin() if mode == "min" else best[f"{primary}_mean"].idxmax()]
            out.append(f"Best mean {primary}: **{b['configuration']}**, {metric_phrase(b, primary)}.")
    stab = effects[effects["metric"] == STABILITY]
    clear = stab[stab["direction"].isin(["better", "worse"])]
    lo = summary.loc[summary["stability"].idxmin()] if summary["stability"].notna().any() else None
    hi = summary.loc[summary["stability"].idxmax()] if summary["stability"].notna().any() else None
    if lo is not None:
        what = "Stability (share of finished seeds whose stability status is ok: not diverged, collapsed or " \
               "D-dominated)"
        if lo["stability"] == hi["stability"]:
            spread = f"{what} is {pct(lo['stability'])} in every configuration"
        else:
            spread = (f"{what} ranges from {pct(lo['stability'])} ({lo['configuration']}) to "
                      f"{pct(hi['stability'])} ({hi['configuration']})")
        if len(clear):
            out.append(spread + "; clearly different from the baseline (95% CI excludes 0):")
            for comp in clear["comparison"]:
                out.append("  - " + effect_sentence(effects[effects["comparison"] == comp], STABILITY))
        else:
            out.append(spread + "; no difference from the baseline is clear at 95%.")
        out += _unstable_lines(summary)
    n_stopped = int(counts.get("stopped", 0))
    if n_stopped:
        out.append(f"{n_stopped} of {n_trials} trials were stopped early by the scheduler: their last values enter "
                   f"the metric statistics, not the stability rate.")
    n_other = n_trials - n_ok - n_div - n_stopped
    if n_other:
        out.append(f"{n_other} of {n_trials} trials did not finish (see Trials) and are left out of the statistics.")
    return out


SIGNIFICANCE = 0.05


def _few_seeds_lines(prim: pd.DataFrame) -> list[str]:
    """How sure the answer can be at this number of seeds, said plainly when the seeds cannot reach p < 0.05.

    Why: a 95% bootstrap CI that excludes 0 reads as proof, but with 3 seeds a side the permutation test cannot go
    below p = 0.1, and a percentile bootstrap of 3 values is narrower than its nominal level; the reader should learn
    that from the report, not from a statistician.
    """
    rows = prim[(prim["n_level"] >= 2) & (prim["n_baseline"] >= 2)]  # the comparisons that have a p at all
    if rows.empty:
        return []
    floors = [smallest_pvalue(int(r["n_level"]), int(r["n_baseline"])) for _, r in rows.iterrows()]
    worst = max(range(len(floors)), key=lambda i: floors[i])
    if not floors[worst] > SIGNIFICANCE:
        return []
    r = rows.iloc[worst]
    holm = f" ({pvalue(min(1.0, len(rows) * floors[worst]))} after Holm over {len(rows)} comparisons)" \
        if len(rows) > 1 else ""
    return [f"How sure: with {int(r['n_level'])} vs {int(r['n_baseline'])} seeds the permutation test cannot give "
            f"p below {pvalue(floors[worst])}{holm}, and a bootstrap CI from so few seeds runs narrower than its "
            f"nominal 95%: read these effects as indications. With 4 seeds on each side p can reach "
            f"{pvalue(smallest_pvalue(4, 4))}, with 5 {pvalue(smallest_pvalue(5, 5))}."]


MAX_UNSTABLE_LISTED = 12


def _unstable_lines(summary: pd.DataFrame) -> list[str]:
    """The configurations with a seed that did not train stably, each with its stability statuses."""
    bad = summary[(summary["n_finished"] > 0) & (summary["n_ok"] < summary["n_finished"])]
    if bad.empty:
        return []
    parts = [f"**{r['configuration']}** {unstable_phrase(int(r['n_finished']), _counts(r))}"
             for _, r in bad.head(MAX_UNSTABLE_LISTED).iterrows()]
    more = f"; and {len(bad) - MAX_UNSTABLE_LISTED} more configurations (summary.csv)" \
        if len(bad) > MAX_UNSTABLE_LISTED else ""
    return ["Seeds that did not train stably: " + "; ".join(parts) + more + "."]

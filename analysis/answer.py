"""The study's answer, stated up front in the report: which factors matter, by how much, how sure.

Why first: the answer is what the study was run for. It calls an effect clear only where ``analysis.effects`` does
(a test over every seed, corrected over all the answer's comparisons, and a CI that agrees), says which clear
effects may only be "slower" (still improving at this budget), names the comparisons these seed counts cannot
resolve and the seeds that could, and shows where leaving the failed seeds out would have said something else. A
search (Optuna, ASHA) gets ``search_answer``: its best settings, not effects.
"""
from __future__ import annotations

import math

import pandas as pd

from analysis import stats
from analysis.effects import CLEAR, STABILITY
from analysis.markdown import better_text, ci, num, pct, pvalue
from analysis.text import (effect_sentence, improving_phrase, metric_phrase, seeds_phrase, stability_phrase,
                           unstable_counts, unstable_phrase)


def _improving_of(r: pd.Series) -> bool | None:
    v = r["improving_level"]
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else bool(v)


def answer(effects: pd.DataFrame, summary: pd.DataFrame, trials: pd.DataFrame, primary: str, mode: str,
           baseline: str | None) -> list[str]:
    """The study's answer in a few bullet points, most important first."""
    n_trials = len(trials)
    counts = trials["status"].value_counts()
    n_ok, n_div = int(counts.get("ok", 0)), int(counts.get("diverged", 0))
    if n_ok + n_div == 0:
        statuses = ", ".join(f"{v} {k}" for k, v in counts.items())
        when = f" {SAVED}" if counts.index.isin(("running", "pending")).any() else ""
        return [f"No trial finished ({statuses}{when}): there is nothing to compare yet."]
    out = []
    if n_ok == 0:
        out.append(f"All {n_div} finished trials diverged: no configuration trained stably, so there are no "
                   f"{primary} values to compare; only stability is reported.")
    seeds = summary["n_finished"]
    seeds_text = seeds_phrase(int(seeds.min())) if seeds.min() == seeds.max() else \
        f"{int(seeds.min())} to {int(seeds.max())} seeds"
    if effects.empty:
        row = summary.iloc[0]
        quality = f"{metric_phrase(row, primary)}; " if f"{primary}_n" in row.index else ""
        out.append(f"One configuration (only the seed varies): {quality}{stability_phrase(row)}.")
        return out
    family = effects[effects["family"] == "answer"]
    n_verdicts = int(family["p_value"].notna().sum())
    prim = effects[effects["metric"] == primary]
    if len(prim) and n_ok:
        out += _quality_lines(effects, prim, primary, mode, baseline, seeds_text, n_verdicts)
        best = summary.dropna(subset=[f"{primary}_mean"]) if f"{primary}_mean" in summary else summary.iloc[:0]
        if len(best):
            b = best.loc[best[f"{primary}_mean"].idxmin() if mode == "min" else best[f"{primary}_mean"].idxmax()]
            out.append(f"Best mean {primary}: **{b['configuration']}**, {metric_phrase(b, primary)}"
                       f"{improving_phrase(b, primary)}.")
    out += _stability_lines(effects, summary)
    out += _resolution_lines(family, n_verdicts)
    n_stopped = int(counts.get("stopped", 0))
    if n_stopped:
        out.append(f"{n_stopped} of {n_trials} trials were stopped early by a scheduler: measured at another "
                   f"budget, they are not in the statistics.")
    n_other = n_trials - n_ok - n_div - n_stopped
    if n_other:
        kinds = ", ".join(f"{int(counts[s])} {NOT_COUNTED[s]}" for s in NOT_COUNTED if s in counts)
        out.append(f"{n_other} of {n_trials} trials are not in the statistics: {kinds} (see Trials and Notes).")
    return out


# When Ray's state said a trial was running or pending: whether a driver still runs it, a results directory cannot
# tell (analysis.load), so the report says only what the state said.
SAVED = "when Ray last saved the study's state"
# Why a trial that is no result is left out, by its status (analysis.load), in the order the answer names them.
NOT_COUNTED = {
    "error": "failed after all restarts", "running": f"not finished (running {SAVED})",
    "pending": f"not finished (pending {SAVED})",
    "damaged": "damaged (its params.json or result.json cannot be read as Ray wrote it)",
    "incomplete": "incomplete (its result.json ends before its run's last report)",
    "missing": "missing (its folder is gone, though Ray's state lists it)",
    "duplicate": "duplicate (a configuration and seed a second driver ran again)",
}


def _quality_lines(effects: pd.DataFrame, prim: pd.DataFrame, primary: str, mode: str, baseline: str | None,
                   seeds_text: str, n_verdicts: int) -> list[str]:
    out = []
    clear = prim[prim["direction"].isin(CLEAR)]
    out.append(f"On {primary} ({better_text(mode)}), {len(clear)} of {len(prim)} comparisons against the baseline "
               f"({baseline or 'each factor at its baseline level'}) are clear ({seeds_text} per configuration; "
               f"tested over every seed, a diverged or collapsed seed counting as the worst outcome; Holm's "
               f"correction over the {n_verdicts} {primary} and stability comparisons of this answer)"
               + (":" if len(clear) else "."))
    groups = [("Worse, and converged", lambda r: r["direction"] == "worse" and _improving_of(r) is False),
              ("Worse at this budget, still improving (it may only be slower)",
               lambda r: r["direction"] == "worse" and _improving_of(r) is True),
              ("Worse (convergence not measurable)", lambda r: r["direction"] == "worse" and _improving_of(r) is None),
              ("Better", lambda r: r["direction"] == "better")]
    for title, pick in groups:
        picked = [r["comparison"] for _, r in clear.iterrows() if pick(r)]
        if picked:
            out.append(f"{title}:")
            out += ["  - " + effect_sentence(effects[effects["comparison"] == c], primary) for c in picked]
    unresolved = prim[prim["direction"] == "not resolvable"]
    if len(unresolved):
        needed = unresolved["seeds_needed"].dropna()
        more = f" {int(needed.max())} seeds per configuration could" if len(needed) else " more seeds could"
        out.append(f"Not resolvable with these seeds ({', '.join(unresolved['comparison'])}): some of their seeds "
                   f"failed, so they are compared by the exact worst-rank test, which cannot reach p = 0.05 after "
                   f"Holm's correction at these seed counts whatever the data show;{more}.")
    unclear = prim[prim["direction"] == "unclear"]
    if len(unclear):
        parts = [f"{r['comparison']} ({num(r['effect'], signed=True)} {ci(r['ci_low'], r['ci_high'], signed=True)})"
                 for _, r in unclear.iterrows()]
        out.append(f"No clear effect on {primary}: {'; '.join(parts)}.")
    no_test = prim[prim["direction"] == "no test"]
    if len(no_test):
        out.append(f"No test (too few seeds on a side): {', '.join(no_test['comparison'])}.")
    differs = prim[(prim["direction_measured"] != prim["direction"]) & prim["direction_measured"].isin(CLEAR)]
    if len(differs):
        parts = [f"{r['comparison']} {r['direction_measured']}" for _, r in differs.iterrows()]
        out.append(f"Comparing only the measured values (a diverged seed dropped, a collapsed one at its value) "
                   f"would instead call: {'; '.join(parts)}. The answer does not: that comparison ignores how the "
                   f"other seeds failed.")
    return out


def _stability_lines(effects: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    out = []
    stab = effects[effects["metric"] == STABILITY]
    clear = stab[stab["direction"].isin(CLEAR)]
    if not summary["stability"].notna().any():
        return out
    lo, hi = summary.loc[summary["stability"].idxmin()], summary.loc[summary["stability"].idxmax()]
    what = "Stability (share of finished seeds whose stability status is stable: not diverged, collapsed or D-dominated)"
    if lo["stability"] == hi["stability"]:
        spread = f"{what} is {pct(lo['stability'])} in every configuration"
    else:
        spread = (f"{what} ranges from {pct(lo['stability'])} ({lo['configuration']}) to "
                  f"{pct(hi['stability'])} ({hi['configuration']})")
    if len(clear):
        out.append(spread + "; clearly different from the baseline (Boschloo's exact test, Holm over the answer):")
        out += ["  - " + effect_sentence(effects[effects["comparison"] == c], STABILITY) for c in clear["comparison"]]
    else:
        out.append(spread + "; no difference from the baseline is clear after correction.")
    unresolved = stab[stab["direction"] == "not resolvable"]
    if len(unresolved):
        needed = unresolved["seeds_needed"].dropna()
        more = f"; {int(needed.max())} seeds a side could" if len(needed) else ""
        out.append(f"Not resolvable with these seeds on stability ({', '.join(unresolved['comparison'])}): "
                   f"Boschloo's exact test cannot reach p = 0.05 after Holm's correction at these seed counts{more}.")
    out += _unstable_lines(summary)
    return out


def _resolution_lines(family: pd.DataFrame, n_verdicts: int) -> list[str]:
    """What these seed counts can resolve: the smallest effect found with 80% probability, and the floor of the
    exact tests where a seed failed."""
    tested = family[family["p_value"].notna()]
    if tested.empty:
        return []
    n = int(min(tested["n_level"].min(), tested["n_baseline"].min()))
    if n < 2:
        return []
    d = stats.detectable_effect(n, n_verdicts)
    floor = stats.rank_floor(n, n)
    need = stats.seeds_needed(stats.rank_floor, n_verdicts)
    text = (f"How sure: with {n} seeds a side and {n_verdicts} corrected comparisons, a difference of "
            f"{num(d, digits=2)} seed-to-seed standard deviations is called with 80% probability when no seed "
            f"failed (Welch's t test); where a seed failed, the exact worst-rank test cannot give p below "
            f"{pvalue(floor)}, {pvalue(min(1.0, floor * n_verdicts))} after Holm")
    if need is not None and need > n:
        text += f", so those comparisons need {need} seeds a side"
    return [text + "."]


MAX_UNSTABLE_LISTED = 12


def _unstable_lines(summary: pd.DataFrame) -> list[str]:
    """The configurations with a seed that did not train stably, each with its stability statuses."""
    bad = summary[(summary["n_finished"] > 0) & (summary["n_stable"] < summary["n_finished"])]
    if bad.empty:
        return []
    parts = [f"**{r['configuration']}** {unstable_phrase(int(r['n_finished']), unstable_counts(r))}"
             for _, r in bad.head(MAX_UNSTABLE_LISTED).iterrows()]
    more = f"; and {len(bad) - MAX_UNSTABLE_LISTED} more configurations (summary.csv)" \
        if len(bad) > MAX_UNSTABLE_LISTED else ""
    return ["Seeds that did not train stably: " + "; ".join(parts) + more + "."]


# ------------------------------------------------------------------------------------------------------ searches
BEST_LISTED = 5


def search_answer(trials: pd.DataFrame, primary: str, mode: str, search: dict[str, str],
                  searched: list[str]) -> list[str]:
    """A search's answer: the best settings it found at the full budget, and what it stopped early. No effects:
    the searcher chose the settings adaptively and the scheduler cut trials at different budgets."""
    who = ", ".join(f"{k} {v}" for k, v in search.items()) or "a searcher or scheduler"
    out = [f"A search ({who}): it chose its settings adaptively and stopped trailing trials early, so a "
           f"difference between its settings is not an effect of the setting; it reports the best settings found, "
           f"not effect sizes. To measure an effect, run the chosen settings as a grid with seeds."]
    done = trials[trials["status"] == "ok"]
    col = f"final_{primary}"
    ranked = done.assign(_v=pd.to_numeric(done[col], errors="coerce")).dropna(subset=["_v"]) \
        .sort_values("_v", ascending=mode == "min", kind="stable") if col in done else done.iloc[:0]
    if ranked.empty:
        out.append(f"No trial ran the whole budget with a finite {primary}.")
    else:
        out.append(f"Best settings at the full budget ({better_text(mode)}):")
        for _, r in ranked.head(BEST_LISTED).iterrows():
            values = ", ".join(f"{k} = {num(r[k])}" for k in searched if k in r.index)
            out.append(f"  - {values}: {primary} {num(r['_v'])} (trial {r['trial_id']}, "
                       f"{r['stability'] or 'stability not assessed'})")
    stopped = trials[trials["status"] == "stopped"]
    if len(stopped):
        at = pd.to_numeric(stopped["g_steps"], errors="coerce").dropna().astype(int)
        where = f" at g_steps {', '.join(str(s) for s in sorted(set(at)))}" if len(at) else ""
        out.append(f"{len(stopped)} of {len(trials)} trials were stopped early by the scheduler{where} "
                   f"(trials.csv: status stopped).")
    n_div = int((trials["status"] == "diverged").sum())
    if n_div:
        out.append(f"{n_div} of {len(trials)} trials diverged (never chosen as best).")
    return out

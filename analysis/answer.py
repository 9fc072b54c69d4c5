"""The study's answer, stated up front in the report: which factors matter, by how much, how sure.

Why first: the answer is what the study was run for. It calls an effect clear only where ``analysis.effects`` does
(a test over every seed, corrected over all the answer's comparisons, and evidence that does not point both ways),
says which clear effects may only be "slower" (worse, still improving at this budget, and no seed of it failed:
a failed seed is not a slow one) or "faster" (better than a baseline that was still improving and lost no seed),
names the best configuration by the rule the tests use over every seed (never the mean of the survivors), names
the comparisons these seed counts cannot resolve and the seeds that could, says what the tests can detect for the
comparisons at hand, shows where leaving the failed seeds out would have said something else, and names a
"better" configuration that cost several times the baseline's compute (``analysis.compute``: its FLOPs per run, or
its measured seconds where the FLOPs were not recorded), since its gain may be bought with work. A search
(Optuna, ASHA) gets ``search_answer``: its best settings, not effects.
"""
from __future__ import annotations

import math

import pandas as pd

from analysis import power
from analysis.compute import COSTLY, costly, costly_phrase
from analysis.effects import CLEAR, STABILITY, TWO_PART, WELCH, best_configuration
from analysis.markdown import better_text, ci, num, pct, pvalue
from analysis.text import (effect_sentence, improving_phrase, metric_phrase, seeds_phrase, stability_phrase,
                           unstable_counts, unstable_phrase)


def _improving_of(r: pd.Series, side: str = "level") -> bool | None:
    v = r[f"improving_{side}"]
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
        out += _best_lines(trials, summary, primary, mode)
    out += _stability_lines(effects, summary)
    out += _resolution_lines(family, prim, n_verdicts)
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
# Why a trial that is no result is left out, by its status (analysis.trial_rows), in the order the answer names them.
NOT_COUNTED = {
    "error": "failed after all restarts", "running": f"not finished (running {SAVED})",
    "pending": f"not finished (pending {SAVED})",
    "damaged": "damaged (its params.json or result.json cannot be read as Ray wrote it)",
    "incomplete": "incomplete (its result.json ends before its run's last report)",
    "missing": "missing (its folder is gone, though Ray's state lists it)",
    "duplicate": "duplicate (a configuration and seed a second driver ran again)",
}


def _best_lines(trials: pd.DataFrame, summary: pd.DataFrame, primary: str, mode: str) -> list[str]:
    """The best configuration by the rule the tests use over every seed (``effects.best_configuration``)."""
    got = best_configuration(trials, primary, mode, summary["configuration"].tolist())
    if got is None:
        return []
    label, rank, n_seeds = got
    b = summary[summary["configuration"] == label].iloc[0]
    if rank is None:
        return [f"Best mean {primary}: **{label}**, {metric_phrase(b, primary)}{improving_phrase(b, primary)}."]
    failed = f"; {unstable_phrase(int(b['n_finished']), unstable_counts(b))}" \
        if int(b["n_stable"]) < int(b["n_finished"]) else ""
    return [f"Best {primary} over every seed: **{label}** (mean rank {num(rank)} among the {n_seeds} seeds of "
            f"every configuration, a failed seed ranked behind every finished one: some seeds failed, so not the "
            f"best mean of the survivors), {metric_phrase(b, primary)}{improving_phrase(b, primary)}{failed}."]


def _quality_lines(effects: pd.DataFrame, prim: pd.DataFrame, primary: str, mode: str, baseline: str | None,
                   seeds_text: str, n_verdicts: int) -> list[str]:
    out = []
    clear = prim[prim["direction"].isin(CLEAR)]
    out.append(f"On {primary} ({better_text(mode)}), {len(clear)} of {len(prim)} comparisons against the baseline "
               f"({baseline or 'each factor at its baseline level'}) are clear ({seeds_text} per configuration; "
               f"tested over every seed, a diverged or collapsed seed counting as a failure, worse than any "
               f"finished one; Holm's correction over the {n_verdicts} {primary} and stability comparisons of this "
               f"answer)" + (":" if len(clear) else "."))

    def worse(r, improving):  # a failed seed of the level is not a slow one: "slower" only when none failed
        return r["direction"] == "worse" and int(r["n_failed_level"]) == 0 and _improving_of(r) is improving

    def faster(r):
        return _improving_of(r, "baseline") is True and int(r["n_failed_baseline"]) == 0

    groups = [("Worse, and converged", lambda r: worse(r, False)),
              ("Worse at this budget, still improving (it may only be slower)", lambda r: worse(r, True)),
              ("Worse (convergence not measurable)", lambda r: worse(r, None)),
              ("Worse, with failed seeds (a diverged or collapsed seed is not a slower one)",
               lambda r: r["direction"] == "worse" and int(r["n_failed_level"]) > 0),
              ("Better", lambda r: r["direction"] == "better" and not faster(r)),
              ("Better at this budget than a baseline still improving (it may only be faster)",
               lambda r: r["direction"] == "better" and faster(r))]
    for title, pick in groups:
        picked = [r["comparison"] for _, r in clear.iterrows() if pick(r)]
        if picked:
            out.append(f"{title}:")
            out += ["  - " + effect_sentence(effects[effects["comparison"] == c], primary) for c in picked]
    pricey = [r for _, r in clear.iterrows() if r["direction"] == "better" and costly(r)]
    if pricey:
        out.append(f"Better, but at several times the compute (at least {COSTLY:g} times the baseline's per run): "
                   + "; ".join(costly_phrase(r) for r in pricey) + ".")
    unresolved = prim[prim["direction"] == "not resolvable"]
    if len(unresolved):
        needed = unresolved["seeds_needed"].dropna()
        more = f" {int(needed.max())} seeds per configuration could" if len(needed) else \
            " no seed count could, if the seeds failed alike"
        out.append(f"Not resolvable with these seeds ({', '.join(unresolved['comparison'])}): some of their seeds "
                   f"failed, and with their outcomes (how many failed, and how) the two-part test cannot reach "
                   f"p = 0.05 after Holm's correction whatever the values show;{more}.")
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
        out.append(f"Comparing only the finished seeds (every diverged or collapsed seed dropped) would instead "
                   f"call: {'; '.join(parts)}. The answer does not: that comparison ignores how the other seeds "
                   f"failed.")
    return out


def _stability_lines(effects: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    out = []
    stab = effects[effects["metric"] == STABILITY]
    clear = stab[stab["direction"].isin(CLEAR)]
    if not summary["stability"].notna().any():
        return out
    lo, hi = summary.loc[summary["stability"].idxmin()], summary.loc[summary["stability"].idxmax()]
    what = ("Stability (share of finished seeds whose stability status is stable: not diverged, collapsed or "
            "D-dominated)")
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


MAX_POWER_LISTED = 6


def _resolution_lines(family: pd.DataFrame, prim: pd.DataFrame, n_verdicts: int) -> list[str]:
    """What these seeds can resolve, for the comparisons at hand: the difference Welch's test finds with 80%
    probability where no seed failed; where seeds failed, the difference their finished seeds must show at the share
    of the level the two-part test gives them, or, where a side kept fewer than 2 finished seeds, the smallest p its
    failures allow."""
    tested = prim[prim["p_value"].notna()]
    if tested.empty or family[family["p_value"].notna()].empty:
        return []
    parts = []
    welch = tested[tested["test"] == WELCH]
    if len(welch):
        n = int(min(welch["n_level"].min(), welch["n_baseline"].min()))
        if n >= 2:
            parts.append(f"where no seed failed, with {n} seeds a side, Welch's t test calls a difference of "
                         f"{num(power.detectable_effect(n, n_verdicts), digits=2)} seed-to-seed standard deviations "
                         f"with 80% probability")
    split = tested[tested["test"] == TWO_PART]
    finished = split[(split["n_measured_level"] >= 2) & (split["n_measured_baseline"] >= 2)
                     & (split["w_failure"] < 1)]
    groups: dict[tuple[int, int, float], list[str]] = {}
    for _, r in finished.iterrows():
        groups.setdefault((int(r["n_measured_level"]), int(r["n_measured_baseline"]), float(r["w_failure"])),
                          []).append(r["comparison"])
    for (nx, ny, w), comps in list(groups.items())[:MAX_POWER_LISTED]:
        d = power.detectable_effect(nx, n_verdicts, n_y=ny, share=1 - w)
        share = "" if w == 0 else f", which hold {pct(1 - w)} of the level"
        parts.append(f"where seeds failed, the finished seeds of {_listed(comps)} ({nx} vs {ny}{share}) need "
                     f"{num(d, digits=2)} for 80%")
    failure_only = split[~split.index.isin(finished.index)]
    if len(failure_only):
        floor = float(failure_only["p_floor"].min())
        one = len(failure_only) == 1
        parts.append(f"{_listed(failure_only['comparison'].tolist())} can be called only on how "
                     f"{'its' if one else 'their'} seeds failed (fewer than 2 finished seeds on a side), at p no "
                     f"lower than {pvalue(floor)}, {pvalue(min(1.0, floor * n_verdicts))} after Holm at its "
                     f"strictest")
    if not parts:
        return []
    return [f"How sure, over {n_verdicts} corrected comparisons: " + "; ".join(parts) + "."]


def _listed(names: list[str]) -> str:
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


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

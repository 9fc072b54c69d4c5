"""The report's words: one plain sentence per table row (a configuration, an effect), and the phrases the answer
(``analysis.answer``) is made of.

Why sentences as well as tables: a reader should not have to know which column holds the CI, nor which direction is
better, to learn what a row says.
"""
from __future__ import annotations

import math

import pandas as pd

from analysis.compute import compute_phrase
from analysis.effects import BOSCHLOO, CLEAR, STABILITY, TWO_PART
from analysis.markdown import ci, num, p_is, pct
from analysis.trial_frame import STABILITY_STATUSES, STABLE

UNSTABLE = tuple(s for s in STABILITY_STATUSES if s != STABLE)  # the stability statuses of seeds that failed
STABILITY_RATE = ("stability = share of finished seeds (trainer status ok or diverged) whose stability status is "
                  "stable")
STABILITY_STATUSES_TEXT = (
    "A seed's stability status is stable, diverged (non-finite losses, samples or final metric), collapsed (at least "
    "90% of its samples on one class or mode, or almost no spread) or d_dominates (D(x) near 1 and D(G(z)) near 0 "
    "over the last quarter of training), as gan_core.metrics.assess_stability labels it; thresholds: docs/METRICS.md, "
    "section \"Stability\". Diverged and collapsed seeds are failed seeds: the effects count them as worse than any "
    "finished seed.")
TEST_NAMES = {"welch": "Welch's t", TWO_PART: "two-part test", BOSCHLOO: "Boschloo's exact test"}


def seeds_phrase(n: int) -> str:
    """ "1 seed", "3 seeds"."""
    return f"{n} seed" if n == 1 else f"{n} seeds"


def unstable_phrase(n_finished: int, counts: dict[str, int]) -> str:
    """Every stability status other than stable with its count: "3 of 3 seeds collapsed", "1 of 3 seeds diverged,
    2 collapsed", "D dominated in 1 of 3 seeds"; "all seeds stable" when there is none."""
    parts = []
    for status in UNSTABLE:
        k = int(counts[status]) if status in counts else 0
        if not k:
            continue
        of = f"{k} of {seeds_phrase(n_finished)}" if not parts else str(k)
        parts.append(f"D dominated in {of}" if status == "d_dominates" else f"{of} {status}")
    return ", ".join(parts) if parts else "all seeds stable"


def unstable_counts(row: pd.Series, suffix: str = "") -> dict[str, int]:
    """A summary (or effects, ``suffix`` "_level") row's count of seeds per failed stability status."""
    return {s: int(row[f"n_{s}{suffix}"]) for s in UNSTABLE}


def metric_phrase(row: pd.Series, metric: str) -> str:
    """ "fd 45.2 [40.1, 50.3] over 3 seeds", "fd 45.2 (1 seed: no CI)" or "no finite fd"."""
    n = int(row[f"{metric}_n"]) if f"{metric}_n" in row.index else 0
    if n == 0:
        return f"no finite {metric}"
    if n == 1:
        return f"{metric} {num(row[f'{metric}_mean'])} (1 seed: no CI)"
    return f"{metric} {num(row[f'{metric}_mean'])} {ci(row[f'{metric}_ci_low'], row[f'{metric}_ci_high'])} " \
           f"over {seeds_phrase(n)}"


def improving_phrase(row: pd.Series, metric: str) -> str:
    """ "; still improving (the last quarter brought 27% of its improvement)" or "; converged (4%)", else ""."""
    flag, share = row.get(f"{metric}_improving"), row.get(f"{metric}_gain_share")
    if flag is None or (isinstance(flag, float) and math.isnan(flag)):
        return ""
    return f"; {'still improving' if flag else 'converged'} (the last quarter of training brought " \
           f"{pct(share)} of its {metric} improvement)"


def stability_phrase(row: pd.Series) -> str:
    n, k = int(row["n_finished"]), int(row["n_stable"])
    if n == 0:
        return "no seed finished"
    text = (f"stable in {k} of {n} finished seeds ({pct(row['stability'])} "
            f"[{pct(row['stability_ci_low'])}, {pct(row['stability_ci_high'])}])")
    if k < n:
        text += f": {unstable_phrase(n, unstable_counts(row))}"
    if int(row["n_stopped"]):
        text += f"; {int(row['n_stopped'])} stopped early by the scheduler (not in the statistics)"
    if int(row["n_other"]):
        text += f"; {int(row['n_other'])} more did not finish"
    return text


def summary_sentence(row: pd.Series, primary: str) -> str:
    changes = f" ({row['changes']})" if "changes" in row.index and isinstance(row["changes"], str) \
        and row["changes"] else ""
    return (f"**{row['configuration']}**{changes}: {metric_phrase(row, primary)}{improving_phrase(row, primary)}; "
            f"{stability_phrase(row)}; {compute_phrase(row)}.")


def _verdict_text(direction: str, seeds_needed) -> str:
    if direction == "not resolvable":
        more = f"; {int(seeds_needed)} seeds a side could" if isinstance(seeds_needed, (int, float)) and \
            not (isinstance(seeds_needed, float) and math.isnan(seeds_needed)) else ""
        return f"not resolvable with these seeds{more}"
    return {"unclear": "no clear effect", "no test": "no test: too few seeds"}.get(direction, direction)


def effect_sentence(rows: pd.DataFrame, metric: str) -> str:
    """One comparison (the rows of effects.csv with one ``comparison``) read out on ``metric``."""
    r = rows[rows["metric"] == metric].iloc[0]
    changes = f" ({r['changes']})" if r["changes"] else ""
    head = f"{r['comparison']}{changes}"
    seeds = f"{int(r['n_level'])} vs {int(r['n_baseline'])} seeds"
    if metric == STABILITY:
        size = (f"stability {num(100 * r['effect'], signed=True)} points "
                f"{ci(100 * r['ci_low'], 100 * r['ci_high'], signed=True)} against {r['baseline']} "
                f"({int(r['n_level'] - r['n_failed_level'])} of {int(r['n_level'])} against "
                f"{int(r['n_baseline'] - r['n_failed_baseline'])} of {int(r['n_baseline'])} seeds stable)")
    elif int(r["n_measured_level"]) == 0 or int(r["n_measured_baseline"]) == 0:
        size = f"no finished seed with a finite {metric} on one side ({seeds})"
    else:
        size = (f"{metric} {num(r['effect'], signed=True)} {ci(r['ci_low'], r['ci_high'], signed=True)} against "
                f"{r['baseline']} over the finished seeds ({int(r['n_measured_level'])} vs "
                f"{int(r['n_measured_baseline'])})")
    if metric != STABILITY and r["test"] == TWO_PART:
        size += (f"; with every seed ({seeds}, a failed seed counted as worse than any finished one), worse in "
                 f"{pct(r['prob_worse'])} of seed pairs")
    finite_p = isinstance(r["p_value"], float) and math.isfinite(r["p_value"])
    name = TEST_NAMES.get(r["test"], r["test"])
    if finite_p and r["test"] == TWO_PART:
        quality = f"p {p_is(r['p_quality'])}" if math.isfinite(r["p_quality"]) else "no test"
        w, failures = r["w_failure"], f"failures p {p_is(r['p_failure'])}"
        name += (f": finished seeds {quality}; {failures}, too few or too tied to decide" if w == 0 else
                 f": {failures}; too few finished seeds for Welch's t" if w == 1 else
                 f": {failures} at {pct(w)} of the level, finished seeds {quality} at {pct(1 - w)}")
    test = f"p {p_is(r['p_value'])} ({name}), Holm p {p_is(r['p_holm'])}" if finite_p else "no test"
    text = f"{head}: {size}; {test}: **{_verdict_text(r['direction'], r['seeds_needed'])}**"
    if metric != STABILITY and r["direction_measured"] != r["direction"] and r["direction_measured"] in CLEAR:
        text += f" (the finished seeds alone would say {r['direction_measured']})"
    n_fin, n_all = int(r["n_finished_level"]), int(r["n_trials_level"])
    tail = unstable_phrase(n_fin, unstable_counts(r, "_level")) if n_fin else "no seed finished"
    if n_all > n_fin:
        tail += f" ({n_all - n_fin} of {seeds_phrase(n_all)} did not run the whole budget)"
    return f"{text}; {tail}."

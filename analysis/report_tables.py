"""report.md's tables (``analysis.tables`` writes the CSV and parquet files): the configurations, the published
figures beside ours, and each metric's effects, with a note under a table whose intervals were clipped.

Why a note, and only there: each table is handed the frame ``analysis.bounds`` gives for printing, in which every
interval of a bounded metric is clipped to the metric's range (a t interval over a few seeds runs past it: a share
"[-0.04, 0.3]", classes_covered "[-0.9, 3.9]"), so a reader who compares a cell with the CSV must learn why the two
differ, and a reader of a table where nothing was clipped need not read about it.
"""
from __future__ import annotations

import pandas as pd

from analysis.compute import compute_cell, ratio_cell
from analysis.effects import STABILITY
from analysis.markdown import ci, num, pct, pvalue, table
from analysis.published import markdown as published_markdown

CLIPPED = "Intervals are clipped to each metric's range; {file} holds them as computed."
CLIPPED_EFFECTS = "Intervals are clipped to the range a difference of the metric can take; effects.csv holds them " \
                  "as computed."


def configurations_table(summary: pd.DataFrame, metrics: list[str]) -> list[str]:
    """One row per configuration: seeds, stability, each metric's mean [CI], compute; ``summary`` as
    ``analysis.bounds.shown_summary`` gives it."""
    header = ["configuration", "seeds", "stability", *metrics[:1],
              *([f"{metrics[0]} still improving"] if metrics else []), *metrics[1:], "compute per run"]
    rows = []
    for _, r in summary.iterrows():
        stab = "n/a" if not r["n_finished"] else \
            f"{pct(r['stability'])} [{pct(r['stability_ci_low'])}, {pct(r['stability_ci_high'])}]"
        cells = [r["configuration"], _seed_counts(r), stab]
        if metrics:
            cells += [_mean_ci(r, metrics[0]), _improving_cell(r, metrics[0])]
        cells += [_mean_ci(r, m) for m in metrics[1:]] + [compute_cell(r)]
        rows.append(cells)
    flags = [f"{m}_ci_clipped" for m in [*metrics, "stability"] if f"{m}_ci_clipped" in summary.columns]
    clipped = bool(summary[flags].to_numpy().any()) if flags else False
    return [table(header, rows)] + (["", CLIPPED.format(file="summary.csv")] if clipped else [])


def published_table(shown: pd.DataFrame) -> list[str]:
    """The published figures beside ours (``analysis.bounds.shown_published``)."""
    note = ["", CLIPPED.format(file="published.csv")] if shown["ci_clipped"].any() else []
    return published_markdown(shown) + note


def effects_table(sub: pd.DataFrame) -> list[str]:
    """One metric's comparisons (rows of ``analysis.bounds.shown_effects``)."""
    lines = [table(["comparison", "effect [95% CI]", "P(worse)", "test", "p", "p (Holm)", "seeds (failed)", "verdict",
                    "measured only", "compute"],
                   [[r["comparison"], _effect_cell(r), pct(r["prob_worse"]), r["test"], pvalue(r["p_value"]),
                     pvalue(r["p_holm"]),
                     _seeds_cell(r), r["direction"], r["direction_measured"], ratio_cell(r)]
                    for _, r in sub.iterrows()])]
    return lines + (["", CLIPPED_EFFECTS] if sub["ci_clipped"].any() else [])


def _seeds_cell(row: pd.Series) -> str:
    """ "6 (2) vs 6 (0)": seeds of the level (failed) against the baseline's."""
    return f"{int(row['n_level'])} ({int(row['n_failed_level'])}) vs {int(row['n_baseline'])} " \
           f"({int(row['n_failed_baseline'])})"


def _effect_cell(row: pd.Series) -> str:
    """ "+12.3 [+8.10, +16.0]"; a stability effect in percentage points."""
    k = 100 if row["metric"] == STABILITY else 1
    unit = " pts" if row["metric"] == STABILITY else ""
    return f"{num(k * row['effect'], signed=True)}{unit} {ci(k * row['ci_low'], k * row['ci_high'], True)}"


def _seed_counts(row: pd.Series) -> str:
    """ "6/6", or "5/6 (1 diverged, 2 collapsed)": finished of all, and the failed seeds."""
    failed = [f"{int(row[f'n_{s}'])} {s}" for s in ("diverged", "collapsed") if int(row[f"n_{s}"])]
    return f"{int(row['n_finished'])}/{int(row['n_trials'])}" + (f" ({', '.join(failed)})" if failed else "")


def _improving_cell(row: pd.Series, metric: str) -> str:
    flag = row[f"{metric}_improving"] if f"{metric}_improving" in row.index else None
    if flag is None or (isinstance(flag, float) and flag != flag):
        return "n/a"
    return f"{'yes' if flag else 'no'} ({pct(row[f'{metric}_gain_share'])})"


def _mean_ci(row: pd.Series, metric: str) -> str:
    n = int(row[f"{metric}_n"])
    if n < 2:
        return f"{num(row[f'{metric}_mean'])} (n={n})"
    return f"{num(row[f'{metric}_mean'])} {ci(row[f'{metric}_ci_low'], row[f'{metric}_ci_high'])}"

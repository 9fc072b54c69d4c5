"""A study's results beside the figures a paper published for the same setting.

Why: a researcher trusts a tool once it reproduces what they already know. A study that reproduces a paper's
table records the published figures in study.json (key ``published``: a list of {variant, metric, value, se,
source}, in the project's units); this module sets each beside our mean and 95% t interval over the seeds of that
variant (``analysis.stats.mean_ci``, checked by simulation in docs/STATISTICS.md) and says whether the published
value lies inside. ``inside`` is empty where we have fewer than 2 finite values (no interval).

A published value outside our interval is not by itself a failed reproduction: the budget, the data (a fixed
training set or fresh samples) and details the paper leaves out differ; docs/REPRODUCTIONS.md says, row by row,
what does.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd

COLUMNS = ("variant", "metric", "source", "published", "published_se", "ours_mean", "ours_ci_low", "ours_ci_high",
           "n_seeds", "inside")
FIELDS = ("variant", "metric", "value", "se", "source")


def check_published(rows: Any) -> list[dict[str, Any]]:
    """study.json's ``published`` list, checked: ValueError naming what is wrong (the reader makes it a
    ResultsError)."""
    if not isinstance(rows, list):
        raise ValueError(f"study.json key 'published' = {rows!r}; allowed: a list of {{{', '.join(FIELDS)}}}")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or sorted(row) != sorted(FIELDS):
            raise ValueError(f"study.json 'published' entry {i} = {row!r}; allowed: an object with exactly the "
                             f"keys {', '.join(FIELDS)}")
        ok_value = isinstance(row["value"], (int, float)) and not isinstance(row["value"], bool)
        ok_se = row["se"] is None or (isinstance(row["se"], (int, float)) and not isinstance(row["se"], bool))
        if not (ok_value and ok_se and all(isinstance(row[k], str) for k in ("variant", "metric", "source"))):
            raise ValueError(f"study.json 'published' entry {i} = {row!r}; allowed: variant, metric and source "
                             f"as text, value a number, se a number or null")
        out.append(dict(row))
    return out


def compare(summary: pd.DataFrame, published: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per published figure: it, its standard error, our mean and 95% CI, seeds, inside or not."""
    rows = []
    for p in published:
        mine = summary[summary["configuration"] == p["variant"]]
        metric = p["metric"]
        if mine.empty or f"{metric}_mean" not in mine.columns:
            mean = low = high = math.nan
            n = 0
        else:
            r = mine.iloc[0]
            mean, low, high, n = (float(r[f"{metric}_mean"]), float(r[f"{metric}_ci_low"]),
                                  float(r[f"{metric}_ci_high"]), int(r[f"{metric}_n"]))
        inside = bool(low <= p["value"] <= high) if math.isfinite(low) and math.isfinite(high) else None
        rows.append({"variant": p["variant"], "metric": metric, "source": p["source"], "published": p["value"],
                     "published_se": p["se"], "ours_mean": mean, "ours_ci_low": low, "ours_ci_high": high,
                     "n_seeds": n, "inside": inside})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def markdown(table: pd.DataFrame) -> list[str]:
    """The comparison as a markdown table."""
    lines = ["| variant | metric | published | ours: mean [95% CI] | seeds | inside | source |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in table.itertuples(index=False):
        pub = _num(r.published) + (f" +- {_num(r.published_se)}" if r.published_se is not None
                                   and not _isnan(r.published_se) else "")
        ours = f"{_num(r.ours_mean)} [{_num(r.ours_ci_low)}, {_num(r.ours_ci_high)}]"
        inside = "-" if r.inside is None or _isnan(r.inside) else ("yes" if r.inside else "no")
        lines.append(f"| {r.variant} | {r.metric} | {pub} | {ours} | {r.n_seeds} | {inside} | {r.source} |")
    return lines


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _num(v: float) -> str:
    """A figure as a paper prints it (6.3, not markdown.num's 6.30: no precision the paper did not give); ours
    alike, so that the two columns read the same way."""
    return "nan" if _isnan(v) else f"{v:.3g}"

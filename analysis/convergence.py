"""Was a configuration's primary metric still improving when its budget ran out?

Why: a study compares configurations at one budget, and a configuration that learns more slowly looks worse there
whether or not it would catch up. So each configuration (or factor level) says how much of its improvement came
in the last quarter of training: over its seeds that trained (stability stable or d_dominates: a diverged or
collapsed seed has no curve to read), the mean value at the first evaluation, at the last evaluation at or before
3/4 of the final step, and at the end. ``gain_share`` = (mean at 3/4 - mean at the end) / (mean at the first
evaluation - mean at the end), signed so that improvement is positive; the configuration is *still improving*
when the last quarter brought more than ``IMPROVING_SHARE`` of the improvement since the first evaluation.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

IMPROVING_SHARE = 0.10
THREE_QUARTERS = 0.75
TRAINED = ("stable", "d_dominates")  # stability statuses whose metric curve is a working generator's


def curve_points(history: pd.DataFrame, metric: str) -> tuple[float, float, float]:
    """(first, at 3/4 of the final step, final) finite values of ``metric`` in one trial's history (sorted by
    g_steps); NaN where there is no such evaluation (the 3/4 point must come before the final one)."""
    if metric not in history.columns or "g_steps" not in history.columns:
        return math.nan, math.nan, math.nan
    h = history[np.isfinite(pd.to_numeric(history[metric], errors="coerce").to_numpy(dtype=float))]
    if h.empty:
        return math.nan, math.nan, math.nan
    steps = h["g_steps"].to_numpy(dtype=float)
    values = h[metric].to_numpy(dtype=float)
    before = np.flatnonzero((steps <= THREE_QUARTERS * steps[-1]) & (steps < steps[-1]))
    at_3q = float(values[before[-1]]) if len(before) else math.nan
    return float(values[0]), at_3q, float(values[-1])


def still_improving(group: pd.DataFrame, metric: str, mode: str) -> tuple[bool | None, float]:
    """(still improving?, gain_share) of the trials in ``group`` (columns first_/three_quarter_/final_<metric> and
    the stability label ``_label``); (None, nan) when no trained seed has the three points or nothing improved."""
    trained = group["_label"].isin(TRAINED).to_numpy()
    cols = [f"first_{metric}", f"three_quarter_{metric}", f"final_{metric}"]
    if not trained.any() or any(c not in group.columns for c in cols):
        return None, math.nan
    pts = np.column_stack([pd.to_numeric(group[c], errors="coerce").to_numpy(dtype=float)[trained] for c in cols])
    pts = pts[~np.isnan(pts).any(axis=1)]  # [trained seeds with all three points, 3]
    if len(pts) == 0:
        return None, math.nan
    first, at_3q, final = (float(v) for v in pts.mean(axis=0))
    sign = 1.0 if mode == "min" else -1.0
    total, last = sign * (first - final), sign * (at_3q - final)
    if not total > 0:
        return None, math.nan
    share = last / total
    return bool(share > IMPROVING_SHARE), share

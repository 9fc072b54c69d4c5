"""The range each quality metric can take, so that a drawn or printed interval never leaves it.

A t interval over a handful of seeds is symmetric about the mean, so for a bounded metric near a bound it runs past
it (classes_covered "from -0.9 to 3.9", a share "from -0.04"): the figures clip each interval they draw to the
metric's range and say so, and report.md prints the frames ``shown_summary``, ``shown_effects`` and
``shown_published`` give (each interval clipped, and whether clipping moved it, for the note under its table). The
frames written to CSV and parquet keep every interval as computed: they are data, and the verdicts rest on them.
Ranges by definition (docs/METRICS.md): shares in [0, 1] (stability, a share of seeds, too); classes_covered in
[0, classes] and class_kl in [0, log classes] for the 10 classes of the image datasets' classifier; the classifier
Inception score in [1, classes]; modes_captured in [0, modes] and reverse_kl in [0, log modes] for a mixture of
``modes`` Gaussians (ring8: 8, grid25: 25); jsd in [0, log 2]; distances, densities and KLs at least 0. A metric not
listed (parzen_ll, an estimate that can be negative) is not clipped.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["CLASSES", "MODES", "metric_bounds", "effect_bounds", "clip", "clip_interval", "bounds_text",
           "shown_summary", "shown_effects", "shown_published"]

CLASSES = 10  # the classifier's classes (gan_core.data: every image dataset has 10)
MODES = {"ring8": 8, "grid25": 25}
_SHARES = ("precision", "recall", "coverage", "high_quality_frac", "top_share", "stability")
_NON_NEGATIVE = ("fd", "fid_inception", "density", "diversity")


def metric_bounds(metric: str, trials: pd.DataFrame | None = None) -> tuple[float, float]:
    """(low, high) that ``metric`` cannot leave; -inf/inf where it is unbounded on that side. ``trials`` tells the
    dataset, hence the number of modes of a mixture (unbounded above when the trials mix datasets or say none)."""
    if metric in _SHARES:
        return 0.0, 1.0
    if metric == "classes_covered":
        return 0.0, float(CLASSES)
    if metric == "class_kl":
        return 0.0, math.log(CLASSES)
    if metric == "cis":
        return 1.0, float(CLASSES)
    if metric == "jsd":
        return 0.0, math.log(2)
    if metric in _NON_NEGATIVE:
        return 0.0, math.inf
    if metric in ("modes_captured", "reverse_kl"):
        modes = _modes(trials)
        if modes is None:
            return 0.0, math.inf
        return 0.0, float(modes) if metric == "modes_captured" else math.log(modes)
    return -math.inf, math.inf


def effect_bounds(metric: str, trials: pd.DataFrame | None = None) -> tuple[float, float]:
    """The range of a difference of two means of ``metric``: +-(high - low); stability, a share, +-1."""
    low, high = metric_bounds(metric, trials)
    return -(high - low), high - low


def clip(values, bounds: tuple[float, float]) -> np.ndarray:
    """``values`` clipped to ``bounds`` (NaN stays NaN)."""
    return np.clip(np.asarray(values, dtype=float), bounds[0], bounds[1])


def clip_interval(low, high, bounds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each interval [low, high] clipped to ``bounds`` (a pair of numbers, or of arrays: one range per interval),
    and whether clipping moved a finite end of it: what a report prints, and whether it must say so."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    lo, hi = clip(low, bounds), clip(high, bounds)
    return lo, hi, (np.isfinite(low) & (lo != low)) | (np.isfinite(high) & (hi != high))


def bounds_text(bounds: tuple[float, float], scale: float = 1.0) -> str:
    """ "[0, 10]", "[0, inf)", or "" when unbounded on both sides."""
    low, high = bounds
    if math.isinf(low) and math.isinf(high):
        return ""
    left = "(-inf" if math.isinf(low) else f"[{low * scale:.3g}"
    right = "inf)" if math.isinf(high) else f"{high * scale:.3g}]"
    return f"{left}, {right}"


def _modes(trials: pd.DataFrame | None) -> int | None:
    if trials is None or "dataset" not in trials.columns:
        return None
    datasets = set(trials["dataset"].dropna().astype(str))
    return MODES[datasets.pop()] if len(datasets) == 1 and next(iter(datasets)) in MODES else None


# ---------------------------------------------------------------------------------------- what report.md prints
def shown_summary(summary: pd.DataFrame, metrics: list[str], trials: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy of ``summary`` with each metric's interval (``<m>_ci_low``, ``<m>_ci_high``) and stability's clipped
    to its range (``metric_bounds``), and ``<m>_ci_clipped`` (``stability_ci_clipped``) true where that moved it."""
    out = summary.copy()
    for m in [*metrics, "stability"]:
        if f"{m}_ci_low" in out.columns:
            _clip_columns(out, f"{m}_ci_low", f"{m}_ci_high", metric_bounds(m, trials), f"{m}_ci_clipped")
    return out


def shown_effects(effects: pd.DataFrame, trials: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy of ``effects`` with each row's interval clipped to the range a difference of its metric can take
    (``effect_bounds``: stability's +-1, i.e. +-100 points), and ``ci_clipped`` true where that moved it."""
    return _clip_rows(effects, "ci_low", "ci_high", effect_bounds, trials)


def shown_published(table: pd.DataFrame, trials: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy of the published comparison (``analysis.published.compare``) with our interval clipped to its
    metric's range, and ``ci_clipped``; ``inside`` stays as the interval as computed says."""
    return _clip_rows(table, "ours_ci_low", "ours_ci_high", metric_bounds, trials)


def _clip_rows(frame: pd.DataFrame, low: str, high: str, bounds_of, trials: pd.DataFrame | None) -> pd.DataFrame:
    out = frame.copy()
    if low not in out.columns:
        out["ci_clipped"] = pd.Series(False, index=out.index, dtype=bool)
        return out
    ranges = [bounds_of(m, trials) for m in out["metric"]]
    bounds = (np.array([r[0] for r in ranges], dtype=float), np.array([r[1] for r in ranges], dtype=float))
    _clip_columns(out, low, high, bounds, "ci_clipped")
    return out


def _clip_columns(frame: pd.DataFrame, low: str, high: str, bounds, flag: str) -> None:
    lo, hi, moved = clip_interval(pd.to_numeric(frame[low], errors="coerce"),
                                  pd.to_numeric(frame[high], errors="coerce"), bounds)
    frame[low], frame[high], frame[flag] = lo, hi, moved

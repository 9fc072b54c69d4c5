"""The trials frame: one row per trial from what was read, with its final and best metrics, where its best
checkpoint is, and its stability columns; and how the statistics count a trial's stability (``stability_labels``).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.convergence import curve_points
from analysis.study_meta import StudyMeta
from gan_core.config import GANConfig

__all__ = ["FINISHED", "CONFIG_KEYS", "NUMERIC_KEYS", "STABLE", "STABILITY_STATUSES", "numeric",
           "present_metrics", "best_value", "trials_frame", "stability_labels"]

FINISHED = ("ok", "diverged")  # statuses of trials that ran their whole budget (or diverged on the way)
CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(GANConfig))
NUMERIC_KEYS = frozenset({
    "g_steps", "d_steps", "d_loss", "d_loss_real", "d_loss_fake", "g_loss", "value", "d_real", "d_fake",
    "grad_norm_d", "grad_norm_g", "train_time_s", "flops", "eval_time_s", "training_iteration", "time_total_s",
    "time_this_iter_s", "time_since_restore", "iterations_since_restore", "timestamp", "diversity", "top_share",
    "g_mu", "g_sigma", "parzen_ll_se", "parzen_sigma", "parzen_ll_real", "parzen_ll_real_se", "steps_to_90pct",
    "oscillation", "final_best_gap"})
# The stability statuses a trial's reports carry (gan_core.metrics.assess_stability writes them): the one list of
# them in analysis, which names each in its tables and sentences, in the order assess_stability checks them.
STABLE = "stable"
STABILITY_STATUSES = (STABLE, "diverged", "collapsed", "d_dominates")


def numeric(history: pd.DataFrame, meta: StudyMeta) -> pd.DataFrame:
    """Known numeric columns (and the study's quality metrics) as floats: Ray's encoder may write a stray string
    (e.g. "null") for odd values."""
    for col in history.columns:
        if (col in NUMERIC_KEYS or col in meta.metric_modes) and history[col].dtype == object:
            history[col] = pd.to_numeric(history[col], errors="coerce")
    return history


def present_metrics(history: pd.DataFrame, meta: StudyMeta) -> list[str]:
    present = [m for m in meta.metric_modes if m in history.columns and history[m].notna().any()]
    if not meta.primary_metric:
        meta.primary_metric = present[0] if present else "fd"
    if not meta.mode:
        meta.mode = meta.metric_modes.get(meta.primary_metric, "min")
    if meta.primary_metric in history.columns:
        present = [meta.primary_metric] + [m for m in present if m != meta.primary_metric]
    return present


def best_value(values: pd.Series, mode: str) -> tuple[float, int | None]:
    """(best finite value, its position) by ``mode``; (nan, None) when no value is finite."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(v)
    if not ok.any():
        return math.nan, None
    idx = np.flatnonzero(ok)
    pos = idx[np.argmin(v[ok])] if mode == "min" else idx[np.argmax(v[ok])]
    return float(v[pos]), int(pos)


def trials_frame(rows: list[dict[str, Any]], history: pd.DataFrame, metrics: list[str],
                  meta: StudyMeta) -> pd.DataFrame:
    trials = pd.DataFrame(rows)
    by_trial = {tid: h for tid, h in history.groupby("trial_id", sort=False)} if len(history) else {}
    extra = []
    for tid in trials["trial_id"]:
        h = by_trial.get(tid)
        out: dict[str, Any] = {"best_checkpoint": ""}
        last = h.iloc[-1] if h is not None and len(h) else None

        def last_of(key: str, default: Any = math.nan) -> Any:
            return last[key] if last is not None and key in last.index and pd.notna(last[key]) else default

        out["g_steps"] = last_of("g_steps")
        out["d_steps"] = last_of("d_steps")
        out["wall_time_s"] = last_of("time_total_s")
        out["train_time_s"] = last_of("train_time_s")
        out["flops"] = last_of("flops")  # training FLOPs through the last report (analysis.compute); NaN: not recorded
        out["eval_time_s"] = last_of("eval_time_s")
        for key in ("node_id", "hostname", "node_ip"):
            out[key] = last_of(key, "")
        out["device_used"] = last_of("device", "")
        out["precision_used"] = last_of("compute_precision", "")  # config precision as run ("auto" decided)
        for m in metrics:
            mode = meta.metric_mode(m)
            out[f"final_{m}"] = float(last_of(m)) if m in (h.columns if h is not None else []) else math.nan
            best, pos = best_value(h[m], mode) if h is not None and m in h.columns else (math.nan, None)
            out[f"best_{m}"] = best
            out[f"best_{m}_g_steps"] = h["g_steps"].iloc[pos] if pos is not None and "g_steps" in h else math.nan
            if m == meta.primary_metric:
                ck = h["checkpoint_dir_name"].iloc[pos] if pos is not None and "checkpoint_dir_name" in h else None
                out["best_checkpoint"] = ck if isinstance(ck, str) else ""
                first, at_3q, _ = curve_points(h, m) if h is not None else (math.nan, math.nan, math.nan)
                out[f"first_{m}"], out[f"three_quarter_{m}"] = first, at_3q
        out.update(_stability(h))
        extra.append(out)
    trials = pd.concat([trials, pd.DataFrame(extra, index=trials.index)], axis=1)
    config_cols = [c for c in CONFIG_KEYS if c in trials.columns]
    front = ["trial_id", "trial_dir", *config_cols]
    rest = [c for c in trials.columns if c not in front]
    return trials[front + rest].sort_values("trial_dir", kind="stable").reset_index(drop=True)


def _stability(h: pd.DataFrame | None) -> dict[str, Any]:
    """The stability columns of one trial: what its last report says (the trainer computes them at every report,
    ``gan_core.metrics.stability``). "" (and NaN) for a trial without GAN reports, and for one whose reports carry
    no stability (not a gan-study trainer's), with the reason."""
    out: dict[str, Any] = {"stability": "", "stability_reason": "", "steps_to_90pct": math.nan,
                           "oscillation": math.nan, "final_best_gap": math.nan}
    if h is None or "g_steps" not in h.columns or not h["g_steps"].notna().any():
        return out
    if "stability" not in h.columns or not h["stability"].notna().any():
        out["stability_reason"] = "not assessed: its reports carry no stability"
        return out
    rows = h[h["g_steps"].notna()].sort_values("g_steps", kind="stable")
    last = rows.iloc[-1]
    for key in out:
        if key in last.index and pd.notna(last[key]):
            out[key] = last[key]
    return out


def stability_labels(trials: pd.DataFrame) -> pd.Series:
    """Each trial's stability status as the statistics count it: ``stability`` where it was assessed, else, when
    the trial finished, what its trainer status says (the theory check, whose reports are not a GAN's): "ok" is
    stable, "diverged" diverged; else ""."""
    assessed = trials["stability"].fillna("").astype(str) if "stability" in trials.columns \
        else pd.Series("", index=trials.index)
    fallback = trials["status"].map({"ok": STABLE, "diverged": "diverged"}).fillna("")
    return assessed.where(assessed != "", fallback)

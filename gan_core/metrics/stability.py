"""How a trial trained, from its metric history: did it diverge, did D win, did G collapse, how fast and how
steadily did the quality metric settle.

Why: the studies ask which training choices make GANs *unstable*, and "unstable" has to be one reproducible
label per trial, computed the same way for every trial from what the trainer reports (one dict per evaluation:
``g_steps``, ``status``, ``d_real``, ``d_fake``, ``d_loss``, ``g_loss`` and the evaluator's metrics). The failure
modes named here are those of Goodfellow et al. 2014 (section 3: early in training D rejects samples with high
confidence and log(1 - D(G(z))) saturates), Arjovsky & Bottou 2017 (a perfect discriminator leaves vanishing
generator gradients) and the mode-collapse literature (Metz et al. 2017, Srivastava et al. 2017).

Status, checked in this order (the first that holds wins; ``reason`` lists every condition that holds):
- ``diverged``: any evaluation has trainer status "diverged", a non-finite d_loss or g_loss, eval_status
  "nonfinite_samples", or the final quality metric is not finite.
- ``collapsed``: at the final evaluation, top_share >= ``COLLAPSE_TOP_SHARE`` (at least 90% of the samples are
  classified as one class, images, or lie nearest one mode, ring8 and grid25), or diversity <
  ``COLLAPSE_DIVERSITY`` (the generated spread relative to the real spread; ~0 when G emits one point, 1 when the
  spreads match), or, for images, recall < ``COLLAPSE_RECALL`` while precision >= ``COLLAPSE_PRECISION`` (the
  samples lie among real images, but their k-NN balls hold almost none of the real ones: G repeats a few shapes,
  which a classifier may still spread over several classes, so top_share alone misses it). Not
  "classes_covered <= 1": early in training no sample is recognisable yet, so no class is
  covered although the samples spread over many classes; that is slow learning, which the quality metric
  measures, not mode collapse.
- ``d_dominates``: over the last quarter of training (evaluations with g_steps >= 3/4 of the final g_steps),
  mean D(G(z)) < ``D_DOMINATES_FAKE`` while mean D(x) > ``D_DOMINATES_REAL``: D separates real from fake almost
  perfectly and G's minimax gradient vanishes.
- ``stable`` otherwise. (Not "ok": that is the trainer's word for a run whose losses stayed finite to the end.)

Quality summaries (on the finite values of the primary metric, in its own units):
- ``steps_to_90pct``: the g_steps of the first evaluation that is at least 90% of the way from the first
  evaluation's value to the final value (for mode "min": q <= q_final + 0.1 (q_first - q_final)). "90% of the
  final quality" read as 90% of the improvement, which works for metrics whose good value is 0 (fd, jsd).
  NaN if the final value is not better than the first (nothing was reached).
- ``oscillation``: population std of the metric over the last quarter (NaN with fewer than 2 evaluations there);
  ``oscillation_rel`` = oscillation / |mean| over the same evaluations.
- ``final_best_gap`` = |final - best| (best = min for mode "min", max for "max"); ``best_step`` its g_steps.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = [
    "D_DOMINATES_FAKE",
    "D_DOMINATES_REAL",
    "COLLAPSE_DIVERSITY",
    "COLLAPSE_TOP_SHARE",
    "COLLAPSE_RECALL",
    "COLLAPSE_PRECISION",
    "LAST_FRACTION",
    "HISTORY_KEYS",
    "STABILITY_KEYS",
    "assess_stability",
    "stability_columns",
]

D_DOMINATES_FAKE = 0.1  # mean D(G(z)) below this over the last quarter ...
D_DOMINATES_REAL = 0.9  # ... while mean D(x) is above this: D wins
COLLAPSE_DIVERSITY = 0.05  # generated spread below 5% of the real spread: G emits (nearly) one point
COLLAPSE_TOP_SHARE = 0.9  # at least 90% of the samples on one class or mode: G emits (almost) one thing
COLLAPSE_RECALL = 0.01  # under 1% of real images inside the generated samples' k-NN balls ...
COLLAPSE_PRECISION = 0.75  # ... while 3 in 4 samples lie among real ones: a few shapes, repeated (a slow G: < 0.6)
LAST_FRACTION = 0.25  # "the last quarter of training"
REACHED_FRACTION = 0.9
# What assess_stability reads of each evaluation, besides the primary metric: what a run keeps of its reports.
HISTORY_KEYS = ("g_steps", "status", "d_loss", "g_loss", "eval_status", "top_share", "diversity", "precision",
                "recall", "d_real", "d_fake")
# The keys a run adds to each report (``stability_columns``): its stability so far.
STABILITY_KEYS = ("stability", "stability_reason", "steps_to_90pct", "oscillation", "final_best_gap")


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) and math.isfinite(v)


def assess_stability(history: Sequence[Mapping[str, Any]], primary_metric: str, mode: str = "min") -> dict:
    """Stability summary of one trial from its metric history (the trainer's dicts, in order).

    Returns ``status`` (stable | diverged | d_dominates | collapsed), ``reason`` (a sentence), ``final_quality``,
    ``best_quality``, ``best_step``, ``final_best_gap``, ``steps_to_90pct``, ``oscillation``, ``oscillation_rel``,
    ``last_quarter_d_real``, ``last_quarter_d_fake`` and ``n_evals``. Raises ValueError for an empty history,
    a record that is not a mapping or lacks ``g_steps``, an unknown mode, or a primary metric that no record has.
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode = {mode!r}; allowed: 'min' | 'max'")
    if isinstance(history, Mapping) or not isinstance(history, Sequence) or len(history) == 0:
        raise ValueError("history must be a non-empty list of metric dicts (one per evaluation, in order)")
    for i, rec in enumerate(history):
        if not isinstance(rec, Mapping):
            raise ValueError(f"history[{i}] is a {type(rec).__name__}; allowed: a dict of metrics")
        if not _finite(rec["g_steps"] if "g_steps" in rec else None):
            raise ValueError(f"history[{i}] has no numeric 'g_steps'; every record needs it")
    if not any(primary_metric in rec for rec in history):
        keys = sorted({k for rec in history for k in rec})
        raise ValueError(f"no record has the primary metric {primary_metric!r}; keys present: {', '.join(keys)}")

    steps = np.array([float(rec["g_steps"]) for rec in history])
    final_step = steps[-1]
    last_q = [rec for rec, s in zip(history, steps) if s >= (1 - LAST_FRACTION) * final_step] or [history[-1]]
    final = history[-1]

    # --- status ---------------------------------------------------------------------------------------------
    reasons: dict[str, list[str]] = {"diverged": [], "collapsed": [], "d_dominates": []}
    for rec in history:
        if rec.get("status") == "diverged":
            reasons["diverged"].append(f"trainer status 'diverged' at g_steps={rec['g_steps']}")
            break
    for key in ("d_loss", "g_loss"):
        bad = [rec["g_steps"] for rec in history if key in rec and not _finite(rec[key])]
        if bad:
            reasons["diverged"].append(f"non-finite {key} at g_steps={bad[0]}")
    bad = [rec["g_steps"] for rec in history if rec.get("eval_status") == "nonfinite_samples"]
    if bad:
        reasons["diverged"].append(f"non-finite generated samples at g_steps={bad[0]}")
    if not _finite(final.get(primary_metric)):
        reasons["diverged"].append(f"final {primary_metric} is {final.get(primary_metric)!r}")

    if _finite(final.get("top_share")) and final["top_share"] >= COLLAPSE_TOP_SHARE:
        reasons["collapsed"].append(f"top_share = {final['top_share']:.3g} >= {COLLAPSE_TOP_SHARE}")
    if _finite(final.get("diversity")) and final["diversity"] < COLLAPSE_DIVERSITY:
        reasons["collapsed"].append(f"diversity = {final['diversity']:.3g} < {COLLAPSE_DIVERSITY}")
    if (_finite(final.get("recall")) and _finite(final.get("precision")) and final["recall"] < COLLAPSE_RECALL
            and final["precision"] >= COLLAPSE_PRECISION):
        reasons["collapsed"].append(f"recall = {final['recall']:.3g} < {COLLAPSE_RECALL} with precision = "
                                    f"{final['precision']:.3g} >= {COLLAPSE_PRECISION}")

    d_real = [float(r["d_real"]) for r in last_q if _finite(r.get("d_real"))]
    d_fake = [float(r["d_fake"]) for r in last_q if _finite(r.get("d_fake"))]
    mean_real = float(np.mean(d_real)) if d_real else math.nan
    mean_fake = float(np.mean(d_fake)) if d_fake else math.nan
    if d_real and d_fake and mean_fake < D_DOMINATES_FAKE and mean_real > D_DOMINATES_REAL:
        reasons["d_dominates"].append(f"last-quarter mean D(G(z)) = {mean_fake:.3g} < {D_DOMINATES_FAKE} with "
                                      f"mean D(x) = {mean_real:.3g} > {D_DOMINATES_REAL}")
    status = next((s for s in ("diverged", "collapsed", "d_dominates") if reasons[s]), "stable")
    reason = "; ".join(r for s in ("diverged", "collapsed", "d_dominates") for r in reasons[s]) or "no failure found"

    # --- quality summaries ------------------------------------------------------------------------------------
    pts = [(float(rec["g_steps"]), float(rec[primary_metric])) for rec in history
           if _finite(rec.get(primary_metric))]
    sign = 1.0 if mode == "min" else -1.0  # compare sign * q: smaller is better
    out = {
        "status": status,
        "reason": reason,
        "final_quality": float(final[primary_metric]) if _finite(final.get(primary_metric)) else math.nan,
        "best_quality": math.nan,
        "best_step": math.nan,
        "final_best_gap": math.nan,
        "steps_to_90pct": math.nan,
        "oscillation": math.nan,
        "oscillation_rel": math.nan,
        "last_quarter_d_real": mean_real,
        "last_quarter_d_fake": mean_fake,
        "n_evals": len(history),
    }
    if pts:
        best_step, best = min(pts, key=lambda p: sign * p[1])
        out["best_quality"], out["best_step"] = best, best_step
        if math.isfinite(out["final_quality"]):
            q_first, q_final = pts[0][1], out["final_quality"]
            out["final_best_gap"] = abs(q_final - best)
            if sign * q_final < sign * q_first:  # it improved: find where it got 90% of the way
                target = q_final + (1 - REACHED_FRACTION) * (q_first - q_final)
                out["steps_to_90pct"] = next(s for s, q in pts if sign * q <= sign * target)
    last_vals = [float(r[primary_metric]) for r in last_q if _finite(r.get(primary_metric))]
    if len(last_vals) >= 2:
        osc = float(np.std(last_vals))
        out["oscillation"] = osc
        mean = float(np.mean(last_vals))
        out["oscillation_rel"] = osc / abs(mean) if mean != 0 else math.nan
    return out


def stability_columns(history: Sequence[Mapping[str, Any]], primary_metric: str, mode: str) -> dict[str, Any]:
    """``STABILITY_KEYS`` of a run from its evaluations so far: what the trainer adds to every report, so that the
    last report of a run, finished or stopped early by a scheduler, carries its stability."""
    got = assess_stability(history, primary_metric, mode)
    return {"stability": got["status"], "stability_reason": got["reason"], "steps_to_90pct": got["steps_to_90pct"],
            "oscillation": got["oscillation"], "final_best_gap": got["final_best_gap"]}

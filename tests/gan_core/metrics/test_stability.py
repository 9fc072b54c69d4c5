"""assess_stability on synthetic histories whose answers are known exactly."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gan_core.metrics.stability import D_DOMINATES_FAKE, D_DOMINATES_REAL, assess_stability


def _history(fd, d_real=0.6, d_fake=0.4, every=250, **extra):
    """One record per evaluation, like the trainer's, with the given fd values (and optional per-record extras)."""
    out = []
    for i, v in enumerate(fd):
        rec = {"g_steps": every * (i + 1), "d_steps": every * (i + 1), "status": "running", "d_loss": 1.2,
               "g_loss": 0.8, "d_real": d_real, "d_fake": d_fake, "fd": v, "classes_covered": 10.0,
               "diversity": 0.9}
        for k, vals in extra.items():
            rec[k] = vals[i]
        out.append(rec)
    out[-1]["status"] = "ok"
    return out


FD = [100.0, 60.0, 40.0, 30.0, 22.0, 21.0, 19.0, 20.0]  # g_steps 250 ... 2000


def test_healthy_run_summaries_are_exact():
    s = assess_stability(_history(FD), "fd", "min")
    assert s["status"] == "stable" and s["reason"] == "no failure found"
    assert s["final_quality"] == 20.0 and s["best_quality"] == 19.0 and s["best_step"] == 1750
    assert s["final_best_gap"] == pytest.approx(1.0)
    # 90% of the way from 100 to 20: fd <= 28, first at g_steps 1250 (fd 22)
    assert s["steps_to_90pct"] == 1250
    # last quarter: g_steps >= 1500 -> fd 21, 19, 20
    assert s["oscillation"] == pytest.approx(float(np.std([21.0, 19.0, 20.0])), rel=1e-12)
    assert s["oscillation_rel"] == pytest.approx(float(np.std([21.0, 19.0, 20.0])) / 20.0, rel=1e-12)
    assert s["n_evals"] == 8


def test_max_mode_mirrors_min_mode():
    s = assess_stability(_history([-v for v in FD]), "fd", "max")
    assert s["best_quality"] == -19.0 and s["best_step"] == 1750 and s["steps_to_90pct"] == 1250
    assert s["final_best_gap"] == pytest.approx(1.0)


def test_no_improvement_has_no_steps_to_90pct():
    s = assess_stability(_history([10.0, 12.0, 15.0]), "fd", "min")
    assert math.isnan(s["steps_to_90pct"]) and s["best_step"] == 250 and s["final_best_gap"] == pytest.approx(5.0)


@pytest.mark.parametrize("change", ["status", "d_loss", "g_loss", "eval_status", "final_metric"])
def test_divergence_is_detected_from_any_sign(change):
    h = _history(FD)
    if change == "status":
        h[-1]["status"] = "diverged"
    elif change == "eval_status":
        h[3]["eval_status"] = "nonfinite_samples"
    elif change == "final_metric":
        h[-1]["fd"] = float("nan")
    else:
        h[2][change] = float("inf")
    s = assess_stability(h, "fd", "min")
    assert s["status"] == "diverged"
    if change == "final_metric":
        assert math.isnan(s["final_quality"]) and math.isnan(s["final_best_gap"])
        assert s["best_quality"] == 19.0  # from the finite values


def test_d_dominates_over_the_last_quarter_only():
    h = _history(FD)
    for rec in h[5:]:  # g_steps 1500, 1750, 2000: the last quarter
        rec["d_real"], rec["d_fake"] = 0.99, 0.01
    s = assess_stability(h, "fd", "min")
    assert s["status"] == "d_dominates"
    assert s["last_quarter_d_real"] == pytest.approx(0.99) and s["last_quarter_d_fake"] == pytest.approx(0.01)
    h = _history(FD)
    for rec in h[:5]:  # D won early but not at the end: fine
        rec["d_real"], rec["d_fake"] = 0.99, 0.01
    assert assess_stability(h, "fd", "min")["status"] == "stable"
    # just on the healthy side of each threshold
    h = _history(FD, d_real=0.99, d_fake=D_DOMINATES_FAKE + 1e-3)
    assert assess_stability(h, "fd", "min")["status"] == "stable"
    h = _history(FD, d_real=D_DOMINATES_REAL - 1e-3, d_fake=0.01)
    assert assess_stability(h, "fd", "min")["status"] == "stable"


@pytest.mark.parametrize("key,value", [("top_share", 0.9), ("top_share", 1.0), ("diversity", 0.01)])
def test_collapse_is_detected_at_the_final_evaluation(key, value):
    h = _history(FD)
    h[-1][key] = value
    s = assess_stability(h, "fd", "min")
    assert s["status"] == "collapsed" and key in s["reason"]
    h = _history(FD)
    h[0][key] = value  # collapsed early, recovered
    assert assess_stability(h, "fd", "min")["status"] == "stable"


@pytest.mark.parametrize("key,value", [("top_share", 0.89), ("classes_covered", 0.0), ("classes_covered", 1.0),
                                       ("modes_captured", 0.0), ("modes_captured", 1.0), ("diversity", 0.05)])
def test_no_confident_class_or_captured_mode_alone_is_not_collapse(key, value):
    # early in training no sample is recognisable, so no class is covered and no mode captured: slow, not collapsed
    h = _history(FD)
    h[-1][key] = value
    assert assess_stability(h, "fd", "min")["status"] == "stable"


@pytest.mark.parametrize("recall, precision, status", [
    (0.0, 0.86, "collapsed"),      # the GAN paper's model, seed 1: one distorted shape, spread over classes
    (0.009, 0.75, "collapsed"),    # at the thresholds' edges
    (0.01, 0.99, "stable"),        # 1% of real images covered: few shapes, not repeated copies
    (0.0, 0.74, "stable"),
    (0.0, 0.555, "stable"),        # a slow G (spectral_norm_d at 400 steps): varied grey blobs, not yet digits
    (0.25, 0.75, "stable"),        # the DCGAN baseline on mnist5k
    (float("nan"), 0.9, "stable"),  # a metric not measured says nothing
])
def test_samples_among_real_images_that_cover_almost_none_are_collapse(recall, precision, status):
    """A generator that repeats one shape: top_share can stay near 0.5 (the classifier splits the copies between
    classes) and diversity near 0.2, but its samples' k-NN balls hold almost no real image while they lie among
    the real images (recall ~ 0 with precision high): main job fc_hidden_off, 5 of 6 seeds."""
    h = _history(FD, top_share=[0.5] * 8, precision=[0.0] * 7 + [precision], recall=[0.3] * 7 + [recall])
    s = assess_stability(h, "fd", "min")
    assert s["status"] == status
    assert ("recall" in s["reason"]) == (status == "collapsed")
    if status == "collapsed":
        assert s["reason"] == f"recall = {recall:.3g} < 0.01 with precision = {precision:.3g} >= 0.75"


def test_status_precedence_and_all_reasons_listed():
    h = _history(FD, d_real=0.99, d_fake=0.01)
    h[-1]["top_share"] = 0.95
    s = assess_stability(h, "fd", "min")
    assert s["status"] == "collapsed" and "D(G(z))" in s["reason"]
    h[-1]["status"] = "diverged"
    assert assess_stability(h, "fd", "min")["status"] == "diverged"


def test_single_evaluation_and_mixture_keys():
    s = assess_stability([{"g_steps": 250, "status": "ok", "reverse_kl": 0.4, "modes_captured": 6.0}],
                         "reverse_kl", "min")
    assert s["status"] == "stable" and s["final_quality"] == 0.4
    assert math.isnan(s["oscillation"]) and math.isnan(s["steps_to_90pct"])


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="non-empty list"):
        assess_stability([], "fd")
    with pytest.raises(ValueError, match="mode"):
        assess_stability(_history(FD), "fd", "lowest")
    with pytest.raises(ValueError, match="g_steps"):
        assess_stability([{"fd": 1.0}], "fd")
    with pytest.raises(ValueError, match="primary metric 'jsd'"):
        assess_stability(_history(FD), "jsd")
    with pytest.raises(ValueError, match="history\\[1\\]"):
        assess_stability([_history(FD)[0], 3.0], "fd")

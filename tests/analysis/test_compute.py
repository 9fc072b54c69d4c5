"""A configuration's compute: FLOPs of a run of the whole budget from the reports' cumulative ``flops``, measured
training seconds from the runs that finished it, their ratios to the baseline's, and the words for each."""
import math

import pandas as pd
import pytest

from analysis import compute

NAN = float("nan")


def trials(**cols):
    return pd.DataFrame(cols)


def test_run_flops_is_the_whole_budget_even_for_a_run_that_diverged_and_nan_where_not_recorded():
    t = trials(status=["ok", "diverged", "ok", "ok"], g_steps=[200, 100, 200, 0], steps=[200, 200, 200, 200],
               flops=[4e12, 2e12, NAN, 0.0])
    # the diverged run stopped at 100 of 200 steps: its configuration's run costs twice what it spent
    assert compute.run_flops(t).tolist() == pytest.approx([4e12, 4e12, NAN, NAN], nan_ok=True)
    assert compute.run_flops(trials(status=["ok"], g_steps=[200], steps=[200])).tolist() == \
        pytest.approx([NAN], nan_ok=True)  # results written before the reports carried flops
    # without a steps budget (not a GAN config), what the trial spent
    assert compute.run_flops(trials(status=["ok"], g_steps=[50], flops=[1e9])).tolist() == [1e9]


def test_compute_of_a_group_counts_flops_over_finished_runs_and_seconds_over_runs_that_finished_the_budget():
    t = trials(status=["ok", "diverged", "error", "ok"], g_steps=[200, 100, 50, 200], steps=[200] * 4,
               flops=[4e12, 2e12, 1e12, 4e12], train_time_s=[40.0, 15.0, 5.0, 44.0])
    assert compute.compute_of(t) == {"flops_per_run": pytest.approx(4e12), "train_s_per_run": pytest.approx(42.0)}
    none = compute.compute_of(trials(status=["diverged"], g_steps=[100], steps=[200], train_time_s=[9.0]))
    assert math.isnan(none["flops_per_run"]) and math.isnan(none["train_s_per_run"])


def test_ratios_are_the_levels_compute_over_the_baselines():
    base = trials(status=["ok", "ok"], g_steps=[200, 200], steps=[200, 200], flops=[1e12, 1e12],
                  train_time_s=[10.0, 12.0])
    level = trials(status=["ok", "diverged"], g_steps=[200, 50], steps=[200, 200], flops=[4.5e12, 1.125e12],
                   train_time_s=[33.0, 8.0])
    assert compute.ratios(level, base) == {"flops_ratio": pytest.approx(4.5), "seconds_ratio": pytest.approx(3.0)}
    old = compute.ratios(level.drop(columns="flops"), base.drop(columns="flops"))
    assert math.isnan(old["flops_ratio"]) and old["seconds_ratio"] == pytest.approx(3.0)


def test_the_words_of_compute():
    assert [compute.flops_text(x) for x in (3.2e12, 5.0e8, 640.0, NAN)] == \
        ["3.20 TFLOP", "500 MFLOP", "640 FLOP", "FLOPs not recorded"]
    row = pd.Series({"comparison": "stride1", "baseline": "baseline", "flops_ratio": 4.5, "seconds_ratio": 3.0})
    assert compute.ratio_cell(row) == "4.5x FLOPs, 3.0x s"
    assert compute.costly(row) and compute.costly_phrase(row) == \
        "stride1 (4.5 times baseline's FLOPs per run, 3.0 times its measured training seconds)"
    assert not compute.costly(row.copy().replace({4.5: 1.9}))
    old = row.copy()
    old["flops_ratio"] = NAN  # FLOPs not recorded: the measured seconds decide, and the words say so
    assert compute.ratio_cell(old) == "FLOPs not recorded, 3.0x s"
    assert compute.costly(old) and compute.costly_phrase(old) == \
        "stride1 (3.0 times baseline's measured training seconds; FLOPs not recorded)"

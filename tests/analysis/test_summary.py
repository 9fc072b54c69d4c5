"""Per-configuration summary: means and stds by hand, t intervals, stability with Wilson, n = 1 noted, the seeds'
outcomes counted, and whether the primary metric was still improving."""
import math

import numpy as np
import pytest
from scipy.stats import binomtest

from analysis import stats
from analysis.design import infer_design
from analysis.load import read_study
from analysis.summary import summarize


def summary_of(path):
    data = read_study(str(path))
    trials, design = infer_design(data.trials, data.meta)
    return summarize(trials, design, data.metrics, {m: data.metric_mode(m) for m in data.metrics})


def test_ablation_summary(ablation_dir, synth):
    s = summary_of(ablation_dir).set_index("configuration")
    assert s.index.tolist() == ["baseline", "batchnorm_d_off", "g_output_off"]
    base = s.loc["baseline"]
    fd = 40 + synth.noise[:6]
    assert base["fd_mean"] == pytest.approx(fd.mean())
    assert base["fd_std"] == pytest.approx(fd.std(ddof=1))
    assert (base["fd_ci_low"], base["fd_ci_high"]) == pytest.approx(stats.mean_ci(fd))
    # fd = v (2 - g_steps / 200): 1.75 v at the first evaluation (50), 1.25 v at 3/4 (150), v at the end: the last
    # quarter brought (1.25 - 1) / (1.75 - 1) = 1/3 of the improvement
    assert (base["fd_improving"], base["fd_gain_share"]) == (True, pytest.approx(1 / 3))
    assert (base["n_trials"], base["n_stable"], base["stability"]) == (6, 6, 1.0)
    bad = s.loc["batchnorm_d_off"]
    assert bad["changes"] == "batchnorm_d=False"
    # seeds 0 and 1 diverged: their fd is NaN and drops out of the mean; 4 of 6 stable
    assert bad["fd_n"] == 4
    assert bad["fd_mean"] == pytest.approx((52 + synth.noise[2:6]).mean())
    assert (bad["n_stable"], bad["n_diverged"], bad["n_collapsed"], bad["n_d_dominates"], bad["n_other"]) == \
        (4, 2, 0, 0, 0)
    assert bad["stability"] == pytest.approx(4 / 6)
    assert (bad["stability_ci_low"], bad["stability_ci_high"]) == pytest.approx(stats.wilson_interval(4, 6))
    assert base["ci_note"] == ""


def test_one_seed_has_no_ci_and_says_so(synth):
    trials = synth.ablation_trials({"baseline": 0.0, "solo": 3.0}, seeds=1)
    s = summary_of(synth.write("one", trials, synth.ablation_study)).set_index("configuration")
    row = s.loc["solo"]
    assert row["fd_n"] == 1 and row["fd_mean"] == pytest.approx(43 + synth.noise[0])
    assert math.isnan(row["fd_ci_low"]) and math.isnan(row["fd_ci_high"]) and math.isnan(row["fd_std"])
    assert row["ci_note"].startswith("fewer than 2 finite values of fd, cis,")


def test_stopped_trials_are_counted_but_measured_at_another_budget_so_not_summarised(synth):
    p = synth.base_params
    full = synth.trial_rows(p(seed=0), {"fd": 10.0})
    trials = [{"params": p(seed=0), "rows": full},
              {"params": p(seed=1), "rows": synth.trial_rows(p(seed=1), {"fd": 20.0})},
              {"params": p(seed=2), "rows": full[:2], "ray_status": "TERMINATED"},  # stopped early by ASHA
              {"params": p(seed=3), "rows": [], "error": "ValueError: boom"}]
    row = summary_of(synth.write("part", trials, {"study": "p", "primary_metric": "fd", "mode": "min",
                                                  "search": {"scheduler": "ASHA"}})).iloc[0]
    assert (row["n_trials"], row["n_finished"], row["n_stopped"], row["n_other"]) == (4, 2, 1, 1)
    assert row["fd_n"] == 2
    assert row["fd_mean"] == pytest.approx(15.0)
    assert row["fd_std"] == pytest.approx(np.std([10.0, 20.0], ddof=1))
    assert (row["n_stable"], row["stability"]) == (2, 1.0)


def test_a_configuration_that_converged_is_not_still_improving(synth):
    p = synth.base_params
    trials = []
    for seed in range(2):
        rows = synth.trial_rows(p(seed=seed), {"fd": 10.0 + seed})
        rows[2]["fd"] = rows[3]["fd"] * 1.02  # at 3/4 (g_steps 150) within 2% of the end; first value 1.75x
        trials.append({"params": p(seed=seed), "rows": rows})
    row = summary_of(synth.write("flat", trials, {"study": "p", "primary_metric": "fd", "mode": "min"})).iloc[0]
    # means: first 1.75 * 10.5, at 3/4 1.02 * 10.5, end 10.5: the last quarter brought 0.02 / 0.75 of the gain
    assert (row["fd_improving"], row["fd_gain_share"]) == (False, pytest.approx(0.02 / 0.75))


def test_stability_counts_the_stability_status_not_the_trainer_status(unstable_dir, synth):
    s = summary_of(unstable_dir).set_index("configuration")
    assert s.index.tolist() == ["baseline", "collapsed", "d_wins"]
    cols = ["n_finished", "n_stable", "n_diverged", "n_collapsed", "n_d_dominates", "stability"]
    assert s[cols].to_dict("index") == {
        "baseline": dict(zip(cols, (3, 3, 0, 0, 0, 1.0))),
        "collapsed": dict(zip(cols, (3, 0, 0, 3, 0, 0.0))),
        "d_wins": dict(zip(cols, (3, 0, 0, 0, 3, 0.0)))}
    for label, k in (("baseline", 3), ("collapsed", 0), ("d_wins", 0)):
        want = binomtest(k, 3).proportion_ci(confidence_level=0.95, method="wilson")
        assert (s.loc[label, "stability_ci_low"], s.loc[label, "stability_ci_high"]) == \
            pytest.approx((want.low, want.high))
    # fd = v (2 - g_steps / 200), v = 40 + effect + noise: 90% of the way at 200; last-quarter std 0.125 v
    for label, effect in (("baseline", 0.0), ("collapsed", 30.0), ("d_wins", 5.0)):
        v = 40 + effect + synth.noise[:3]
        assert (s.loc[label, "steps_to_90pct_mean"], s.loc[label, "steps_to_90pct_n"]) == (200.0, 3)
        assert s.loc[label, "oscillation_mean"] == pytest.approx(0.125 * v.mean())
        assert s.loc[label, "oscillation_n"] == 3
    assert s.loc["collapsed", "fd_mean"] == pytest.approx(70.0)  # collapsed seeds still have a finite fd


def test_each_configuration_states_its_compute_per_run(synth):
    # the reports' cumulative flops: 3e6 per generator step over the 200 of the budget; a seed that diverged at its
    # second report spent half, and its configuration's run still costs the whole budget's; its seconds are left out
    p = synth.base_params
    rows = [synth.trial_rows(p(seed=0), {"fd": 10.0}, flops_per_step=3_000_000),
            synth.trial_rows(p(seed=1), {"fd": 10.0}, flops_per_step=3_000_000, diverge_at=2)]
    rows[0][-1]["train_time_s"] = 30.0
    trials = [{"params": p(seed=s), "rows": r} for s, r in enumerate(rows)]
    row = summary_of(synth.write("flops", trials, {"study": "p", "primary_metric": "fd", "mode": "min"})).iloc[0]
    assert (row["flops_per_run"], row["train_s_per_run"]) == (6e8, 30.0)
    trials = [{"params": p(seed=0), "rows": synth.trial_rows(p(seed=0), {"fd": 10.0})}]  # written before flops
    row = summary_of(synth.write("old", trials, {"study": "p", "primary_metric": "fd", "mode": "min"})).iloc[0]
    assert math.isnan(row["flops_per_run"]) and row["train_s_per_run"] == 8.0

"""Planted effects are called, null factors are not, failed seeds count as the worst outcome, and every number is
the one ``analysis.stats`` gives the same seeds."""
import math

import numpy as np
import pytest

from analysis import every_seed, ranks, stats
from analysis.design import infer_design
from analysis.effects import compute_effects
from analysis.load import read_study


def effects_of(path):
    data = read_study(str(path))
    trials, design = infer_design(data.trials, data.meta)
    modes = {m: data.metric_mode(m) for m in data.metrics}
    return compute_effects(trials, design, data.metrics, modes)


def row(effects, comparison, metric):
    sel = effects[(effects["comparison"] == comparison) & (effects["metric"] == metric)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_planted_effect_with_diverged_seeds_is_called_over_every_seed(ablation_dir, synth):
    e = effects_of(ablation_dir)
    bad = row(e, "batchnorm_d_off", "fd")
    level, base = 52 + synth.noise[2:6], 40 + synth.noise[:6]  # seeds 0 and 1 of the variant diverged
    assert bad["effect"] == pytest.approx(level.mean() - base.mean())
    assert (bad["ci_low"], bad["ci_high"]) == pytest.approx(stats.diff_ci(level, base))
    assert bad["p_measured"] == pytest.approx(stats.diff_pvalue(level, base))
    assert bad["test"] == "two-part"
    # how the seeds failed: 2 tied diverged seeds can sit on one side in C(10, 4) = 210 of 924 relabellings, too
    # many to decide (weight 0); so the finished seeds decide, by Welch's test
    assert bad["p_failure"] == pytest.approx(ranks.rank_pvalue(every_seed.failure_scores(4, [], 2, "min"),
                                                               every_seed.failure_scores(6, [], 0, "min")))
    assert (bad["w_failure"], bad["p_floor"]) == (0.0, 0.0)
    assert bad["p_value"] == bad["p_quality"] == pytest.approx(stats.diff_pvalue(level, base))
    assert bad["prob_worse"] == 1.0  # every variant seed worse than every baseline seed
    p_stab = stats.proportion_diff_pvalue(4, 6, 6, 6)
    assert bad["p_holm"] == pytest.approx(4 * bad["p_value"])  # Holm over fd and stability, 2 comparisons each
    assert row(e, "batchnorm_d_off", "stability")["p_holm"] == pytest.approx(min(1, 3 * p_stab))
    assert (bad["direction"], bad["direction_measured"]) == ("worse", "worse")
    assert (bad["n_level"], bad["n_baseline"], bad["n_failed_level"], bad["n_failed_baseline"],
            bad["n_measured_level"], bad["n_measured_baseline"]) == (6, 6, 2, 0, 4, 6)
    assert (bad["n_diverged_level"], bad["n_trials_level"], bad["n_unstable_level"]) == (2, 6, 2)
    assert (bad["baseline"], bad["changes"], bad["mode"], bad["family"]) == ("baseline", "batchnorm_d=False", "min",
                                                                            "answer")


def test_a_null_factor_is_not_called(ablation_dir):
    null = row(effects_of(ablation_dir), "g_output_off", "fd")
    assert (null["effect"], null["test"], null["p_value"], null["prob_worse"]) == (pytest.approx(0.0), "welch", 1.0,
                                                                                   0.5)
    assert null["ci_low"] == pytest.approx(-null["ci_high"])
    assert (null["direction"], null["direction_measured"]) == ("unclear", "unclear")


def test_stability_difference_has_newcombes_interval_and_boschloos_test(ablation_dir):
    stab = row(effects_of(ablation_dir), "batchnorm_d_off", "stability")
    assert stab["effect"] == pytest.approx(4 / 6 - 1)
    assert (stab["ci_low"], stab["ci_high"]) == pytest.approx(stats.proportion_diff_ci(4, 6, 6, 6))
    assert stab["p_value"] == pytest.approx(stats.proportion_diff_pvalue(4, 6, 6, 6))
    assert (stab["test"], stab["mode"], stab["n_level"], stab["direction"]) == ("boschloo", "max", 6, "unclear")


def test_a_factor_whose_seeds_diverged_is_not_ranked_on_its_survivors(synth):
    # fragile: 4 of 6 seeds diverge, its 2 survivors are far better than the baseline; dead: all 6 diverge
    trials = synth.ablation_trials({"baseline": 0.0, "fragile": -30.0, "dead": 0.0}, seeds=6,
                                   diverged={"fragile": 4, "dead": 6})
    study = {**synth.ablation_study, "variants": {"baseline": {}, "fragile": {}, "dead": {}}}
    e = effects_of(synth.write("fragile", trials, study))
    fragile = row(e, "fragile", "fd")
    assert fragile["direction_measured"] == "better"  # what dropping the failed seeds would say
    assert fragile["prob_worse"] == pytest.approx(24 / 36)  # 4 failed seeds worse than all 6 baseline seeds
    # 4 tied failures on one side: 2 x C(8, 2) / 924 = 0.061 at best, so the finished seeds decide the test, which
    # passes; but over every seed the variant is worse in 2 of 3 seed pairs: the evidence points both ways
    assert (fragile["w_failure"], fragile["p_failure"]) == (0.0, pytest.approx(2 * 28 / 924))
    assert fragile["p_value"] == pytest.approx(stats.diff_pvalue(10 + synth.noise[4:6], 40 + synth.noise[:6]))
    assert fragile["p_holm"] < 0.05
    assert fragile["direction"] == "unclear"
    dead = row(e, "dead", "fd")
    assert (dead["n_measured_level"], dead["prob_worse"], dead["w_failure"]) == (0, 1.0, 0.75)
    assert dead["p_value"] == pytest.approx(2 / 924 / 0.75)
    assert math.isnan(dead["effect"]) and dead["direction_measured"] == "no test"
    assert dead["direction"] == "worse"
    # the comparisons are ranked by how far P(worse) lies from a coin flip: dead first
    assert e["comparison"].drop_duplicates().tolist() == ["dead", "fragile"]


def test_a_planted_large_effect_without_failures_is_called_by_welchs_test(synth):
    trials = synth.ablation_trials({"baseline": 0.0, "big": 15.0, "none": 0.0}, seeds=6)
    study = {**synth.ablation_study, "variants": {"baseline": {}, "big": {}, "none": {}}}
    e = effects_of(synth.write("big", trials, study))
    big = row(e, "big", "fd")
    assert big["test"] == "welch"
    assert big["p_value"] == pytest.approx(stats.diff_pvalue(55 + synth.noise[:6], 40 + synth.noise[:6]))
    assert big["effect"] == pytest.approx(15.0)
    assert big["ci_low"] < 15.0 < big["ci_high"]
    assert big["direction"] == "worse"
    assert row(e, "none", "fd")["direction"] == "unclear"


def test_holm_runs_over_the_answers_metric_and_stability_together_and_per_other_metric(ablation_dir):
    e = effects_of(ablation_dir)
    answer = e[e["family"] == "answer"]
    assert sorted(set(answer["metric"])) == ["fd", "stability"]
    assert answer["p_holm"].tolist() == pytest.approx(stats.holm(answer["p_value"].tolist()).tolist())
    cis = e[e["metric"] == "cis"]
    assert set(cis["family"]) == {"cis"}
    assert cis["p_holm"].tolist() == pytest.approx(stats.holm(cis["p_value"].tolist()).tolist())


def test_effects_are_sorted_by_the_primary_metric_with_the_metrics_in_order(ablation_dir):
    e = effects_of(ablation_dir)
    assert e["comparison"].drop_duplicates().tolist() == ["batchnorm_d_off", "g_output_off"]
    assert e[e["comparison"] == "batchnorm_d_off"]["metric"].tolist()[:3] == ["fd", "stability", "cis"]


def test_k_sweep_main_effects_against_the_baseline_levels(ksweep_dir):
    e = effects_of(ksweep_dir)
    # planted: fd = 30 + 4 (k - 1) + 10 [minimax] + noise; both sides pool the same levels of the other factor
    for comp, size in (("k=5", 16.0), ("k=2", 4.0), ("g_loss=minimax", 10.0)):
        r = row(e, comp, "fd")
        assert r["effect"] == pytest.approx(size)
        assert r["ci_low"] < size < r["ci_high"]
    assert row(e, "k=5", "fd")["baseline"] == "k=1"
    assert row(e, "g_loss=minimax", "fd")["baseline"] == "g_loss=non_saturating"
    # cis was planted constant: a null effect, CI the point 0, p 1
    r = row(e, "k=5", "cis")
    assert (r["effect"], r["ci_low"], r["ci_high"], r["p_value"], r["direction"]) == (0.0, 0.0, 0.0, 1.0, "unclear")


def test_a_grid_levels_compute_pools_the_other_factors_levels_as_its_effect_does(synth):
    # FLOPs per generator step 1e6 x k x (2 for minimax): k=5 pools 5e6 and 10e6 against k=1's 1e6 and 2e6
    trials = []
    for k in (1, 5):
        for loss in ("non_saturating", "minimax"):
            for seed in range(2):
                params = synth.base_params(k=k, g_loss=loss, seed=seed)
                flops = 1_000_000 * k * (2 if loss == "minimax" else 1)
                trials.append({"params": params, "rows": synth.trial_rows(params, {"fd": 30.0 + seed + k},
                                                                          flops_per_step=flops)})
    study = {"study": "grid", "primary_metric": "fd", "mode": "min", "baseline_variant": None, "variants": {}}
    e = effects_of(synth.write("grid", trials, study))
    assert (row(e, "k=5", "fd")["flops_ratio"], row(e, "k=5", "stability")["flops_ratio"]) == (5.0, 5.0)
    assert row(e, "g_loss=minimax", "fd")["flops_ratio"] == 2.0
    assert row(e, "k=5", "fd")["seconds_ratio"] == 1.0  # the synthetic trainer's seconds are the same everywhere


def test_all_diverged_leaves_only_the_rank_and_stability_comparisons(synth):
    trials = synth.ablation_trials({"baseline": 0.0, "other": 5.0}, seeds=3, diverged={"baseline": 3, "other": 3})
    e = effects_of(synth.write("dead", trials, synth.ablation_study))
    fd = row(e, "other", "fd")
    assert (fd["n_measured_level"], fd["n_measured_baseline"], fd["p_value"], fd["prob_worse"]) == (0, 0, 1.0, 0.5)
    assert fd["direction"] == "not resolvable"  # 3 vs 3: p >= 0.1, 0.2 after Holm over 2
    assert fd["seeds_needed"] is None  # every seed of both sides diverged: any number of such seeds ties
    st = row(e, "other", "stability")
    assert (st["effect"], st["p_value"]) == (0.0, 1.0)
    assert (st["ci_low"], st["ci_high"]) == pytest.approx(stats.proportion_diff_ci(0, 3, 0, 3))


def test_collapse_counts_as_failure_and_d_domination_as_a_stability_outcome(unstable_dir, synth):
    e = effects_of(unstable_dir)
    collapsed = row(e, "collapsed", "fd")
    # 3 collapsed against 3 stable: no relabelling leaves 2 finished seeds a side, so the failures alone, p >= 0.1
    assert (collapsed["test"], collapsed["n_failed_level"], collapsed["w_failure"]) == ("two-part", 3, 1.0)
    assert (collapsed["p_value"], collapsed["direction"], collapsed["seeds_needed"]) == (pytest.approx(0.1),
                                                                                         "not resolvable", 5)
    # its collapsed values are no measurement: without them nothing is left to compare
    assert (collapsed["n_measured_level"], collapsed["direction_measured"]) == (0, "no test")
    d_wins = row(e, "d_wins", "fd")  # D dominating is not a failure: its measured fd is compared by Welch's test
    assert (d_wins["test"], d_wins["n_failed_level"]) == ("welch", 0)
    assert d_wins["p_value"] == pytest.approx(stats.diff_pvalue(45 + synth.noise[:3], 40 + synth.noise[:3]))
    for comp, counts in (("collapsed", (3, 0, 3, 0)), ("d_wins", (3, 0, 0, 3))):
        st = row(e, comp, "stability")
        assert (st["mean_level"], st["mean_baseline"], st["effect"]) == (0.0, 1.0, -1.0)
        assert (st["ci_low"], st["ci_high"]) == pytest.approx(stats.proportion_diff_ci(0, 3, 3, 3))
        assert st["p_value"] == pytest.approx(1 / 32)  # Boschloo, 0 of 3 against 3 of 3
        # 1/32 times the 4 comparisons of the answer stays above 0.05 whatever the data: 4 seeds a side could
        assert (st["direction"], st["seeds_needed"]) == ("not resolvable", 4)
        assert (st["n_unstable_level"], st["n_diverged_level"], st["n_collapsed_level"],
                st["n_d_dominates_level"]) == counts
    assert not {"diversity", "top_share"} & set(e["metric"])
    assert np.isfinite(e["p_value"]).all()

"""Planted effects come out with the right sign and a CI covering their size; null factors' CIs cover 0."""
import pytest

from analysis import stats
from analysis.design import infer_design
from analysis.effects import compute_effects
from analysis.load import read_study


def effects_of(path, n_resamples=9999):
    data = read_study(str(path))
    trials, design = infer_design(data.trials, data.meta)
    modes = {m: data.metric_mode(m) for m in data.metrics}
    return compute_effects(trials, design, data.metrics, modes, n_resamples=n_resamples)


def row(effects, comparison, metric):
    sel = effects[(effects["comparison"] == comparison) & (effects["metric"] == metric)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_planted_ablation_effect_and_null_variant(ablation_dir, synth):
    e = effects_of(ablation_dir)
    bad = row(e, "batchnorm_d_off", "fd")
    # finished seeds 2..5 of the variant (0 and 1 diverged) against seeds 0..5 of the baseline
    want = (52 + synth.noise[2:6]).mean() - (40 + synth.noise[:6]).mean()
    assert bad["effect"] == pytest.approx(want)
    assert bad["effect"] > 0 and bad["direction"] == "worse"
    assert bad["ci_low"] < 12.0 < bad["ci_high"]  # covers the planted size
    assert (bad["ci_low"], bad["ci_high"]) == pytest.approx(
        stats.bootstrap_diff_ci(52 + synth.noise[2:6], 40 + synth.noise[:6]))
    assert bad["p_value"] == pytest.approx(stats.permutation_pvalue(52 + synth.noise[2:6], 40 + synth.noise[:6]))
    assert (bad["n_level"], bad["n_baseline"], bad["n_diverged_level"], bad["n_trials_level"]) == (4, 6, 2, 6)
    assert (bad["n_finished_level"], bad["n_unstable_level"], bad["n_collapsed_level"],
            bad["n_d_dominates_level"]) == (6, 2, 0, 0)
    assert (bad["baseline"], bad["changes"], bad["mode"]) == ("baseline", "batchnorm_d=False", "min")
    null = row(e, "g_output_off", "fd")
    assert null["effect"] == pytest.approx(0.0)
    assert null["ci_low"] < 0.0 < null["ci_high"] and null["direction"] == "unclear"
    stab = row(e, "batchnorm_d_off", "stability")
    assert stab["effect"] == pytest.approx(4 / 6 - 1)
    assert (stab["mode"], stab["n_level"]) == ("max", 6)


def test_effects_are_sorted_by_the_primary_metric_with_the_metrics_in_order(ablation_dir):
    e = effects_of(ablation_dir, n_resamples=999)
    assert e["comparison"].drop_duplicates().tolist() == ["batchnorm_d_off", "g_output_off"]
    assert e[e["comparison"] == "batchnorm_d_off"]["metric"].tolist()[:3] == ["fd", "stability", "cis"]


def test_k_sweep_main_effects_against_the_baseline_levels(ksweep_dir):
    e = effects_of(ksweep_dir)
    # planted: fd = 30 + 4 (k - 1) + 10 [minimax] + noise; both sides pool the same levels of the other factor
    assert row(e, "k=5", "fd")["effect"] == pytest.approx(16.0)
    assert row(e, "k=2", "fd")["effect"] == pytest.approx(4.0)
    assert row(e, "g_loss=minimax", "fd")["effect"] == pytest.approx(10.0)
    for comp, size in (("k=5", 16.0), ("k=2", 4.0), ("g_loss=minimax", 10.0)):
        r = row(e, comp, "fd")
        assert r["ci_low"] < size < r["ci_high"]
    assert row(e, "k=5", "fd")["baseline"] == "k=1"
    assert row(e, "g_loss=minimax", "fd")["baseline"] == "g_loss=non_saturating"
    assert e["comparison"].drop_duplicates().tolist() == ["k=5", "g_loss=minimax", "k=2"]
    # cis was planted constant: a null effect, CI the point 0
    r = row(e, "k=5", "cis")
    assert (r["effect"], r["ci_low"], r["ci_high"], r["direction"]) == (0.0, 0.0, 0.0, "unclear")


def test_holm_is_applied_per_metric(ksweep_dir):
    e = effects_of(ksweep_dir, n_resamples=999)
    fd = e[e["metric"] == "fd"]
    assert fd["p_holm"].tolist() == pytest.approx(stats.holm(fd["p_value"].tolist()).tolist())


def test_all_diverged_gives_no_quality_effect_but_a_stability_row(synth):
    trials = synth.ablation_trials({"baseline": 0.0, "other": 5.0}, seeds=3,
                                   diverged={"baseline": 3, "other": 3})
    e = effects_of(synth.write("dead", trials, synth.ablation_study), n_resamples=999)
    fd = row(e, "other", "fd")
    assert (fd["n_level"], fd["n_baseline"], fd["direction"]) == (0, 0, "no CI")
    st = row(e, "other", "stability")
    assert (st["effect"], st["ci_low"], st["ci_high"]) == (0.0, 0.0, 0.0)


def test_stability_effect_counts_collapse_and_d_domination(unstable_dir):
    e = effects_of(unstable_dir, n_resamples=999)
    for comp, counts in (("collapsed", (3, 0, 3, 0)), ("d_wins", (3, 0, 0, 3))):
        st = row(e, comp, "stability")
        assert (st["mean_level"], st["mean_baseline"], st["effect"], st["ci_low"], st["ci_high"]) == \
            (0.0, 1.0, -1.0, -1.0, -1.0)
        assert st["direction"] == "worse"
        assert st["p_value"] == pytest.approx(0.1)  # exact: 2 of the 20 relabellings of 3 vs 3 are as extreme
        assert (st["n_unstable_level"], st["n_diverged_level"], st["n_collapsed_level"],
                st["n_d_dominates_level"]) == counts
    assert "diversity" not in set(e["metric"])

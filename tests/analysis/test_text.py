"""Each row read out in one plain sentence."""
from analysis.results import load_results
from analysis.text import effect_sentence, stability_phrase, summary_sentence, unstable_phrase

from .conftest import summary_row


def test_unstable_phrase():
    assert unstable_phrase(3, {"collapsed": 3}) == "3 of 3 seeds collapsed"
    assert unstable_phrase(3, {"diverged": 1, "collapsed": 2, "d_dominates": 0}) == "1 of 3 seeds diverged, 2 collapsed"
    assert unstable_phrase(3, {"d_dominates": 1}) == "D dominated in 1 of 3 seeds"
    assert unstable_phrase(4, {"collapsed": 1, "d_dominates": 2}) == "1 of 4 seeds collapsed, D dominated in 2"
    assert unstable_phrase(1, {"diverged": 1}) == "1 of 1 seed diverged"
    assert unstable_phrase(3, {}) == "all seeds stable"


def test_summary_sentence():
    assert summary_sentence(summary_row(), "fd") == (
        "**baseline**: fd 45.2 [40.1, 50.3] over 3 seeds; converged (the last quarter of training brought 4% of its "
        "fd improvement); stable in 3 of 3 finished seeds (100% [44%, 100%]); compute per run: 3.20 TFLOP (gan_core's "
        "cost model), 41.0 s of training (measured).")
    one = summary_row(configuration="k=5", fd_n=1, fd_improving=None, n_finished=1, n_stable=1, n_other=2, n_trials=3,
                      flops_per_run=float("nan"), train_s_per_run=float("nan"))
    assert summary_sentence(one, "fd") == (
        "**k=5**: fd 45.2 (1 seed: no CI); stable in 1 of 1 finished seeds (100% [44%, 100%]); "
        "2 more did not finish; compute per run: FLOPs not recorded (its reports carry none), no measured run "
        "(measured).")


def test_stability_phrase_names_each_unstable_status_and_the_stopped_trials():
    row = summary_row(n_stable=0, n_collapsed=3, stability=0.0, stability_ci_low=0.0, stability_ci_high=0.5615)
    assert stability_phrase(row) == "stable in 0 of 3 finished seeds (0% [0%, 56%]): 3 of 3 seeds collapsed"
    row = summary_row(n_stable=2, n_d_dominates=1, stability=2 / 3, stability_ci_low=0.2077, stability_ci_high=0.9385,
                      n_stopped=2)
    assert stability_phrase(row) == ("stable in 2 of 3 finished seeds (67% [21%, 94%]): D dominated in 1 of 3 seeds; "
                                     "2 stopped early by the scheduler (not in the statistics)")


def test_effect_sentences_of_a_rank_tested_a_null_and_a_stability_comparison(ablation_dir):
    e = load_results(str(ablation_dir)).effects
    assert effect_sentence(e[e["comparison"] == "batchnorm_d_off"], "fd") == (
        "batchnorm_d_off (batchnorm_d=False): fd +12.2 [+11.1, +13.4] against baseline over the finished seeds "
        "(4 vs 6); with every seed (6 vs 6 seeds, a failed seed counted as worse than any finished one), worse in "
        "100% of seed pairs; p < 0.001 (two-part test: finished seeds p < 0.001; failures p = 0.45, too few or too "
        "tied to decide), Holm p < 0.001: **worse**; 2 of 6 seeds diverged.")
    assert effect_sentence(e[e["comparison"] == "g_output_off"], "fd") == (
        "g_output_off (g_output=linear): fd 0 [-1.15, +1.15] against baseline over the finished seeds (6 vs 6); "
        "p = 1.0 (Welch's t), Holm p = 1.0: **no clear effect**; all seeds stable.")
    assert effect_sentence(e[e["comparison"] == "batchnorm_d_off"], "stability") == (
        "batchnorm_d_off (batchnorm_d=False): stability -33.3 points [-70.0, +12.3] against baseline (4 of 6 "
        "against 6 of 6 seeds stable); p = 0.20 (Boschloo's exact test), Holm p = 0.59: **no clear effect**; 2 of "
        "6 seeds diverged.")

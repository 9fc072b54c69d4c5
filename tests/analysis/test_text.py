"""Each row read out in one plain sentence; the answer stated up front."""
import pandas as pd

from analysis.text import answer, effect_sentence, stability_phrase, summary_sentence, unstable_phrase


def effect_rows(**over):
    base = {"comparison": "batchnorm_d_off", "changes": "batchnorm_d=False", "metric": "fd", "effect": 12.3,
            "ci_low": 8.1, "ci_high": 16.0, "p_value": 0.02, "baseline": "baseline", "n_level": 3,
            "n_baseline": 3, "direction": "worse", "n_trials_level": 4, "n_finished_level": 4,
            "n_unstable_level": 1, "n_diverged_level": 1, "n_collapsed_level": 0, "n_d_dominates_level": 0}
    base.update(over)
    return pd.DataFrame([base])


def test_effect_sentence_worse():
    assert effect_sentence(effect_rows(), "fd") == (
        "batchnorm_d_off (batchnorm_d=False): fd +12.3 [+8.10, +16.0] against baseline (worse; p = 0.020, "
        "3 vs 3 seeds); 1 of 4 seeds diverged.")


def test_effect_sentence_unclear_and_without_ci():
    rows = effect_rows(comparison="k=2", changes="", effect=-0.5, ci_low=-2.0, ci_high=1.0, p_value=0.7,
                       baseline="k=1", direction="unclear", n_unstable_level=0, n_diverged_level=0)
    assert effect_sentence(rows, "fd") == ("k=2: fd -0.500 [-2.00, +1.00] against k=1 (CI covers 0: no clear "
                                           "effect; p = 0.70, 3 vs 3 seeds); all seeds stable.")
    rows = effect_rows(n_level=1, ci_low=float("nan"), ci_high=float("nan"), direction="no CI")
    assert effect_sentence(rows, "fd").endswith("against baseline (no CI: 1 vs 3 seeds); 1 of 4 seeds diverged.")


def test_effect_sentence_lists_every_unstable_status_over_the_finished_seeds():
    rows = effect_rows(n_trials_level=5, n_finished_level=3, n_unstable_level=3, n_diverged_level=1,
                       n_collapsed_level=1, n_d_dominates_level=1)
    assert effect_sentence(rows, "fd").endswith(
        "; 1 of 3 seeds diverged, 1 collapsed, D dominated in 1 (2 of 5 seeds did not run to the end).")


def test_unstable_phrase():
    assert unstable_phrase(3, {"collapsed": 3}) == "3 of 3 seeds collapsed"
    assert unstable_phrase(3, {"diverged": 1, "collapsed": 2, "d_dominates": 0}) == "1 of 3 seeds diverged, 2 collapsed"
    assert unstable_phrase(3, {"d_dominates": 1}) == "D dominated in 1 of 3 seeds"
    assert unstable_phrase(4, {"collapsed": 1, "d_dominates": 2}) == "1 of 4 seeds collapsed, D dominated in 2"
    assert unstable_phrase(1, {"diverged": 1}) == "1 of 1 seed diverged"
    assert unstable_phrase(3, {}) == "all seeds stable"


def summary_row(**over):
    base = {"configuration": "baseline", "changes": "", "fd_n": 3, "fd_mean": 45.2, "fd_ci_low": 40.1,
            "fd_ci_high": 50.3, "n_finished": 3, "n_ok": 3, "n_diverged": 0, "n_collapsed": 0, "n_d_dominates": 0,
            "stability": 1.0, "stability_ci_low": 0.4385, "stability_ci_high": 1.0, "n_other": 0, "n_trials": 3}
    base.update(over)
    return pd.Series(base)


def test_summary_sentence():
    assert summary_sentence(summary_row(), "fd") == (
        "**baseline**: fd 45.2 [40.1, 50.3] over 3 seeds; stable in 3 of 3 finished seeds (100% [44%, 100%]).")
    one = summary_row(configuration="k=5", fd_n=1, n_finished=1, n_ok=1, n_other=2, n_trials=3)
    assert summary_sentence(one, "fd") == (
        "**k=5**: fd 45.2 (1 seed: no CI); stable in 1 of 1 finished seeds (100% [44%, 100%]); "
        "2 more did not finish.")


def test_answer_lists_the_clear_effects_first():
    effects = pd.concat([effect_rows(), effect_rows(metric="stability", effect=-0.25, ci_low=-0.6, ci_high=0.1,
                                                    direction="unclear", mode="max")], ignore_index=True)
    effects["mode"] = ["min", "max"]
    summary = pd.DataFrame([summary_row(), summary_row(configuration="batchnorm_d_off", fd_mean=57.5, stability=0.75,
                                                       n_ok=3, n_diverged=1, n_finished=4, n_trials=4)])
    trials = pd.DataFrame({"status": ["ok"] * 6 + ["diverged"]})
    lines = answer(effects, summary, trials, "fd", "min", "baseline")
    assert lines[0] == ("On fd (lower is better), 1 of 1 comparisons against the baseline (baseline) have a 95% CI "
                        "that excludes 0 (3 to 4 seeds per configuration):")
    assert lines[1] == "  - " + effect_sentence(effects, "fd")
    assert lines[2] == ("How sure: with 3 vs 3 seeds the permutation test cannot give p below 0.10, and a bootstrap "
                        "CI from so few seeds runs narrower than its nominal 95%: read these effects as indications. "
                        "With 4 seeds on each side p can reach 0.029, with 5 0.0079.")
    assert lines[3] == "Best mean fd: **baseline**, fd 45.2 [40.1, 50.3] over 3 seeds."
    assert lines[4] == ("Stability (share of finished seeds whose stability status is ok: not diverged, collapsed "
                        "or D-dominated) ranges from 75% (batchnorm_d_off) to 100% (baseline); no difference from the "
                        "baseline is clear at 95%.")
    assert lines[5] == "Seeds that did not train stably: **batchnorm_d_off** 1 of 4 seeds diverged."
    assert len(lines) == 6


def test_answer_says_how_sure_only_when_the_seeds_cannot_reach_p_005():
    def how_sure(*pairs):
        effects = pd.concat([effect_rows(comparison=f"c{i}", n_level=a, n_baseline=b)
                             for i, (a, b) in enumerate(pairs)], ignore_index=True)
        effects["mode"] = "min"
        lines = answer(effects, pd.DataFrame([summary_row()]), pd.DataFrame({"status": ["ok"] * 6}), "fd", "min",
                       "baseline")
        return [ln for ln in lines if ln.startswith("How sure")]

    assert how_sure((5, 5), (4, 4)) == []  # p can reach 0.0079 and 0.029
    assert how_sure((5, 5), (1, 5)) == []  # one seed: no p at all (the sentence says "no CI")
    assert how_sure((5, 5), (3, 4)) == [  # 3 vs 4: 2 / C(7, 3) = 0.057, the weakest comparison
        "How sure: with 3 vs 4 seeds the permutation test cannot give p below 0.057 (0.11 after Holm over 2 "
        "comparisons), and a bootstrap CI from so few seeds runs narrower than its nominal 95%: read these effects "
        "as indications. With 4 seeds on each side p can reach 0.029, with 5 0.0079."]


def test_answer_when_nothing_finished_or_all_diverged():
    none = answer(pd.DataFrame(), pd.DataFrame(), pd.DataFrame({"status": ["error", "error"]}), "fd", "min", None)
    assert none == ["No trial finished (2 error): there is nothing to compare yet."]
    summary = pd.DataFrame([summary_row(fd_n=0, fd_mean=float("nan"), n_ok=0, n_diverged=3, stability=0.0,
                                        stability_ci_low=0.0, stability_ci_high=0.5615)])
    lines = answer(pd.DataFrame(), summary, pd.DataFrame({"status": ["diverged"] * 3}), "fd", "min", "all")
    assert lines[0] == ("All 3 finished trials diverged: no configuration trained stably, so there are no fd "
                        "values to compare; only stability is reported.")
    assert lines[1] == ("One configuration (only the seed varies): no finite fd; stable in 0 of 3 finished seeds "
                        "(0% [0%, 56%]): 3 of 3 seeds diverged.")


def test_stability_phrase_names_each_unstable_status():
    row = summary_row(n_ok=0, n_collapsed=3, stability=0.0, stability_ci_low=0.0, stability_ci_high=0.5615)
    assert stability_phrase(row) == "stable in 0 of 3 finished seeds (0% [0%, 56%]): 3 of 3 seeds collapsed"
    row = summary_row(n_ok=0, n_diverged=1, n_collapsed=2, stability=0.0, stability_ci_low=0.0,
                      stability_ci_high=0.5615)
    assert stability_phrase(row).endswith("(0% [0%, 56%]): 1 of 3 seeds diverged, 2 collapsed")
    row = summary_row(n_ok=2, n_d_dominates=1, stability=2 / 3, stability_ci_low=0.2077, stability_ci_high=0.9385)
    assert stability_phrase(row) == "stable in 2 of 3 finished seeds (67% [21%, 94%]): D dominated in 1 of 3 seeds"


def test_study_whose_trainer_said_ok_but_seeds_collapsed_or_d_dominated(unstable_dir):
    from analysis.results import load_results

    r = load_results(str(unstable_dir), n_resamples=99)
    s = r.summary.set_index("configuration")
    assert stability_phrase(s.loc["baseline"]) == "stable in 3 of 3 finished seeds (100% [44%, 100%])"
    assert stability_phrase(s.loc["collapsed"]) == \
        "stable in 0 of 3 finished seeds (0% [0%, 56%]): 3 of 3 seeds collapsed"
    assert stability_phrase(s.loc["d_wins"]) == \
        "stable in 0 of 3 finished seeds (0% [0%, 56%]): D dominated in 3 of 3 seeds"
    e = r.effects
    assert effect_sentence(e[e["comparison"] == "collapsed"], "stability") == (
        "collapsed (g_output=sigmoid): stability (share of seeds with stability ok) -1.00 [-1.00, -1.00] against "
        "baseline (worse; p = 0.10, 3 vs 3 seeds); 3 of 3 seeds collapsed.")
    lines = answer(e, r.summary, r.trials, "fd", "min", "baseline")
    assert ("Seeds that did not train stably: **collapsed** 3 of 3 seeds collapsed; **d_wins** D dominated in 3 "
            "of 3 seeds.") in lines
    assert any(ln.startswith("Stability (share of finished seeds whose stability status is ok: not diverged, "
                             "collapsed or D-dominated) ranges from 0% (collapsed) to 100% (baseline); clearly "
                             "different from the baseline") for ln in lines)

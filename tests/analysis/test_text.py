"""Each row read out in one plain sentence; the answer stated up front."""
import pandas as pd

from analysis.text import answer, effect_sentence, summary_sentence


def effect_rows(**over):
    base = {"comparison": "batchnorm_d_off", "changes": "batchnorm_d=False", "metric": "fd", "effect": 12.3,
            "ci_low": 8.1, "ci_high": 16.0, "p_value": 0.02, "baseline": "baseline", "n_level": 3,
            "n_baseline": 3, "direction": "worse", "n_diverged_level": 1, "n_trials_level": 4}
    base.update(over)
    return pd.DataFrame([base])


def test_effect_sentence_worse():
    assert effect_sentence(effect_rows(), "fd") == (
        "batchnorm_d_off (batchnorm_d=False): fd +12.3 [+8.10, +16.0] against baseline (worse; p = 0.020, "
        "3 vs 3 seeds); 1 of 4 seeds diverged.")


def test_effect_sentence_unclear_and_without_ci():
    rows = effect_rows(comparison="k=2", changes="", effect=-0.5, ci_low=-2.0, ci_high=1.0, p_value=0.7,
                       baseline="k=1", direction="unclear", n_diverged_level=0)
    assert effect_sentence(rows, "fd") == ("k=2: fd -0.500 [-2.00, +1.00] against k=1 (CI covers 0: no clear "
                                           "effect; p = 0.70, 3 vs 3 seeds); 0 of 4 seeds diverged.")
    rows = effect_rows(n_level=1, ci_low=float("nan"), ci_high=float("nan"), direction="no CI")
    assert effect_sentence(rows, "fd").endswith("against baseline (no CI: 1 vs 3 seeds); 1 of 4 seeds diverged.")


def summary_row(**over):
    base = {"configuration": "baseline", "changes": "", "fd_n": 3, "fd_mean": 45.2, "fd_ci_low": 40.1,
            "fd_ci_high": 50.3, "n_finished": 3, "n_ok": 3, "stability": 1.0, "stability_ci_low": 0.4385,
            "stability_ci_high": 1.0, "n_other": 0, "n_trials": 3}
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
                                                       n_ok=3, n_finished=4, n_trials=4)])
    trials = pd.DataFrame({"status": ["ok"] * 6 + ["diverged"]})
    lines = answer(effects, summary, trials, "fd", "min", "baseline")
    assert lines[0] == ("On fd (lower is better), 1 of 1 comparisons against the baseline (baseline) have a 95% CI "
                        "that excludes 0 (3 to 4 seeds per configuration):")
    assert lines[1] == "  - " + effect_sentence(effects, "fd")
    assert lines[2] == "Best mean fd: **baseline**, fd 45.2 [40.1, 50.3] over 3 seeds."
    assert lines[3] == ("Stability (share of finished seeds that did not diverge) ranges from 75% (batchnorm_d_off) "
                        "to 100% (baseline); no difference from the baseline is clear at 95%.")


def test_answer_when_nothing_finished_or_all_diverged():
    none = answer(pd.DataFrame(), pd.DataFrame(), pd.DataFrame({"status": ["error", "error"]}), "fd", "min", None)
    assert none == ["No trial finished (2 error): there is nothing to compare yet."]
    summary = pd.DataFrame([summary_row(fd_n=0, fd_mean=float("nan"), n_ok=0, stability=0.0, stability_ci_low=0.0,
                                       stability_ci_high=0.5615)])
    lines = answer(pd.DataFrame(), summary, pd.DataFrame({"status": ["diverged"] * 3}), "fd", "min", "all")
    assert lines[0] == ("All 3 finished trials diverged: no configuration trained stably, so there are no fd "
                        "values to compare; only stability is reported.")
    assert lines[1] == ("One configuration (only the seed varies): no finite fd; stable in 0 of 3 finished seeds "
                        "(0% [0%, 56%]).")

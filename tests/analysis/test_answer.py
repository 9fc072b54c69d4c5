"""The answer stated up front, with what it can and cannot resolve; a search's best settings."""
import pandas as pd

from analysis.answer import answer, search_answer
from analysis.results import load_results
from analysis.text import effect_sentence

from .conftest import summary_row


def test_answer_of_an_ablation_with_a_planted_effect(ablation_dir):
    r = load_results(str(ablation_dir))
    e = r.effects
    lines = answer(e, r.summary, r.trials, "fd", "min", "baseline")
    assert lines == [
        "On fd (lower is better), 1 of 2 comparisons against the baseline (baseline) are clear (6 seeds per "
        "configuration; tested over every seed, a diverged or collapsed seed counting as a failure, worse than any "
        "finished one; Holm's correction over the 4 fd and stability comparisons of this answer):",
        "Worse, with failed seeds (a diverged or collapsed seed is not a slower one):",
        "  - " + effect_sentence(e[e["comparison"] == "batchnorm_d_off"], "fd"),
        "No clear effect on fd: g_output_off (0 [-1.15, +1.15]).",
        "Best fd over every seed: **baseline** (mean rank 6.50 among the 18 seeds of every configuration, a failed "
        "seed ranked behind every finished one: some seeds failed, so not the best mean of the survivors), fd 40.0 "
        "[39.1, 40.9] over 6 seeds; still improving (the last quarter of training brought 33% of its fd "
        "improvement).",
        "Stability (share of finished seeds whose stability status is stable: not diverged, collapsed or D-dominated) "
        "ranges from 67% (batchnorm_d_off) to 100% (baseline); no difference from the baseline is clear after "
        "correction.",
        "Seeds that did not train stably: **batchnorm_d_off** 2 of 6 seeds diverged.",
        "How sure, over 4 corrected comparisons: where no seed failed, with 6 seeds a side, Welch's t test calls a "
        "difference of 2.4 seed-to-seed standard deviations with 80% probability; where seeds failed, the finished "
        "seeds of batchnorm_d_off (4 vs 6) need 3.0 for 80%."]


def test_answer_names_what_these_seeds_cannot_resolve(unstable_dir):
    r = load_results(str(unstable_dir))
    lines = answer(r.effects, r.summary, r.trials, "fd", "min", "baseline")
    assert ("Not resolvable with these seeds (collapsed): some of their seeds failed, and with their outcomes (how "
            "many failed, and how) the two-part test cannot reach p = 0.05 after Holm's correction whatever the "
            "values show; 5 seeds per configuration could.") in lines
    # its collapsed seeds' fd values are no measurement: there is no survivors' comparison to warn about
    assert not any(line.startswith("Comparing only the finished seeds") for line in lines)
    assert "  - " + effect_sentence(r.effects[r.effects["comparison"] == "d_wins"], "fd") in lines
    assert ("Not resolvable with these seeds on stability (d_wins, collapsed): Boschloo's exact test cannot reach "
            "p = 0.05 after Holm's correction at these seed counts; 4 seeds a side could.") in lines
    assert lines[-1] == (
        "How sure, over 4 corrected comparisons: where no seed failed, with 3 seeds a side, Welch's t test calls a "
        "difference of 5.8 seed-to-seed standard deviations with 80% probability; collapsed can be called only on "
        "how its seeds failed (fewer than 2 finished seeds on a side), at p no lower than 0.10, 0.40 after Holm at "
        "its strictest.")
    assert ("Seeds that did not train stably: **collapsed** 3 of 3 seeds collapsed; **d_wins** D dominated in 3 "
            "of 3 seeds.") in lines


def test_answer_when_nothing_finished_or_all_diverged():
    none = answer(pd.DataFrame(), pd.DataFrame(), pd.DataFrame({"status": ["error", "error"]}), "fd", "min", None)
    assert none == ["No trial finished (2 error): there is nothing to compare yet."]
    summary = pd.DataFrame([summary_row(fd_n=0, fd_mean=float("nan"), n_stable=0, n_diverged=3, stability=0.0,
                                        stability_ci_low=0.0, stability_ci_high=0.5615)])
    lines = answer(pd.DataFrame(), summary, pd.DataFrame({"status": ["diverged"] * 3}), "fd", "min", "all")
    assert lines == [
        "All 3 finished trials diverged: no configuration trained stably, so there are no fd values to compare; "
        "only stability is reported.",
        "One configuration (only the seed varies): no finite fd; stable in 0 of 3 finished seeds (0% [0%, 56%]): "
        "3 of 3 seeds diverged."]


def test_search_answer_lists_the_best_settings_and_what_was_stopped():
    trials = pd.DataFrame({
        "trial_id": ["t0", "t1", "t2", "t3"], "status": ["ok", "ok", "stopped", "diverged"],
        "lr_d": [1e-3, 2e-4, 1e-5, 1e-2], "lr_g": [5e-4, 1e-4, 1e-5, 1e-2],
        "final_reverse_kl": [0.30, 0.12, 0.05, float("nan")], "g_steps": [2000, 2000, 500, 700],
        "stability": ["stable", "collapsed", "", "diverged"]})
    assert search_answer(trials, "reverse_kl", "min", {"searcher": "Optuna TPE"}, ["lr_d", "lr_g"]) == [
        "A search (searcher Optuna TPE): it chose its settings adaptively and stopped trailing trials early, so a "
        "difference between its settings is not an effect of the setting; it reports the best settings found, not "
        "effect sizes. To measure an effect, run the chosen settings as a grid with seeds.",
        "Best settings at the full budget (lower is better):",
        "  - lr_d = 2.00e-04, lr_g = 1.00e-04: reverse_kl 0.120 (trial t1, collapsed)",
        "  - lr_d = 0.00100, lr_g = 5.00e-04: reverse_kl 0.300 (trial t0, stable)",
        "1 of 4 trials were stopped early by the scheduler at g_steps 500 (trials.csv: status stopped).",
        "1 of 4 trials diverged (never chosen as best)."]

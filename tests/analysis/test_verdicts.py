"""The answer's words follow the evidence where seeds fail (issue 23): each test builds the situation in which the
answer used to say something its tests did not, as a synthetic results directory, and reads the answer."""
import numpy as np
import pytest

from analysis.answer import answer
from analysis.results import load_results
from analysis.text import effect_sentence

NOISE = np.array([-1.5, 0.5, 1.0, -0.5, 0.5, 0.0])  # fixed per-seed noise (conftest's first 6)
BASE = 40 + NOISE


def ok(values):
    return [(float(v), "stable") for v in values]


def collapsed(values):
    return [(float(v), "collapsed") for v in values]


def study(synth, name, outcomes, converged=(), flops=None, slower=None):
    """A variant ablation whose seeds end as given: {variant: [(final fd, stability status), ...]}; the trainer
    writes the stability status into every report (a diverged seed's fd is NaN from its third report). fd falls
    linearly to its final value (the last quarter brings a third of the gain: still improving), except in the
    ``converged`` variants, within 2% of it at 3/4 of training. ``flops``: {variant: FLOPs per generator step} that
    its reports carry (default: none, as results written before they did); ``slower``: {variant: how many times the
    synthetic training seconds it took}."""
    trials = []
    for variant, seeds in outcomes.items():
        for seed, (fd, status) in enumerate(seeds):
            params = synth.base_params(seed=seed, variant=variant)
            rows = synth.trial_rows(params, {"fd": fd}, diverge_at=3 if status == "diverged" else None,
                                    flops_per_step=(flops or {}).get(variant))
            for row in rows:
                row["stability"] = status
                row["train_time_s"] *= (slower or {}).get(variant, 1.0)
            if variant in converged:
                rows[2]["fd"] = 1.02 * fd
            trials.append({"params": params, "rows": rows})
    r = load_results(str(synth.write(name, trials, {**synth.ablation_study, "variants": {v: {} for v in outcomes}})))
    return r, answer(r.effects, r.summary, r.trials, "fd", "min", "baseline")


def sentence(r, comparison):
    return "  - " + effect_sentence(r.effects[r.effects["comparison"] == comparison], "fd")


def test_a_variant_collapsed_in_every_seed_is_worse_though_its_collapsed_values_are_lower(synth):
    # finding 1: the collapsed seeds' fd (30) is below the baseline's (40); it measures no working generator
    r, lines = study(synth, "collapsed", {"baseline": ok(BASE), "v1": collapsed(30 + NOISE)})
    assert lines[1:3] == ["Worse, with failed seeds (a diverged or collapsed seed is not a slower one):",
                          sentence(r, "v1")]
    assert lines[2] == (
        "  - v1: no finished seed with a finite fd on one side (6 vs 6 seeds); with every seed (6 vs 6 seeds, a "
        "failed seed counted as worse than any finished one), worse in 100% of seed pairs; p = 0.0029 (two-part "
        "test: failures p = 0.0022 at 75% of the level, finished seeds no test at 25%), Holm p = 0.0029: "
        "**worse**; 6 of 6 seeds collapsed.")
    assert lines[3] == (
        "Best fd over every seed: **baseline** (mean rank 3.50 among the 12 seeds of every configuration, a failed "
        "seed ranked behind every finished one: some seeds failed, so not the best mean of the survivors), fd 40.0 "
        "[39.1, 40.9] over 6 seeds; still improving (the last quarter of training brought 33% of its fd "
        "improvement).")
    assert not any(line.startswith(("No clear effect on fd", "Best mean fd")) for line in lines)


def test_a_passing_holm_p_is_not_overridden_by_not_resolvable(synth):
    # finding 2: 4 seeds a side; the failure part's floor (2 / 70) times 2 comparisons is above 0.05, yet Holm
    # multiplies the later-ranked of the two p-values by 1
    r, lines = study(synth, "four", {"baseline": ok(BASE[:4]), "v1": collapsed(200 + NOISE[:4])})
    assert lines[:3] == [
        "On fd (lower is better), 1 of 1 comparisons against the baseline (baseline) are clear (4 seeds per "
        "configuration; tested over every seed, a diverged or collapsed seed counting as a failure, worse than any "
        "finished one; Holm's correction over the 2 fd and stability comparisons of this answer):",
        "Worse, with failed seeds (a diverged or collapsed seed is not a slower one):", sentence(r, "v1")]
    assert sentence(r, "v1").endswith("Holm p = 0.038: **worse**; 4 of 4 seeds collapsed.")
    assert not any(line.startswith("Not resolvable") for line in lines)
    fd = r.effects[(r.effects["comparison"] == "v1") & (r.effects["metric"] == "fd")].iloc[0]
    assert (fd["p_value"], fd["p_holm"]) == (pytest.approx(2 / 70 / 0.75), pytest.approx(2 / 70 / 0.75))
    assert lines[-1] == ("How sure, over 2 corrected comparisons: v1 can be called only on how its seeds failed "
                         "(fewer than 2 finished seeds on a side), at p no lower than 0.038, 0.076 after Holm at its "
                         "strictest.")


def failed_baseline_seed(synth):
    """The architecture ablation's 16 comparisons; 1 of 6 baseline seeds collapsed (at fd 41). "collapses": all 6
    collapsed at fd +160; "worse": every seed finished, all worse than every finished baseline seed; 6 nulls."""
    nulls = {f"null{i}": ok(BASE) for i in range(1, 7)}
    return study(synth, "one_failed", {"baseline": ok(BASE[:5]) + collapsed([41.0]),
                                       "collapses": collapsed(200 + NOISE), "worse": ok(55 + NOISE), **nulls})


def test_one_failed_baseline_seed_blocks_neither_a_collapsed_variant_nor_a_worse_finished_one(synth):
    # finding 3: both used to read "No clear effect on fd", the best p 0.015 and 0.065
    r, lines = failed_baseline_seed(synth)
    assert lines[:5] == [
        "On fd (lower is better), 2 of 8 comparisons against the baseline (baseline) are clear (6 seeds per "
        "configuration; tested over every seed, a diverged or collapsed seed counting as a failure, worse than any "
        "finished one; Holm's correction over the 16 fd and stability comparisons of this answer):",
        "Worse at this budget, still improving (it may only be slower):", sentence(r, "worse"),
        "Worse, with failed seeds (a diverged or collapsed seed is not a slower one):", sentence(r, "collapses")]
    assert sentence(r, "collapses").endswith(
        "p = 0.0029 (two-part test: failures p = 0.0022 at 75% of the level, finished seeds no test at 25%), Holm "
        "p = 0.043: **worse**; 6 of 6 seeds collapsed.")
    assert sentence(r, "worse") == (
        "  - worse: fd +15.0 [+13.7, +16.3] against baseline over the finished seeds (6 vs 5); with every seed (6 "
        "vs 6 seeds, a failed seed counted as worse than any finished one), worse in 83% of seed pairs; p < 0.001 "
        "(two-part test: finished seeds p < 0.001; failures p = 1.0, too few or too tied to decide), Holm p < "
        "0.001: **worse**; all seeds stable.")
    e = r.effects[r.effects["metric"] == "fd"].set_index("comparison")
    assert e.loc["collapses", "p_holm"] == pytest.approx(15 * 2 / 924 / 0.75)  # ranked second of 16
    assert e.loc["worse", "w_failure"] == 0.0  # one failed seed cannot tell two groups apart: Welch decides
    assert lines[5] == ("No clear effect on fd: " + "; ".join(f"null{i} (0 [-1.33, +1.33])" for i in range(1, 7))
                        + ".")
    assert lines[-1] == (
        "How sure, over 16 corrected comparisons: where seeds failed, the finished seeds of worse, null1, null2 and "
        "4 more (6 vs 5) need 3.3 for 80%; collapses can be called only on how its seeds failed (fewer than 2 "
        "finished seeds on a side), at p no lower than 0.0029, 0.046 after Holm at its strictest.")


def test_failures_that_tie_are_not_resolvable_and_say_how_many_seeds_could(synth):
    # the other side of finding 3: 6 diverged against 1 of 6 diverged tie 7 ways, so no test of these outcomes
    # reaches p = 0.05 over 16 comparisons (2 x 7 / 924 / 0.75 x 16 = 0.32): "not resolvable", not "unclear"
    nulls = {f"null{i}": ok(BASE) for i in range(1, 8)}
    r, lines = study(synth, "tied", {"baseline": ok(BASE[:5]) + [(np.nan, "diverged")],
                                     "dead": [(np.nan, "diverged")] * 6, **nulls})
    assert ("Not resolvable with these seeds (dead): some of their seeds failed, and with their outcomes (how many "
            "failed, and how) the two-part test cannot reach p = 0.05 after Holm's correction whatever the values "
            "show; 8 seeds per configuration could.") in lines
    assert not any("dead" in line for line in lines if line.startswith("No clear effect"))


def test_best_is_chosen_over_every_seed_not_by_the_mean_of_the_survivors(synth):
    # finding 4: 5 of 6 seeds diverged, the survivor at fd 50 below the baseline's 60
    r, lines = study(synth, "survivor", {"baseline": ok(60 + NOISE),
                                         "fragile": [(np.nan, "diverged")] * 5 + [(50.0, "stable")]})
    assert lines[3] == (
        "Best fd over every seed: **baseline** (mean rank 4.50 among the 12 seeds of every configuration, a failed "
        "seed ranked behind every finished one: some seeds failed, so not the best mean of the survivors), fd 60.0 "
        "[59.1, 60.9] over 6 seeds; still improving (the last quarter of training brought 33% of its fd "
        "improvement).")
    assert not any(line.startswith("Best mean fd") for line in lines)
    # with no failed seed anywhere, the tests compare means, and so does the best
    r, lines = study(synth, "means", {"baseline": ok(BASE), "v1": ok(BASE - 0.5)})
    assert lines[2] == ("Best mean fd: **v1**, fd 39.5 [38.6, 40.4] over 6 seeds; still improving (the last quarter "
                        "of training brought 33% of its fd improvement).")


def test_a_variant_with_failed_seeds_is_not_called_slower_from_its_survivors(synth):
    # finding 5: 4 of 6 seeds collapsed and 2 still improving is not "may only be slower"
    r, lines = study(synth, "caveats", {"baseline": ok(BASE), "mostly_collapsed": collapsed(70 + NOISE[:4]) +
                                        ok(55 + NOISE[4:])})
    assert lines[1:3] == ["Worse, with failed seeds (a diverged or collapsed seed is not a slower one):",
                          sentence(r, "mostly_collapsed")]
    assert not any("may only be slower" in line for line in lines)
    assert lines[-1] == (
        "How sure, over 2 corrected comparisons: where seeds failed, the finished seeds of mostly_collapsed (2 vs 6) "
        "need 12 for 80%.")
    # the other side: worse without a failed seed and still improving keeps its caveat
    r, lines = study(synth, "slower", {"baseline": ok(BASE), "slow": ok(55 + NOISE)})
    assert lines[1:3] == ["Worse at this budget, still improving (it may only be slower):", sentence(r, "slow")]


def test_a_better_against_a_baseline_still_improving_may_only_be_faster(synth):
    # finding 5, the baseline's side: its flag was computed and never read
    r, lines = study(synth, "faster", {"baseline": ok(BASE), "faster": ok(25 + NOISE)})
    assert lines[1:3] == ["Better at this budget than a baseline still improving (it may only be faster):",
                          sentence(r, "faster")]
    # against a baseline that converged, no caveat
    r, lines = study(synth, "converged", {"baseline": ok(BASE), "fast": ok(25 + NOISE)}, converged={"baseline"})
    assert lines[1:3] == ["Better:", sentence(r, "fast")]


def test_survivors_far_better_than_the_baseline_do_not_make_a_failing_variant_better(synth):
    # 4 of 6 seeds diverged, the 2 that finished far better: the finished seeds alone would say better, every seed
    # does not (worse in 2 of 3 seed pairs), and the answer says which
    r, lines = study(synth, "fragile", {"baseline": ok(BASE), "fragile": [(np.nan, "diverged")] * 4 + ok([10.0, 10.5])})
    assert lines[1] == "No clear effect on fd: fragile (-29.8 [-30.9, -28.6])."
    assert lines[2] == ("Comparing only the finished seeds (every diverged or collapsed seed dropped) would instead "
                        "call: fragile better. The answer does not: that comparison ignores how the other seeds "
                        "failed.")


def test_a_better_configuration_that_cost_several_times_the_compute_says_so(synth):
    # item 6: stride1 is better at 4.5 times the FLOPs per step (and 3 times the seconds); cheap is better at the
    # baseline's price; the answer names only stride1, and each configuration states its compute
    outcomes = {"baseline": ok(BASE), "stride1": ok(25 + NOISE), "cheap": ok(25 + NOISE)}
    per_step = {"baseline": 2_000_000, "stride1": 9_000_000, "cheap": 2_000_000}
    r, lines = study(synth, "costly", outcomes, flops=per_step, slower={"stride1": 3.0}, converged={"baseline"})
    assert lines[1:5] == ["Better:", sentence(r, "stride1"), sentence(r, "cheap"),
                          "Better, but at several times the compute (at least 2 times the baseline's per run): stride1 "
                          "(4.5 times baseline's FLOPs per run, 3.0 times its measured training seconds)."]
    s = r.summary.set_index("configuration")
    # 200 generator steps of the budget: 2e6 x 200 = 400 MFLOP; the synthetic trainer reports 8 s at its last report
    assert s.loc["baseline", ["flops_per_run", "train_s_per_run"]].tolist() == [4e8, 8.0]
    assert s.loc["stride1", ["flops_per_run", "train_s_per_run"]].tolist() == [1.8e9, 24.0]
    e = r.effects[r.effects["metric"] == "fd"].set_index("comparison")
    assert e.loc["stride1", ["flops_ratio", "seconds_ratio"]].tolist() == pytest.approx([4.5, 3.0])
    assert e.loc["cheap", ["flops_ratio", "seconds_ratio"]].tolist() == pytest.approx([1.0, 1.0])


def test_results_written_before_the_reports_carried_flops_say_they_are_not_recorded(synth):
    # the same study from reports without flops: the FLOPs are "not recorded", never guessed, and the measured
    # seconds alone say what stride1 cost
    from analysis.report import write_report

    outcomes = {"baseline": ok(BASE), "stride1": ok(25 + NOISE), "cheap": ok(25 + NOISE)}
    r, lines = study(synth, "old", outcomes, slower={"stride1": 3.0}, converged={"baseline"})
    assert lines[4] == ("Better, but at several times the compute (at least 2 times the baseline's per run): stride1 "
                        "(3.0 times baseline's measured training seconds; FLOPs not recorded).")
    md = (write_report(str(synth.root / "old"), sample_figures=False) / "report.md").read_text()
    assert "| baseline | 6/6 | 100% [61%, 100%] | 40.0 [39.1, 40.9] | no (3%) | FLOPs not recorded, 8.00 s of " \
           "training |" in md
    assert ("- **stride1**: fd 25.0 [24.1, 25.9] over 6 seeds; still improving (the last quarter of training brought "
            "33% of its fd improvement); stable in 6 of 6 finished seeds (100% [61%, 100%]); compute per run: FLOPs "
            "not recorded (its reports carry none), 24.0 s of training (measured).") in md
    assert "| 6 (0) vs 6 (0) | better | better | FLOPs not recorded, 3.0x s |" in md

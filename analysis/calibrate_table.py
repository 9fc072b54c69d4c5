"""The calibration's table: docs/STATISTICS.md, written from the cells' and the whole studies' numbers, each
verdict under a table worded from its numbers.

Why the words are computed: the page says whether every cell is within its target, and a re-run with other numbers
must not leave a sentence behind that they no longer support.
"""
from __future__ import annotations

import math

from analysis import stats
from analysis.calibrate_cells import POWER_TESTS, SEED
from analysis.calibrate_studies import VARIANTS

Z95 = 1.959963984540054


def _mc_error(p: float, reps: int) -> float:
    """Half-width of a 95% normal interval of a simulated rate: how far it may lie from the truth by chance."""
    return Z95 * math.sqrt(max(p * (1 - p), 1e-12) / reps)


COVERAGE_TARGET, FALSE_POSITIVE_TARGET = (0.93, 0.97), (0.03, 0.06)


def _interval_verdict(intervals: list[dict]) -> str:
    """The sentence under the interval table, from its numbers: the normal cells against the targets, the skewed
    ones as they came out."""
    def span(rows, key):
        vals = [r[key] for r in rows if not math.isnan(r[key])]
        return min(vals), max(vals)

    normal = [r for r in intervals if r["data"].startswith("normal")]
    skewed = [r for r in intervals if r["data"].startswith("lognormal")]
    cov = (*span(normal, "mean_ci"), *span(normal, "diff_ci"))
    fp = span(normal, "diff_pvalue")
    inside = COVERAGE_TARGET[0] <= min(cov) and max(cov) <= COVERAGE_TARGET[1] and \
        FALSE_POSITIVE_TARGET[0] <= fp[0] and fp[1] <= FALSE_POSITIVE_TARGET[1]
    m_lo, m_hi = span(skewed, "mean_ci")
    d_lo, d_hi = span(skewed, "diff_ci")
    f_lo, f_hi = span(skewed, "diff_pvalue")
    return (f"Normal data: coverage from {min(cov):.3f} to {max(cov):.3f}, false positives from {fp[0]:.3f} to "
            f"{fp[1]:.3f}, against the targets [{COVERAGE_TARGET[0]}, {COVERAGE_TARGET[1]}] and "
            f"[{FALSE_POSITIVE_TARGET[0]}, {FALSE_POSITIVE_TARGET[1]}]: "
            + ("every cell within them." if inside else "NOT every cell within them.")
            + f" Lognormal data (skewed), as they come out: the interval of one mean covers only {m_lo:.3f} to "
            f"{m_hi:.3f} (in a small skewed sample the mean and the spread are low together, so the interval "
            f"misses high), while the difference of two groups of the same shape errs on the safe side (coverage "
            f"{d_lo:.3f} to {d_hi:.3f}, false positives {f_lo:.3f} to {f_hi:.3f}): the comparisons the answers "
            f"rest on keep their level, a single configuration's interval of a skewed metric runs short.")


def _spread_verdict(intervals: list[dict]) -> str:
    """The sentence on unequal spreads: where Welch's test runs above its level, and what guards the answer."""
    worst = max((r for r in intervals if "against" in r["data"]), key=lambda r: r["diff_pvalue"])
    return (f"Unequal spreads: Welch's test is exact only for normal data with equal spreads; its largest false-"
            f"positive rate here is {worst['diff_pvalue']:.3f} ({worst['data']}, {worst['n']} seeds a side: with "
            f"few seeds, Satterthwaite's degrees of freedom, estimated from the two variances, run high). A "
            f"study's answer corrects over its comparisons (Holm), and its family-wise rate with spreads up to 4:1 "
            f"is in the table of whole studies below.")


def _two_part_verdict(rows: list[dict], reps: int) -> str:
    eq = max(rows, key=lambda r: r["false_positive"])
    sd4 = max(rows, key=lambda r: r["false_positive_sd4"])
    six = {r["fail_rate"]: r for r in rows if r["n"] == 6}
    text = (f"Largest false-positive rate with equal spreads: {eq['false_positive']:.3f} ({eq['n']} seeds, failure "
            f"rate {eq['fail_rate']:g}); with SD 1 against 4: {sd4['false_positive_sd4']:.3f} ({sd4['n']} seeds, "
            f"failure rate {sd4['fail_rate']:g}); Monte Carlo error +-{_mc_error(0.05, reps):.3f}. The failure part "
            f"is exact and Welch's part holds its level given which seeds failed, so the test is as good as Welch's "
            f"test over the finished seeds (see unequal spreads above).")
    if six and 0.0 in six and 0.2 in six and 0.5 in six:
        text += (f" At 6 seeds a side, failures cost power: at d80 ({six[0.0]['d80']:.2f} SDs) it is "
                 f"{six[0.0]['power_d80']:.3f} with no failures, {six[0.2]['power_d80']:.3f} when a seed fails with "
                 f"probability 0.2 and {six[0.5]['power_d80']:.3f} at 0.5 (fewer finished seeds, a quarter of the "
                 f"level where failures could decide); a 10-SD shift is called in {six[0.2]['power_10']:.3f} and "
                 f"{six[0.5]['power_10']:.3f} of repetitions; a variant that collapsed in every seed in "
                 f"{six[0.0]['power_all_collapsed']:.3f}, {six[0.2]['power_all_collapsed']:.3f} and "
                 f"{six[0.5]['power_all_collapsed']:.3f} (it needs the baseline's failures to be fewer, and "
                 f"collapsed ones better than its own).")
    return text


def _study_verdict(studies: list[dict], study_reps: int) -> str:
    top = max(studies, key=lambda r: r["fwer"])
    within = all(r["fwer"] <= stats.ALPHA for r in studies)
    return (f"Target: at most 0.05 in every scenario (Monte Carlo error +-{_mc_error(0.05, study_reps):.3f} at "
            f"0.05); the largest here: {top['fwer']:.3f} ({top['scenario']}, {top['n']} seeds a variant): "
            + ("every scenario within it." if within else "NOT every scenario within it.")
            + " It stays below 0.05 because Holm guards against any dependence between the tests and several of "
              "them are exact, discrete tests that cannot reach their level. The studies are run through "
              "`analysis.effects.compute_effects` on the trials `analysis.load` reads from the synthetic results "
              "directory, which is written and read once per seed count; the test suite checks that this gives the "
              "effects `load_results` gives a directory written for every study.")


def _f(x: float, digits: int = 3) -> str:
    return "n/a" if isinstance(x, float) and math.isnan(x) else f"{x:.{digits}f}"


def render(reps: int, study_reps: int, intervals, ranks, proportions, power, studies, n_tests: int) -> str:
    mc = _mc_error(0.95, reps)
    lines = [
        "# How sure: the statistics of the reports, checked by simulation",
        "",
        "Written by `python -m analysis.calibrate` (seed {}, {} repetitions a cell, {} for whole studies); "
        "re-run it to check. The procedures are in `analysis/stats.py` (the rank test in `ranks.py`, the test over "
        "every seed in `every_seed.py`, seed counts in `power.py`), their use in `analysis/effects.py`."
        .format(SEED, reps, study_reps),
        "",
        "## What the reports use, and why",
        "",
        "- **Means: Student's t interval; differences of means: Welch's interval and test.** At 3 to 10 seeds a "
        "percentile bootstrap runs narrow (it covered the truth 78% of the time at 3 seeds, 88% at 5, in the "
        "project's earlier reports), because a few values cannot show the spread they come from; the t quantile "
        "pays exactly for that under normality, and Welch's degrees of freedom for unequal spreads.",
        "- **A comparison with failed seeds (diverged or collapsed): the two-part test.** Dropping a failed seed "
        "ranks a configuration on its survivors; ranking it behind every finished seed in one rank test lets one "
        "failed baseline seed block a variant whose every finished seed is worse. So the test has two parts: how "
        "the seeds failed (an exact permutation test of mean ranks, every finished seed tied ahead, a collapsed one "
        "behind them by its value, a diverged one last) and how well the finished seeds did (Welch's test over "
        "them), joined by a weighted Bonferroni split: 3/4 of the level to the failures when they can reach 0.05 "
        "at that weight, none when they cannot (one failed seed, or many tied ones), all of it when no "
        "relabelling leaves 2 finished seeds a side. The weight depends only on the pooled seeds, and given which "
        "seeds failed the finished ones are still two samples of one distribution, so the split is a valid test.",
        "- **Stability rates: Newcombe's hybrid score interval and Boschloo's exact test.** Never of zero width "
        "at 0 of n against n of n, and exact.",
        "- **One Holm correction over the answer.** A study's answer calls an effect clear only when Holm's "
        "adjusted p over all of its primary-metric and stability comparisons (16 in the architecture "
        "ablation) is below 0.05 and the evidence does not point both ways, so the chance that an answer with no "
        "true effect calls "
        "anything clear is at most 5%.",
        "",
        f"A simulated rate has a Monte Carlo error of about +-{mc:.3f} at 0.95 and +-{_mc_error(0.05, reps):.3f} at "
        f"0.05 with {reps} repetitions.",
        "",
        "## Intervals and Welch's test: coverage of a 95% interval, false positives at 0.05",
        "",
        "Two groups of n values from the same distribution (no true effect); the mean's interval is read "
        "against the distribution's true mean.",
        "",
        "| data | n per group | `mean_ci` coverage | `diff_ci` coverage | `diff_pvalue` false positives |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['data']} | {r['n']} | {_f(r['mean_ci'])} | {_f(r['diff_ci'])} | {_f(r['diff_pvalue'])} |"
              for r in intervals]
    lines += [
        "",
        _interval_verdict(intervals),
        "",
        _spread_verdict(intervals),
        "",
        "## The test over every seed where seeds fail",
        "",
        "Each seed fails with the given probability in both groups (a failed seed collapses or diverges with "
        "probability 1/2 each; finished and collapsed values normal): Welch's t test where no seed failed, else "
        "the two-part test, as the reports run it. False positives at 0.05 with no true effect (equal spreads, and "
        "one group's SD 4 times the other's); then the share of repetitions in which its p is below Holm's "
        f"strictest level over {POWER_TESTS} comparisons (0.05 / {POWER_TESTS}) for the finished seeds shifted by "
        "d80 (the difference Welch's test finds with 80% probability when no seed fails) and by 10 SDs, and for "
        "a variant that collapsed in every seed (its values 10 SDs worse) against a baseline failing at the rate.",
        "",
        "| n per group | failure rate | false positives at 0.05 | same, SD 1 against 4 | d80 | power at d80 | "
        "power at 10 SDs | power, variant collapsed in every seed |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['n']} | {r['fail_rate']:g} | {_f(r['false_positive'])} | {_f(r['false_positive_sd4'])} | "
              f"{r['d80']:.2f} | {_f(r['power_d80'])} | {_f(r['power_10'])} | {_f(r['power_all_collapsed'])} |"
              for r in ranks]
    lines += [
        "",
        _two_part_verdict(ranks, reps),
        "",
        "## Stability rates",
        "",
        "| true share (both groups) | n per group | Newcombe coverage | Boschloo false positives at 0.05 |",
        "| ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['share']} | {r['n']} | {_f(r['coverage'])} | {_f(r['false_positive'])} |" for r in proportions]
    lines += [
        "",
        f"Newcombe's interval covers from {min(r['coverage'] for r in proportions):.3f} to "
        f"{max(r['coverage'] for r in proportions):.3f} (a discrete count cannot hit 0.95 exactly); Boschloo's test "
        f"is exact: its false-positive rate stays at or below 0.05 (largest "
        f"{max(r['false_positive'] for r in proportions):.3f}).",
        "",
        "## Whole studies through the report code: the family-wise false-positive rate",
        "",
        f"A synthetic architecture ablation ({VARIANTS} variants, n seeds each, no true effect), written as a Ray "
        "results directory (`analysis/synthetic.py`) and read by the code behind every report; a study counts as "
        "a false positive when its answer calls any comparison clear. Failures strike every variant alike; in the "
        "unequal-spread scenario the variants' SDs are 1, 2, 3 and 4 times the baseline's, means equal.",
        "",
        "| n per variant | scenario | any clear call (family-wise rate) | mean clear fd calls | mean clear "
        "stability calls |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['n']} | {r['scenario']} | {_f(r['fwer'])} | {_f(r['fd_calls'])} | "
              f"{_f(r['stability_calls'])} |" for r in studies]
    lines += [
        "",
        _study_verdict(studies, study_reps),
        "",
        "## What a study can detect",
        "",
        f"A planted difference of d seed-to-seed SDs between two groups of n seeds, no failures: the share of "
        f"repetitions in which Welch's test passes Holm's strictest level, 0.05 / {n_tests} (the architecture "
        f"ablation's answer), beside d80, the difference that `analysis.power.detectable_effect` (which the "
        f"reports quote) says Welch's test finds with 80% probability (its own simulation, with another seed).",
        "",
        "| n per group | d | power | d80 |",
        "| ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['n']} | {r['d']:g} | {_f(r['power'])} | {r['d80']:.2f} |" for r in power]
    lines += [
        "",
        "Where seeds fail, the table of the test over every seed above gives the power beside the no-failure "
        "power, and each report's \"How sure\" line gives the difference its own comparisons can detect: the "
        "finished seeds they kept, at the share of the level the two-part test gives them.",
        "",
    ]
    return "\n".join(lines)

"""The test over every seed (analysis.every_seed): the worst-rank order of seeds and the two-part test."""
import math

import numpy as np
import pytest

from analysis import every_seed, power, ranks, stats


def test_worst_rank_scores_put_collapsed_behind_finished_and_diverged_last_and_orient_by_mode():
    got = every_seed.worst_rank_scores([3.0, 1.0, math.nan], 2, "min", collapsed=[0.5])
    assert got.tolist() == [[0.0, 3.0], [0.0, 1.0], [1.0, 0.5], [2.0, 0.0], [2.0, 0.0]]
    assert every_seed.worst_rank_scores([3.0, 1.0], 1, "max").tolist() == [[0.0, -3.0], [0.0, -1.0], [2.0, 0.0]]
    # a collapsed seed whose value beats every finished one still ranks behind them all; diverged seeds tie
    assert ranks.prob_worse(every_seed.worst_rank_scores([], 0, "min", collapsed=[1.0]),
                            every_seed.worst_rank_scores([50.0], 0, "min")) == 1.0
    diverged = every_seed.worst_rank_scores([], 1, "min")
    assert ranks.prob_worse(diverged, every_seed.worst_rank_scores([], 1, "min")) == 0.5
    with pytest.raises(ValueError, match="mode = 'best'"):
        every_seed.worst_rank_scores([1.0], 0, "best")
    with pytest.raises(ValueError, match="n_failed = -1"):
        every_seed.worst_rank_scores([1.0], -1, "min")


def seeds(finished=(), collapsed=(), diverged=0):
    return every_seed.Seeds(np.asarray(finished, dtype=float), np.asarray(collapsed, dtype=float), diverged)


def test_two_part_joins_the_failures_and_the_finished_seeds_by_a_weighted_split():
    noise = np.array([-1.5, 0.5, 1.0, -0.5, 0.5, 0.0])
    base = seeds(40 + noise[:5], [41.0])
    # every seed collapsed, all worse than the baseline's collapsed seed: the failures decide, at 3/4 of the level
    got = every_seed.two_part(seeds(collapsed=200 + noise), base, "min")
    assert (got["w_failure"], got["p_failure"], got["prob_worse_failure"]) == (0.75, pytest.approx(2 / 924), 1.0)
    assert math.isnan(got["p_quality"])
    assert (got["p"], got["floor"]) == (pytest.approx(2 / 924 / 0.75), pytest.approx(2 / 924 / 0.75))
    # every seed finished, all worse: one failed baseline seed cannot decide (weight 0), Welch over the finished
    got = every_seed.two_part(seeds(55 + noise), base, "min")
    assert (got["w_failure"], got["p_failure"], got["floor"]) == (0.0, 1.0, 0.0)
    assert got["p"] == got["p_quality"] == pytest.approx(stats.diff_pvalue(55 + noise, 40 + noise[:5]))
    # both parts weighted: the smaller weighted p
    x, y = seeds([50.0, 52.0], diverged=5), seeds(np.append(40 + noise, 40.3))  # 7 seeds a side
    got = every_seed.two_part(x, y, "min")
    assert got["w_failure"] == 0.75
    assert got["p"] == pytest.approx(min(got["p_failure"] / 0.75, got["p_quality"] / 0.25))
    # no relabelling leaves 2 finished seeds a side: the failures get the whole level
    got = every_seed.two_part(seeds(collapsed=[9.0, 8.0, 7.0]), seeds([1.0, 2.0], [3.0]), "min")
    assert (got["w_failure"], got["p"]) == (1.0, pytest.approx(got["p_failure"]))


def test_two_part_floor_scales_the_failures_to_n_seeds_a_side():
    dead, base = seeds(diverged=6), seeds(np.arange(5.0), diverged=1)
    assert every_seed.two_part_floor(6, dead, base, "min") == pytest.approx(2 * 7 / 924 / 0.75)
    assert every_seed.two_part_floor(8, dead, base, "min") == pytest.approx(2 * 9 / 12870 / 0.75)  # 1 of 8 diverged
    assert power.seeds_needed(lambda n, _: every_seed.two_part_floor(n, dead, base, "min"), 16) == 8

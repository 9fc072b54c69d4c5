"""What a number of seeds can resolve (analysis.power): seeds needed under Holm, Welch's detectable effect."""
import math

import pytest

from analysis import power, ranks, stats


def test_seeds_needed_for_the_ablations_16_comparisons():
    assert power.seeds_needed(ranks.rank_floor, 16) == 6  # 2 / C(12, 6) * 16 = 0.035; 5 seeds: 0.13
    assert power.seeds_needed(ranks.rank_floor, 4) == 5   # 2 / C(10, 5) * 4 = 0.032
    assert power.seeds_needed(stats.proportion_floor, 16) == 5
    assert power.seeds_needed(lambda n, m: 1.0, 3) is None


def test_detectable_effect_is_where_welchs_simulated_power_reaches_80_percent():
    d_split = power.detectable_effect(5, 16, n_y=6, share=0.25)
    assert power.welch_power(d_split, 5, 0.25 * 0.05 / 16, n_y=6) >= 0.8 > \
        power.welch_power(d_split - 0.01, 5, 0.25 * 0.05 / 16, n_y=6)
    assert math.isnan(power.detectable_effect(6, 16, n_y=1)) and math.isnan(power.detectable_effect(6, 16, share=0))
    d = power.detectable_effect(6, 16)
    level = 0.05 / 16
    assert d == pytest.approx(2.95, abs=0.01)
    assert power.welch_power(d, 6, level) == pytest.approx(0.80, abs=0.01)
    assert power.welch_power(d - 0.01, 6, level) < 0.8 <= power.welch_power(d, 6, level)
    assert power.welch_power(0.0, 10, 0.05) == pytest.approx(0.05, abs=0.006)  # the test's level, no effect
    assert math.isnan(power.detectable_effect(1, 4))

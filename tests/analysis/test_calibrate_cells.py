"""The calibration's cells measure what they say (analysis.calibrate_cells)."""
import pytest

from analysis import calibrate_cells


def test_interval_cells_of_normal_data_are_near_their_nominal_level():
    rows = {(r["data"], r["n"]): r for r in calibrate_cells.interval_rows(400)}
    for n in calibrate_cells.SEEDS:
        r = rows[("normal", n)]
        # 400 repetitions: a Monte Carlo error of about 0.02 at 0.95 and at 0.05
        assert r["mean_ci"] == pytest.approx(0.95, abs=0.035)
        assert r["diff_ci"] == pytest.approx(0.95, abs=0.035)
        assert r["diff_pvalue"] == pytest.approx(0.05, abs=0.035)


def test_the_test_over_every_seed_at_each_failure_rate():
    rows = {(r["n"], r["fail_rate"]): r for r in calibrate_cells.two_part_rows(60)}
    assert sorted(rows) == [(n, rate) for n in (3, 6, 10) for rate in (0.0, 0.2, 0.5)]
    # a variant collapsed in every seed: at 3 a side the failures' p is at least 2 / C(6, 3) = 0.1, never below
    # 0.05 / 16; at 6 against a baseline with no failure it is 2 / 924 / 0.75 = 0.0029 < 0.05 / 16, every time
    assert [rows[(3, rate)]["power_all_collapsed"] for rate in (0.0, 0.2, 0.5)] == [0.0, 0.0, 0.0]
    assert rows[(6, 0.0)]["power_all_collapsed"] == 1.0
    assert rows[(6, 0.0)]["d80"] == pytest.approx(2.95, abs=0.01)

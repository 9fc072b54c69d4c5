"""The calibration script: its cells measure what they say, and it writes the STATISTICS.md tables end to end."""
import pandas as pd
import pytest

from analysis import calibrate
from analysis.results import load_results


def test_interval_cells_of_normal_data_are_near_their_nominal_level():
    rows = {(r["data"], r["n"]): r for r in calibrate.interval_rows(400)}
    for n in calibrate.SEEDS:
        r = rows[("normal", n)]
        # 400 repetitions: a Monte Carlo error of about 0.02 at 0.95 and at 0.05
        assert r["mean_ci"] == pytest.approx(0.95, abs=0.035)
        assert r["diff_ci"] == pytest.approx(0.95, abs=0.035)
        assert r["diff_pvalue"] == pytest.approx(0.05, abs=0.035)


def test_the_test_over_every_seed_at_each_failure_rate():
    rows = {(r["n"], r["fail_rate"]): r for r in calibrate.two_part_rows(60)}
    assert sorted(rows) == [(n, rate) for n in (3, 6, 10) for rate in (0.0, 0.2, 0.5)]
    # a variant collapsed in every seed: at 3 a side the failures' p is at least 2 / C(6, 3) = 0.1, never below
    # 0.05 / 16; at 6 against a baseline with no failure it is 2 / 924 / 0.75 = 0.0029 < 0.05 / 16, every time
    assert [rows[(3, rate)]["power_all_collapsed"] for rate in (0.0, 0.2, 0.5)] == [0.0, 0.0, 0.0]
    assert rows[(6, 0.0)]["power_all_collapsed"] == 1.0
    assert rows[(6, 0.0)]["d80"] == pytest.approx(2.95, abs=0.01)


def test_a_null_study_is_a_results_directory_with_no_planted_effect(tmp_path):
    scenario = calibrate.SCENARIOS["lognormal fd, 15% of seeds diverge, 10% collapse"]
    exp = calibrate._null_study(tmp_path, 4, scenario, calibrate._rng(0))
    r = load_results(str(exp))
    assert len(r.trials) == calibrate.VARIANTS * 4
    answer = r.effects[r.effects["family"] == "answer"]
    assert len(answer) == 2 * (calibrate.VARIANTS - 1)
    assert set(r.trials["stability"]) <= {"stable", "diverged", "collapsed"}
    calls = calibrate._clear_calls((4, "normal fd, no failures", 0))
    assert len(calls) == 3 and all(isinstance(c, int) for c in calls)


@pytest.mark.parametrize("scenario", ["normal fd, 50% of seeds fail (25% diverge, 25% collapse)",
                                      "normal fd, variants' SD 1 to 4 times the baseline's, no failures"])
def test_the_studies_effects_are_those_load_results_gives_the_written_directory(tmp_path, scenario):
    exp = calibrate._null_study(tmp_path, 5, calibrate.SCENARIOS[scenario], calibrate._rng(1, 2))
    want = load_results(str(exp)).effects
    got = calibrate._null_effects(5, calibrate.SCENARIOS[scenario], calibrate._rng(1, 2))
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    if calibrate.SCENARIOS[scenario]["p_diverge"] > 0:
        assert (want["n_failed_level"] > 0).any() and (want["test"] == "two-part").any()


def test_main_writes_every_table(tmp_path):
    out = tmp_path / "STATISTICS.md"
    assert calibrate.main(["--reps", "40", "--study-reps", "2", "--jobs", "1", "--out", str(out)]) == 0
    text = out.read_text()
    for heading in ("## Intervals and Welch's test", "## The test over every seed where seeds fail",
                    "## Stability rates", "## Whole studies through the report code", "## What a study can detect"):
        assert heading in text
    assert "(seed 20261201, 40 repetitions a cell, 2 for whole studies)" in text
    assert text.count("\n| normal | ") == len(calibrate.SEEDS)
    assert text.count("\n| normal, SD 1 against SD 4 | ") == len(calibrate.SEEDS)
    for scenario in calibrate.SCENARIOS:
        assert text.count(f" | {scenario} | ") == 2  # 3 and 6 seeds a variant
    for rate in ("0", "0.2", "0.5"):
        assert text.count(f"\n| 6 | {rate} | ") == 1  # the test over every seed, 6 seeds, each failure rate

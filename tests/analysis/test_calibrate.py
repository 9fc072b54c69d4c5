"""The calibration script: its cells measure what they say, and it writes the STATISTICS.md tables end to end."""
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


def test_the_worst_rank_test_cannot_call_anything_at_3_seeds():
    rows = {r["n"]: r for r in calibrate.rank_rows(100)}
    assert (rows[3]["false_positive"], rows[3]["floor"]) == (0.0, pytest.approx(0.1))
    assert sorted(rows) == [3, 5, 6, 10]


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


def test_main_writes_every_table(tmp_path):
    out = tmp_path / "STATISTICS.md"
    assert calibrate.main(["--reps", "40", "--study-reps", "2", "--jobs", "1", "--out", str(out)]) == 0
    text = out.read_text()
    for heading in ("## Intervals and Welch's test", "## The worst-rank test", "## Stability rates",
                    "## Whole studies through the report code", "## What a study can detect"):
        assert heading in text
    assert "(seed 20261201, 40 repetitions a cell, 2 for whole studies)" in text
    assert text.count("\n| normal | ") == len(calibrate.SEEDS)

"""Whole null studies through the report code (analysis.calibrate_studies): a synthetic results directory with no
planted effect, and the effects computed without writing it are those load_results gives the written one."""
import pandas as pd
import pytest

from analysis import calibrate_studies
from analysis.calibrate_cells import seeded_rng
from analysis.results import load_results


def test_a_null_study_is_a_results_directory_with_no_planted_effect(tmp_path):
    scenario = calibrate_studies.SCENARIOS["lognormal fd, 15% of seeds diverge, 10% collapse"]
    exp = calibrate_studies._null_study(tmp_path, 4, scenario, seeded_rng(0))
    r = load_results(str(exp))
    assert len(r.trials) == calibrate_studies.VARIANTS * 4
    answer = r.effects[r.effects["family"] == "answer"]
    assert len(answer) == 2 * (calibrate_studies.VARIANTS - 1)
    assert set(r.trials["stability"]) <= {"stable", "diverged", "collapsed"}
    calls = calibrate_studies._clear_calls((4, "normal fd, no failures", 0))
    assert len(calls) == 3 and all(isinstance(c, int) for c in calls)


@pytest.mark.parametrize("scenario", ["normal fd, 50% of seeds fail (25% diverge, 25% collapse)",
                                      "normal fd, variants' SD 1 to 4 times the baseline's, no failures"])
def test_the_studies_effects_are_those_load_results_gives_the_written_directory(tmp_path, scenario):
    exp = calibrate_studies._null_study(tmp_path, 5, calibrate_studies.SCENARIOS[scenario], seeded_rng(1, 2))
    want = load_results(str(exp)).effects
    got = calibrate_studies._null_effects(5, calibrate_studies.SCENARIOS[scenario], seeded_rng(1, 2))
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    if calibrate_studies.SCENARIOS[scenario]["p_diverge"] > 0:
        assert (want["n_failed_level"] > 0).any() and (want["test"] == "two-part").any()

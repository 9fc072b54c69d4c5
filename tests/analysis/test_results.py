"""load_results: the report's four frames for notebooks, unpackable, with the history labelled for curves."""
import pytest

from analysis import Results, ResultsError, load_results


def test_unpacks_into_the_four_frames(ablation_dir):
    r = load_results(str(ablation_dir))
    assert isinstance(r, Results)
    trials, history, summary, effects = r
    assert (len(trials), len(history), len(summary)) == (18, 70, 3)
    assert len(effects) == 2 * (8 + 1)  # 2 comparisons x (8 metrics + stability)
    assert r.configurations == ["baseline", "batchnorm_d_off", "g_output_off"]
    assert history.columns[:5].tolist() == ["trial_id", "configuration", "variant", "seed", "variant_level"]
    # every history row carries its trial's configuration
    merged = history.merge(trials[["trial_id", "configuration"]], on="trial_id", suffixes=("", "_t"))
    assert (merged["configuration"] == merged["configuration_t"]).all()


def test_bad_path_raises_results_error(tmp_path):
    with pytest.raises(ResultsError, match="does not exist"):
        load_results(str(tmp_path / "missing"))

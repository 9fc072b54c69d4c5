"""study.json read strictly: a paper's figures, the metric directions."""
from __future__ import annotations

import pytest

from analysis.fsio import ResultsError
from analysis.load import read_study


PUBLISHED = [{"variant": "gan", "metric": "reverse_kl", "value": 0.45, "se": 0.09, "source": "PacGAN Table 1"}]


def test_a_papers_figures_in_study_json_are_read_and_bad_ones_refused(synth):
    p = synth.base_params(seed=0)
    trials = [{"params": p, "rows": synth.trial_rows(p, {"reverse_kl": 0.5})}]
    study = {"study": "m", "primary_metric": "reverse_kl", "mode": "min"}
    assert read_study(str(synth.write("with", trials, {**study, "published": PUBLISHED}))).meta.published == PUBLISHED
    assert read_study(str(synth.write("without", trials, {**study, "published": None}))).meta.published == []
    bad = synth.write("bad", trials, {**study, "published": [{**PUBLISHED[0], "value": "0.45"}]})
    with pytest.raises(ResultsError, match=r"study.json': study.json 'published' entry 0 .* value a number"):
        read_study(str(bad))


def test_metric_directions_are_read_from_study_json_and_bad_ones_refused(synth):
    p = synth.base_params(seed=0)
    trials = [{"params": p, "rows": synth.trial_rows(p, {"reverse_kl": 0.5})}]
    study = {"study": "m", "primary_metric": "reverse_kl", "mode": "min"}
    recorded = {"reverse_kl": "min", "modes_captured": "max"}
    meta = read_study(str(synth.write("with", trials, {**study, "metric_modes": recorded}))).meta
    assert meta.metric_modes == recorded
    assert (meta.metric_mode("modes_captured"), meta.metric_mode("reverse_kl")) == ("max", "min")
    bad = synth.write("bad", trials, {**study, "metric_modes": {"reverse_kl": "down"}})
    with pytest.raises(ResultsError, match=r"'metric_modes' = \{'reverse_kl': 'down'\} is not allowed; allowed: an "
                                           r"object of metric names to 'min' \| 'max'"):
        read_study(str(bad))


def test_a_study_json_without_metric_directions_gets_the_evaluators(synth):
    """A study.json written by hand, without them: gan_core's directions, the one definition."""
    from gan_core.metrics.modes import METRIC_MODES

    p = synth.base_params(seed=0)
    trials = [{"params": p, "rows": synth.trial_rows(p, {"reverse_kl": 0.5})}]
    meta = read_study(str(synth.write("by_hand", trials, {"study": "m", "primary_metric": "reverse_kl",
                                                       "mode": "min"}))).meta
    assert meta.metric_modes == METRIC_MODES

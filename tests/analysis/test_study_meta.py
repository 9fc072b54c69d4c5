"""study.json read strictly: a paper's figures, the metric directions."""
from __future__ import annotations

import pytest

from analysis.fsio import ResultsError
from analysis.load import read_study
from analysis.study_meta import METRIC_MODES


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


def test_metric_directions():
    assert METRIC_MODES["jsd_estimate"] == "min" and METRIC_MODES["parzen_ll"] == "max"
    assert METRIC_MODES["fid_inception"] == "min" and METRIC_MODES["modes_captured"] == "max"
    assert "diversity" not in METRIC_MODES  # a diagnostic (target 1), not a ranked quality metric

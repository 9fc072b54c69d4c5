"""The trials frame's pieces: numeric keys, best values, and how a trial's stability is counted."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.load import read_study
from analysis.study_meta import StudyMeta
from analysis.trial_frame import NUMERIC_KEYS, best_value, numeric, stability_labels


def test_numeric_keys_hold_every_reported_number():
    assert {"diversity", "g_mu", "g_sigma", "parzen_ll_se", "parzen_sigma", "steps_to_90pct", "flops"} <= NUMERIC_KEYS


def test_a_trial_carries_the_flops_of_its_last_report_and_nan_where_its_reports_have_none(synth):
    p = synth.base_params
    trials = [{"params": p(seed=0), "rows": synth.trial_rows(p(seed=0), {"fd": 10.0}, flops_per_step=1000)},
              {"params": p(seed=1), "rows": synth.trial_rows(p(seed=1), {"fd": 10.0}, flops_per_step=1000,
                                                             diverge_at=2)},
              {"params": p(seed=2), "rows": synth.trial_rows(p(seed=2), {"fd": 10.0})}]
    t = read_study(str(synth.write("flops", trials))).trials.set_index("seed")
    assert t["flops"].tolist() == pytest.approx([200_000, 100_000, math.nan], nan_ok=True)


def test_the_studys_quality_metrics_and_the_known_numbers_become_floats_and_nothing_else():
    """Ray's encoder may write "null" for an odd value; the study's metrics come from study.json."""
    meta = StudyMeta(name="s", primary_metric="jsd", mode="min", metric_modes={"jsd": "min"})
    h = numeric(pd.DataFrame({"jsd": ["null", 0.5], "g_mu": [0.25, "null"], "note": ["null", "x"]}), meta)
    assert h["jsd"].tolist() == pytest.approx([math.nan, 0.5], nan_ok=True)
    assert h["g_mu"].tolist() == pytest.approx([0.25, math.nan], nan_ok=True)
    assert h["note"].tolist() == ["null", "x"]


def test_best_value_is_the_best_finite_value_and_its_position():
    values = pd.Series([3.0, float("nan"), 1.0, "null", 2.0])
    assert best_value(values, "min") == (1.0, 2)
    assert best_value(values, "max") == (3.0, 0)
    best, pos = best_value(pd.Series([float("nan"), float("inf")]), "min")
    assert math.isnan(best) and pos is None


def test_stability_labels_fall_back_to_the_finished_trainer_status():
    trials = pd.DataFrame({"stability": ["collapsed", "", "", None],
                           "status": ["ok", "ok", "stopped", "diverged"]})
    assert stability_labels(trials).tolist() == ["collapsed", "stable", "", "diverged"]
    assert stability_labels(trials.drop(columns="stability")).tolist() == ["stable", "stable", "", "diverged"]


def test_a_trial_carries_the_stability_of_its_last_report_and_the_analysis_assesses_none(synth):
    p = synth.base_params
    rows = synth.trial_rows(p(seed=0), {"fd": 10.0})
    bare = [{k: v for k, v in r.items() if k not in ("stability", "stability_reason", "steps_to_90pct")} for r in rows]
    trials = [{"params": p(seed=0), "rows": rows}, {"params": p(seed=1), "rows": bare}]
    t = read_study(str(synth.write("stability", trials))).trials.set_index("seed")
    assert t.loc[0, ["stability", "stability_reason", "steps_to_90pct"]].tolist() == \
        [rows[-1]["stability"], rows[-1]["stability_reason"], rows[-1]["steps_to_90pct"]]
    assert (t.loc[1, "stability"], t.loc[1, "stability_reason"]) == \
        ("", "not assessed: its reports carry no stability")

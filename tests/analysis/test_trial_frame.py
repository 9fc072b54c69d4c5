"""The trials frame's pieces: numeric keys, best values, and how a trial's stability is counted."""
from __future__ import annotations

import math

import pandas as pd

from analysis.trial_frame import NUMERIC_KEYS, best_value, stability_labels


def test_numeric_keys_hold_every_reported_number():
    assert {"diversity", "g_mu", "g_sigma", "jsd", "jsd_estimate"} <= NUMERIC_KEYS
    assert {"parzen_ll", "parzen_ll_se", "parzen_sigma"} <= NUMERIC_KEYS


def test_best_value_is_the_best_finite_value_and_its_position():
    values = pd.Series([3.0, float("nan"), 1.0, "null", 2.0])
    assert best_value(values, "min") == (1.0, 2)
    assert best_value(values, "max") == (3.0, 0)
    best, pos = best_value(pd.Series([float("nan"), float("inf")]), "min")
    assert math.isnan(best) and pos is None


def test_stability_labels_fall_back_to_the_finished_trainer_status():
    trials = pd.DataFrame({"stability": ["collapsed", "", "", None],
                           "status": ["ok", "ok", "stopped", "diverged"]})
    assert stability_labels(trials).tolist() == ["collapsed", "ok", "", "diverged"]
    assert stability_labels(trials.drop(columns="stability")).tolist() == ["ok", "ok", "", "diverged"]

"""theory_check end to end: a second trainable, its results table and CSV."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from studies import theory_check


@pytest.fixture(scope="module")
def smoke(ray_cluster, tmp_path_factory, study_main):
    storage = tmp_path_factory.mktemp("theory")
    code, printed = study_main(theory_check, ["--smoke-test", "--storage-path", str(storage)])
    return code, storage / "theory_check_smoke", printed


def test_smoke_run(smoke, experiment_reader):
    code, path, printed = smoke
    assert code == 0
    trials = experiment_reader(path)
    assert [t.status for t in trials] == ["TERMINATED"] * 4
    assert sorted(t.config["variant"] for t in trials) == sorted(theory_check.SETTINGS)
    for t in trials:
        label = t.config["variant"]
        assert t.config == {**theory_check.SETTINGS[label], "steps": 30, "seed": 0, "variant": label}
        assert t.user_keys() == {"max_abs_d_error", "value", "value_theory", "value_error", "value_at_dstar", "jsd",
                                 "d_at_data_mean", "dstar_at_data_mean", "node_id", "device"}
        assert t.reported("training_iteration") == [1]


def test_table_and_csv_hold_the_trials(smoke, experiment_reader):
    _, path, printed = smoke
    assert printed["Table"] == [str(path / "theory_check.csv")]
    table = pd.read_csv(path / "theory_check.csv")
    assert list(table.columns) == list(theory_check.TABLE_COLUMNS)
    assert list(table["variant"]) == list(theory_check.SETTINGS)  # ordered by setting
    by_label = {t.config["variant"]: t.rows[-1] for t in experiment_reader(path)}
    for row in table.itertuples():
        reported = by_label[row.variant]
        for key in ("max_abs_d_error", "value", "value_theory", "value_error", "jsd"):
            assert getattr(row, key) == pytest.approx(reported[key], rel=1e-12, abs=1e-15)
    # p_g = p_data: C(G) = -log 4 and JSD = 0, whatever D learned
    baseline = table[table["variant"] == "mu0_sd1"].iloc[0]
    assert baseline["value_theory"] == pytest.approx(-math.log(4), abs=1e-9)
    assert baseline["jsd"] == pytest.approx(0.0, abs=1e-9)


def test_theory_config_is_strict():
    from studies.trainable import theory_config

    assert theory_config({"mu_g": 1, "sigma_g": 2, "steps": 5, "seed": 0}) == \
        {"mu_g": 1.0, "sigma_g": 2.0, "steps": 5, "seed": 0}
    for bad, message in (({"mu_g": 0.0, "sigma_g": 1.0, "steps": 5}, "lacks key 'seed'"),
                         ({"mu_g": 0.0, "sigma_g": 1.0, "steps": 5, "seed": 0, "lr": 1.0},
                          "unknown theory config key 'lr'"),
                         ({"mu_g": 0.0, "sigma_g": 0.0, "steps": 5, "seed": 0}, "'sigma_g' = 0.0"),
                         ({"mu_g": float("nan"), "sigma_g": 1.0, "steps": 5, "seed": 0}, "'mu_g' = nan"),
                         ({"mu_g": 0.0, "sigma_g": 1.0, "steps": 2.5, "seed": 0}, "'steps' = 2.5"),
                         ({"mu_g": 0.0, "sigma_g": 1.0, "steps": 5, "seed": True}, "'seed' = True")):
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            theory_config(bad)

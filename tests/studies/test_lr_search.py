"""lr_search end to end: Optuna's TPE through Ray Tune, ASHA on g_steps, the Optuna study in SQLite."""
from __future__ import annotations

import json

import optuna
import pytest
from ray.tune.search.sample import Float

from studies import lr_search

STEPS, EVAL_EVERY, SAMPLES = 40, 10, 4  # the smoke preset
ASHA_MILESTONES = [20]  # grace 2 * eval_every = 20; next rung 20 * 3 = 60 > max_t


def test_space_and_preset():
    assert set(lr_search.SPACE) == {"lr_d", "lr_g", "beta1"}
    bounds = {k: (d.lower, d.upper, type(d.get_sampler()).__name__) for k, d in lr_search.SPACE.items()}
    assert bounds == {"lr_d": (1e-5, 1e-2, "_LogUniform"), "lr_g": (1e-5, 1e-2, "_LogUniform"),
                      "beta1": (0.0, 0.9, "_Uniform")}
    assert all(isinstance(d, Float) for d in lr_search.SPACE.values())
    assert lr_search.PRESETS["smoke"] == {"dataset": "ring8", "steps": STEPS, "eval_every": EVAL_EVERY,
                                          "num_samples": SAMPLES, "search_seed": 0}


def _result(trial_id, g_steps, value, status):
    """A report as Tune hands it to the searcher: flattened, with the trial's config under config/."""
    return {"reverse_kl": value, "g_steps": g_steps, "status": status, "training_iteration": g_steps // 10,
            "trial_id": trial_id, "config/variant": "tpe", "config/seed": 0, "config/lr_d": 1e-3}


def test_optuna_records_each_trial_as_its_own_optimize_would(tmp_path):
    """Intermediate values at g_steps; a trial ASHA stopped before its budget (its last report "running") is
    PRUNED at that step with its last value; one that ran its budget COMPLETE; a NaN metric (a diverged trial) FAIL,
    as Optuna's own optimize() records it, instead of a trial left RUNNING; a crashed trial FAIL; the objective
    named; each trial's Ray folder a user attribute."""
    from studies.experiment_dir import locate

    loc = locate(str(tmp_path), "lr")
    searcher = lr_search.make_searcher_factory(0, {"lr_d": 1e-3, "lr_g": 1e-3, "beta1": 0.5})(loc)
    assert searcher.set_search_properties("reverse_kl", "min", dict(lr_search.SPACE))
    ids = ("diverged", "fine", "crashed", "stopped", "asha")
    for trial_id in ids:
        assert set(searcher.suggest(trial_id)) == set(lr_search.SPACE)
    searcher.on_trial_result("diverged", _result("diverged", 10, 0.5, "running"))
    searcher.on_trial_complete("diverged", _result("diverged", 20, float("nan"), "diverged"))
    searcher.on_trial_result("fine", _result("fine", 10, 0.75, "running"))
    searcher.on_trial_result("fine", _result("fine", 20, 0.5, "running"))
    searcher.on_trial_complete("fine", _result("fine", 40, 0.25, "ok"))  # (ASHA stops it at max_t: no result call)
    searcher.on_trial_complete("crashed", None, error=True)
    searcher.on_trial_complete("stopped", None)
    searcher.on_trial_result("asha", _result("asha", 10, 0.75, "running"))
    searcher.on_trial_complete("asha", _result("asha", 20, 0.625, "running"))  # ASHA stopped it at its milestone
    study = optuna.load_study(study_name="lr", storage=f"sqlite:///{tmp_path / 'lr' / 'optuna.db'}")
    S = optuna.trial.TrialState
    assert study.metric_names == ["reverse_kl"]
    assert [(t.state, t.value, t.intermediate_values) for t in study.trials] == [
        (S.FAIL, None, {10: 0.5}), (S.COMPLETE, 0.25, {10: 0.75, 20: 0.5, 40: 0.25}), (S.FAIL, None, {}),
        (S.PRUNED, None, {}), (S.PRUNED, 0.625, {10: 0.75, 20: 0.625})]
    folder = {t: str(tmp_path / "lr" / f"tpe_seed0_{t}") for t in ("diverged", "fine", "asha")}
    assert [t.user_attrs for t in study.trials] == [{"ray_trial_dir": folder["diverged"]},
                                                    {"ray_trial_dir": folder["fine"]}, {}, {},
                                                    {"ray_trial_dir": folder["asha"]}]


@pytest.fixture(scope="module")
def smoke(ray_cluster, tmp_path_factory, study_main):
    storage = tmp_path_factory.mktemp("lr")
    code, printed = study_main(lr_search, ["--smoke-test", "--allow-cpu-fallback", "--storage-path", str(storage)])
    return code, storage / "lr_search_smoke", printed


def test_smoke_run(smoke, experiment_reader, metric_keys):
    code, path, _ = smoke
    assert code == 0
    trials = experiment_reader(path)
    assert len(trials) == SAMPLES
    assert [t.status for t in trials] == ["TERMINATED"] * SAMPLES
    keys = metric_keys({k: v for k, v in trials[0].config.items() if k != "variant"})
    for t in trials:
        assert t.config["variant"] == "tpe"
        assert 1e-5 <= t.config["lr_d"] <= 1e-2 and 1e-5 <= t.config["lr_g"] <= 1e-2
        assert 0.0 <= t.config["beta1"] <= 0.9
        assert t.user_keys() == keys
        g = t.reported("g_steps")
        last = g[-1]
        # ASHA may stop a trial only at a milestone; otherwise it runs to max_t = steps
        assert last in ASHA_MILESTONES + [STEPS]
        assert g == list(range(EVAL_EVERY, last + 1, EVAL_EVERY))
        assert t.reported("status")[-1] == ("ok" if last == STEPS else "running")
    # one trial is the warm start: the dataset's default learning rates and beta1
    assert [(t.config["lr_d"], t.config["lr_g"], t.config["beta1"]) for t in trials].count((1e-3, 1e-3, 0.5)) == 1


def test_optuna_study_in_sqlite(smoke, experiment_reader):
    _, path, _ = smoke
    study = optuna.load_study(study_name="lr_search_smoke", storage=f"sqlite:///{path / 'optuna.db'}")
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    assert len(study.trials) == SAMPLES
    ray_params = sorted((t.config["lr_d"], t.config["lr_g"], t.config["beta1"]) for t in experiment_reader(path))
    optuna_params = sorted((t.params["lr_d"], t.params["lr_g"], t.params["beta1"]) for t in study.trials)
    assert optuna_params == ray_params
    assert study.trials[0].params == {"lr_d": 1e-3, "lr_g": 1e-3, "beta1": 0.5}  # the enqueued warm start
    assert study.metric_names == ["reverse_kl"]
    # each Optuna trial: COMPLETE when its Ray trial ran the whole budget, PRUNED at the step where ASHA stopped it;
    # its value the primary metric of its last report, its intermediate values every report's at g_steps, its
    # Ray trial folder a user attribute
    ray = {(t.config["lr_d"], t.config["lr_g"], t.config["beta1"]): t for t in experiment_reader(path)}
    for t in study.trials:
        r = ray[(t.params["lr_d"], t.params["lr_g"], t.params["beta1"])]
        last = r.rows[-1]
        assert t.state == (optuna.trial.TrialState.COMPLETE if last["g_steps"] == STEPS else
                           optuna.trial.TrialState.PRUNED)
        assert t.value == pytest.approx(last["reverse_kl"], rel=1e-12)
        assert t.intermediate_values == {row["g_steps"]: pytest.approx(row["reverse_kl"], rel=1e-12)
                                         for row in r.rows}
        assert t.last_step == last["g_steps"]
        assert t.user_attrs == {"ray_trial_dir": str(r.path)}


def test_study_json(smoke):
    _, path, _ = smoke
    meta = json.loads((path / "study.json").read_text())
    assert (meta["study"], meta["primary_metric"], meta["mode"], meta["factors"], meta["baseline_variant"]) == \
        ("lr_search", "reverse_kl", "min", ["lr_d", "lr_g", "beta1"], None)
    assert meta["baseline"] == {"lr_d": 1e-3, "lr_g": 1e-3, "beta1": 0.5}
    assert meta["search"] == {"searcher": "Optuna TPE", "scheduler": "ASHA"}


def test_the_report_presents_the_searchs_best_settings_not_effects(smoke):
    _, path, _ = smoke
    md = (path / "report" / "report.md").read_text()
    answer = md[md.index("## Answer"):md.index("## Configurations")]
    assert "- A search (searcher Optuna TPE, scheduler ASHA): it chose its settings adaptively" in answer
    # the warm start (the first trial) always runs to its end
    assert "- Best settings at the full budget (lower is better):\n  - lr_d = " in answer
    assert (path / "report" / "effects.csv").read_text().startswith("factor,level,baseline,comparison")
    assert len((path / "report" / "effects.csv").read_text().splitlines()) == 1  # a header, no effects

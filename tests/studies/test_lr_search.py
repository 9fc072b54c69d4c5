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


def test_a_diverged_trial_is_a_failed_optuna_trial(tmp_path):
    """A NaN metric (a diverged trial) becomes FAIL in optuna.db, as Optuna's own optimize() records it, instead of
    a trial left RUNNING; a finite metric is COMPLETE with its value; a crashed trial is FAIL."""
    from studies.experiment_dir import locate

    loc = locate(str(tmp_path), "lr")
    searcher = lr_search.make_searcher_factory(0, {"lr_d": 1e-3, "lr_g": 1e-3, "beta1": 0.5})(loc)
    assert searcher.set_search_properties("reverse_kl", "min", dict(lr_search.SPACE))
    for trial_id in ("diverged", "fine", "crashed", "stopped"):
        assert set(searcher.suggest(trial_id)) == set(lr_search.SPACE)
    searcher.on_trial_complete("diverged", {"reverse_kl": float("nan"), "g_steps": 10})
    searcher.on_trial_complete("fine", {"reverse_kl": 0.25, "g_steps": 40})
    searcher.on_trial_complete("crashed", None, error=True)
    searcher.on_trial_complete("stopped", None)
    study = optuna.load_study(study_name="lr", storage=f"sqlite:///{tmp_path / 'lr' / 'optuna.db'}")
    S = optuna.trial.TrialState
    assert [(t.state, t.value) for t in study.trials] == [(S.FAIL, None), (S.COMPLETE, 0.25), (S.FAIL, None),
                                                          (S.PRUNED, None)]


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
    # every finished Optuna trial holds the primary metric of the Ray trial's last report
    last = {(t.config["lr_d"], t.config["lr_g"], t.config["beta1"]): t.rows[-1]["reverse_kl"]
            for t in experiment_reader(path)}
    for t in study.trials:
        assert t.state == optuna.trial.TrialState.COMPLETE
        assert t.value == pytest.approx(last[(t.params["lr_d"], t.params["lr_g"], t.params["beta1"])], rel=1e-12)


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

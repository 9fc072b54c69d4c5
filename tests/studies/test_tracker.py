"""--tracker mlflow (studies.tracker, studies.mlflow_logger): a real smoke study logged to the default SQLite store in
the experiment directory, read back with ``mlflow.search_runs`` and compared with the trials' own result.json rows:
one run per trial, its config as params, its metrics at step g_steps, its sample pictures at the same steps; a
population trial's reports through the same callback. Offline: no server, nothing downloaded. The refusals (mlflow
missing, a store MLflow cannot open, --mlflow-uri without the tracker, a resume that would change the tracker) are
one line and exit 2, before Ray starts."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from studies import k_sweep
from studies.tracker import default_uri


@pytest.fixture(scope="module")
def mlflow():
    """The mlflow module (pip install -e '.[dev]' installs it; the refusals below are tested without it too)."""
    return pytest.importorskip("mlflow", reason="pip install -e '.[dev]' (or '.[tracker]') installs mlflow-skinny")

PRIMARY = "reverse_kl"


@pytest.fixture(scope="module")
def solo(mlflow, ray_cluster, tmp_path_factory, study_main):
    """k in {1, 2}, one seed each: two trials of two reports (g_steps 20 and 40)."""
    storage = tmp_path_factory.mktemp("mlflow_solo")
    code, _ = study_main(k_sweep, ["--smoke-test", "--allow-cpu-fallback", "--storage-path", str(storage),
                                   "--k", "1,2", "--g-loss", "non_saturating", "--tracker", "mlflow"])
    return code, storage / "k_sweep_smoke"


def search_runs(mlflow, path: Path):
    """The experiment's runs as ``mlflow.search_runs`` gives them (a DataFrame), and a client of the store."""
    uri = default_uri(str(path))
    mlflow.set_tracking_uri(uri)
    return mlflow.search_runs(experiment_names=[path.name]), mlflow.MlflowClient(tracking_uri=uri)


def history(client, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)]


def images(client, run_id: str) -> dict[tuple[str, int], np.ndarray]:
    """{(key, step): pixels} of the run's MLflow images (``log_image``'s files: key+step+N+timestamp+T+id.png,
    '/' in the key written '~'; the .webp beside each is MLflow's thumbnail)."""
    out = {}
    for info in client.list_artifacts(run_id, "images"):
        name = info.path.rsplit("/", 1)[-1]
        if name.endswith(".png"):
            key, _, step = name.split("+")[:3]
            local = client.download_artifacts(run_id, info.path)
            out[(key.replace("~", "/"), int(step))] = pixels(Path(local).read_bytes())
    return out


def pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_each_trial_is_a_run_with_its_config_metrics_and_pictures(mlflow, solo, experiment_reader):
    code, path = solo
    assert code == 0
    trials = experiment_reader(path)
    runs, client = search_runs(mlflow, path)
    assert sorted(runs["tags.ray_trial_dir"]) == sorted(str(t.path) for t in trials)
    assert len(runs) == len(trials) == 2
    for t in trials:
        (row,) = [r for _, r in runs.iterrows() if r["tags.ray_trial_dir"] == str(t.path)]
        assert (row["status"], row["tags.mlflow.runName"], row["tags.study"]) == ("FINISHED", t.path.name, "k_sweep")
        assert (row["params.variant"], row["params.seed"], row["params.k"], row["params.g_loss"]) == \
            (t.config["variant"], str(t.config["seed"]), str(t.config["k"]), "non_saturating")
        assert row["params.steps"] == "40"  # every other config key too
        run_id = row["run_id"]
        # the primary metric at every report, on the generator-step axis, equal to what Ray recorded
        assert history(client, run_id, PRIMARY) == [(r["g_steps"], pytest.approx(r[PRIMARY])) for r in t.rows]
        assert history(client, run_id, "g_steps") == [(20, 20.0), (40, 40.0)]
        assert history(client, run_id, "d_steps") == [(20, 20.0 * t.config["k"]), (40, 40.0 * t.config["k"])]
        assert row[f"metrics.{PRIMARY}"] == pytest.approx(t.rows[-1][PRIMARY])
        assert "metrics.config/k" not in runs.columns  # the config is in the params, not repeated as metrics
        # the sample picture of each report, as written into the trial folder
        logged = images(client, run_id)
        assert sorted(logged) == [("samples", 20), ("samples", 40)]
        for step in (20, 40):
            on_disk = pixels((t.path / "samples" / f"g_steps_{step:06d}.png").read_bytes())
            assert on_disk.shape == (96, 96, 3)
            assert np.array_equal(logged[("samples", step)], on_disk)
    experiment = client.get_experiment_by_name(path.name)
    assert experiment.artifact_location == f"file://{path}/mlartifacts"


class FakeTrial:
    """What the callback reads of a Ray trial: its config, its folder on its storage, its name."""

    def __init__(self, path: Path, config: dict):
        import pyarrow.fs as pafs

        self.config, self.path, self.trial_id = config, str(path), "a1b2c_00000"
        self.storage = SimpleNamespace(storage_filesystem=pafs.LocalFileSystem())

    def __str__(self) -> str:
        return f"train_gan_{self.trial_id}"


def test_a_population_trial_is_one_run_with_each_member_in_it(mlflow, solo, tmp_path, capsys):
    """A population trial's reports (trainable.population_report) through the callback, as Tune hands them over:
    one run; each member's metrics under members/seed_<s>/, its pictures under samples/seed_<s>. Logged into the
    smoke study's store, as another experiment: a new SQLite store costs MLflow seconds of table migrations.
    A picture cut short by the worker's next copy is logged at a later report; one still cut short at the trial's
    end is named on stderr and not logged."""
    from PIL import Image

    from studies.mlflow_logger import StudyMLflowLogger
    from studies.trainable import picture_file

    folder = tmp_path / "k1_non_saturating_seeds0-1_a1b2c_00000"
    config = {"variant": "k1_non_saturating", "k": 1, "members": [0, 1], "seed": 0}
    trial = FakeTrial(folder, config)
    rng = np.random.default_rng(0)
    drawn = {}
    for step in (20, 40):
        for seed in (0, 1):
            drawn[(f"samples/seed_{seed}", step)] = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            path = folder / picture_file(f"samples/seed_{seed}", step)
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(drawn[(f"samples/seed_{seed}", step)]).save(path)
    members = {step: {f"seed_{s}": {PRIMARY: 0.1 * s + step / 100, "g_steps": step, "status": "ok"} for s in (0, 1)}
               for step in (20, 40)}
    uri = default_uri(str(solo[1]))
    logger = StudyMLflowLogger(uri, experiment_name="pop", tags={"study": "k_sweep"},
                               step_key="g_steps", artifact_location=f"file://{tmp_path}/mlartifacts")
    logger.setup()
    logger.log_trial_start(trial)
    late, broken = folder / picture_file("samples/seed_1", 20), folder / picture_file("samples/seed_1", 40)
    whole = late.read_bytes()
    late.write_bytes(whole[:40])  # being copied again when report 20 arrives
    broken.write_bytes(broken.read_bytes()[:40])  # and this one for good
    for i, step in enumerate((20, 40)):
        mean = sum(m[PRIMARY] for m in members[step].values()) / 2
        logger.log_trial_result(i + 1, trial, {PRIMARY: mean, "g_steps": step, "members_reporting": 2,
                                               "members": members[step], "config": config,
                                               "training_iteration": i + 1})
        late.write_bytes(whole)
    logger.log_trial_end(trial)
    err = capsys.readouterr().err
    assert f"--tracker mlflow: the picture {broken} does not open at the trial's end (" in err
    assert err.count("--tracker mlflow:") == 1
    del drawn[("samples/seed_1", 40)]

    mlflow.set_tracking_uri(uri)
    runs, client = mlflow.search_runs(experiment_names=["pop"]), mlflow.MlflowClient()
    assert len(runs) == 1
    row = runs.iloc[0]
    assert (row["status"], row["tags.mlflow.runName"], row["tags.ray_trial_dir"]) == ("FINISHED", folder.name,
                                                                                       str(folder))
    assert (row["params.members"], row["params.seed"], row["params.variant"]) == ("[0, 1]", "0", "k1_non_saturating")
    for seed in (0, 1):
        assert history(client, row["run_id"], f"members/seed_{seed}/{PRIMARY}") == \
            [(step, pytest.approx(members[step][f"seed_{seed}"][PRIMARY])) for step in (20, 40)]
    assert history(client, row["run_id"], PRIMARY) == [(20, pytest.approx(0.25)), (40, pytest.approx(0.45))]
    assert history(client, row["run_id"], "members_reporting") == [(20, 2.0), (40, 2.0)]
    logged = images(client, row["run_id"])
    assert sorted(logged) == sorted(drawn)
    assert all(np.array_equal(logged[key], drawn[key]) for key in drawn)


def _refused(argv, capsys):
    """A k_sweep refused before Ray starts: (exit code, the stderr lines)."""
    with pytest.raises(SystemExit) as e:
        k_sweep.main(argv)
    return e.value.code, capsys.readouterr().err.splitlines()


def test_without_mlflow_the_tracker_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    code, err = _refused(["--smoke-test", "--storage-path", str(tmp_path), "--tracker", "mlflow"], capsys)
    assert (code, len(err)) == (2, 1)
    assert err[0] == ("k_sweep: error: --tracker mlflow: mlflow is not installed; allowed: pip install -e "
                      "'.[tracker]' (mlflow-skinny: what logging needs), or --tracker none")
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_mlflow_uri_without_the_tracker_is_refused_in_one_line(tmp_path, capsys):
    code, err = _refused(["--smoke-test", "--storage-path", str(tmp_path), "--mlflow-uri", "sqlite:///x.db"], capsys)
    assert (code, err) == (2, ["k_sweep: error: --mlflow-uri: only with --tracker mlflow; allowed: add --tracker "
                               "mlflow, or leave --mlflow-uri out"])
    assert list(tmp_path.iterdir()) == []


def test_a_store_mlflow_cannot_open_is_refused_in_one_line(mlflow, tmp_path, capsys):
    code, err = _refused(["--smoke-test", "--storage-path", str(tmp_path), "--tracker", "mlflow", "--mlflow-uri",
                          "nosuch://host/x"], capsys)
    assert (code, len(err)) == (2, 1)
    assert err[0].startswith("k_sweep: error: --mlflow-uri 'nosuch://host/x': MLflow cannot open it (")
    assert err[0].endswith("); allowed: a tracking server http://host:port, or sqlite:///path.db")
    assert list(tmp_path.iterdir()) == []


def test_a_resume_keeps_the_tracker_the_study_started_with(tmp_path, capsys):
    """Ray restores a study's callbacks from its own saved state, so a resume cannot add or change the tracker."""
    (tmp_path / "k_sweep_smoke").mkdir()
    (tmp_path / "k_sweep_smoke" / "study.json").write_text(json.dumps(
        {"command": ["studies/k_sweep.py", "--smoke-test", "--storage-path", str(tmp_path)]}))
    code, err = _refused(["--smoke-test", "--storage-path", str(tmp_path), "--resume", "--tracker", "mlflow"],
                         capsys)
    assert (code, len(err)) == (2, 1)
    assert err[0].startswith("k_sweep: error: --resume: --tracker mlflow differs from the study's own --tracker "
                             "none")


def test_the_dev_extra_brings_the_tracker():
    """CI installs '.[dev]': the tracker's packages must be in it, or the tests above would be skipped there."""
    import tomllib

    extras = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert extras["tracker"] == ["mlflow-skinny>=3,<4", "sqlalchemy>=1.4,<3", "alembic>=1.5,!=1.10.0,<2"]
    assert set(extras["tracker"]) <= set(extras["dev"])

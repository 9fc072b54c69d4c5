"""k_sweep end to end: k x g_loss x seeds, and Algorithm 1's step counts in every report."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from gan_core.config import GANConfig
from studies import k_sweep

KS = [1, 2, 3, 5]
LOSSES = ["non_saturating", "minimax"]


def test_spec_is_the_product_of_k_and_g_loss():
    spec = k_sweep.build_spec(k_sweep.build_parser().parse_args([]))
    assert spec.variants == {f"k{k}_{g}": {"k": k, "g_loss": g} for k in KS for g in LOSSES}
    assert spec.seeds == (0, 1, 2)
    assert spec.baseline_variant == "k1_non_saturating"
    assert spec.base == GANConfig.from_flat({"dataset": "ring8", "steps": 2000, "eval_every": 250,
                                             "threads": 1}).to_flat()


def test_image_dataset_gets_the_image_preset():
    spec = k_sweep.build_spec(k_sweep.build_parser().parse_args(["--smoke-test", "--dataset", "mnist5k"]))
    assert {k: spec.base[k] for k in ("dataset", "arch", "ngf", "ndf", "batch_size", "eval_samples", "steps")} == \
        {"dataset": "mnist5k", "arch": "dcgan", "ngf": 8, "ndf": 8, "batch_size": 16, "eval_samples": 100,
         "steps": 40}


def test_repeated_values_are_refused():
    with pytest.raises(k_sweep.cli.StudyInputError, match="values repeat"):
        k_sweep.build_spec(k_sweep.build_parser().parse_args(["--k", "1,1"]))


@pytest.fixture(scope="module")
def smoke(ray_cluster, tmp_path_factory, study_main):
    storage = tmp_path_factory.mktemp("k")
    code, printed = study_main(k_sweep, ["--smoke-test", "--allow-cpu-fallback", "--storage-path", str(storage)])
    return code, storage / "k_sweep_smoke", printed


def test_smoke_run(smoke, experiment_reader, metric_keys):
    code, path, printed = smoke
    assert code == 0
    assert printed["Results"] == [str(path)]
    assert len(printed["Report"]) == 1 and Path(printed["Report"][0]).exists()
    trials = experiment_reader(path)
    assert len(trials) == 8
    assert [t.status for t in trials] == ["TERMINATED"] * 8
    assert sorted((t.config["k"], t.config["g_loss"]) for t in trials) == sorted((k, g) for k in KS for g in LOSSES)
    keys = metric_keys({k: v for k, v in trials[0].config.items() if k != "variant"})
    for t in trials:
        k = t.config["k"]
        assert t.config["variant"] == f"k{k}_{t.config['g_loss']}"
        assert t.user_keys() == keys
        assert t.reported("g_steps") == [20, 40]
        assert t.reported("d_steps") == [20 * k, 40 * k]  # k discriminator updates per generator update
        assert t.reported("status") == ["running", "ok"]
        # the density of its 2D samples in TensorBoard at every report, 96 x 96 pixels (trainable.SampleWriter)
        assert t.tensorboard_images() == [(20, "samples", 96, 96), (40, "samples", 96, 96)]


def test_study_json_names_the_factors(smoke):
    _, path, _ = smoke
    meta = json.loads((path / "study.json").read_text())
    assert (meta["primary_metric"], meta["mode"], meta["factors"], meta["baseline"], meta["baseline_variant"]) == \
        ("reverse_kl", "min", ["k", "g_loss"], {"k": 1, "g_loss": "non_saturating"}, "k1_non_saturating")
    assert meta["variants"] == {f"k{k}_{g}": {"k": k, "g_loss": g} for k in KS for g in LOSSES}
    assert meta["search"] is None


def test_tensorboard_shows_the_study_on_the_generator_step_axis(smoke, experiment_reader):
    """Every trial a run: its scalars and its samples at the same steps (g_steps), the primary metric's tag first,
    none of Ray's bookkeeping; its HParams session holds k, g_loss, the variant and the seed; the experiment's
    root run declares them with their domains and the study's metrics; the printed command is the study's."""
    from google.protobuf.json_format import MessageToDict
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    from studies.tensorboard import HPARAMS_FILE
    from tests.conftest import read_events

    _, path, printed = smoke
    assert printed["TensorBoard"] == [f"tensorboard --logdir {path}"]
    for t in experiment_reader(path):
        scalars = t.tensorboard_scalars()
        assert sorted(scalars)[:3] == ["1_quality/reverse_kl", "2_losses/d_loss", "2_losses/d_loss_fake"]
        assert {tag.split("/")[0] for tag in scalars} == {"1_quality", "2_losses", "3_metrics", "4_discriminator",
                                                         "5_gradients", "6_stability", "7_cost", "9_ray"}
        assert {tag for tag in scalars if tag.startswith("9_ray/")} == {"9_ray/time_total_s",
                                                                       "9_ray/training_iteration"}
        # each key at the g_steps of the reports where it is a finite number (steps_to_90pct is NaN at first)
        assert {tag: [s for s, _ in points] for tag, points in scalars.items()} == \
            {tag: [r["g_steps"] for r in t.rows if math.isfinite(r[tag.split("/", 1)[1]])] for tag in scalars}
        assert all(len(points) == 2 for tag, points in scalars.items() if tag != "6_stability/steps_to_90pct")
        assert [s for s, _, _, _ in t.tensorboard_images()] == [20, 40]
        assert scalars["1_quality/reverse_kl"] == [(r["g_steps"], pytest.approx(r["reverse_kl"], rel=1e-6))
                                                   for r in t.rows]
        assert t.tensorboard_session() == ({"variant": t.config["variant"], "k": float(t.config["k"]),
                                            "g_loss": t.config["g_loss"], "seed": 0.0}, "STATUS_SUCCESS")
    _, event = read_events([path / HPARAMS_FILE])
    (value,) = event.summary.value
    experiment = MessageToDict(HParamsPluginData.FromString(value.metadata.plugin_data.content).experiment)
    assert [(h["name"], h.get("domainDiscrete")) for h in experiment["hparamInfos"]] == [
        ("variant", [f"k{k}_{g}" for k in KS for g in LOSSES]), ("k", [1.0, 2.0, 3.0, 5.0]),
        ("g_loss", LOSSES), ("seed", [0.0])]
    assert [m["name"]["tag"] for m in experiment["metricInfos"]] == [
        "1_quality/reverse_kl", "3_metrics/modes_captured", "3_metrics/high_quality_frac"]


def test_tensorboards_own_reader_sees_the_study_as_one_experiment(smoke, experiment_reader):
    """What ``tensorboard --logdir <experiment>`` loads: the root run holds the HParams experiment, each trial's
    folder is a run with a session and its scalars."""
    mux = pytest.importorskip("tensorboard.backend.event_processing.plugin_event_multiplexer")
    _, path, _ = smoke
    m = mux.EventMultiplexer().AddRunsFromDirectory(str(path))
    m.Reload()
    trials = [t.path.name for t in experiment_reader(path)]
    assert sorted(m.Runs()) == sorted([".", *trials])
    hparams = m.PluginRunToTagToContent("hparams")
    assert sorted(hparams) == sorted([".", *trials])
    assert list(hparams["."]) == ["_hparams_/experiment"]
    for run in trials:
        assert sorted(hparams[run]) == ["_hparams_/session_end_info", "_hparams_/session_start_info"]
        assert [e.step for e in m.Tensors(run, "1_quality/reverse_kl")] == [20, 40]
        assert [e.step for e in m.Tensors(run, "samples")] == [20, 40]

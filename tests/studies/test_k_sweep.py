"""k_sweep end to end: k x g_loss x seeds, and Algorithm 1's step counts in every report."""
from __future__ import annotations

import json
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

"""arch_ablation end to end: the smoke run's results directory, read back with Ray's own ExperimentAnalysis."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gan_core.config import GUIDELINE_OFF, GUIDELINES, GANConfig
from studies import arch_ablation, cli
from studies.resume import design_record

LABELS = ["baseline", "strided_conv_off", "batchnorm_g_off", "batchnorm_d_off", "fc_hidden_off",
          "g_activation_off", "g_output_off", "d_activation_off", "all_off"]


def test_the_default_preset_has_the_seeds_its_answer_needs():
    from analysis import power, ranks

    preset = arch_ablation.PRESETS["default"]
    n_comparisons = 2 * (len(LABELS) - 1)  # fd and stability, 8 variants against the baseline
    assert preset["seeds"] == power.seeds_needed(ranks.rank_floor, n_comparisons) == 6
    assert preset["steps"] % preset["eval_every"] == 0 and (3 * preset["steps"] // 4) % preset["eval_every"] == 0
    assert arch_ablation.PRESETS["full"]["seeds"] >= 6


def test_the_slowest_variants_start_first():
    spec = arch_ablation.build_spec(arch_ablation.build_parser().parse_args([]))
    order = spec.run_order()
    assert order[:2] == ["all_off", "strided_conv_off"]  # stride-1 convolutions at full resolution
    assert sorted(order) == sorted(LABELS)
    assert spec.param_space()["variant"] == {"grid_search": order}


def test_variants_switch_each_guideline_off_alone_and_all_together():
    v = arch_ablation.variants()
    assert list(v) == LABELS
    assert v["baseline"] == {}
    assert v["batchnorm_d_off"] == {"batchnorm_d": False}
    assert v["g_output_off"] == {"g_output": "linear"}  # unbounded, not sigmoid: one change, not a range mismatch
    assert v["all_off"] == GUIDELINE_OFF
    assert all(len(v[f"{key}_off"]) == 1 and v[f"{key}_off"][key] != GUIDELINES[key] for key in GUIDELINES)


@pytest.fixture(scope="module")
def smoke(ray_cluster, tmp_path_factory, study_main):
    storage = tmp_path_factory.mktemp("arch")
    code, printed = study_main(arch_ablation, ["--smoke-test", "--allow-cpu-fallback", "--storage-path", str(storage)])
    return code, storage / "arch_ablation_smoke", printed


def test_smoke_run_finishes_every_trial(smoke, experiment_reader):
    code, path, printed = smoke
    assert code == 0
    assert printed["Results"] == [str(path)]
    assert len(printed["Report"]) == 1 and Path(printed["Report"][0]).exists()
    trials = experiment_reader(path)
    assert len(trials) == 9
    assert [t.status for t in trials] == ["TERMINATED"] * 9
    assert sorted(t.config["variant"] for t in trials) == sorted(LABELS)


def test_each_trial_runs_exactly_its_variant(smoke, experiment_reader):
    _, path, _ = smoke
    preset = arch_ablation.PRESETS["smoke"]
    base = GANConfig.from_flat({**GUIDELINES, "dataset": "mnist5k", "image_size": 32, "steps": preset["steps"],
                                "eval_every": preset["eval_every"], "eval_samples": preset["eval_samples"],
                                "ngf": 8, "ndf": 8, "batch_size": 16, "threads": 1}).to_flat()
    variants = arch_ablation.variants()
    for t in experiment_reader(path):
        label = t.config["variant"]
        assert t.config == {**base, **variants[label], "seed": 0, "variant": label}
        params = json.loads((t.path / "params.json").read_text())
        assert params == t.config


def test_reports_exact_keys_and_steps(smoke, experiment_reader, metric_keys, ray_cluster):
    _, path, _ = smoke
    for t in experiment_reader(path):
        flat = {k: v for k, v in t.config.items() if k != "variant"}
        assert t.user_keys() == metric_keys(flat)
        assert t.reported("g_steps") == [2, 4]
        assert t.reported("d_steps") == [2, 4]  # k = 1
        assert t.reported("status") == ["running", "ok"]
        assert t.reported("training_iteration") == [1, 2]
        # an 8 x 8 grid of 32 px samples in TensorBoard at every report (2 px padding: 8 * 34 + 2 = 274)
        assert t.tensorboard_images() == [(2, "samples", 274, 274), (4, "samples", 274, 274)]
        assert t.reported("device") == ["cpu", "cpu"]  # a (fake) GPU from Ray but no CUDA: CPU
        assert set(t.reported("node_id")) <= {ray_cluster["head_node_id"], ray_cluster["gpu_node_id"]}
        # every report came with a checkpoint; the newest two are kept, each the trainer's complete state
        assert [r["checkpoint_dir_name"] for r in t.rows] == ["checkpoint_000000", "checkpoint_000001"]
        for name, g_steps in (("checkpoint_000000", 2), ("checkpoint_000001", 4)):
            state = torch.load(t.path / name / "state.pt", weights_only=True)
            assert (state["g_steps"], state["config"]) == (g_steps, flat)


def test_study_json(smoke):
    _, path, _ = smoke
    meta = json.loads((path / "study.json").read_text())
    argv = ["--smoke-test", "--allow-cpu-fallback", "--storage-path", str(path.parent)]
    spec = arch_ablation.build_spec(arch_ablation.build_parser().parse_args(argv))
    assert meta.pop("design") == design_record(spec, False)  # what a resume must keep (studies.resume)
    assert meta == {
        "study": "arch_ablation", "primary_metric": "fd", "mode": "min", "baseline_variant": "baseline",
        "variants": {k: v for k, v in arch_ablation.variants().items()}, "factors": ["variant"], "baseline": {},
        "command": ["studies/arch_ablation.py", *argv],
        "search": None, "published": None,
        "metric_modes": {"fd": "min", "cis": "max", "precision": "max", "recall": "max", "density": "max",
                         "coverage": "max", "classes_covered": "max", "class_kl": "min"},
        "members_per_trial": 1,
    }


def test_add_makes_a_variant_of_the_baseline_and_variants_chooses():
    def spec(*argv):
        return arch_ablation.build_spec(arch_ablation.build_parser().parse_args(list(argv)))
    got = spec("--add", "spectral_norm_d=true", "--variants", "baseline,spectral_norm_d_true").variants
    assert got == {"baseline": {}, "spectral_norm_d_true": {"spectral_norm_d": True}}
    assert list(spec("--add", "spectral_norm_d=true").variants)[-2:] == ["all_off", "spectral_norm_d_true"]
    for argv in (["--variants", "strided_conv_off"], ["--variants", "baseline,nope"]):
        with pytest.raises(cli.StudyInputError, match=r"^--variants .*: allowed: distinct names of baseline, "):
            spec(*argv)

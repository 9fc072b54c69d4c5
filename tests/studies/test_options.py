"""studies.options: each study option declared once; the flags, the preset merge and the base config derived."""
from __future__ import annotations

import pytest

from studies import arch_ablation, goodfellow2014, k_sweep, lr_search, mode_collapse, options, theory_check
from studies.option_types import positive_int
from studies.options import StudyOption, StudyOptions

STUDIES = (arch_ablation, goodfellow2014, k_sweep, lr_search, mode_collapse, theory_check)
PRESETS = {"default": {"steps": 10, "seeds": 2}, "smoke": {"steps": 1, "seeds": 1}}
DECLARED = [options.STEPS, options.SEEDS]


# ------------------------------------------------------------------------------------------------ declarations
def test_every_preset_holds_exactly_the_declared_options():
    with pytest.raises(ValueError, match=r"preset 'smoke' holds \['steps'\], the declared options are"):
        StudyOptions({**PRESETS, "smoke": {"steps": 1}}, DECLARED)
    with pytest.raises(ValueError, match=r"preset 'default' holds \['seeds', 'steps'\], the declared options"):
        StudyOptions(PRESETS, [options.STEPS])
    with pytest.raises(ValueError, match=r"declared twice: \['steps'\]"):
        StudyOptions(PRESETS, [*DECLARED, options.STEPS])
    with pytest.raises(ValueError, match=r"allowed: default, smoke and optionally full"):
        StudyOptions({"default": PRESETS["default"]}, DECLARED)
    with pytest.raises(ValueError, match=r"\['widths'\] are declared config keys"):
        StudyOptions({name: {**p, "widths": 3} for name, p in PRESETS.items()},
                     [*DECLARED, StudyOption("widths", positive_int, "no such config key", config=True)])


@pytest.mark.parametrize("study", STUDIES, ids=lambda m: m.STUDY)
def test_each_study_declares_its_presets_options(study):
    """Each flag of the "study" group that is a declared option defaults to None (left out) and is named after its
    preset key; the others are the study's own design."""
    parser = study.build_parser()
    group = next(g for g in parser._action_groups if g.title == "study")
    flags = {a.dest: a.option_strings[-1] for a in group._group_actions}
    for o in study.OPTIONS.options:
        assert flags[o.key] == "--" + o.key.replace("_", "-")
        assert parser.get_default(o.key) is None
    assert set(study.PRESETS["default"]) <= set(flags)


def test_help_names_the_default_presets_value():
    help_text = goodfellow2014.build_parser().format_help()
    assert "(preset: 10,000, as the paper)" in " ".join(help_text.split())
    assert "image dataset (preset: mnist5k)" in " ".join(arch_ablation.build_parser().format_help().split())


# ------------------------------------------------------------------------------------------------------ merge
def test_default_preset_is_the_laptop_preset():
    args = arch_ablation.build_parser().parse_args([])
    assert arch_ablation.OPTIONS.choose(args) == arch_ablation.PRESETS["default"]
    assert arch_ablation.PRESETS["default"] == {"dataset": "mnist5k", "steps": 800, "ngf": 16, "ndf": 16,
                                                "batch_size": 64, "eval_every": 200, "seeds": 6,
                                                "image_size": 32, "eval_samples": 1000}


def test_given_options_override_the_chosen_preset():
    args = arch_ablation.build_parser().parse_args(["--full", "--steps", "77", "--ngf", "24"])
    assert arch_ablation.OPTIONS.choose(args) == {**arch_ablation.PRESETS["full"], "steps": 77, "ngf": 24}


def test_a_budget_replaces_the_preset_and_given_options_win_over_it():
    args = mode_collapse.build_parser().parse_args(["--steps", "5"])
    assert mode_collapse.OPTIONS.choose(args, {"steps": 9, "eval_every": 3}) == \
        {**mode_collapse.PRESETS["default"], "steps": 5, "eval_every": 3}
    with pytest.raises(ValueError, match=r"budget keys \['widths'\]"):
        mode_collapse.OPTIONS.choose(args, {"widths": 3})


def test_smoke_preset_builds_nine_variants_times_one_seed():
    spec = arch_ablation.build_spec(arch_ablation.build_parser().parse_args(["--smoke-test"]))
    assert (len(spec.variants), spec.seeds) == (9, (0,))
    assert len(spec.design) == 9


# ------------------------------------------------------------------------------------------------ base config
def test_the_base_config_takes_the_config_options_threads_and_set_overrides_last():
    args = arch_ablation.build_parser().parse_args(["--ngf", "12", "--cpus-per-trial", "2", "--set", "ndf=20"])
    preset = arch_ablation.OPTIONS.choose(args)
    assert arch_ablation.OPTIONS.base_config(args, preset, {"arch": "dcgan", "ngf": 99}) == {
        "arch": "dcgan", "dataset": "mnist5k", "steps": 800, "eval_every": 200, "ngf": 12, "ndf": 20,
        "batch_size": 64, "image_size": 32, "eval_samples": 1000, "threads": 2}


@pytest.mark.parametrize("study", [k_sweep, lr_search])
def test_image_datasets_add_the_image_preset_of_the_chosen_preset(study):
    def extras(*argv):
        args = study.build_parser().parse_args(list(argv))
        return options.image_extras(args, study.OPTIONS, study.OPTIONS.choose(args)["dataset"])

    assert extras() == {}  # ring8
    assert extras("--dataset", "grid25", "--smoke-test") == {}
    assert extras("--dataset", "mnist5k") == {"ngf": 32, "ndf": 32, "eval_samples": 1000}
    assert extras("--dataset", "cifar10", "--smoke-test") == {"ngf": 8, "ndf": 8, "batch_size": 16,
                                                              "eval_samples": 100}
    assert extras("--dataset", "fashion_mnist", "--full") == {"image_size": 64}
    spec = study.build_spec(study.build_parser().parse_args(["--dataset", "mnist5k"]))
    assert {k: spec.base[k] for k in ("arch", "ngf", "ndf", "eval_samples")} == \
        {"arch": "dcgan", "ngf": 32, "ndf": 32, "eval_samples": 1000}
    # with --set arch=mlp the DCGAN widths do not apply: left out, not refused
    spec = study.build_spec(study.build_parser().parse_args(["--dataset", "mnist5k", "--set", "arch=mlp"]))
    assert {k: spec.base[k] for k in ("arch", "ngf", "ndf", "eval_samples")} == \
        {"arch": "mlp", "ngf": 64, "ndf": 64, "eval_samples": 1000}


def test_set_overrides_reach_the_base_config():
    args = k_sweep.build_parser().parse_args(["--set", "batch_size=32", "--set", "lr_d=0.005"])
    spec = k_sweep.build_spec(args)
    assert (spec.base["batch_size"], spec.base["lr_d"]) == (32, 0.005)

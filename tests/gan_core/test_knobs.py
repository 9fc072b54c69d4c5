"""gan_core.knobs: each config key declared once, and what is derived from the declarations (GANConfig's defaults
and checks, the guideline table, population eligibility, docs/CONFIGURATION_TABLE.md)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gan_core.config import GANConfig
from gan_core.knob_table import table
from gan_core.knobs import (ARCHS, DATASET_ARCHS, DATASETS, GUIDELINE_OFF, GUIDELINES, KNOBS, Knob,
                            population_refusals)

TABLE = Path(__file__).resolve().parents[2] / "docs" / "CONFIGURATION_TABLE.md"


def test_each_declaration_is_a_field_of_ganconfig_with_its_type_and_default():
    fields = dataclasses.fields(GANConfig)
    assert [f.name for f in fields] == list(KNOBS)
    for f in fields:
        knob = KNOBS[f.name]
        assert (f.type, f.default) == (knob.type, knob.default), f.name
        assert type(f.default) is knob.type


@pytest.mark.parametrize("dataset", DATASETS)
def test_each_declared_default_is_the_configs_default_for_every_dataset_and_arch(dataset):
    for arch in DATASET_ARCHS[dataset]:
        given = {"dataset": dataset, "arch": arch}
        flat = GANConfig.from_flat(given).to_flat()
        assert flat == {**{key: knob.default_for(dataset, arch) for key, knob in KNOBS.items()}, **given}
        assert all(type(flat[key]) is knob.type for key, knob in KNOBS.items())


def test_the_defaults_that_differ_by_dataset_and_arch_are_todays():
    ring = GANConfig.from_flat({"dataset": "ring8"})
    assert (ring.arch, ring.nz, ring.g_output, ring.batch_size, ring.lr_d, ring.eval_samples, ring.batchnorm_g) == \
        ("mlp", 2, "linear", 256, 1e-3, 2500, False)
    gauss = GANConfig.from_flat({"dataset": "gauss1d"})
    assert (gauss.arch, gauss.nz, gauss.eval_samples, gauss.batchnorm_g) == ("affine", 1, 10000, False)
    assert GANConfig.from_flat({"arch": "mlp"}).batchnorm_g is False  # the arch's default, not the DCGAN's
    assert GANConfig.from_flat({"arch": "mlp", "batchnorm_g": True}).batchnorm_g is True  # given: it wins


def test_the_guideline_table_is_derived_from_the_declarations():
    declared = [k for k in KNOBS.values() if k.guideline is not None]
    assert GUIDELINES == {k.key: k.guideline for k in declared}
    assert GUIDELINE_OFF == {k.key: k.off for k in declared}
    assert list(GUIDELINES) == ["strided_conv", "batchnorm_g", "batchnorm_d", "fc_hidden", "g_activation",
                                "g_output", "d_activation"]  # the ablation's order, its variants' names
    baseline = GANConfig.from_flat({})
    for key, on in GUIDELINES.items():
        assert getattr(baseline, key) == on and "dcgan" in KNOBS[key].archs
        assert getattr(baseline.replace(**{key: GUIDELINE_OFF[key]}), key) == GUIDELINE_OFF[key]


def test_a_declaration_is_checked_when_it_is_made():
    with pytest.raises(TypeError, match="knob 'x': 1 is no float"):
        Knob("x", float, 1, "help")
    with pytest.raises(ValueError, match="both its value and a different off value"):
        Knob("x", bool, True, "help", guideline=True)
    with pytest.raises(ValueError, match="solo_why"):
        Knob("x", float, 0.0, "help", population=False)


@pytest.mark.parametrize("flat, message", [
    ({"dataset": "ring8", "strided_conv": False},
     "config key 'strided_conv' = False does not fit arch 'mlp' (it applies to arch 'dcgan'); allowed: True"),
    ({"dataset": "ring8", "fc_hidden": True},
     "config key 'fc_hidden' = True does not fit arch 'mlp' (it applies to arch 'dcgan'); allowed: False"),
    ({"dataset": "ring8", "batchnorm_d": False},
     "config key 'batchnorm_d' = False does not fit arch 'mlp' (it applies to arch 'dcgan'); allowed: True"),
    ({"dataset": "ring8", "ngf": 8},
     "config key 'ngf' = 8 does not fit arch 'mlp' (it applies to arch 'dcgan'); allowed: 64"),
    ({"dataset": "mnist5k", "arch": "mlp", "ndf": 8},
     "config key 'ndf' = 8 does not fit arch 'mlp' (it applies to arch 'dcgan'); allowed: 64, or arch 'dcgan'"),
    ({"dataset": "mnist5k", "mlp_hidden": 16},
     "config key 'mlp_hidden' = 16 does not fit arch 'dcgan' (it applies to arch 'mlp' | 'affine'); allowed: 128, "
     "or arch 'mlp'"),
    ({"dataset": "gauss1d", "g_output": "tanh"},
     "config key 'g_output' = 'tanh' does not fit arch 'affine' (it applies to arch 'dcgan' | 'mlp'); allowed: "
     "'linear', or arch 'mlp'"),
    ({"dataset": "gauss1d", "nz": 3},
     "config key 'nz' = 3 does not fit arch 'affine'; allowed: 1, or arch 'mlp'"),
    ({"dataset": "cifar10", "init": "uniform"},
     "config key 'init' = 'uniform' does not fit arch 'dcgan'; allowed: 'auto' | 'normal_0.02', or arch 'mlp'"),
])
def test_a_key_that_does_not_apply_to_the_arch_is_refused_in_one_line(flat, message):
    with pytest.raises(ValueError) as e:
        GANConfig.from_flat(flat)
    assert str(e.value) == message


def test_a_key_that_does_not_apply_may_keep_its_default_so_every_resolved_config_round_trips():
    for dataset in DATASETS:
        for arch in DATASET_ARCHS[dataset]:
            cfg = GANConfig.from_flat({"dataset": dataset, "arch": arch})
            assert GANConfig.from_flat(cfg.to_flat()) == cfg
    assert GANConfig.from_flat({"dataset": "ring8", "strided_conv": True, "ngf": 64}).arch == "mlp"


def test_every_key_applies_to_some_arch_and_its_only_values_are_its_own():
    for knob in KNOBS.values():
        assert knob.archs and set(knob.archs) <= set(ARCHS)
        for arch, values in knob.only.items():
            assert arch in knob.archs and set(values) <= set(knob.choices or values)


def test_population_eligibility_is_derived_from_the_declarations():
    solo = {k.key for k in KNOBS.values() if not k.population}
    assert solo == {"dropout_input", "dropout_hidden", "spectral_norm_d"}
    flat = GANConfig.from_flat({"dataset": "ring8", "dropout_hidden": 0.5}).to_flat()
    [(knob, value, default)] = population_refusals(flat)
    assert (knob.key, value, default) == ("dropout_hidden", 0.5, 0.0)
    assert population_refusals(GANConfig.from_flat({"dataset": "ring8"}).to_flat()) == []


def test_the_committed_configuration_table_is_up_to_date():
    assert TABLE.read_text() == table(), (
        "docs/CONFIGURATION_TABLE.md is stale: run python -m gan_core.knob_table > docs/CONFIGURATION_TABLE.md")


def test_the_table_has_a_row_per_key_and_a_line_of_help_each():
    rows = [line for line in table().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(KNOBS)
    assert all(k.help and "\n" not in k.help for k in KNOBS.values())
    assert "| `strided_conv` | bool | `true` |" in table()

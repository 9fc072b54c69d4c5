"""Factors, levels and baselines read off the trials: variants, a k x g_loss grid, a binned learning-rate search."""
import numpy as np
import pytest

from analysis.design import bin_label, infer_design, level_label
from analysis.load import read_study


def design_of(path):
    data = read_study(str(path))
    return infer_design(data.trials, data.meta)


def test_variants_are_the_one_factor_with_the_declared_baseline(ablation_dir):
    trials, design = design_of(ablation_dir)
    assert [f.name for f in design.factors] == ["variant"]
    f = design.factors[0]
    assert f.levels == ["baseline", "batchnorm_d_off", "g_output_off"]
    assert (f.baseline, f.how_baseline) == ("baseline", "study.json baseline_variant")
    assert design.baseline_config == "baseline"
    assert design.changes == {"baseline": "", "batchnorm_d_off": "batchnorm_d=False",
                              "g_output_off": "g_output=linear"}
    assert sorted(trials["configuration"].unique()) == ["baseline", "batchnorm_d_off", "g_output_off"]


def test_variant_changes_are_read_off_the_configs_when_study_json_lacks_them(synth):
    trials = synth.ablation_trials({"baseline": 0.0, "bn_off": 1.0}, seeds=2,
                                   changes={"bn_off": {"batchnorm_d": False}})
    study = {**synth.ablation_study, "variants": {}}
    _, design = design_of(synth.write("abl", trials, study))
    assert design.changes == {"baseline": "", "bn_off": "batchnorm_d=False"}


def test_k_by_g_loss_grid_takes_the_config_defaults_as_baselines(ksweep_dir):
    trials, design = design_of(ksweep_dir)
    assert [(f.name, f.levels, f.baseline, f.how_baseline) for f in design.factors] == [
        ("k", ["1", "2", "5"], "1", "the config default"),
        ("g_loss", ["non_saturating", "minimax"], "non_saturating", "the config default"),
    ]
    assert design.baseline_config == "k=1, g_loss=non_saturating"
    assert trials["configuration"].nunique() == 6


def lr_trials(synth, n=30):
    rng = np.random.default_rng(0)
    out = []
    for seed in range(n):
        lr_d, lr_g = 10 ** rng.uniform(-5, -2), 10 ** rng.uniform(-5, -2)
        p = synth.base_params(lr_d=float(lr_d), lr_g=float(lr_g), seed=seed)
        out.append({"params": p, "rows": synth.trial_rows(p, {"fd": 30.0})})
    return out


def test_learning_rates_from_a_range_are_binned_by_decade(synth):
    exp = synth.write("lr", lr_trials(synth), {"study": "lr", "primary_metric": "fd", "mode": "min"})
    trials, design = design_of(exp)
    assert [(f.name, f.column, f.binned) for f in design.factors] == [("lr_d", "lr_d_bin", True),
                                                                     ("lr_g", "lr_g_bin", True)]
    assert design.factors[0].levels == ["1e-05..1e-04", "1e-04..1e-03", "1e-03..1e-02"]
    assert design.factors[0].baseline == "1e-04..1e-03"  # holds the default 2e-4
    row = trials.iloc[0]
    assert row["lr_d_bin"] == bin_label(row["lr_d"], [1e-5, 1e-4, 1e-3, 1e-2])


def test_study_json_baseline_overrides_the_default(synth):
    exp = synth.write("lr", lr_trials(synth), {"study": "lr", "primary_metric": "fd", "mode": "min",
                                                "baseline": {"lr_g": 5e-5}})
    _, design = design_of(exp)
    assert (design.factors[1].baseline, design.factors[1].how_baseline) == ("1e-05..1e-04", "study.json baseline")


def test_most_common_level_when_the_default_was_not_run(synth):
    trials = []
    for k, seeds in ((2, 3), (3, 2)):
        for seed in range(seeds):
            p = synth.base_params(k=k, seed=seed)
            trials.append({"params": p, "rows": synth.trial_rows(p, {"fd": 1.0})})
    _, design = design_of(synth.write("k", trials, {"study": "k", "primary_metric": "fd", "mode": "min"}))
    assert design.factors[0].baseline == "2"
    assert design.notes == ["factor k: no baseline level given or found at the default; using most common "
                            "level '2'"]


def test_only_seeds_vary_gives_no_factor(synth):
    trials = []
    for seed in range(3):
        p = synth.base_params(seed=seed)
        trials.append({"params": p, "rows": synth.trial_rows(p, {"fd": 1.0})})
    t, design = design_of(synth.write("one", trials, {"study": "one", "primary_metric": "fd", "mode": "min"}))
    assert design.factors == [] and design.baseline_config == "all"
    assert set(t["configuration"]) == {"all"}


@pytest.mark.parametrize("value,text", [(True, "True"), (5, "5"), (2e-4, "2e-04"), (0.5, "0.5"), (3.0, "3"),
                                        ("minimax", "minimax")])
def test_level_label(value, text):
    assert level_label(value) == text


def test_study_json_baseline_is_the_baseline_even_when_no_trial_of_it_ran(synth):
    """An interrupted study whose costliest configurations ran first: the baseline is still study.json's (k = 1,
    the baseline variant), never re-guessed from the trials that happen to be present; noted."""
    trials = []
    for k, seeds in ((5, 3), (2, 2)):
        for seed in range(seeds):
            p = synth.base_params(k=k, seed=seed)
            trials.append({"params": p, "rows": synth.trial_rows(p, {"fd": 1.0})})
    study = {"study": "k", "primary_metric": "fd", "mode": "min", "factors": ["k"], "baseline": {"k": 1}}
    _, design = design_of(synth.write("k", trials, study))
    f = design.factors[0]
    assert (f.levels, f.baseline, f.how_baseline) == (["2", "5"], "1", "study.json baseline")
    assert design.baseline_config is None
    assert design.notes == ["factor k: no trial of its baseline level 1 (study.json baseline) is in these results: "
                            "its comparisons have no baseline seeds"]
    variants = synth.ablation_trials({"bn_off": 1.0, "other": 2.0}, seeds=2)
    _, design = design_of(synth.write("abl", variants, synth.ablation_study))
    f = design.factors[0]
    assert (f.levels, f.baseline, f.how_baseline) == (["bn_off", "other"], "baseline", "study.json baseline_variant")


def test_levels_that_print_alike_are_spelt_out_in_the_order_and_the_baseline_too(synth):
    """lr_decay 1 against the GAN paper's 1.000004 (goodfellow2014 --factorial): both print as "1" compactly; the
    levels, their order and the study.json baseline are then all spelt out in full, so the comparison exists."""
    trials = []
    for decay in (1.0, 1.000004):
        for seed in range(2):
            p = synth.base_params(optimizer="sgd", lr_decay=decay, seed=seed)
            trials.append({"params": p, "rows": synth.trial_rows(p, {"fd": 1.0})})
    study = {"study": "g", "primary_metric": "fd", "mode": "min", "factors": ["lr_decay"],
             "baseline": {"lr_decay": 1.000004}}
    trials_frame, design = design_of(synth.write("g", trials, study))
    f = design.factors[0]
    assert (f.levels, f.baseline, f.how_baseline) == (["1.0", "1.000004"], "1.000004", "study.json baseline")
    assert sorted(trials_frame[f.column]) == ["1.0", "1.0", "1.000004", "1.000004"]
    assert f.others == ["1.0"]

"""mode_collapse: PacGAN's and VEEGAN's setups and the factorial between them, and the published table."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gan_core.config import GANConfig
from studies import mode_collapse as mc

SETUP_KEYS = sorted(set(mc.PACGAN_NET) | set(mc.PACGAN_OPT) | {"updates", "pack"})


def spec_of(argv):
    return mc.build_spec(mc.build_parser().parse_args(argv))


def test_the_default_is_the_factorial_and_pacgan2_on_the_ring():
    spec = spec_of([])
    assert list(spec.variants)[:3] == ["gan", "pacgan2", "veegan"]
    assert sorted(spec.variants) == sorted(["gan", "pacgan2", "veegan"] + [
        f"net-{n}_opt-{o}_{u}" for n in ("pacgan", "veegan") for o in ("pacgan", "veegan") for u in ("sim", "alt")
        if (n, o, u) not in (("pacgan", "pacgan", "sim"), ("veegan", "veegan", "sim"))])
    assert (spec.base["dataset"], spec.base["steps"], spec.seeds, spec.baseline_variant) == \
        ("ring8", 3000, (0, 1, 2, 3, 4), "gan")
    assert all(sorted(ch) == SETUP_KEYS for ch in spec.variants.values())  # each variant is a whole setup
    for label, changes in spec.variants.items():
        GANConfig.from_flat({**spec.base, **changes})  # every variant is a valid config


def test_the_papers_setups_are_their_released_codes():
    gan, veegan = spec_of([]).variants["gan"], spec_of([]).variants["veegan"]
    assert {k: gan[k] for k in ("mlp_hidden", "mlp_layers", "batchnorm_g", "mlp_hidden_d", "mlp_layers_d",
                                "maxout_pieces", "init", "batch_size", "lr_d", "lr_g", "beta1", "updates", "pack",
                                "nz")} == \
        {"mlp_hidden": 400, "mlp_layers": 4, "batchnorm_g": True, "mlp_hidden_d": 200, "mlp_layers_d": 3,
         "maxout_pieces": 5, "init": "normal_0.02", "batch_size": 100, "lr_d": 1e-4, "lr_g": 1e-4, "beta1": 0.8,
         "updates": "simultaneous", "pack": 1, "nz": 2}
    assert {k: veegan[k] for k in ("mlp_hidden", "mlp_layers", "mlp_hidden_d", "mlp_layers_d", "maxout_pieces",
                                   "d_activation", "batch_size", "lr_d", "beta1", "nz")} == \
        {"mlp_hidden": 128, "mlp_layers": 2, "mlp_hidden_d": 128, "mlp_layers_d": 1, "maxout_pieces": 0,
         "d_activation": "relu", "batch_size": 500, "lr_d": 1e-3, "beta1": 0.5, "nz": 255}


@pytest.mark.parametrize("label, differs", [
    ("pacgan2", {"pack"}),
    ("net-pacgan_opt-pacgan_alt", {"updates"}),
    ("net-pacgan_opt-veegan_sim", {"lr_d", "lr_g", "beta1"}),
    ("net-veegan_opt-pacgan_sim", {"nz", "mlp_hidden", "mlp_layers", "batchnorm_g", "mlp_hidden_d", "mlp_layers_d",
                                   "maxout_pieces", "d_activation", "init", "batch_size"}),
])
def test_each_neighbour_of_gan_changes_exactly_its_factor(label, differs):
    variants = spec_of([]).variants
    assert {k for k in variants["gan"] if variants["gan"][k] != variants[label][k]} == differs


def test_no_factorial_runs_the_rows_of_the_papers_tables_only():
    assert list(spec_of(["--dataset", "grid25", "--no-factorial"]).variants) == ["gan", "pacgan2", "veegan"]


def test_full_adds_pacgan3_and_4_and_runs_pacgans_protocol():
    spec = spec_of(["--full", "--dataset", "grid25"])
    assert [v for v in spec.variants if v.startswith("pacgan")] == ["pacgan2", "pacgan3", "pacgan4"]
    assert (spec.base["dataset"], spec.base["steps"], len(spec.seeds)) == ("grid25", 400_000, 10)
    assert [p["variant"] for p in spec.published].count("gan") == 3


def test_published_rows_are_those_of_the_dataset_and_variants_run():
    ring = spec_of([]).published
    assert [(p["variant"], p["metric"], p["value"], p["se"]) for p in ring] == [
        ("gan", "modes_captured", 6.3, 0.5), ("gan", "high_quality_frac", 0.982, 0.002),
        ("gan", "reverse_kl", 0.45, 0.09),
        ("pacgan2", "modes_captured", 7.9, 0.1), ("pacgan2", "high_quality_frac", 0.956, 0.02),
        ("pacgan2", "reverse_kl", 0.07, 0.03), ("veegan", "modes_captured", 1.0, None),
        ("veegan", "high_quality_frac", 0.993, None)]
    grid = spec_of(["--dataset", "grid25", "--packs", "3"]).published
    assert {p["variant"] for p in grid} == {"gan", "veegan"}  # no pacgan2 run: its figures are left out
    assert [p["value"] for p in grid if p["metric"] == "modes_captured"] == [17.3, 3.3]


@pytest.mark.parametrize("argv, says", [
    (["--packs", "1"], "distinct pack sizes >= 2"),
    (["--packs", "2,2"], "distinct pack sizes >= 2"),
])
def test_bad_options_are_refused(argv, says):
    with pytest.raises(mc.cli.StudyInputError, match=says):
        spec_of(argv)


def test_a_key_the_setups_set_themselves_is_refused_by_the_runner():
    """(studies.space.set_by_the_study: the runner refuses a --set of it in one line, before Ray starts.)"""
    from studies.space import set_by_the_study

    spec = spec_of(["--set", "batch_size=64"])
    assert set_by_the_study({"batch_size": 64, "g_loss": "minimax"}, spec.variants, spec.searched,
                            spec.seeds) == ["batch_size"]


def test_a_shared_key_may_be_overridden():
    assert spec_of(["--set", "g_loss=minimax"]).base["g_loss"] == "minimax"


@pytest.fixture(scope="module")
def smoke(ray_cluster, tmp_path_factory, study_main):
    storage = tmp_path_factory.mktemp("mc")
    code, printed = study_main(mc, ["--smoke-test", "--allow-cpu-fallback", "--storage-path", str(storage)])
    return code, storage / "mode_collapse_ring8_smoke", printed


def test_smoke_run_trains_every_setup_and_writes_the_published_table(smoke, experiment_reader):
    code, path, printed = smoke
    assert code == 0 and printed["Results"] == [str(path)]
    trials = experiment_reader(path)
    assert len(trials) == 9 and [t.status for t in trials] == ["TERMINATED"] * 9
    for t in trials:
        assert t.reported("g_steps") == [3, 6] and t.reported("d_steps") == [3, 6]  # k = 1, simultaneous or not
    meta = json.loads((path / "study.json").read_text())
    assert [p["variant"] for p in meta["published"]] == ["gan"] * 3 + ["pacgan2"] * 3 + ["veegan"] * 2
    table = (Path(printed["Report"][0]) / "published.csv").read_text().splitlines()
    assert table[0] == "variant,metric,source,published,published_se,ours_mean,ours_ci_low,ours_ci_high,n_seeds,inside"
    assert len(table) == 9
    assert "## Against the published figures" in (Path(printed["Report"][0]) / "report.md").read_text()

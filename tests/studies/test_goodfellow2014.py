"""goodfellow2014: the paper's MNIST models and settings, its Parzen score, and the published row."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from gan_core.config import GANConfig
from gan_core.metrics.parzen import SIGMAS
from studies import goodfellow2014 as gf


def spec_of(argv):
    return gf.build_spec(gf.build_parser().parse_args(argv))


def test_the_spec_is_the_papers_model_as_its_code_runs_it_and_the_same_with_adam():
    """mnist.yaml and AdversaryCost2, key by key: 28 px digits in [0, 1], uniform noise, the sigmoid's marginal
    bias, SGD at 0.1 (D's half-sum objective: lr_d 0.05) with ExponentialDecay and MomentumAdjustor."""
    spec = spec_of([])
    cfg = GANConfig.from_flat(spec.base)
    assert (cfg.arch, cfg.nz, cfg.mlp_hidden, cfg.mlp_layers, cfg.mlp_hidden_d, cfg.mlp_layers_d, cfg.maxout_pieces,
            cfg.dropout_input, cfg.dropout_hidden, cfg.batch_size, cfg.k, cfg.batchnorm_g) == \
        ("mlp", 100, 1200, 2, 240, 2, 5, 0.2, 0.5, 100, 1, False)
    assert (cfg.image_size, cfg.pixel_range, cfg.g_output, cfg.g_bias, cfg.noise, cfg.init) == \
        (28, "0..1", "sigmoid", "marginals", "uniform", "uniform")
    assert (cfg.optimizer, cfg.lr_d, cfg.lr_g, cfg.updates, cfg.lr_decay, cfg.lr_min) == \
        ("sgd", 0.05, 0.1, "simultaneous", 1.000004, 1e-6)
    assert (cfg.momentum, cfg.momentum_final, cfg.momentum_ramp) == (0.5, 0.7, 249 * 500)
    assert (cfg.dataset, cfg.steps, cfg.eval_every, spec.seeds, spec.baseline_variant) == \
        ("mnist5k", 3000, 500, (0, 1, 2, 3, 4), "paper")
    assert spec.variants == {"paper": {}, "adam": {"optimizer": "adam", "momentum": 0.0, "momentum_final": 0.0,
                                                   "momentum_ramp": 0, "lr_d": 2e-4, "lr_g": 2e-4, "lr_decay": 1.0,
                                                   "lr_min": 0.0}}
    assert (spec.factors, spec.evaluator_options) == (["variant"], {"parzen_samples": 10_000})
    assert spec.published == [{"variant": "paper", "metric": "parzen_ll", "value": 225.0, "se": 2.0,
                               "source": "Goodfellow et al. 2014, Table 1 (MNIST, 10,000 test digits; their "
                                         "optimizer: SGD)"}]
    for changes in spec.variants.values():
        GANConfig.from_flat({**spec.base, **changes})


def test_the_factorial_crosses_four_differences_with_the_projects_former_representation():
    spec = spec_of(["--factorial"])
    assert len(spec.variants) == 16 and spec.variants["paper"] == {}
    assert spec.factors == ["pixel_range", "lr_d", "noise", "lr_decay"]
    assert spec.baseline == {"pixel_range": "0..1", "lr_d": 0.05, "noise": "uniform", "lr_decay": 1.000004}
    former = GANConfig.from_flat({**spec.base, **spec.variants["ours-pixels-dsum-gauss-noschedule"]})
    assert (former.image_size, former.pixel_range, former.g_output, former.g_bias, former.lr_d, former.noise,
            former.lr_decay, former.momentum_ramp) == (32, "-1..1", "tanh", "default", 0.1, "gaussian", 1.0, 0)
    levels = set()
    for label, changes in spec.variants.items():
        cfg = GANConfig.from_flat({**spec.base, **changes})
        levels.add((cfg.pixel_range, cfg.lr_d, cfg.noise, cfg.lr_decay))
        names = [] if label == "paper" else label.split("-")[1:]
        assert set(changes) == {k for name in names for k in gf.OURS[name]}
    assert len(levels) == 16  # every cell of the 2^4 design, each once
    assert (spec.base["steps"], spec.base["eval_every"], len(spec.seeds), spec.evaluator_options) == \
        (1000, 250, 3, {"parzen_samples": 2000})
    given = spec_of(["--factorial", "--steps", "300", "--seeds", "2"])  # options given win over the budget
    assert (given.base["steps"], given.base["eval_every"], len(given.seeds)) == (300, 250, 2)
    assert spec_of(["--factorial", "--smoke-test"]).base["steps"] == 4


def test_variants_chooses_the_settings_and_a_wrong_name_is_one_line():
    assert list(spec_of(["--variants", "paper"]).variants) == ["paper"]
    for argv, fragment in (
            (["--variants", "paper,sgd"], "--variants paper,sgd: allowed: distinct names of paper, adam"),
            (["--variants", "paper,paper"], "--variants paper,paper: allowed: distinct names of"),
            (["--variants", "paper", "--factorial"], "--variants paper with --factorial; allowed: one")):
        with pytest.raises(gf.cli.StudyInputError, match=fragment):
            spec_of(argv)


def test_full_is_the_whole_mnist():
    spec = spec_of(["--full", "--parzen-samples", "5000"])
    assert (spec.base["dataset"], spec.base["steps"], len(spec.seeds), spec.evaluator_options) == \
        ("mnist", 100_000, 10, {"parzen_samples": 5000})


def test_the_whole_mnist_is_split_as_the_paper_splits_it_and_mnist5k_keeps_its_own():
    """MNIST: the first 50,000 training digits train, the other 10,000 choose the Parzen width (validation_split);
    mnist5k has its fixed split and no validation."""
    assert spec_of(["--dataset", "mnist"]).base["validation_split"] == 10_000
    assert spec_of([]).base["validation_split"] == 0


@pytest.fixture(scope="module")
def smoke(ray_cluster, tmp_path_factory, study_main):
    storage = tmp_path_factory.mktemp("gf")
    code, printed = study_main(gf, ["--smoke-test", "--allow-cpu-fallback", "--storage-path", str(storage)])
    return code, storage / "goodfellow2014_smoke", printed


def test_smoke_run_reports_the_parzen_log_likelihood(smoke, experiment_reader):
    code, path, printed = smoke
    assert code == 0 and printed["Results"] == [str(path)]
    trials = experiment_reader(path)
    assert sorted(t.config["variant"] for t in trials) == ["adam", "paper"]
    for t in trials:
        assert t.status == "TERMINATED"
        assert t.reported("g_steps") == [2, 4] and t.reported("d_steps") == [2, 4]
        assert all(math.isfinite(v) for v in t.reported("parzen_ll") + t.reported("parzen_ll_se"))
        assert all(any(v == pytest.approx(s) for s in SIGMAS) for v in t.reported("parzen_sigma"))
    meta = json.loads((path / "study.json").read_text())
    assert meta["published"] == spec_of(["--smoke-test"]).published
    rows = (Path(printed["Report"][0]) / "published.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("paper,parzen_ll,")

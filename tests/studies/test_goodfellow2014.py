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


def test_the_spec_is_the_papers_model_with_three_optimizer_settings():
    spec = spec_of([])
    cfg = GANConfig.from_flat(spec.base)
    assert (cfg.arch, cfg.nz, cfg.mlp_hidden, cfg.mlp_layers, cfg.mlp_hidden_d, cfg.mlp_layers_d, cfg.maxout_pieces,
            cfg.dropout_input, cfg.dropout_hidden, cfg.batch_size, cfg.k, cfg.batchnorm_g) == \
        ("mlp", 100, 1200, 2, 240, 2, 5, 0.2, 0.5, 100, 1, False)
    assert (cfg.optimizer, cfg.momentum, cfg.lr_d, cfg.lr_g, cfg.updates, cfg.init) == \
        ("sgd", 0.5, 0.1, 0.1, "simultaneous", "uniform")
    assert (cfg.dataset, cfg.steps, spec.seeds, spec.baseline_variant) == ("mnist5k", 3000, (0, 1, 2, 3, 4), "paper")
    adam = {"optimizer": "adam", "momentum": 0.0, "lr_d": 2e-4, "lr_g": 2e-4}
    assert spec.variants == {"paper": {}, "adam": adam, "adam_alternating": {**adam, "updates": "alternating"}}
    assert spec.evaluator_options == {"parzen_samples": 10_000}
    assert spec.published == [{"variant": v, "metric": "parzen_ll", "value": 225.0, "se": 2.0,
                               "source": "Goodfellow et al. 2014, Table 1 (MNIST, 10,000 test digits; their "
                                         "optimizer: SGD)"} for v in ("paper", "adam")]
    for changes in spec.variants.values():
        GANConfig.from_flat({**spec.base, **changes})


def test_full_is_the_whole_mnist():
    spec = spec_of(["--full", "--parzen-samples", "5000"])
    assert (spec.base["dataset"], spec.base["steps"], len(spec.seeds), spec.evaluator_options) == \
        ("mnist", 100_000, 10, {"parzen_samples": 5000})


@pytest.fixture(scope="module")
def smoke(ray_cluster, tmp_path_factory, study_main):
    storage = tmp_path_factory.mktemp("gf")
    code, printed = study_main(gf, ["--smoke-test", "--allow-cpu-fallback", "--storage-path", str(storage)])
    return code, storage / "goodfellow2014_smoke", printed


def test_smoke_run_reports_the_parzen_log_likelihood(smoke, experiment_reader):
    code, path, printed = smoke
    assert code == 0 and printed["Results"] == [str(path)]
    trials = experiment_reader(path)
    assert sorted(t.config["variant"] for t in trials) == ["adam", "adam_alternating", "paper"]
    for t in trials:
        assert t.status == "TERMINATED"
        assert t.reported("g_steps") == [2, 4] and t.reported("d_steps") == [2, 4]
        assert all(math.isfinite(v) for v in t.reported("parzen_ll") + t.reported("parzen_ll_se"))
        assert all(any(v == pytest.approx(s) for s in SIGMAS) for v in t.reported("parzen_sigma"))
    meta = json.loads((path / "study.json").read_text())
    assert meta["published"] == spec_of(["--smoke-test"]).published
    rows = (Path(printed["Report"][0]) / "published.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].startswith("paper,parzen_ll,") and rows[2].startswith("adam,parzen_ll,")

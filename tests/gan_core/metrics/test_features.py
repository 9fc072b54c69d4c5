"""Feature-space metrics against independent computations: scipy's sqrtm FID, brute-force k-NN, closed forms."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_core.metrics.features import (
    DENSITY_COVERAGE_K,
    PRECISION_RECALL_K,
    RealFeatureStats,
    class_histogram_metrics,
    classifier_inception_score,
    feature_stats,
    frechet_distance,
    frechet_distance_features,
    knn_radii,
    prdc,
)


def _random_cov(rng, f, rank=None):
    a = rng.standard_normal((f, rank or f))
    return a @ a.T / f


def _fid_scipy(mu1, c1, mu2, c2):
    """The usual FID formula (pytorch-fid): sqrtm of the product, imaginary round-off dropped."""
    covmean = scipy.linalg.sqrtm(c1 @ c2)
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * np.trace(covmean))


def test_frechet_distance_matches_scipy_sqrtm_formula():
    rng = np.random.default_rng(0)
    for f in (2, 10, 64):
        mu1, mu2 = rng.standard_normal(f), rng.standard_normal(f)
        c1, c2 = _random_cov(rng, f), _random_cov(rng, f)
        assert frechet_distance(mu1, c1, mu2, c2) == pytest.approx(_fid_scipy(mu1, c1, mu2, c2), rel=1e-7)


def test_frechet_distance_closed_form_for_commuting_covariances():
    # diagonal covariances: FD = ||mu1 - mu2||^2 + sum (sqrt(a) - sqrt(b))^2
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    expect = 5.0 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expect, rel=1e-12)


def test_frechet_distance_of_identical_and_singular_statistics():
    rng = np.random.default_rng(1)
    c = _random_cov(rng, 32, rank=5)  # rank-deficient, like ReLU features with dead units
    mu = rng.standard_normal(32)
    assert frechet_distance(mu, c, mu, c) == pytest.approx(0.0, abs=1e-9)
    c2 = _random_cov(rng, 32, rank=7)
    assert frechet_distance(mu, c, mu, c2) == pytest.approx(_fid_scipy(mu, c, mu, c2), rel=1e-5, abs=1e-8)
    # the precomputed square root gives the same value
    from gan_core.metrics.features import sqrtm_psd

    assert frechet_distance(mu, c, mu, c2, sqrt_cov1=sqrtm_psd(c)) == pytest.approx(
        frechet_distance(mu, c, mu, c2), rel=1e-12)


def test_frechet_distance_of_features_and_bad_input():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 3, generator=g, dtype=torch.float64)
    # N(0, I) vs N(m, 4 I): FD = |m|^2 + 3 (2 - 1)^2
    y = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64) + 2 * torch.randn(4000, 3, generator=g,
                                                                             dtype=torch.float64)
    assert frechet_distance_features(x, y) == pytest.approx(1.0 + 3.0, abs=0.25)
    with pytest.raises(ValueError, match=r"\[n, feature_dim\]"):
        feature_stats(torch.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        feature_stats(torch.tensor([[0.0, 1.0], [float("nan"), 2.0]]))
    with pytest.raises(ValueError, match="at least 2"):
        feature_stats(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="one F"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.zeros(2), np.eye(2), np.array([0.0, np.nan]), np.eye(2))


def _brute_knn(x, k):
    d = torch.cdist(x.double(), x.double())
    d.fill_diagonal_(float("inf"))
    return d.sort(1).values[:, k - 1]


def test_knn_radii_match_brute_force_in_any_chunking():
    x = torch.randn(300, 8, generator=torch.Generator().manual_seed(0))
    for k in (1, 3, 5):
        expect = _brute_knn(x, k).float()
        assert torch.allclose(knn_radii(x, k), expect, atol=1e-4)
        assert torch.allclose(knn_radii(x, k, chunk=7), expect, atol=1e-4)
    with pytest.raises(ValueError, match="at least 4"):
        knn_radii(torch.zeros(3, 2), 3)


def _brute_prdc(real, fake):
    r3, r5, f3 = _brute_knn(real, 3), _brute_knn(real, 5), _brute_knn(fake, 3)
    d = torch.cdist(fake.double(), real.double())  # [m, n]
    return {
        "precision": float((d <= r3[None]).any(1).double().mean()),
        "recall": float((d <= f3[:, None]).any(0).double().mean()),
        "density": float((d <= r5[None]).sum()) / (5 * fake.shape[0]),
        "coverage": float((d <= r5[None]).any(0).double().mean()),
    }


def test_prdc_matches_brute_force_definitions():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(400, 6, generator=g)
    fake = 0.5 + 1.3 * torch.randn(300, 6, generator=g)
    got = prdc(RealFeatureStats.from_features(real), fake, chunk=64)
    expect = _brute_prdc(real, fake)
    for key in expect:
        assert got[key] == pytest.approx(expect[key], abs=2.5e-3), key  # float32 vs float64 ties: <= 1 sample
    assert 0 < got["precision"] < 1 and 0 < got["recall"] < 1  # a case where the metrics say something


def test_prdc_of_real_against_real_and_of_far_away_fakes():
    g = torch.Generator().manual_seed(1)
    real = RealFeatureStats.from_features(torch.randn(1000, 8, generator=g))
    same = prdc(real, real.feats)
    assert same["precision"] == pytest.approx(1.0) and same["recall"] == pytest.approx(1.0)
    assert same["coverage"] == pytest.approx(1.0)
    # each real lies in its own ball plus, on average, in 5 others' (it is among their 5 nearest): density ~ 1.2
    assert same["density"] == pytest.approx(1.2, abs=0.01)
    fresh = prdc(real, torch.randn(1000, 8, generator=g))  # new samples of the same distribution
    for key in ("precision", "recall", "density", "coverage"):
        assert fresh[key] == pytest.approx(1.0, abs=0.2), key
    far = prdc(real, 100 + torch.randn(1000, 8, generator=g))
    assert far == pytest.approx({"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0})


def test_prdc_bad_input():
    real = RealFeatureStats.from_features(torch.randn(50, 4))
    with pytest.raises(ValueError, match="at least 4"):
        prdc(real, torch.randn(PRECISION_RECALL_K, 4))
    with pytest.raises(ValueError, match="same dimension"):
        prdc(real, torch.randn(20, 5))
    with pytest.raises(ValueError, match="NaN"):
        prdc(real, torch.full((20, 4), float("nan")))
    with pytest.raises(ValueError, match=f"at least {DENSITY_COVERAGE_K + 1}"):
        RealFeatureStats.from_features(torch.randn(DENSITY_COVERAGE_K, 4))


def test_classifier_inception_score_extremes_and_closed_form():
    k = 10
    confident = torch.full((1000, k), -30.0)
    confident[torch.arange(1000), torch.arange(1000) % k] = 30.0  # one-hot, balanced
    assert classifier_inception_score(confident) == pytest.approx(k, rel=1e-9)
    assert classifier_inception_score(torch.randn(1, k).repeat(500, 1)) == pytest.approx(1.0, abs=1e-9)
    # two samples with posteriors (0.9, 0.1) and (0.1, 0.9): p(y) uniform, KL = log 2 - H(0.9)
    logits = torch.log(torch.tensor([[0.9, 0.1], [0.1, 0.9]], dtype=torch.float64))
    h = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert classifier_inception_score(logits) == pytest.approx(math.exp(math.log(2) - h), rel=1e-9)


def test_class_histogram_metrics():
    k = 10
    eye = torch.eye(k) * 20
    balanced = eye[torch.arange(1000) % k]
    assert class_histogram_metrics(balanced) == pytest.approx({"classes_covered": 10.0, "class_kl": 0.0,
                                                               "top_share": 0.1}, abs=1e-12)
    one = eye[torch.full((1000,), 3)]
    assert class_histogram_metrics(one) == pytest.approx({"classes_covered": 1.0, "class_kl": math.log(k),
                                                          "top_share": 1.0})
    # two classes, 3:1 -> KL = 0.75 log(7.5) + 0.25 log(2.5); a 0.5% sliver of a third class is not "covered"
    labels = torch.cat([torch.zeros(750), torch.ones(245), torch.full((5,), 2)]).long()
    q = np.array([0.75, 0.245, 0.005])
    got = class_histogram_metrics(eye[labels])
    assert got["class_kl"] == pytest.approx(float((q * np.log(q * k)).sum()), rel=1e-12)
    assert got["classes_covered"] == 2.0 and got["top_share"] == pytest.approx(0.75)
    # unconfident predictions do not cover a class, but count in the histogram and its top share
    flat = torch.zeros(1000, k)
    flat[:, 4] = 1.0  # p(4|x) ~ 0.23
    assert class_histogram_metrics(flat) == pytest.approx({"classes_covered": 0.0, "class_kl": math.log(k),
                                                           "top_share": 1.0})
    # an early generator: nothing confident yet, the predictions spread over two classes: no class covered, yet
    # far from one class (what stability's collapse rule reads)
    blurry = torch.zeros(1000, k)
    blurry[:600, 2], blurry[600:, 5] = 1.0, 1.0
    assert class_histogram_metrics(blurry)["top_share"] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="2D"):
        class_histogram_metrics(torch.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        class_histogram_metrics(torch.full((5, k), float("nan")))

"""VEEGAN / PacGAN mixture metrics: the true mixture scores perfectly, collapses score as defined."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_core.data import MixtureData, mixture_spec
from gan_core.metrics import mixture_metrics, mixture_metrics_from_spec

EXACT_HQ = 1 - math.exp(-4.5)  # P(chi2_2 <= 9) = 0.98889: within 3 std of its mode, isotropic 2D Gaussian
N = 2500


def _true_samples(name, n=N, seed=0):
    return MixtureData(name).sample(n, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name,n_modes", [("ring8", 8), ("grid25", 25)])
def test_true_mixture_captures_every_mode_with_exact_quality_share(name, n_modes):
    m = mixture_metrics(_true_samples(name), name)
    assert m["modes_captured"] == n_modes
    # binomial std of the share at n = 2500 is 0.0021: 4 std
    assert m["high_quality_frac"] == pytest.approx(EXACT_HQ, abs=0.0085)
    # E[KL(empirical || uniform)] ~ (M - 1) / (2 n): 0.0014 (ring8), 0.0048 (grid25)
    assert m["reverse_kl"] == pytest.approx((n_modes - 1) / (2 * N * EXACT_HQ), abs=0.006)


def test_high_quality_share_converges_to_its_exact_value():
    m = mixture_metrics(_true_samples("grid25", n=200_000, seed=1), "grid25")
    assert m["high_quality_frac"] == pytest.approx(EXACT_HQ, abs=1.2e-3)  # 5 binomial std at n = 200k


@pytest.mark.parametrize("name,n_modes", [("ring8", 8), ("grid25", 25)])
def test_one_component_is_one_mode_and_maximal_reverse_kl(name, n_modes):
    centres, std = mixture_spec(name)
    x = torch.as_tensor(centres[3]) + std * torch.randn(N, 2, generator=torch.Generator().manual_seed(0),
                                                        dtype=torch.float64)
    m = mixture_metrics(x, name)
    assert m["modes_captured"] == 1
    assert m["reverse_kl"] == pytest.approx(math.log(n_modes), abs=1e-12)
    assert m["high_quality_frac"] == pytest.approx(EXACT_HQ, abs=0.0085)


def test_half_of_the_modes_equally_gives_log_2():
    centres, std = mixture_spec("ring8")
    x = np.repeat(centres[:4], 100, axis=0)  # exactly on 4 of the 8 centres, 100 each
    m = mixture_metrics(x, "ring8")
    assert m == pytest.approx({"modes_captured": 4.0, "high_quality_frac": 1.0, "reverse_kl": math.log(2),
                               "top_share": 0.25})


def test_low_quality_samples_count_in_no_mode():
    centres, std = mixture_spec("ring8")
    on_mode = np.repeat(centres[:1], 30, axis=0)  # 30 on mode 0
    off = np.repeat(centres[4:5] + np.array([[5 * std, 0.0]]), 70, axis=0)  # 70 nearest to mode 4, 5 std away
    m = mixture_metrics(np.concatenate([on_mode, off]), "ring8")
    # only the 30 high-quality samples form the histogram: all on mode 0 -> log 8 (binning all 100 would give
    # log 8 + 0.3 log 0.3 + 0.7 log 0.7)
    assert m == pytest.approx({"modes_captured": 1.0, "high_quality_frac": 0.3, "reverse_kl": math.log(8),
                               "top_share": 0.7})  # top_share counts every sample at its nearest mode
    # just inside / just outside 3 std
    edge = centres[:2] + np.array([[2.99 * std, 0.0], [3.01 * std, 0.0]]) @ np.eye(2)
    assert mixture_metrics(edge, "ring8")["high_quality_frac"] == pytest.approx(0.5)


def test_no_high_quality_sample_gives_the_documented_upper_bound():
    m = mixture_metrics(np.zeros((N, 2)), "grid25")  # (0, 0) is a grid25 mode: all high quality
    assert m["modes_captured"] == 1
    m = mixture_metrics(np.full((N, 2), 1.0), "grid25")  # 1.0 from the nearest modes: none
    assert m == pytest.approx({"modes_captured": 0.0, "high_quality_frac": 0.0, "reverse_kl": math.log(25),
                               "top_share": 1.0})  # all equidistant from four modes: the first of them


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\[n, 2\]"):
        mixture_metrics(np.zeros((10, 3)), "ring8")
    with pytest.raises(ValueError, match=r"\[n, 2\]"):
        mixture_metrics(np.zeros(10), "ring8")
    with pytest.raises(ValueError, match="at least 1"):
        mixture_metrics(np.zeros((0, 2)), "ring8")
    with pytest.raises(ValueError, match="NaN"):
        mixture_metrics(np.array([[0.0, np.nan]]), "ring8")
    with pytest.raises(ValueError, match="unknown mixture"):
        mixture_metrics(np.zeros((10, 2)), "ring9")
    with pytest.raises(ValueError, match="std"):
        mixture_metrics_from_spec(np.zeros((10, 2)), np.zeros((2, 2)), 0.0)

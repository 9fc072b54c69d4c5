"""The exact Gaussian JSD against an independent quadrature; the KDE estimate against the exact value."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_core.metrics import gaussian_jsd, jsd_estimate


def _jsd_trapezoid(m1, s1, m2, s2, n=2_000_001):
    """Independent check: numpy trapezoid on log-densities over a fine uniform grid."""
    lo, hi = min(m1 - 40 * s1, m2 - 40 * s2), max(m1 + 40 * s1, m2 + 40 * s2)
    x = np.linspace(lo, hi, n)
    lp = -0.5 * ((x - m1) / s1) ** 2 - np.log(s1 * np.sqrt(2 * np.pi))
    lq = -0.5 * ((x - m2) / s2) ** 2 - np.log(s2 * np.sqrt(2 * np.pi))
    lm = np.logaddexp(lp, lq) - np.log(2)
    f = 0.5 * np.exp(lp) * (lp - lm) + 0.5 * np.exp(lq) * (lq - lm)
    return float(np.sum((f[1:] + f[:-1]) * np.diff(x)) / 2)


def test_identical_gaussians_have_zero_jsd():
    assert gaussian_jsd(0.0, 1.0, 0.0, 1.0) == 0.0
    assert gaussian_jsd(3.0, 0.2, 3.0, 0.2) == 0.0
    assert gaussian_jsd(0.0, 1.0, 1e-6, 1.0) == pytest.approx(1e-12 / 8, rel=1e-3)  # ~ d^2 / 8 for small shifts


@pytest.mark.parametrize("args", [(0, 1, 1, 1), (0, 1, 0, 2), (0, 1, -2, 0.3), (1, 2, 4, 0.5), (0, 1, 3, 1)])
def test_matches_independent_trapezoid_quadrature(args):
    assert gaussian_jsd(*args) == pytest.approx(_jsd_trapezoid(*args), abs=1e-9)


def test_n01_vs_n11_value_and_symmetry():
    v = gaussian_jsd(0, 1, 1, 1)
    assert v == pytest.approx(0.111421482184736, abs=1e-12)  # the trapezoid value above, to 1e-12
    assert gaussian_jsd(1, 1, 0, 1) == pytest.approx(v, abs=1e-14)
    assert gaussian_jsd(0, 2, 1, 1) == pytest.approx(gaussian_jsd(1, 1, 0, 2), abs=1e-12)


def test_very_different_widths_and_disjoint_supports():
    # a 1000x narrower q: the quadrature must not step over it
    assert gaussian_jsd(0, 1, 0, 1e-3) == pytest.approx(_jsd_trapezoid(0, 1, 0, 1e-3, n=8_000_001), abs=1e-7)
    assert gaussian_jsd(0, 1, 30, 1) == pytest.approx(math.log(2), abs=1e-12)


def test_invalid_parameters_are_clear_errors():
    with pytest.raises(ValueError, match="standard deviation"):
        gaussian_jsd(0, 1, 0, 0)
    with pytest.raises(ValueError, match="standard deviation"):
        gaussian_jsd(0, -1, 0, 1)
    with pytest.raises(ValueError, match="mean"):
        gaussian_jsd(float("nan"), 1, 0, 1)


def test_jsd_estimate_from_samples():
    g = torch.Generator().manual_seed(0)
    same = torch.randn(10_000, 1, generator=g)
    assert jsd_estimate(same, 0.0, 1.0) == pytest.approx(0.0, abs=2e-3)
    shifted = 1 + torch.randn(10_000, 1, generator=g)
    assert jsd_estimate(shifted, 0.0, 1.0) == pytest.approx(gaussian_jsd(0, 1, 1, 1), abs=0.01)
    wide = 2 * torch.randn(10_000, generator=g)  # 1D input is fine too
    assert jsd_estimate(wide, 0.0, 1.0) == pytest.approx(gaussian_jsd(0, 1, 0, 2), abs=0.01)
    collapsed = torch.full((1000, 1), 0.5)
    assert jsd_estimate(collapsed, 0.0, 1.0) == pytest.approx(math.log(2), abs=0.01)


def test_jsd_estimate_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        jsd_estimate(torch.tensor([0.0, float("nan"), 1.0]), 0.0, 1.0)
    with pytest.raises(ValueError, match=r"\[n\] or \[n, 1\]"):
        jsd_estimate(torch.zeros(10, 2), 0.0, 1.0)
    with pytest.raises(ValueError, match="at least 2"):
        jsd_estimate(torch.zeros(1), 0.0, 1.0)

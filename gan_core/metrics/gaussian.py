"""Jensen-Shannon divergence for the 1D Gaussian (gauss1d) runs, in nats.

JSD(P || Q) = 1/2 KL(P || M) + 1/2 KL(Q || M), M = (P + Q) / 2; 0 iff P = Q, at most log 2 (disjoint supports).
Goodfellow et al. 2014 (Theorem 1) show that with the optimal discriminator the GAN value is
C(G) = -log 4 + 2 JSD(p_data || p_g), which is why the gauss1d runs report it.

- ``gaussian_jsd``: exact up to quadrature error (~1e-13 against a fine trapezoid rule), for two Gaussians. The
  affine generator x = a z + b with z ~ N(0, 1) has p_g = N(b, a^2) exactly, so its JSD needs no samples.
- ``jsd_estimate``: for any other generator, an ESTIMATE from samples: p_g is replaced by a Gaussian kernel
  density estimate (Scott's bandwidth) and the integral taken on a fine grid. Reported under its own key
  (``jsd_estimate``), because the KDE smooths p_g (it widens it by the bandwidth) and n samples add noise: it is
  slightly above 0 for p_g = p_data (the tests state how close it comes to the exact value).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from scipy import integrate

__all__ = ["gaussian_jsd", "jsd_estimate", "normal_log_pdf"]

LOG2 = math.log(2.0)
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz
_T = 40.0  # integrate over +-40 standard deviations: beyond, the Gaussian weight is below 1e-300


def normal_log_pdf(x: np.ndarray | float, mu: float, sigma: float) -> np.ndarray:
    z = (np.asarray(x, dtype=np.float64) - mu) / sigma
    return -0.5 * z * z - math.log(sigma) - 0.5 * math.log(2 * math.pi)


def _check_gaussian(name: str, mu: float, sigma: float) -> None:
    if not math.isfinite(mu):
        raise ValueError(f"{name}: mean = {mu!r}; allowed: a finite number")
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"{name}: standard deviation = {sigma!r}; allowed: a finite number > 0")


def _half_kl_to_mixture(mu_a: float, s_a: float, mu_b: float, s_b: float) -> float:
    """E_{x ~ A}[log(a(x) / m(x))], m = (a + b) / 2, integrated in A's standard coordinates t = (x - mu_a) / s_a.

    The integrand phi(t) * log(a / m) is smooth and bounded by phi(t) * (log 2 + O(t^2)).
    """
    def integrand(t: float) -> float:
        x = mu_a + s_a * t
        la = normal_log_pdf(x, mu_a, s_a)
        lb = normal_log_pdf(x, mu_b, s_b)
        lm = np.logaddexp(la, lb) - LOG2
        return float(math.exp(-0.5 * t * t) / math.sqrt(2 * math.pi) * (la - lm))

    # Breakpoints at B's centre +- (0, 1, 2, 4, ..., 32) of B's std (in A's coordinates): where B is much narrower
    # than A, log(a / m) has a dip of B's width that one adaptive call over +-40 could step over.
    centre_b, w = (mu_b - mu_a) / s_a, s_b / s_a
    cuts = {-_T, 0.0, _T}
    cuts.update(c for k in (0, 1, 2, 4, 8, 16, 32) for c in (centre_b - k * w, centre_b + k * w) if abs(c) < _T)
    edges = sorted(cuts)
    total = 0.0
    with warnings.catch_warnings():
        # quad warns about round-off when a piece's integral is ~1e-17; the sum is still accurate to ~1e-12
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        for lo, hi in zip(edges[:-1], edges[1:]):
            total += integrate.quad(integrand, lo, hi, limit=200, epsabs=1e-13, epsrel=1e-10)[0]
    return total


def gaussian_jsd(mu_p: float, sigma_p: float, mu_q: float, sigma_q: float) -> float:
    """JSD(N(mu_p, sigma_p^2) || N(mu_q, sigma_q^2)) in nats, by adaptive quadrature (scipy.integrate.quad).

    Each half, E_P[log p/m] and E_Q[log q/m], is integrated in its own distribution's standard coordinates over
    +-40 std, on log-densities (``np.logaddexp``) so that nothing underflows. The result is clipped to
    [0, log 2]. Standard deviations must be > 0 (a point mass has JSD log 2 with any Gaussian: callers handle it).
    """
    mu_p, sigma_p, mu_q, sigma_q = (float(v) for v in (mu_p, sigma_p, mu_q, sigma_q))
    _check_gaussian("p", mu_p, sigma_p)
    _check_gaussian("q", mu_q, sigma_q)
    if mu_p == mu_q and sigma_p == sigma_q:
        return 0.0
    jsd = 0.5 * _half_kl_to_mixture(mu_p, sigma_p, mu_q, sigma_q) + 0.5 * _half_kl_to_mixture(mu_q, sigma_q,
                                                                                                mu_p, sigma_p)
    return min(max(jsd, 0.0), LOG2)


def jsd_estimate(samples: torch.Tensor | np.ndarray, mu: float, sigma: float, grid_points: int = 4001) -> float:
    """ESTIMATE of JSD(N(mu, sigma^2) || p_g) from samples of p_g [n] or [n, 1], via a Gaussian KDE of p_g.

    The KDE uses Scott's bandwidth h = std(samples) * n^(-1/5), floored at 1e-3 * sigma so that collapsed samples
    (all equal) give a narrow bump and a JSD close to log 2 instead of a division by zero. The integral is a
    trapezoid rule on ``grid_points`` points spanning the data (+-12 sigma) and the samples (+-6 h). Needs
    n >= 2 finite samples.
    """
    _check_gaussian("p_data", float(mu), float(sigma))
    x = torch.as_tensor(samples).detach().to("cpu", torch.float64)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"samples must have shape [n] or [n, 1], got {tuple(torch.as_tensor(samples).shape)}")
    if x.shape[0] < 2:
        raise ValueError(f"jsd_estimate needs at least 2 samples, got {x.shape[0]}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("samples contain NaN or infinite values; allowed: finite samples only")
    xs = x.numpy()
    n = xs.size
    h = max(float(xs.std(ddof=1)) * n ** (-0.2), 1e-3 * sigma)
    lo = min(mu - 12 * sigma, xs.min() - 6 * h)
    hi = max(mu + 12 * sigma, xs.max() + 6 * h)
    grid = np.linspace(lo, hi, grid_points)
    # KDE on the grid by binning the samples onto it (linear binning) and convolving with the kernel: O(grid),
    # exact to within the grid spacing, which is kept far below h.
    dx = grid[1] - grid[0]
    if dx > h / 4:  # the grid must resolve the kernel: refine it (rare: only for very wide sample ranges)
        grid = np.arange(lo, hi + h / 8, h / 8)
        dx = grid[1] - grid[0]
    pos = (xs - grid[0]) / dx
    i0 = np.clip(np.floor(pos).astype(np.int64), 0, grid.size - 2)
    w1 = pos - i0
    weights = np.bincount(i0, weights=1 - w1, minlength=grid.size) + np.bincount(i0 + 1, weights=w1,
                                                                                  minlength=grid.size)
    half = int(math.ceil(6 * h / dx))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * dx / h) ** 2) / (h * math.sqrt(2 * math.pi))
    q = np.convolve(weights, kernel, mode="same")[: grid.size] / n if kernel.size <= grid.size else None
    if q is None:  # kernel wider than the grid: direct sum
        q = np.exp(-0.5 * ((grid[:, None] - xs[None, :]) / h) ** 2).sum(1) / (n * h * math.sqrt(2 * math.pi))
    p = np.exp(normal_log_pdf(grid, mu, sigma))
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        tp = np.where(p > 0, p * np.log(p / m), 0.0)
        tq = np.where(q > 0, q * np.log(q / m), 0.0)
    jsd = 0.5 * _trapezoid(tp, grid) + 0.5 * _trapezoid(tq, grid)
    return float(min(max(jsd, 0.0), LOG2))

"""A numerical check of Goodfellow et al. 2014, Proposition 1 and Theorem 1, in 1D.

For a fixed generator distribution p_g, the discriminator that maximises
    V(G, D) = E_{x~p_data}[log D(x)] + E_{x~p_g}[log(1 - D(x))]
is D*(x) = p_data(x) / (p_data(x) + p_g(x)), and the maximum is C(G) = -log 4 + 2 JSD(p_data || p_g); for
p_g = p_data, D* = 1/2 everywhere and C(G) = -log 4.

``check_optimal_discriminator`` trains a small MLP discriminator with exactly the GAN discriminator objective
(BCE with logits: real -> 1, generated -> 0) on large fresh batches from p_data = N(mu_data, sigma_data^2) and
p_g = N(mu_g, sigma_g^2), with Adam and a cosine-decayed learning rate, and compares it with the theory:
- ``max_abs_d_error`` = max |D(x) - D*(x)| over |x - mu_data| <= 2 sigma_data (where p_data has ~95% of its
  mass; far out, the data that D sees is too scarce to pin D down and the comparison says nothing);
- ``value`` = V(G, D) of the trained D and ``value_theory`` = -log 4 + 2 JSD, both exact integrals (a fine
  trapezoid rule over +-12 std of both Gaussians: no Monte-Carlo noise), ``value_error`` = |value - value_theory|.
  Since V(G, D) <= C(G) for every D, ``value_theory - value`` is >= 0 and measures how far D is from optimal.
- ``value_at_dstar``: V(G, D*) by the same quadrature, which must equal ``value_theory`` to ~1e-9: a check of the
  formula itself, independent of training.

``MAX_ABS_D_ERROR_TOL`` and ``VALUE_ERROR_TOL`` are twice the worst case over 10 seeds and five p_g at the
defaults (500 Adam steps, batches of 2,048 + 2,048, hidden 32); the figures are in docs/METRICS.md (Theory
check) and the tests hold the check to them.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_core.metrics.gaussian import _trapezoid, gaussian_jsd, normal_log_pdf

__all__ = ["check_optimal_discriminator", "MAX_ABS_D_ERROR_TOL", "VALUE_ERROR_TOL", "DEFAULT_STEPS"]

DEFAULT_STEPS = 500
DEFAULT_BATCH = 2048
DEFAULT_HIDDEN = 32
DEFAULT_LR = 1e-2
MAX_ABS_D_ERROR_TOL = 0.03  # max |D - D*| over |x - mu_data| <= 2 sigma_data
VALUE_ERROR_TOL = 3e-3  # |V(G, D) - (-log 4 + 2 JSD)| in nats
REGION_STDS = 2.0


def _mlp(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, 1))


def check_optimal_discriminator(mu_g: float = 1.0, sigma_g: float = 1.0, steps: int = DEFAULT_STEPS, seed: int = 0,
                                batch_size: int = DEFAULT_BATCH, lr: float = DEFAULT_LR, hidden: int = DEFAULT_HIDDEN,
                                mu_data: float = 0.0, sigma_data: float = 1.0) -> dict[str, float]:
    """Train D to optimality for p_data = N(mu_data, sigma_data^2) vs p_g = N(mu_g, sigma_g^2); compare with D*.

    Deterministic for a given seed (and thread count); leaves the global torch RNG untouched. Returns
    ``max_abs_d_error``, ``value``, ``value_theory``, ``value_error``, ``value_at_dstar``, ``jsd``,
    ``d_at_data_mean`` and ``dstar_at_data_mean``.
    """
    for name, v in (("mu_g", mu_g), ("mu_data", mu_data)):
        if not math.isfinite(v):
            raise ValueError(f"{name} = {v!r}; allowed: a finite number")
    for name, v in (("sigma_g", sigma_g), ("sigma_data", sigma_data), ("lr", lr)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} = {v!r}; allowed: a finite number > 0")
    for name, v in (("steps", steps), ("batch_size", batch_size), ("hidden", hidden)):
        if not (isinstance(v, int) and v >= 1):
            raise ValueError(f"{name} = {v!r}; allowed: an int >= 1")

    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        d = _mlp(hidden)
    opt = torch.optim.Adam(d.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    ones = torch.ones(batch_size)
    zeros = torch.zeros(batch_size)
    for _ in range(steps):
        x_real = mu_data + sigma_data * torch.randn(batch_size, 1, generator=gen)  # [B, 1] ~ p_data
        x_fake = mu_g + sigma_g * torch.randn(batch_size, 1, generator=gen)  # [B, 1] ~ p_g
        # the GAN discriminator objective, maximise E log D(x) + E log(1 - D(G(z))), as a BCE to minimise
        loss = (F.binary_cross_entropy_with_logits(d(x_real)[:, 0], ones)
                + F.binary_cross_entropy_with_logits(d(x_fake)[:, 0], zeros))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()

    def logit(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return d(torch.as_tensor(x, dtype=torch.float32)[:, None])[:, 0].double().numpy()

    # max |D - D*| where the data has its mass
    xs = np.linspace(mu_data - REGION_STDS * sigma_data, mu_data + REGION_STDS * sigma_data, 801)
    lp, lg = normal_log_pdf(xs, mu_data, sigma_data), normal_log_pdf(xs, mu_g, sigma_g)
    d_star = 1.0 / (1.0 + np.exp(lg - lp))  # p / (p + q)
    d_hat = 1.0 / (1.0 + np.exp(-logit(xs)))
    max_err = float(np.abs(d_hat - d_star).max())

    # V(G, D) = int p log D + q log(1 - D), by the trapezoid rule on a fine grid covering both Gaussians
    lo = min(mu_data - 12 * sigma_data, mu_g - 12 * sigma_g)
    hi = max(mu_data + 12 * sigma_data, mu_g + 12 * sigma_g)
    grid = np.linspace(lo, hi, 200_001)
    lp, lg = normal_log_pdf(grid, mu_data, sigma_data), normal_log_pdf(grid, mu_g, sigma_g)
    p, q = np.exp(lp), np.exp(lg)
    s = logit(grid)
    log_d, log_1md = -np.logaddexp(0, -s), -np.logaddexp(0, s)  # log sigmoid(s), log sigmoid(-s)
    value = float(_trapezoid(p * log_d + q * log_1md, grid))
    s_star = lp - lg  # logit of D*
    value_star = float(_trapezoid(p * -np.logaddexp(0, -s_star) + q * -np.logaddexp(0, s_star), grid))
    jsd = gaussian_jsd(mu_data, sigma_data, mu_g, sigma_g)
    theory = -math.log(4) + 2 * jsd
    return {
        "max_abs_d_error": max_err,
        "value": value,
        "value_theory": theory,
        "value_error": abs(value - theory),
        "value_at_dstar": value_star,
        "jsd": jsd,
        "d_at_data_mean": float(1 / (1 + math.exp(-logit(np.array([mu_data]))[0]))),
        "dstar_at_data_mean": float(d_star[len(xs) // 2]),
    }

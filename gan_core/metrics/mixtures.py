"""Mode-collapse metrics of the 2D Gaussian mixtures ring8 and grid25, as in VEEGAN and PacGAN.

References: Srivastava et al. 2017, "VEEGAN: Reducing mode collapse in GANs using implicit variational learning"
(section 5, table 1), and Lin et al. 2018, "PacGAN: The power of two samples in generative adversarial networks"
(section 5 / table 1), which add the reverse KL. Both score 2,500 generated samples; the per-dataset centres and
std are those of ``gan_core.data.mixture_spec``.

Definitions (each sample x is assigned to its nearest mode c(x) in Euclidean distance; all modes have the same
isotropic std, so this is also the nearest mode in Mahalanobis distance):
- high quality: ||x - c(x)|| <= 3 std. For samples of the true mixture the expected share is
  P(chi2_2 <= 9) = 1 - exp(-9/2) = 0.98889 (modes are far apart, so the nearest mode is the sample's own).
- ``high_quality_frac``: the share of high-quality samples, in [0, 1].
- ``modes_captured``: the number of modes that are c(x) for at least one high-quality sample.
- ``top_share``: the largest share of ALL samples whose nearest mode is one mode: 1/M for an even spread, near 1
  when G puts (almost) everything on one mode, whatever the quality of its samples.
- ``reverse_kl`` = KL(q || u) = sum_m q_m log(q_m * M), where q is the histogram over the M modes of the
  HIGH-QUALITY samples (each counted at its nearest mode, normalised by their number) and u the uniform
  distribution over modes (the true mixture weights). Low-quality samples belong to no mode; how many there are is
  what ``high_quality_frac`` reports. Empty bins: 0 log 0 = 0 (its limit), so a dropped mode costs through the
  renormalised mass of the others and the value stays finite in [0, log M]: 0 for a balanced histogram,
  log(M / c) when c modes share the samples equally, log M (2.079 for ring8, 3.219 for grid25) for a collapse
  onto one mode. With NO high-quality sample the histogram is undefined; the value is then set to its upper
  bound log M (documented, and visible as modes_captured = 0, high_quality_frac = 0), so that a study that
  minimises reverse_kl ranks "no sample near any mode" as no better than a total collapse.
  Counting high-quality samples only follows the VEEGAN evaluation code (which bins only samples within 3 std)
  that PacGAN builds on; assigning every sample to its nearest mode would give a generator that scatters points
  uniformly over the plane (e.g. an untrained one) a near-perfect reverse KL.
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["MIXTURE_SAMPLES", "HIGH_QUALITY_STDS", "mixture_metrics", "mixture_metrics_from_spec"]

MIXTURE_SAMPLES = 2500  # VEEGAN / PacGAN
HIGH_QUALITY_STDS = 3.0


def mixture_metrics(samples: torch.Tensor | np.ndarray, dataset_name: str) -> dict[str, float]:
    """modes_captured, high_quality_frac, reverse_kl and top_share of points [n, 2] for 'ring8' or 'grid25'.

    Raises ValueError for an unknown dataset, a wrong shape, no samples, or NaN/infinite samples.
    """
    from gan_core.data import mixture_spec  # the one definition of the centres and std

    centres, std = mixture_spec(dataset_name)
    return mixture_metrics_from_spec(samples, centres, std)


def mixture_metrics_from_spec(samples: torch.Tensor | np.ndarray, centres: torch.Tensor | np.ndarray,
                              std: float) -> dict[str, float]:
    """``mixture_metrics`` (and top_share) for an explicit equal-weight isotropic mixture: centres [M, 2], common
    std."""
    x = torch.as_tensor(samples)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"mixture samples must have shape [n, 2], got {tuple(x.shape)}")
    if x.shape[0] < 1:
        raise ValueError("mixture samples are empty; allowed: at least 1 sample (the papers use 2,500)")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("mixture samples contain NaN or infinite values; allowed: finite points only")
    if not (math.isfinite(std) and std > 0):
        raise ValueError(f"mixture std = {std!r}; allowed: a finite number > 0")
    x = x.to(torch.float64)
    c = torch.as_tensor(centres, dtype=torch.float64, device=x.device)  # [M, 2]
    n_modes = c.shape[0]
    dist = torch.cdist(x, c)  # [n, M]
    nearest_d, nearest = dist.min(dim=1)  # [n], [n]
    hq = nearest_d <= HIGH_QUALITY_STDS * std  # [n]
    counts = torch.bincount(nearest[hq], minlength=n_modes).to(torch.float64)  # [M]
    n_hq = float(counts.sum())
    if n_hq > 0:
        q = counts / n_hq
        nz = q > 0
        reverse_kl = max(float((q[nz] * torch.log(q[nz] * n_modes)).sum()), 0.0)
    else:
        reverse_kl = math.log(n_modes)
    everyone = torch.bincount(nearest, minlength=n_modes)  # [M], every sample at its nearest mode
    return {
        "modes_captured": float((counts > 0).sum()),
        "top_share": float(everyone.max()) / x.shape[0],
        "high_quality_frac": n_hq / x.shape[0],
        "reverse_kl": reverse_kl,
    }

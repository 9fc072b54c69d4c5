"""The Parzen-window log-likelihood of Goodfellow et al. (2014, Table 1), after Breuleux et al. (2011).

A Gaussian Parzen window fitted to generator samples mu_1..mu_n is the mixture
p(x) = 1/n sum_i N(x; mu_i, sigma^2 I); the paper reports the mean log-likelihood of held-out images under it, in
nats per example, with its standard error over the test examples, sigma chosen by log-likelihood on a validation
split. For a d-dimensional x:

    log p(x) = logsumexp_i(-||x - mu_i||^2 / (2 sigma^2)) - log n - d/2 log(2 pi sigma^2)

It is a weak measure (high variance in high dimensions, and it rewards blur as much as it punishes missing modes;
Theis et al. 2016), kept because it is what the paper's table reports. The number depends on the data's scale: the
paper's MNIST pixels lie in [0, 1], while this project's images lie in [-1, 1]; map them with (x + 1) / 2 before
comparing with the paper (a factor 2 in scale shifts the log-likelihood by d log 2).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

__all__ = ["parzen_log_likelihood", "parzen_log_densities", "select_parzen_sigma", "SIGMAS"]

# The paper's search grid for MNIST in [0, 1] (goodfeli/adversarial, parzen_ll.py: numpy.logspace(-1, 0, 10)).
SIGMAS: tuple[float, ...] = tuple(10 ** (-1 + i / 9) for i in range(10))


def parzen_log_densities(samples: torch.Tensor, test: torch.Tensor, sigma: float,
                         batch_size: int = 256) -> torch.Tensor:
    """log p(x) of every test row under the Parzen window of ``samples`` (float64): samples [n, d], test [m, d]
    -> [m]. Computed in batches of test rows, so memory stays at batch_size x n."""
    return _log_densities(samples, test, [sigma], batch_size)[0]


def _log_densities(samples: torch.Tensor, test: torch.Tensor, sigmas: Sequence[float],
                   batch_size: int) -> list[torch.Tensor]:
    """``parzen_log_densities`` for several widths at once: the squared distances, the costly part, are computed
    once per batch of test rows and shared by every sigma."""
    if samples.ndim != 2 or test.ndim != 2 or samples.shape[1] != test.shape[1]:
        raise ValueError(f"samples and test must be [n, d] and [m, d] with the same d; got {tuple(samples.shape)} "
                         f"and {tuple(test.shape)}")
    for sigma in sigmas:
        if not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma = {sigma!r} is not allowed; allowed: a finite number > 0")
    mu = samples.to(torch.float64)
    n, d = mu.shape
    consts = [-math.log(n) - d / 2 * math.log(2 * math.pi * sigma ** 2) for sigma in sigmas]
    out: list[list[torch.Tensor]] = [[] for _ in sigmas]
    for x in test.to(torch.float64).split(batch_size):
        sq = torch.cdist(x, mu).pow(2)  # [b, n]: squared distances to every sample
        for i, (sigma, const) in enumerate(zip(sigmas, consts)):
            out[i].append(torch.logsumexp(-sq / (2 * sigma ** 2), dim=1) + const)
    return [torch.cat(o) for o in out]


def parzen_log_likelihood(samples: torch.Tensor, test: torch.Tensor, sigma: float,
                          batch_size: int = 256) -> tuple[float, float]:
    """(mean log-likelihood of the test rows, its standard error) in nats per example: samples [n, d], test [m, d]
    (images flattened). The standard error is std / sqrt(m) over the test examples, as in the paper's table."""
    ll = parzen_log_densities(samples, test, sigma, batch_size)
    se = ll.std(correction=1).item() / math.sqrt(len(ll)) if len(ll) > 1 else math.nan
    return ll.mean().item(), se


def select_parzen_sigma(samples: torch.Tensor, validation: torch.Tensor, sigmas: Sequence[float] = SIGMAS,
                        batch_size: int = 256) -> tuple[float, dict[float, float]]:
    """(the sigma of ``sigmas`` with the highest mean validation log-likelihood, {sigma: that mean})."""
    lls = _log_densities(samples, validation, list(sigmas), batch_size)
    scores = {float(s): ll.mean().item() for s, ll in zip(sigmas, lls)}
    return max(scores, key=scores.__getitem__), scores

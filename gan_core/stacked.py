"""The forward of N stacked copies of one network: explicit batched layers for the fully connected family, else
``torch.func.vmap`` over ``functional_call``.

Why explicit layers: vmap turns each Linear of N members into one batched matmul, but it pays for tracing the
module in Python at every call, which for a small MLP (the 2D mixtures' networks) costs as much as the arithmetic.
Written out, a stacked Linear is one ``torch.baddbmm`` over weights [N, out, in], a stacked BatchNorm1d the batch
statistics of each member over its own minibatch, and the rest are elementwise or reshapes with the member axis
in front. Each is the same arithmetic as the module it stands for (BatchNorm1d: biased variance to normalise,
unbiased for the running variance, ``momentum`` for the running statistics). A network with any other layer (the
DCGAN's convolutions) runs through vmap, which makes them grouped convolutions.

Shapes: every input and output carries the member axis first, x [N, B, ...].
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.func import functional_call, vmap

from gan_core.layers import Maxout, Pack

__all__ = ["stacked_forward", "explicit"]

_ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.Tanh, nn.Sigmoid, nn.Identity)

Forward = Callable[[dict[str, torch.Tensor], dict[str, torch.Tensor], torch.Tensor], torch.Tensor]


def stacked_forward(base: nn.Module) -> Forward:
    """forward(params, buffers, x) of N stacked copies of ``base`` (names as ``base.named_parameters()``, each
    tensor [N, ...]); BatchNorm running statistics in ``buffers`` are updated in place when ``base`` is in train
    mode, as the module would update its own."""
    if explicit(base):
        layers = list(base.named_children())
        return lambda params, buffers, x: _explicit(layers, base.training, params, buffers, x)
    return vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))


def explicit(base: nn.Module) -> bool:
    """Whether ``stacked_forward(base)`` runs explicit batched layers (every layer one it knows), not vmap."""
    return isinstance(base, nn.Sequential) and all(_supported(m) for m in base)


def _supported(m: nn.Module) -> bool:
    if isinstance(m, nn.Dropout):
        return m.p == 0
    if isinstance(m, nn.BatchNorm1d):
        return m.affine and m.track_running_stats and m.momentum is not None
    return isinstance(m, (nn.Linear, Maxout, Pack, nn.Flatten, nn.Unflatten, *_ELEMENTWISE))


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x [N, B, in] @ weight [N, out, in]^T (+ bias [N, out]) -> [N, B, out]."""
    w_t = weight.transpose(1, 2)  # [N, in, out]
    return torch.bmm(x, w_t) if bias is None else torch.baddbmm(bias.unsqueeze(1), x, w_t)


def _batchnorm1d(m: nn.BatchNorm1d, prefix: str, training: bool, params, buffers, x: torch.Tensor) -> torch.Tensor:
    """x [N, B, C]: each member normalised by its own minibatch's statistics (train mode) or its running ones."""
    weight, bias = params[f"{prefix}weight"].unsqueeze(1), params[f"{prefix}bias"].unsqueeze(1)  # [N, 1, C]
    mean_run, var_run = buffers[f"{prefix}running_mean"], buffers[f"{prefix}running_var"]  # [N, C]
    if training:
        mean = x.mean(1)                  # [N, C]
        var = x.var(1, unbiased=False)    # [N, C]: what the batch is normalised by
        with torch.no_grad():
            n = x.shape[1]
            mean_run.mul_(1 - m.momentum).add_(m.momentum * mean)
            var_run.mul_(1 - m.momentum).add_(m.momentum * var * n / (n - 1))  # the unbiased variance
            buffers[f"{prefix}num_batches_tracked"].add_(1)
    else:
        mean, var = mean_run, var_run
    return (x - mean.unsqueeze(1)) * torch.rsqrt(var.unsqueeze(1) + m.eps) * weight + bias


def _explicit(layers: list[tuple[str, nn.Module]], training: bool, params, buffers, x: torch.Tensor) -> torch.Tensor:
    for name, m in layers:
        p = f"{name}."
        if isinstance(m, nn.Linear):
            x = _linear(x, params[f"{p}weight"], params.get(f"{p}bias"))
        elif isinstance(m, Maxout):
            y = _linear(x, params[f"{p}linear.weight"], params[f"{p}linear.bias"])  # [N, B, units * pieces]
            x = y.view(*y.shape[:2], m.units, m.pieces).amax(dim=3)  # -> [N, B, units, pieces] -> [N, B, units]
        elif isinstance(m, nn.BatchNorm1d):
            x = _batchnorm1d(m, p, training, params, buffers, x)
        elif isinstance(m, Pack):
            n, b = x.shape[:2]
            x = x.reshape(n, b // m.m, m.m * x.shape[2], *x.shape[3:])  # [N, B*m, F, ...] -> [N, B, m*F, ...]
        elif isinstance(m, nn.Flatten):
            start = m.start_dim + 1 if m.start_dim >= 0 else m.start_dim
            end = m.end_dim + 1 if m.end_dim >= 0 else m.end_dim
            x = x.flatten(start, end)  # the member axis stays in front
        elif isinstance(m, nn.Unflatten):
            x = x.unflatten(m.dim + 1 if m.dim >= 0 else m.dim, m.unflattened_size)
        elif isinstance(m, nn.Dropout):
            continue  # p = 0: the identity
        else:
            x = m(x)  # elementwise
    return x

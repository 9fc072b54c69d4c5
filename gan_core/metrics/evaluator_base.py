"""What every evaluator shares: the base class (metric directions, the all-NaN result, a device move), the check of
the evaluation noise and the batched, memory-flat generation of samples.

Why a module of its own: the factory (``evaluator.py``), the image evaluator (``image_evaluator.py``) and the
Parzen evaluator on top of it (``parzen_evaluator.py``) all build on these, and none of them should have to import
another to get them.
"""
from __future__ import annotations

import copy
import math

import torch
import torch.nn as nn

from gan_core.metrics.modes import METRIC_MODES  # torch-free, so that analysis reads it

EVAL_BATCH = 500  # generator / classifier batch during evaluation
REAL_SUBSET_SEED = 0  # which held-out reals form the reference when there are more than n_samples


def check_z(z: torch.Tensor, min_rows: int) -> None:
    """The evaluation noise: a 2D tensor [n, nz] of at least ``min_rows`` rows, or a ValueError saying what it is."""
    if not torch.is_tensor(z) or z.ndim != 2:
        raise ValueError(f"z must be a 2D tensor [n, nz], got "
                         f"{tuple(z.shape) if torch.is_tensor(z) else type(z).__name__}")
    if z.shape[0] < min_rows:
        raise ValueError(f"z has {z.shape[0]} rows; allowed: at least {min_rows} (the metrics need them)")


@torch.no_grad()
def generate(generator: nn.Module, z: torch.Tensor, batch: int = EVAL_BATCH) -> torch.Tensor:
    """generator(z) in batches, in eval mode (batchnorm uses running stats), float32; train mode restored.

    The batches are copied into one tensor allocated up front, not gathered in a list and concatenated: the list's
    small outputs, each allocated after a batch's large activations, pinned those freed activations in the CPU heap
    (glibc cannot return memory below a live block), and the process grew by about a batch's activations per
    batch: an evaluation of millions of points took gigabytes for megabytes of samples."""
    was_training = generator.training
    generator.eval()
    try:
        first = generator(z[:batch]).float()
        out = torch.empty((z.shape[0], *first.shape[1:]), dtype=first.dtype, device=first.device)  # [n, ...]
        out[:first.shape[0]] = first
        del first
        for i in range(batch, z.shape[0], batch):
            out[i:i + batch] = generator(z[i:i + batch])
    finally:
        generator.train(was_training)
    return out


class Evaluator:
    """What every evaluator is: its primary metric and keys, their better directions (``METRIC_MODES``), the
    all-NaN result of samples that are not finite, a copy on another device."""

    primary_metric: str
    metric_keys: tuple[str, ...]
    device: torch.device

    @property
    def mode(self) -> str:
        """The primary metric's better direction, "min" or "max"."""
        return METRIC_MODES[self.primary_metric]

    @property
    def metric_modes(self) -> dict[str, str]:
        """The direction of each quality metric this evaluator reports, in table order."""
        return {k: v for k, v in METRIC_MODES.items() if k in self.metric_keys}

    def _nan_result(self) -> dict:
        out: dict = {k: math.nan for k in self.metric_keys}
        out["eval_status"] = "nonfinite_samples"
        return out

    def _moved(self, device: torch.device | str) -> "Evaluator":
        new = copy.copy(self)
        new.device = torch.device(device)
        return new

    def __repr__(self) -> str:
        return f"{type(self).__name__}(primary_metric={self.primary_metric!r}, n_samples={self.n_samples})"

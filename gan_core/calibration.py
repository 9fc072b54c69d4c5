"""G's BatchNorm running statistics recomputed before an evaluation, from fixed calibration noise.

Why: training runs G in train mode in each of the k discriminator steps and in the generator step, so its running
statistics would depend on k (k + 1 updates an iteration) and on how far back the momentum reaches; recomputed as
the average batch statistics of ``CALIBRATION_SAMPLES`` fixed noise samples, they depend only on G's weights, and
an evaluation compares generators, not training schedules.
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterator

import torch
from torch import nn

from gan_core.config import GANConfig
from gan_core.runtime import CALIBRATION_STREAM, draw_noise, stream

__all__ = ["CALIBRATION_SAMPLES", "calibration_noise", "calibrate_batchnorm"]

CALIBRATION_SAMPLES = 1024  # noise samples whose batch statistics become G's running statistics before evaluation


def calibration_noise(cfg: GANConfig, device: torch.device) -> Iterator[torch.Tensor]:
    """The run's fixed calibration noise in training-sized minibatches [samples_per_batch, nz], the same at every
    evaluation (its own stream, drawn on the CPU so that it is the same on every device)."""
    gen = stream(cfg.seed, CALIBRATION_STREAM, torch.device("cpu"))
    m = cfg.samples_per_batch
    for _ in range(math.ceil(CALIBRATION_SAMPLES / m)):
        yield draw_noise(cfg, m, gen, device)  # [m, nz]


@torch.no_grad()
def calibrate_batchnorm(generator: nn.Module, batches: Iterator[torch.Tensor],
                        autocast: contextlib.AbstractContextManager | None = None) -> None:
    """Reset every BatchNorm of ``generator`` and set its running statistics to the average batch statistics over
    ``batches`` (G in train mode, momentum off: a cumulative average); each BatchNorm's momentum and G's mode are
    restored. No BatchNorm: nothing is run."""
    norms = [m for m in generator.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    was_training = generator.training
    try:
        for bn in norms:
            bn.reset_running_stats()
            bn.momentum = None
        generator.train()
        with autocast if autocast is not None else contextlib.nullcontext():
            for z in batches:
                generator(z)
    finally:
        for bn, momentum in zip(norms, momenta):
            bn.momentum = momentum
        generator.train(was_training)

"""What one training iteration of a config costs, in floating-point operations, without running it.

Why: a study runs its trials a few at a time, and the slowest ones (stride-1 convolutions at full resolution, a
large k) take several times as long as the rest; started last, one of them runs alone at the end while the other
cores idle. The runner starts the costliest first, ordered by this estimate. It counts the convolutions and matrix
products of one forward pass of G and of D (``torch.utils.flop_counter``: the operations that dominate the time)
and scales them by what Algorithm 1 does with them; pooling, upsampling and elementwise work are left out.
"""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from gan_core.config import GANConfig
from gan_core.models import build_discriminator, build_generator

BACKWARD_FACTOR = 2  # a backward pass costs about twice its forward (gradients of inputs and of weights)


def forward_flops(cfg: GANConfig) -> tuple[int, int]:
    """(G, D) FLOPs of one forward pass for one sample, counted on torch's meta device (shapes without storage:
    nothing is allocated, whatever the config's size, and no random number is drawn)."""
    with torch.device("meta"):
        G, D = build_generator(cfg).eval(), build_discriminator(cfg).eval()
        z = torch.empty(cfg.pack, cfg.nz)  # [pack, nz]: one pack, the least D can judge
        with torch.no_grad():
            with FlopCounterMode(display=False) as g_count:
                x = G(z)
            with FlopCounterMode(display=False) as d_count:
                D(x)
    return g_count.get_total_flops() // cfg.pack, d_count.get_total_flops() // cfg.pack


def iteration_flops(cfg: GANConfig) -> int:
    """FLOPs of one iteration of Algorithm 1: k discriminator steps (G forward without gradients, D forward and
    backward on a real and a fake minibatch) and one generator step (G and D forward and backward)."""
    g, d = forward_flops(cfg)
    train = 1 + BACKWARD_FACTOR
    if cfg.updates == "simultaneous":  # one G forward and backward, D forward and backward on both minibatches
        per_sample = (g + 2 * d) * train
    else:
        per_sample = cfg.k * (g + 2 * d * train) + (g + d) * train
    return int(cfg.samples_per_batch * per_sample)

"""How much memory one run of a config needs, estimated before anything is allocated, and the check against the
machine.

Why: one value sized like a memory bomb (``nz=100000000``: a 12.8-billion-weight first layer) used to end in an
allocation traceback at best and in the kernel's OOM killer at worst, which can take neighbouring jobs with it;
inside a study, Ray retried it until its failures ran out. The estimate is made on torch's ``meta`` device (shapes
without storage), so it costs milliseconds and no memory, and a refused config is one line before any tensor exists.

What is counted, in float32 bytes: the parameters of G and D with their gradients and both Adam moments (4 copies);
the activations of one training step (G's forward for a batch, and D's for a real and a fake batch, kept for the
backward pass, which needs about as much again); G's activations for one evaluation batch; and the image dataset,
held whole as uint8. Small terms (the classifier, BatchNorm statistics, Python) are covered by ``HEADROOM``. The
cap is the memory the machine has available now (``MemAvailable``; on CUDA the device's free memory), never a
constant, and a study divides it by the trials that run side by side on the machine.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn

from gan_core.config import GANConfig

FLOAT_BYTES = 4
PARAMETER_COPIES = 4  # weights, gradients, Adam's first and second moments
BACKWARD_FACTOR = 2   # the backward pass needs about as much again as the activations it reads
EVAL_BATCH = 500      # gan_core.metrics.evaluator.EVAL_BATCH: G's batch during an evaluation
HEADROOM = 1.25       # what the estimate leaves out: the classifier, buffers, the allocator's slack
IMAGES_PER_DATASET = {"mnist5k": 5000, "mnist": 70000, "fashion_mnist": 70000, "cifar10": 60000}


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int        # G's and D's parameter count
    parameter_bytes: int   # with gradients and Adam state
    activation_bytes: int  # one training step, forward and backward
    evaluation_bytes: int  # G's forward on one evaluation batch
    data_bytes: int        # the image dataset as uint8

    @property
    def total(self) -> int:
        peak = self.parameter_bytes + max(self.activation_bytes, self.evaluation_bytes) + self.data_bytes
        return int(HEADROOM * peak)


def _forward_numel(net: nn.Module, x: torch.Tensor) -> tuple[int, torch.Tensor]:
    """(summed numel of every leaf module's output, the net's output) for a meta input."""
    total = 0

    def count(_module, _inputs, output):
        nonlocal total
        if isinstance(output, torch.Tensor):
            total += output.numel()

    hooks = [m.register_forward_hook(count) for m in net.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            out = net(x)
    finally:
        for h in hooks:
            h.remove()
    return total, out


def estimate(cfg: GANConfig) -> MemoryEstimate:
    """The memory one run of ``cfg`` needs (see the module docstring); allocates nothing."""
    from gan_core.models import build_discriminator, build_generator

    with torch.device("meta"):
        G, D = build_generator(cfg), build_discriminator(cfg)
        m = cfg.samples_per_batch
        g_acts, fake = _forward_numel(G, torch.empty(m, cfg.nz))  # [m, nz] -> samples
        d_acts, _ = _forward_numel(D, fake)
        eval_n = min(EVAL_BATCH, cfg.eval_samples)
        g_eval, _ = _forward_numel(G, torch.empty(eval_n, cfg.nz))  # [eval_n, nz] -> samples
    params = sum(p.numel() for p in G.parameters()) + sum(p.numel() for p in D.parameters())
    data = IMAGES_PER_DATASET[cfg.dataset] * cfg.channels * cfg.image_size ** 2 if cfg.is_image else 0
    return MemoryEstimate(
        parameters=params,
        parameter_bytes=PARAMETER_COPIES * FLOAT_BYTES * params,
        activation_bytes=BACKWARD_FACTOR * FLOAT_BYTES * (g_acts + 2 * d_acts),
        evaluation_bytes=FLOAT_BYTES * g_eval,
        data_bytes=data,
    )


def available_bytes(device: str = "cpu") -> int:
    """Memory that a new run can have now: the machine's ``MemAvailable`` (Linux; else its physical memory), or on
    "cuda" the free memory of the current device."""
    if device.startswith("cuda"):
        free, _ = torch.cuda.mem_get_info()
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def size_text(n: int) -> str:
    """Bytes as "238 GB" or "4.32 MB"."""
    return f"{n / 2**30:.3g} GB" if n >= 2**30 else f"{n / 2**20:.3g} MB"


def check_fits(cfg: GANConfig, available: int, where: str = "this machine has available") -> MemoryEstimate:
    """The estimate, or ValueError in one line when the run needs more than ``available`` bytes."""
    est = estimate(cfg)
    if est.total > available:
        raise ValueError(
            f"config needs about {size_text(est.total)} of memory for one run ({est.parameters:,} parameters in G "
            f"and D with gradients and Adam state: {size_text(est.parameter_bytes)}; activations of a batch of "
            f"{cfg.batch_size}: {size_text(max(est.activation_bytes, est.evaluation_bytes))}), more than the "
            f"{size_text(available)} {where}; allowed: a config that fits, e.g. a smaller nz, ngf, ndf, mlp_hidden "
            f"or batch_size")
    return est

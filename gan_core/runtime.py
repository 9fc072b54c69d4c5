"""Where a run runs and what drives it: the device, the optimizers and the seeded random streams.

Why apart from the trainer: every run of the project draws its data, noise, evaluation noise and BatchNorm
calibration noise from its own ``torch.Generator``, seeded from the run's seed and the stream's offset, so that the
streams, and with them a run resumed from a checkpoint, never depend on what else used randomness.
"""
from __future__ import annotations

import torch

from gan_core.config import GANConfig

__all__ = ["DATA_STREAM", "NOISE_STREAM", "EVAL_STREAM", "CALIBRATION_STREAM", "SEED_STRIDE", "resolve_device",
           "make_optimizer", "stream", "stream_device", "widen"]

# Offsets that give each random stream of a run its own seed: the stream's generator is seeded with
# seed * SEED_STRIDE + offset, so no two (seed, stream) pairs share one (gan_core.config.MAX_SEED keeps that
# number within the 32 bits that a CPU generator keeps).
DATA_STREAM, NOISE_STREAM, EVAL_STREAM, CALIBRATION_STREAM = 1, 2, 3, 4
SEED_STRIDE = 1000


def resolve_device(name: str | torch.device) -> torch.device:
    """'auto' is CUDA when torch sees a GPU, else CPU; 'cuda' without a GPU is an error, not a silent CPU run."""
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for but torch sees no CUDA GPU; allowed here: 'cpu' or 'auto'")
    return torch.device(name)


def make_optimizer(cfg: GANConfig, params, lr: float) -> torch.optim.Optimizer:
    """Adam with (beta1, beta2), or SGD with ``momentum`` (the GAN paper's optimizer, without its schedules)."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum)
    return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))


def stream(seed: int, offset: int, device: torch.device) -> torch.Generator:
    """The random stream ``offset`` of the run with ``seed``."""
    return torch.Generator(device=device).manual_seed(seed * SEED_STRIDE + offset)


_CPU_STATE_BYTES = torch.Generator().get_state().numel()  # a CPU generator's Mersenne Twister state; CUDA's is 16


def stream_device(state: torch.Tensor) -> str:
    """Which device type a saved ``torch.Generator`` state belongs to, by its size."""
    return "cpu" if state.numel() == _CPU_STATE_BYTES else "cuda"


def widen(x: torch.Tensor) -> torch.Tensor:
    """``x`` in torch's default float type (float32, or float64 where a test sets it): D's logits and the gradient
    norms that the losses and running sums take, whatever precision (bf16 under autocast) computed them."""
    return x.to(torch.get_default_dtype())

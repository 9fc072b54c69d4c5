"""Where a run runs and what drives it: the device, the optimizers and the seeded random streams.

Why apart from the trainer: every run of the project draws its data, noise, evaluation noise and BatchNorm
calibration noise from its own ``torch.Generator``, seeded from the run's seed and the stream's offset, so that the
streams, and with them a run resumed from a checkpoint, never depend on what else used randomness.
"""
from __future__ import annotations

import math

import torch

from gan_core.config import GANConfig

__all__ = ["DATA_STREAM", "NOISE_STREAM", "EVAL_STREAM", "CALIBRATION_STREAM", "SEED_STRIDE", "resolve_device",
           "native_bf16", "resolve_precision",
           "make_optimizer", "schedule", "apply_schedule", "has_schedule", "draw_noise", "stream", "stream_device",
           "widen"]

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


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 in hardware: a CUDA GPU that supports it (Ampere and later), or a CPU
    with AVX512-BF16 or AMX. (oneDNN also runs bf16 on any AVX512 CPU by emulation, which is not faster: torch's
    ``_is_mkldnn_bf16_supported`` says yes there, so the CPU's own features are asked instead.)"""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return False


def resolve_precision(cfg: GANConfig, device: torch.device) -> str:
    """The precision a run computes in: ``precision`` itself, or for ``auto`` bf16 for a DCGAN on a GPU with native
    bf16, and fp32 elsewhere. bf16 keeps the studies' answers, but on a CPU with native bf16 it did not make the
    main job reliably faster: faster for one process alone, it was slower in one of two sessions with the study's
    two one-thread trials side by side, where fp32 took the same time in both (benchmarks/RESULTS.md, "bf16 on
    this CPU"). So a CPU computes in fp32 unless asked for bf16."""
    if cfg.precision != "auto":
        return cfg.precision
    return "bf16" if cfg.arch == "dcgan" and device.type == "cuda" and native_bf16(device) else "fp32"


def make_optimizer(cfg: GANConfig, params, lr: float) -> torch.optim.Optimizer:
    """Adam with (beta1, beta2), or SGD with ``momentum`` (the GAN paper's optimizer; its schedules: ``schedule``)."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum)
    return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))


def schedule(cfg: GANConfig, done: int) -> tuple[float, float, float]:
    """(lr_d, lr_g, momentum) of the iteration after ``done`` iterations, as the GAN paper's code schedules them
    (goodfeli/adversarial mnist.yaml, pylearn2): ``ExponentialDecay`` divides the learning rate by ``lr_decay``
    after every update, never below ``lr_min`` (lr = max(lr0 / decay^done, lr_min)); ``MomentumAdjustor`` raises
    the momentum linearly from ``momentum`` to ``momentum_final``. Pylearn2 raises it once an epoch (to 0.7 by
    epoch 250 of 500 updates each); here it rises every iteration over ``momentum_ramp`` iterations, which is
    never more than one epoch's step (0.0008 for the paper's) from pylearn2's staircase. An iteration is one joint
    update (updates 'simultaneous', the paper's) or k D updates and one G update, which share the iteration's
    values. Computed from ``done`` alone, so a resumed run continues the schedule exactly."""
    shrink = math.exp(-done * math.log(cfg.lr_decay))  # 1 / decay^done, underflowing to 0 rather than overflowing
    lr_d, lr_g = max(cfg.lr_d * shrink, cfg.lr_min), max(cfg.lr_g * shrink, cfg.lr_min)
    momentum = cfg.momentum
    if cfg.momentum_ramp:
        momentum += (cfg.momentum_final - cfg.momentum) * min(done / cfg.momentum_ramp, 1.0)
    return lr_d, lr_g, momentum


def apply_schedule(cfg: GANConfig, done: int, opt_d: torch.optim.Optimizer, opt_g: torch.optim.Optimizer) -> None:
    """Set both optimizers' learning rates (and SGD's momentum) to ``schedule(cfg, done)``. torch's SGD keeps
    lr * (momentum buffer of gradients) where pylearn2 keeps a velocity of lr-scaled gradients: the same updates at
    a constant learning rate; with the paper's decay (4e-6 an update) the two differ by that fraction per update
    of the velocity's memory (about 3 updates at momentum 0.7)."""
    lr_d, lr_g, momentum = schedule(cfg, done)
    for opt, lr in ((opt_d, lr_d), (opt_g, lr_g)):
        for group in opt.param_groups:
            group["lr"] = lr
            if cfg.optimizer == "sgd":
                group["momentum"] = momentum


def has_schedule(cfg: GANConfig) -> bool:
    """Whether the learning rates or the momentum change during the run."""
    return cfg.lr_decay != 1 or cfg.momentum_ramp > 0


SQRT3 = math.sqrt(3.0)


def draw_noise(cfg: GANConfig, n: int, gen: torch.Generator, device: torch.device | None = None) -> torch.Tensor:
    """G's input z [n, nz] from ``gen``: N(0, 1) (noise 'gaussian'), or U(-sqrt 3, sqrt 3) (noise 'uniform', the
    GAN paper's MNIST model: pylearn2 draws ``uniform(-sqrt(3), sqrt(3))``, unit variance like the Gaussian)."""
    device = gen.device if device is None else device
    if cfg.noise == "uniform":
        return (torch.rand(n, cfg.nz, generator=gen, device=gen.device) * 2 - 1).mul_(SQRT3).to(device)  # [n, nz]
    return torch.randn(n, cfg.nz, generator=gen, device=gen.device).to(device)  # [n, nz]


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

"""What the network tests share: configs, and ways to read a network's structure."""
from __future__ import annotations

from torch import nn

from gan_core.config import GANConfig

ACT_CLASS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "tanh": nn.Tanh}
OUT_CLASS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity}
CONV = (nn.Conv2d, nn.ConvTranspose2d)


def cfg(**kw) -> GANConfig:
    return GANConfig.from_flat({"dataset": "mnist5k", **kw})


def small(**kw) -> GANConfig:
    """Narrow DCGAN config for fast forward tests."""
    return cfg(**{"nz": 16, "ngf": 8, "ndf": 8, **kw})


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def names(net: nn.Module) -> list[str]:
    """Class names of the Sequential's layers, in order."""
    return [type(m).__name__ for m in net]


def reprs(net: nn.Module) -> list[str]:
    return [repr(m) for m in net]


def leaves(net: nn.Module, kind) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, kind)]

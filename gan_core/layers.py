"""The layers the networks are built of beyond torch's own: PacGAN's ``Pack``, the ``Maxout`` layer of the GAN
paper's discriminator, and the nonlinearities chosen by config name."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["LEAKY_SLOPE", "Pack", "Maxout", "activation", "output_layer"]

LEAKY_SLOPE = 0.2  # DCGAN's LeakyReLU slope


class Pack(nn.Module):
    """PacGAN's packing: [B * m, ...] -> [B, m * ...], each m consecutive samples joined along the first feature
    axis (points [B * m, d] -> [B, m * d]; images [B * m, C, S, S] -> [B, m * C, S, S], stacked as channels, as
    PacGAN does for images). The trainer draws real and fake minibatches separately, so a pack is all real or all
    fake."""

    def __init__(self, m: int):
        super().__init__()
        self.m = m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] % self.m:
            raise ValueError(f"a batch of {x.shape[0]} samples does not split into packs of {self.m}")
        return x.reshape(x.shape[0] // self.m, self.m * x.shape[1], *x.shape[2:])  # [B*m, F, ...] -> [B, m*F, ...]

    def extra_repr(self) -> str:
        return f"m={self.m}"


class Maxout(nn.Module):
    """A maxout layer (Goodfellow et al. 2013): ``units`` outputs, each the largest of ``pieces`` affine maps of
    the input. The discriminator of the GAN paper's released code is built of these (MNIST: 240 units x 5)."""

    def __init__(self, in_features: int, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x).view(x.shape[0], self.units, self.pieces)  # [B, units * pieces] -> [B, units, pieces]
        return y.amax(dim=2)  # [B, units]


def activation(name: str) -> nn.Module:
    """A hidden-layer nonlinearity by config name. In place where torch allows it, as in the reference: it
    saves one activation-sized buffer per layer and autograd checks that it is safe."""
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "leaky_relu":
        return nn.LeakyReLU(LEAKY_SLOPE, inplace=True)
    if name == "elu":
        return nn.ELU(inplace=True)
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"unknown activation {name!r}")


def output_layer(name: str) -> nn.Module:
    """G's output nonlinearity: ``tanh`` (the guideline, in the data's range [-1, 1]), ``linear`` (unbounded: the
    guideline's opposite in the ablation) or ``sigmoid``, kept as a user's choice although its [0, 1] cannot
    reach the data's -1 (MNIST's background): not rescaled, so a study that picks it sees that mismatch."""
    if name == "tanh":
        return nn.Tanh()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "linear":
        return nn.Identity()
    raise ValueError(f"unknown g_output {name!r}")

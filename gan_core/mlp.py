"""The fully connected networks: the GAN paper's MLP generator and (maxout) discriminator, PacGAN's 2D networks as
configurations of them, and the affine 1D generator whose p_g is known in closed form. Built and initialised by
``gan_core.models``."""
from __future__ import annotations

import torch
from torch import nn

from gan_core.config import GANConfig
from gan_core.layers import Maxout, activation, output_layer

__all__ = ["MLPGenerator", "MLPDiscriminator", "AffineGenerator"]


class MLPGenerator(nn.Sequential):
    """z [B, nz] -> points [B, data_dim] or images [B, C, S, S]: the fully connected generator of Goodfellow et al.
    (2014), mlp_layers hidden layers of mlp_hidden units with g_activation, then g_output (linear for points by
    default, tanh for images). With batchnorm_g each hidden layer is Linear without bias -> BatchNorm ->
    g_activation (PacGAN's generator); without, Linear with bias -> g_activation (the GAN paper's)."""

    def __init__(self, cfg: GANConfig):
        h, bn = cfg.mlp_hidden, cfg.batchnorm_g
        layers: list[nn.Module] = []
        width = cfg.nz
        for _ in range(cfg.mlp_layers):
            layers += [nn.Linear(width, h, bias=not bn)]
            layers += [nn.BatchNorm1d(h)] if bn else []
            layers += [activation(cfg.g_activation)]
            width = h
        layers += [nn.Linear(h, _sample_numel(cfg)), output_layer(cfg.g_output)]
        if cfg.is_image:
            layers += [nn.Unflatten(1, (cfg.channels, cfg.image_size, cfg.image_size))]  # [B, C*S*S] -> [B, C, S, S]
        super().__init__(*layers)


class MLPDiscriminator(nn.Sequential):
    """points [B, data_dim] or images [B, C, S, S] (flattened) -> logits [B]: mlp_layers_d (0: mlp_layers) hidden
    layers of mlp_hidden_d units (0: mlp_hidden), each a Linear with d_activation or, with maxout_pieces, a Maxout
    layer; dropout_input on the input and dropout_hidden after each hidden layer (the paper's MNIST discriminator:
    2 maxout layers of 240 units x 5 pieces, dropout 0.2 and 0.5); with pack = m its input is m samples wide."""

    def __init__(self, cfg: GANConfig):
        h = cfg.mlp_hidden_d or cfg.mlp_hidden
        layers: list[nn.Module] = [nn.Flatten(1)] if cfg.is_image else []  # [B, C, S, S] -> [B, C*S*S]
        layers += [nn.Dropout(cfg.dropout_input)] if cfg.dropout_input else []
        width = _sample_numel(cfg) * cfg.pack
        for _ in range(cfg.mlp_layers_d or cfg.mlp_layers):
            if cfg.maxout_pieces:
                layers += [Maxout(width, h, cfg.maxout_pieces)]
            else:
                layers += [nn.Linear(width, h), activation(cfg.d_activation)]
            layers += [nn.Dropout(cfg.dropout_hidden)] if cfg.dropout_hidden else []
            width = h
        layers += [nn.Linear(h, 1), nn.Flatten(0)]  # [B, 1] -> [B]
        super().__init__(*layers)


def _sample_numel(cfg: GANConfig) -> int:
    """Numbers in one sample: a point's dimension, or an image's C * S * S."""
    return cfg.channels * cfg.image_size ** 2 if cfg.is_image else cfg.data_dim


class AffineGenerator(nn.Module):
    """G(z) = a * z + b with scalars a (init 1) and b (init 0): with z ~ N(0, 1), p_g = N(b, a^2) in closed
    form, so a gauss1d run can be checked against the exact optimum p_g = p_data."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.tensor(1.0))
        self.b = nn.Parameter(torch.tensor(0.0))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.a * z + self.b  # [B, 1] -> [B, 1]

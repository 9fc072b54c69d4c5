"""Generators and discriminators: the DCGAN family (32/64 px) here, the fully connected GAN and the affine 1D
generator in ``gan_core.mlp``, their layers in ``gan_core.layers``; built and initialised here.

``build_generator(cfg)`` maps z float32 [B, nz] to images [B, C, S, S] (arch ``dcgan``) or points [B, dim]
(``mlp``, ``affine``). ``build_discriminator(cfg)`` maps a batch to logits float32 [B] -- no sigmoid, so the
losses can use the numerically stable ``*_with_logits`` forms.

The DCGAN networks follow pytorch/examples ``dcgan/main.py`` (Radford et al. 2015) exactly when every guideline
switch of ``config.GUIDELINES`` is on; each switch changes only the part of the structure it names, so a study
that turns one guideline off measures that guideline and nothing else:

- ``strided_conv``: strided conv (D) / transposed conv (G) for every 2x down- and upsampling, else stride-1 3x3
  conv + MaxPool2d(2) (D) and nearest Upsample + stride-1 3x3 conv (G). G's projection of z to 4x4 (a dense
  ConvT(4, 1, 0)) and D's final 4x4 conv to one logit have no stride either way and stay as they are.
- ``batchnorm_g`` / ``batchnorm_d``: BatchNorm in the hidden layers (never G's output nor D's input layer);
  off means no BatchNorm in that network and a bias on its hidden layers instead.
- ``fc_hidden``: a 512-unit fully connected hidden layer at G's input and before D's output.
- ``g_activation`` / ``g_output`` / ``d_activation``: the nonlinearities.
- ``spectral_norm_d``: every weight layer of D spectrally normalised (``spectral_normalise``), any arch.

Every network is a plain ``nn.Sequential`` (the affine generator excepted), so the forward is the Sequential
loop and nothing else, and tests can read the structure off ``.modules()``. Builders initialise with the global
torch RNG, which the trainer seeds before building: the DCGAN init for ``dcgan``; for ``mlp``, He (Kaiming) normal
weights for the ReLU-family hidden layers and LeCun normal weights for the output layer, zero biases, which keep
the activations' scale from layer to layer, so G's first samples spread like its noise. (The DCGAN init,
N(0, 0.02) everywhere, shrinks each layer's output by about 50x without BatchNorm to undo it: an MLP generator
would start as a point mass at the origin.)
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gan_core.config import GANConfig
from gan_core.layers import Maxout, Pack, activation, output_layer
from gan_core.mlp import AffineGenerator, MLPDiscriminator, MLPGenerator

FC_HIDDEN = 512  # width of the fully connected hidden layer of the fc_hidden switch


def build_generator(cfg: GANConfig) -> nn.Module:
    """The generator of ``cfg.arch``, initialised for it (the affine one starts at the identity)."""
    if cfg.arch == "dcgan":
        net: nn.Module = DCGANGenerator(cfg)
    elif cfg.arch == "mlp":
        net = MLPGenerator(cfg)
    elif cfg.arch == "affine":
        return AffineGenerator()
    else:
        raise ValueError(f"unknown arch {cfg.arch!r}")
    _initialise(net, cfg, UNIFORM_G)
    return net


def build_discriminator(cfg: GANConfig) -> nn.Module:
    """The discriminator of ``cfg.arch`` (the MLP one for ``mlp`` and ``affine``), initialised for it. With
    ``pack`` = m > 1 it judges packs (PacGAN): its first layer ``Pack`` joins each m consecutive samples into one
    input, so a minibatch of B * m samples gives B logits."""
    if cfg.arch == "dcgan":
        net: nn.Module = DCGANDiscriminator(cfg)
    elif cfg.arch in ("mlp", "affine"):
        net = MLPDiscriminator(cfg)
    else:
        raise ValueError(f"unknown arch {cfg.arch!r}")
    _initialise(net, cfg, UNIFORM_D)
    if cfg.spectral_norm_d:
        spectral_normalise(net)
    if cfg.pack > 1:
        net = nn.Sequential(Pack(cfg.pack), *net)
    return net


def spectral_normalise(net: nn.Module) -> None:
    """Every Linear and convolution of ``net`` spectrally normalised (``torch.nn.utils.parametrizations``; Miyato
    et al. 2018): its weight used as W / sigma(W), sigma estimated by one power iteration per forward in training
    mode, whose vectors u, v are buffers (saved with the state: a resume continues them). After the init, so that
    the init's scale is what sigma divides."""
    for module in list(net.modules()):
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            spectral_norm(module)


def _initialise(net: nn.Sequential, cfg: GANConfig, scale: float) -> None:
    """``init`` normal_0.02: the DCGAN init for every network (PacGAN's choice for its MLPs); uniform: weights
    U(-scale, scale) and zero biases, with the scale of the GAN paper's released MNIST model (G 0.05, D 0.005:
    pylearn2's ``irange``); auto: DCGAN's for the DCGAN, the variance-preserving ``mlp_init`` for MLPs."""
    if cfg.arch == "dcgan" or cfg.init == "normal_0.02":
        net.apply(dcgan_init)
    elif cfg.init == "uniform":
        net.apply(lambda m: uniform_init(m, scale))
    else:
        mlp_init(net)


@torch.no_grad()
def set_output_bias_from_marginals(generator: nn.Module, data) -> None:
    """G's output bias b = logit(mean of each pixel over the training images, in [0, 1], clipped to
    [1e-7, 1 - 1e-7]), so that sigmoid(b) starts at the data's marginals: the GAN paper's MNIST generator
    (pylearn2's ``init_sigmoid_bias_from_marginals`` on the training set). The output Linear is G's last."""
    last = [m for m in generator.modules() if isinstance(m, nn.Linear)][-1]
    mean = data.train.to(torch.float64).mean(0).flatten() / 255  # [N, C, S, S] -> [C*S*S], pixel means in [0, 1]
    if last.bias is None or last.bias.shape != mean.shape:
        raise ValueError(f"G's output layer has no bias of the {mean.numel()} pixels the marginals give")
    p = mean.clamp(1e-7, 1 - 1e-7)
    last.bias.copy_(torch.log(p / (1 - p)).to(last.bias.dtype))


UNIFORM_G, UNIFORM_D = 0.05, 0.005  # init "uniform": goodfeli/adversarial mnist.yaml, irange of G and of D


@torch.no_grad()
def uniform_init(m: nn.Module, scale: float) -> None:
    """For ``net.apply``: Linear weights ~ U(-scale, scale), biases 0 (a Maxout's Linear included)."""
    if isinstance(m, nn.Linear):
        nn.init.uniform_(m.weight, -scale, scale)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


@torch.no_grad()
def dcgan_init(m: nn.Module) -> None:
    """DCGAN init, for ``net.apply``: conv / linear weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02), biases 0."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


@torch.no_grad()
def mlp_init(net: nn.Sequential) -> None:
    """Variance-preserving init of an MLP (see the module docstring): each Linear followed by a nonlinearity gets
    He normal weights with that nonlinearity's gain (ReLU, LeakyReLU(0.2), ELU ~ ReLU, tanh: 5/3), the last Linear
    and every Maxout layer LeCun normal (gain 1), biases 0."""
    layers = list(net)
    for i, m in enumerate(layers):
        if isinstance(m, Maxout):  # the max of pieces keeps about the scale of one piece: LeCun normal
            nn.init.normal_(m.linear.weight, 0.0, 1.0 / math.sqrt(m.linear.in_features))
            nn.init.zeros_(m.linear.bias)
            continue
        if not isinstance(m, nn.Linear):
            continue
        after = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(after, nn.LeakyReLU):
            gain = nn.init.calculate_gain("leaky_relu", after.negative_slope)
        elif isinstance(after, (nn.ReLU, nn.ELU)):
            gain = nn.init.calculate_gain("relu")
        elif isinstance(after, nn.Tanh) and i + 2 < len(layers):  # a hidden tanh; G's tanh output is an output
            gain = nn.init.calculate_gain("tanh")
        else:
            gain = 1.0
        nn.init.normal_(m.weight, 0.0, gain / math.sqrt(m.in_features))  # before a BatchNorm: any scale will do
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def _n_stages(image_size: int) -> int:
    """Stride-2 stages between 4x4 and S x S: log2(S) - 2 (3 at 32 px, 4 at 64 px)."""
    n = int(math.log2(image_size)) - 2
    if n < 1 or 4 * 2**n != image_size:
        raise ValueError(f"image_size {image_size} is not a power of two >= 8")
    return n


def _g_upsample(c_in: int, c_out: int, strided: bool, bias: bool) -> list[nn.Module]:
    """One 2x upsampling of G: transposed conv (strided) or nearest Upsample + 3x3 conv."""
    if strided:
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias)]
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias)]


def _g_project(c_in: int, c_out: int, bias: bool) -> list[nn.Module]:
    """G's first layer, 1x1 -> 4x4: ConvT(4, 1, 0), a dense projection of z with no stride (DCGAN keeps it, and
    so does ``strided_conv=false``)."""
    return [nn.ConvTranspose2d(c_in, c_out, 4, 1, 0, bias=bias)]


def _d_downsample(c_in: int, c_out: int, strided: bool, bias: bool) -> list[nn.Module]:
    """One 2x downsampling of D: conv(4, 2, 1) (strided) or 3x3 conv + MaxPool2d(2)."""
    if strided:
        return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias)]
    return [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias), nn.MaxPool2d(2)]


class DCGANGenerator(nn.Sequential):
    """z [B, nz] -> images [B, C, S, S]: a 4x4 projection, then log2(S) - 2 upsamplings halving the channels
    from ngf * 2^(stages-1) down to ngf, the last one to C channels and the output nonlinearity."""

    def __init__(self, cfg: GANConfig):
        n, strided, bn = _n_stages(cfg.image_size), cfg.strided_conv, cfg.batchnorm_g
        width = cfg.ngf * 2 ** (n - 1)
        layers: list[nn.Module] = []
        c_in = cfg.nz
        if cfg.fc_hidden:
            layers += [nn.Linear(cfg.nz, FC_HIDDEN, bias=not bn)]
            layers += [nn.BatchNorm1d(FC_HIDDEN)] if bn else []
            layers += [activation(cfg.g_activation)]
            c_in = FC_HIDDEN
        layers += [nn.Unflatten(1, (c_in, 1, 1))]  # [B, c_in] -> [B, c_in, 1, 1]
        layers += _g_project(c_in, width, bias=not bn)  # [B, c_in, 1, 1] -> [B, width, 4, 4]
        layers += [nn.BatchNorm2d(width)] if bn else []
        layers += [activation(cfg.g_activation)]
        for _ in range(n - 1):  # each: [B, c, s, s] -> [B, c / 2, 2s, 2s]
            layers += _g_upsample(width, width // 2, strided, bias=not bn)
            width //= 2
            layers += [nn.BatchNorm2d(width)] if bn else []
            layers += [activation(cfg.g_activation)]
        # output layer: no BatchNorm and no bias, as in the reference
        layers += _g_upsample(width, cfg.channels, strided, bias=False)  # -> [B, C, S, S]
        layers += [output_layer(cfg.g_output)]
        super().__init__(*layers)


class DCGANDiscriminator(nn.Sequential):
    """images [B, C, S, S] -> logits [B]: log2(S) - 2 downsamplings doubling the channels from ndf up to
    ndf * 2^(stages-1) at 4x4, then a 4x4 conv to one logit (or the fc_hidden head)."""

    def __init__(self, cfg: GANConfig):
        n, strided, bn = _n_stages(cfg.image_size), cfg.strided_conv, cfg.batchnorm_d
        width = cfg.ndf
        # input layer: no BatchNorm and no bias, as in the reference
        layers: list[nn.Module] = _d_downsample(cfg.channels * cfg.pack, width, strided, bias=False)
        layers += [activation(cfg.d_activation)]
        for _ in range(n - 1):  # each: [B, c, s, s] -> [B, 2c, s / 2, s / 2]
            layers += _d_downsample(width, width * 2, strided, bias=not bn)
            width *= 2
            layers += [nn.BatchNorm2d(width)] if bn else []
            layers += [activation(cfg.d_activation)]
        # features are now [B, width, 4, 4]
        if cfg.fc_hidden:
            layers += [nn.Flatten(1)]  # [B, width, 4, 4] -> [B, width * 16]
            layers += [nn.Linear(width * 16, FC_HIDDEN, bias=not bn)]
            layers += [nn.BatchNorm1d(FC_HIDDEN)] if bn else []
            layers += [activation(cfg.d_activation), nn.Linear(FC_HIDDEN, 1, bias=False)]  # -> [B, 1]
        else:
            layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False)]  # -> [B, 1, 1, 1]
        layers += [nn.Flatten(0)]  # [B, 1(, 1, 1)] -> [B]
        super().__init__(*layers)

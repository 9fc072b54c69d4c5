"""gan_core.models: the DCGAN reference structure and parameter counts, the guideline switches (each changes
only what it names), output shapes, the DCGAN init and the MLP init, packing in a discriminator."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_core.config import GANConfig, GUIDELINE_OFF
from gan_core.models import DCGANDiscriminator, DCGANGenerator, build_discriminator, build_generator

from .nets import ACT_CLASS, CONV, OUT_CLASS, cfg, leaves, n_params, names, reprs, small

# Variants of the guideline switches: the baseline, each guideline off alone, all off, the other activations.
VARIANTS = [{}] + [{k: v} for k, v in GUIDELINE_OFF.items()] + [
    dict(GUIDELINE_OFF),
    {"g_activation": "elu"},
    {"g_activation": "tanh"},
    {"g_output": "linear"},
]
VARIANT_IDS = ["baseline"] + [f"{k}_off" for k in GUIDELINE_OFF] + ["all_off", "g_elu", "g_tanh", "g_linear"]


# ---------------------------------------------------------------- the DCGAN reference (pytorch/examples)

def reference_g(nz: int, ngf: int, nc: int) -> nn.Sequential:
    """pytorch/examples dcgan/main.py Generator.main, 64 px."""
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
    )


def reference_d(ndf: int, nc: int) -> nn.Sequential:
    """pytorch/examples dcgan/main.py Discriminator.main, 64 px, without the final Sigmoid."""
    return nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
    )


@pytest.mark.parametrize("dataset, g_params, d_params", [
    ("cifar10", 3_576_704, 2_765_568),
    ("mnist5k", 3_574_656, 2_763_520),
])
def test_parameter_counts_64px(dataset, g_params, d_params):
    c = cfg(dataset=dataset, image_size=64)
    assert (c.nz, c.ngf, c.ndf) == (100, 64, 64)
    assert n_params(build_generator(c)) == g_params
    assert n_params(build_discriminator(c)) == d_params


@pytest.mark.parametrize("dataset", ["cifar10", "mnist5k"])
def test_guideline_nets_equal_pytorch_examples_at_64px(dataset):
    c = cfg(dataset=dataset, image_size=64)
    g, d = build_generator(c), build_discriminator(c)
    # ours = reshape [B, nz] -> [B, nz, 1, 1], then the reference layers; D = reference layers, then flatten
    assert names(g)[0] == "Unflatten" and reprs(g)[1:] == reprs(reference_g(100, 64, c.channels))
    assert names(d)[-1] == "Flatten" and reprs(d)[:-1] == reprs(reference_d(64, c.channels))


@pytest.mark.parametrize("nc", [1, 3])
def test_guideline_nets_at_32px_drop_one_stage(nc):
    c = cfg(dataset="cifar10" if nc == 3 else "mnist5k", image_size=32, ngf=8, ndf=8)
    g, d = build_generator(c), build_discriminator(c)
    g_convs = [(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding) for m in leaves(g, CONV)]
    assert g_convs == [(100, 32, (4, 4), (1, 1), (0, 0)), (32, 16, (4, 4), (2, 2), (1, 1)),
                       (16, 8, (4, 4), (2, 2), (1, 1)), (8, nc, (4, 4), (2, 2), (1, 1))]
    d_convs = [(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding) for m in leaves(d, CONV)]
    assert d_convs == [(nc, 8, (4, 4), (2, 2), (1, 1)), (8, 16, (4, 4), (2, 2), (1, 1)),
                       (16, 32, (4, 4), (2, 2), (1, 1)), (32, 1, (4, 4), (1, 1), (0, 0))]
    assert [m.num_features for m in leaves(g, nn.BatchNorm2d)] == [32, 16, 8]
    assert [m.num_features for m in leaves(d, nn.BatchNorm2d)] == [16, 32]


# ---------------------------------------------------------------- shapes

@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("image_size", [32, 64])
@pytest.mark.parametrize("dataset", ["mnist5k", "cifar10"])
def test_dcgan_shapes_and_backward(dataset, image_size, variant):
    c = small(dataset=dataset, image_size=image_size, **variant)
    g, d = build_generator(c), build_discriminator(c)
    assert isinstance(g, DCGANGenerator) and isinstance(d, DCGANDiscriminator)
    z = torch.randn(3, c.nz)
    x = g(z)
    assert x.shape == (3, c.channels, image_size, image_size) and x.dtype == torch.float32
    logits = d(x)
    assert logits.shape == (3,) and logits.dtype == torch.float32
    logits.sum().backward()  # also checks the in-place activations are autograd-safe in every variant
    for net in (g, d):
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())


@pytest.mark.parametrize("g_output, lo, hi", [("tanh", -1.0, 1.0), ("sigmoid", 0.0, 1.0)])
def test_g_output_range(g_output, lo, hi):
    torch.manual_seed(0)
    g = build_generator(small(g_output=g_output))
    with torch.no_grad():
        for m in leaves(g, CONV):
            m.weight.mul_(50)  # push pre-activations far out so the bounds are reached
        x = g(torch.randn(8, 16))
    assert x.min().item() >= lo and x.max().item() <= hi
    assert x.min().item() == pytest.approx(lo, abs=0.05) and x.max().item() == pytest.approx(hi, abs=0.05)


def test_discriminator_returns_logits_not_probabilities():
    torch.manual_seed(0)
    for c in (small(), small(fc_hidden=True), cfg(dataset="ring8")):
        d = build_discriminator(c)
        assert not leaves(d, nn.Sigmoid)
        with torch.no_grad():
            last = [m for m in d if isinstance(m, (nn.Conv2d, nn.Linear))][-1]
            last.weight.mul_(1000)
            x = torch.randn(16, c.channels, 32, 32) if c.is_image else torch.randn(16, c.data_dim)
            logits = d(x)
        assert logits.shape == (16,)
        assert logits.min().item() < 0 and logits.max().item() > 1  # impossible for a probability


# ---------------------------------------------------------------- switches

@pytest.mark.parametrize("image_size", [32, 64])
@pytest.mark.parametrize("fc_hidden", [False, True])
def test_batchnorm_g_switch(image_size, fc_hidden):
    on = build_generator(small(image_size=image_size, fc_hidden=fc_hidden, batchnorm_g=True))
    off = build_generator(small(image_size=image_size, fc_hidden=fc_hidden, batchnorm_g=False))
    n_hidden = image_size.bit_length() - 3 + fc_hidden  # conv hidden layers (log2 S - 2) + the fc layer
    assert len(leaves(on, (nn.BatchNorm1d, nn.BatchNorm2d))) == n_hidden
    assert not leaves(off, nn.modules.batchnorm._BatchNorm)
    # everything else identical, apart from the biases the BatchNorm made redundant
    assert [n for n in names(on) if not n.startswith("BatchNorm")] == names(off)
    on_w = [m for m in on if isinstance(m, (*CONV, nn.Linear))]
    off_w = [m for m in off if isinstance(m, (*CONV, nn.Linear))]
    assert [m.weight.shape for m in on_w] == [m.weight.shape for m in off_w]
    assert [m.bias is None for m in on_w] == [True] * len(on_w)
    assert [m.bias is None for m in off_w] == [False] * (len(off_w) - 1) + [True]  # output layer: no bias
    # and D is untouched
    assert reprs(build_discriminator(small(batchnorm_g=False))) == reprs(build_discriminator(small()))


@pytest.mark.parametrize("image_size", [32, 64])
@pytest.mark.parametrize("fc_hidden", [False, True])
def test_batchnorm_d_switch(image_size, fc_hidden):
    on = build_discriminator(small(image_size=image_size, fc_hidden=fc_hidden, batchnorm_d=True))
    off = build_discriminator(small(image_size=image_size, fc_hidden=fc_hidden, batchnorm_d=False))
    n_hidden = image_size.bit_length() - 4 + fc_hidden  # all but the input conv, + the fc layer
    assert len(leaves(on, (nn.BatchNorm1d, nn.BatchNorm2d))) == n_hidden
    assert not leaves(off, nn.modules.batchnorm._BatchNorm)
    assert [n for n in names(on) if not n.startswith("BatchNorm")] == names(off)
    on_w = [m for m in on if isinstance(m, (*CONV, nn.Linear))]
    off_w = [m for m in off if isinstance(m, (*CONV, nn.Linear))]
    assert [m.weight.shape for m in on_w] == [m.weight.shape for m in off_w]
    assert [m.bias is None for m in on_w] == [True] * len(on_w)
    # input layer and logit layer: no bias, as in the reference; hidden layers: bias
    assert [m.bias is None for m in off_w] == [True] + [False] * (len(off_w) - 2) + [True]
    assert reprs(build_generator(small(batchnorm_d=False))) == reprs(build_generator(small()))


def _strided_to_resampled(net_names: list[str], net: nn.Module, is_g: bool) -> list[str]:
    """The layer names strided_conv=False should produce from the strided net's layers."""
    out = []
    for name, m in zip(net_names, net):
        if isinstance(m, nn.ConvTranspose2d) and m.stride == (2, 2):  # G's stride-1 projection of z stays
            out += ["Upsample", "Conv2d"]
        elif isinstance(m, nn.Conv2d) and m.stride == (2, 2):
            out += ["Conv2d", "MaxPool2d"]
        else:
            out.append(name)
    return out


@pytest.mark.parametrize("variant", [{}, {"fc_hidden": True}, {"batchnorm_g": False, "batchnorm_d": False}])
@pytest.mark.parametrize("image_size", [32, 64])
def test_strided_conv_switch(image_size, variant):
    c_on = small(image_size=image_size, strided_conv=True, **variant)
    c_off = small(image_size=image_size, strided_conv=False, **variant)
    g_on, g_off = build_generator(c_on), build_generator(c_off)
    d_on, d_off = build_discriminator(c_on), build_discriminator(c_off)
    n = image_size.bit_length() - 3
    for net in (g_on, d_on):
        assert not leaves(net, (nn.MaxPool2d, nn.Upsample))
    assert len(leaves(g_on, nn.ConvTranspose2d)) == n + 1
    assert not leaves(d_off, nn.ConvTranspose2d)
    # G's projection of z, 1x1 -> 4x4, has no stride and is the same dense ConvT(4, 1, 0) either way
    (proj_off,), proj_on = leaves(g_off, nn.ConvTranspose2d), leaves(g_on, nn.ConvTranspose2d)[0]
    assert (proj_off.kernel_size, proj_off.stride, proj_off.padding) == ((4, 4), (1, 1), (0, 0))
    assert (proj_off.weight.shape, proj_off.bias is None) == (proj_on.weight.shape, proj_on.bias is None)
    assert [u.scale_factor for u in leaves(g_off, nn.Upsample)] == [2.0] * n
    assert all(u.mode == "nearest" for u in leaves(g_off, nn.Upsample))
    assert len(leaves(d_off, nn.MaxPool2d)) == n and not leaves(g_off, nn.MaxPool2d)
    # every resampling conv of the off-variant is a stride-1 3x3, padding 1 conv; D's logit conv stays 4x4
    off_convs = leaves(g_off, nn.Conv2d) + leaves(d_off, nn.Conv2d)[:n]
    assert {(m.kernel_size, m.stride, m.padding) for m in off_convs} == {((3, 3), (1, 1), (1, 1))}
    if not c_on.fc_hidden:
        last = leaves(d_off, nn.Conv2d)[-1]
        assert (last.kernel_size, last.stride, last.padding) == ((4, 4), (1, 1), (0, 0))
    # nothing else changes: same layer sequence once each resampling is mapped, same channel widths
    assert _strided_to_resampled(names(g_on), g_on, True) == names(g_off)
    assert _strided_to_resampled(names(d_on), d_on, False) == names(d_off)
    for on, off in ((g_on, g_off), (d_on, d_off)):
        assert ([(m.in_channels, m.out_channels, m.bias is None) for m in leaves(on, CONV)]
                == [(m.in_channels, m.out_channels, m.bias is None) for m in leaves(off, CONV)])


@pytest.mark.parametrize("variant", [{}, {"batchnorm_g": False, "batchnorm_d": False}, {"strided_conv": False}])
@pytest.mark.parametrize("image_size", [32, 64])
def test_fc_hidden_switch(image_size, variant):
    c_on, c_off = small(image_size=image_size, fc_hidden=False, **variant), \
        small(image_size=image_size, fc_hidden=True, **variant)
    g_on, g_off = build_generator(c_on), build_generator(c_off)
    d_on, d_off = build_discriminator(c_on), build_discriminator(c_off)
    assert not leaves(g_on, nn.Linear) and not leaves(d_on, nn.Linear)
    assert [(m.in_features, m.out_features) for m in leaves(g_off, nn.Linear)] == [(16, 512)]
    width = 8 * 2 ** (image_size.bit_length() - 4)  # D's channels at 4x4
    assert [(m.in_features, m.out_features) for m in leaves(d_off, nn.Linear)] == [(width * 16, 512), (512, 1)]
    bn_g, bn_d = c_on.batchnorm_g, c_on.batchnorm_d
    act_g, act_d = "ReLU", "LeakyReLU"
    # G: an fc block in front; the first conv takes 512 channels instead of nz; all the rest unchanged
    g_head = ["Linear"] + ["BatchNorm1d"] * bn_g + [act_g]
    assert names(g_off) == g_head + names(g_on)
    assert leaves(g_off, CONV)[0].in_channels == 512 and leaves(g_on, CONV)[0].in_channels == 16
    first_conv = [i for i, m in enumerate(g_on) if isinstance(m, CONV)][0]
    assert reprs(g_off)[len(g_head) + first_conv + 1:] == reprs(g_on)[first_conv + 1:]
    assert reprs(g_off)[len(g_head) + 1:len(g_head) + first_conv] == reprs(g_on)[1:first_conv]  # Upsample
    # D: the final Conv(C, 1, 4, 1, 0) becomes flatten -> Linear(16C, 512) -> [BN] -> act -> Linear(512, 1)
    d_tail = ["Flatten", "Linear"] + ["BatchNorm1d"] * bn_d + [act_d, "Linear", "Flatten"]
    assert names(d_on)[-2:] == ["Conv2d", "Flatten"]
    assert names(d_off) == names(d_on)[:-2] + d_tail
    assert reprs(d_off)[:-len(d_tail)] == reprs(d_on)[:-2]


def test_fc_hidden_parameter_counts_64px():
    base = cfg(dataset="cifar10", image_size=64)
    fc = base.replace(fc_hidden=True)
    # G: ConvT(nz, 512, 4) -> Linear(nz, 512) + BN1d(512) + ConvT(512, 512, 4)
    g = 3_576_704 - 100 * 512 * 16 + 100 * 512 + 2 * 512 + 512 * 512 * 16
    # D: Conv(512, 1, 4) -> Linear(512 * 16, 512) + BN1d(512) + Linear(512, 1)
    d = 2_765_568 - 512 * 16 + 512 * 16 * 512 + 2 * 512 + 512
    assert n_params(build_generator(fc)) == g
    assert n_params(build_discriminator(fc)) == d


@pytest.mark.parametrize("fc_hidden", [False, True])
@pytest.mark.parametrize("g_activation", ["relu", "leaky_relu", "elu", "tanh"])
def test_g_activation_switch(g_activation, fc_hidden):
    base = small(fc_hidden=fc_hidden)
    g = build_generator(base.replace(g_activation=g_activation))
    ref = build_generator(base)
    acts = [m for m in g if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.Tanh))][:-1]  # last: output Tanh
    assert len(acts) == 3 + fc_hidden and {type(m) for m in acts} == {ACT_CLASS[g_activation]}
    if g_activation == "leaky_relu":
        assert {m.negative_slope for m in acts} == {0.2}
    # only the activations differ
    is_act = [isinstance(m, nn.ReLU) for m in ref]
    assert [r for r, a in zip(reprs(g), is_act) if not a] == [r for r, a in zip(reprs(ref), is_act) if not a]
    assert [type(m) for m, a in zip(g, is_act) if a] == [ACT_CLASS[g_activation]] * (3 + fc_hidden)
    assert reprs(build_discriminator(base.replace(g_activation=g_activation))) == reprs(build_discriminator(base))


@pytest.mark.parametrize("g_output", ["tanh", "sigmoid", "linear"])
def test_g_output_switch(g_output):
    base = small()
    g = build_generator(base.replace(g_output=g_output))
    assert type(g[-1]) is OUT_CLASS[g_output]
    assert reprs(g)[:-1] == reprs(build_generator(base))[:-1]
    assert reprs(build_discriminator(base.replace(g_output=g_output))) == reprs(build_discriminator(base))


@pytest.mark.parametrize("fc_hidden", [False, True])
@pytest.mark.parametrize("d_activation", ["leaky_relu", "relu"])
def test_d_activation_switch(d_activation, fc_hidden):
    base = small(image_size=64, fc_hidden=fc_hidden)
    d = build_discriminator(base.replace(d_activation=d_activation))
    ref = build_discriminator(base)
    acts = leaves(d, (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.Tanh))
    assert len(acts) == 4 + fc_hidden and {type(m) for m in acts} == {ACT_CLASS[d_activation]}
    if d_activation == "leaky_relu":
        assert {m.negative_slope for m in acts} == {0.2}
    is_act = [isinstance(m, nn.LeakyReLU) for m in ref]
    assert [r for r, a in zip(reprs(d), is_act) if not a] == [r for r, a in zip(reprs(ref), is_act) if not a]
    assert reprs(build_generator(base.replace(d_activation=d_activation))) == reprs(build_generator(base))


@pytest.mark.parametrize("flat", [{"nz": 16, "ngf": 4, "ndf": 4, "fc_hidden": True},
                                  {"arch": "mlp", "mlp_hidden": 16, "maxout_pieces": 3},
                                  {"dataset": "ring8", "arch": "mlp", "pack": 2}],
                         ids=["dcgan_fc_hidden", "mlp_maxout", "ring8_packed"])
def test_spectral_norm_d_normalises_every_weight_layer_of_d_and_nothing_of_g(flat):
    """Each Linear / convolution of D used as W / sigma(W): after enough power iterations (forwards in training
    mode) its largest singular value is 1; the raw weights are the init's, G is untouched."""
    base = cfg(**flat)
    torch.manual_seed(0)
    plain = build_discriminator(base)
    torch.manual_seed(0)
    d = build_discriminator(base.replace(spectral_norm_d=True))
    layers = [m for m in d.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert layers and all(hasattr(m, "parametrizations") for m in layers)
    originals = [m.parametrizations.weight.original for m in layers]
    raw = [m.weight for m in plain.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert all(torch.equal(a, b) for a, b in zip(originals, raw))  # the same init, then normalised
    x = torch.randn(2, *((2,) if base.dataset == "ring8" else (1, 32, 32))) if base.pack == 1 else torch.randn(4, 2)
    d.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny layers: one thread is fastest, and a busy machine's other core costs nothing
    try:
        with torch.no_grad():
            for _ in range(400):
                d(x)
    finally:
        torch.set_num_threads(threads)
    d.eval()
    with torch.no_grad():
        sigmas = [float(torch.linalg.matrix_norm(m.weight.flatten(1), ord=2)) for m in layers]
    assert sigmas == pytest.approx([1.0] * len(layers), rel=2e-3)
    assert reprs(build_generator(base.replace(spectral_norm_d=True))) == reprs(build_generator(base))


# ---------------------------------------------------------------- init

def test_dcgan_init_statistics():
    torch.manual_seed(0)
    c = cfg(dataset="cifar10", image_size=64)
    g, d = build_generator(c), build_discriminator(c)
    big = leaves(g, nn.ConvTranspose2d)[1]  # ConvT(512, 256, 4, 2, 1): 2.1M weights
    assert big.weight.shape == (512, 256, 4, 4)
    assert big.weight.std().item() == pytest.approx(0.02, abs=2e-4)
    assert big.weight.mean().item() == pytest.approx(0.0, abs=1e-4)
    d_big = leaves(d, nn.Conv2d)[3]  # Conv(256, 512, 4, 2, 1)
    assert d_big.weight.std().item() == pytest.approx(0.02, abs=2e-4)
    bn_w = torch.cat([m.weight for m in leaves(g, nn.BatchNorm2d) + leaves(d, nn.BatchNorm2d)])
    assert bn_w.numel() == (512 + 256 + 128 + 64) + (128 + 256 + 512)
    assert bn_w.mean().item() == pytest.approx(1.0, abs=3e-3)
    assert bn_w.std().item() == pytest.approx(0.02, abs=3e-3)
    for m in leaves(g, nn.BatchNorm2d) + leaves(d, nn.BatchNorm2d):
        assert torch.equal(m.bias, torch.zeros_like(m.bias))


def test_dcgan_init_linear_layers_and_biases():
    torch.manual_seed(1)
    c = cfg(dataset="cifar10", image_size=64, fc_hidden=True, batchnorm_g=False, batchnorm_d=False)
    g, d = build_generator(c), build_discriminator(c)
    fc = leaves(d, nn.Linear)[0]  # Linear(8192, 512): 4.2M weights
    assert fc.weight.std().item() == pytest.approx(0.02, abs=2e-4)
    biases = [m.bias for m in leaves(g, (*CONV, nn.Linear)) + leaves(d, (*CONV, nn.Linear)) if m.bias is not None]
    assert len(biases) == 5 + 4  # G: fc + 4 hidden convs; D: 3 hidden convs + the fc hidden layer
    assert all(torch.equal(b, torch.zeros_like(b)) for b in biases)


@pytest.mark.parametrize("g_activation,gain", [("relu", math.sqrt(2)), ("leaky_relu", math.sqrt(2 / (1 + 0.2 ** 2))),
                                               ("tanh", 5 / 3)])
def test_mlp_init_preserves_scale_layer_to_layer(g_activation, gain):
    torch.manual_seed(1)
    c = cfg(dataset="ring8", mlp_hidden=1024, mlp_layers=2, g_activation=g_activation)
    g, d = build_generator(c), build_discriminator(c)
    g_lin, d_lin = leaves(g, nn.Linear), leaves(d, nn.Linear)
    # He normal with the following nonlinearity's gain: std = gain / sqrt(fan_in); the output layers gain 1
    assert [m.weight.std().item() for m in g_lin] == pytest.approx(
        [gain / math.sqrt(2), gain / math.sqrt(1024), 1 / math.sqrt(1024)], rel=0.02)
    leaky = math.sqrt(2 / (1 + 0.2 ** 2))  # D's hidden layers: LeakyReLU(0.2)
    assert [m.weight.std().item() for m in d_lin] == pytest.approx(
        [leaky / math.sqrt(2), leaky / math.sqrt(1024), 1 / math.sqrt(1024)], rel=0.06)
    assert all(torch.equal(m.bias, torch.zeros_like(m.bias)) for m in g_lin + d_lin)


def test_mlp_generator_starts_spread_not_as_a_point_mass():
    torch.manual_seed(0)
    c = cfg(dataset="ring8")
    x = build_generator(c)(torch.randn(2000, c.nz)).detach()  # [2000, 2]
    # ring8's data has std 0.707 per axis; the DCGAN init gave this generator std ~0.0006
    assert x.std(0).tolist() == pytest.approx([0.52, 0.80], abs=0.05)


def test_init_uses_global_rng():
    c = small(fc_hidden=True)
    torch.manual_seed(3)
    a = build_generator(c).state_dict(), build_discriminator(c).state_dict()
    torch.manual_seed(3)
    b = build_generator(c).state_dict(), build_discriminator(c).state_dict()
    torch.manual_seed(4)
    other = build_generator(c).state_dict()
    for x, y in zip(a, b):
        assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)
    assert not torch.equal(a[0]["0.weight"], other["0.weight"])


# ---------------------------------------------------------------- channels_last, bf16 autocast

@pytest.mark.parametrize("variant", [{}, dict(GUIDELINE_OFF)], ids=["baseline", "all_off"])
def test_channels_last_matches_and_bf16_autocast_runs(variant):
    torch.manual_seed(0)
    c = small(dataset="cifar10", **variant)
    g, d = build_generator(c).eval(), build_discriminator(c).eval()
    z = torch.randn(4, c.nz)
    with torch.no_grad():
        x = g(z)
        logits = d(x)
        g_cl, d_cl = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
        x_cl = g_cl(z)
        logits_cl = d_cl(x_cl.contiguous(memory_format=torch.channels_last))
        torch.testing.assert_close(x_cl, x, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(logits_cl, logits, rtol=1e-4, atol=1e-5)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            x_bf = g_cl(z)
            logits_bf = d_cl(x_bf)
    assert x_bf.shape == x.shape and logits_bf.shape == (4,)
    assert torch.isfinite(x_bf.float()).all() and torch.isfinite(logits_bf.float()).all()
    torch.testing.assert_close(x_bf.float(), x, rtol=0.1, atol=0.05)


# ---------------------------------------------------------------- mlp and affine

def test_a_packed_discriminator_is_the_unpacked_network_on_concatenated_samples():
    packed = build_discriminator(GANConfig.from_flat({"dataset": "ring8", "pack": 2, "mlp_hidden": 8}))
    assert names(packed)[0] == "Pack" and packed[1].in_features == 4  # 2 samples x 2 coordinates
    x = torch.randn(6, 2)
    by_hand = nn.Sequential(*list(packed)[1:])(torch.cat([x[0::2], x[1::2]], dim=1))  # rows (x0 x1), (x2 x3), ...
    assert packed(x).shape == (3,)
    assert torch.equal(packed(x), by_hand)


def test_a_packed_dcgan_discriminator_reads_m_times_the_channels():
    d = build_discriminator(small(pack=3))
    assert names(d)[0] == "Pack" and leaves(d, nn.Conv2d)[0].in_channels == 3
    assert d(torch.randn(6, 1, 32, 32)).shape == (2,)


def test_init_auto_keeps_the_variance_preserving_mlp_init():
    torch.manual_seed(0)
    first = leaves(build_generator(GANConfig.from_flat({"dataset": "ring8", "mlp_hidden": 4000})), nn.Linear)[1]
    assert float(first.weight.detach().std()) == pytest.approx(math.sqrt(2 / 4000), rel=0.01)  # He normal before ReLU


def test_init_uniform_is_the_gan_papers_released_init():
    c = GANConfig.from_flat({"dataset": "mnist5k", "arch": "mlp", "mlp_hidden": 1200, "mlp_hidden_d": 240,
                             "maxout_pieces": 5, "init": "uniform"})
    torch.manual_seed(0)
    g, d = build_generator(c), build_discriminator(c)
    for net, scale in ((g, 0.05), (d, 0.005)):  # pylearn2's irange: U(-scale, scale), biases 0
        w = torch.cat([m.weight.detach().flatten() for m in leaves(net, nn.Linear)])
        assert float(w.abs().max()) <= scale and float(w.abs().max()) == pytest.approx(scale, rel=1e-3)
        assert float(w.std()) == pytest.approx(scale / math.sqrt(3), rel=0.01)
        assert all(float(m.bias.detach().abs().max()) == 0.0 for m in leaves(net, nn.Linear) if m.bias is not None)

"""gan_core.mlp: the fully connected networks (the GAN paper's, PacGAN's 2D ones) and the affine generator."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_core.config import GANConfig
from gan_core.mlp import AffineGenerator, MLPDiscriminator, MLPGenerator
from gan_core.models import build_discriminator, build_generator

from .nets import ACT_CLASS, CONV, OUT_CLASS, cfg, leaves, names

@pytest.mark.parametrize("mlp_layers", [1, 2, 3])
@pytest.mark.parametrize("dataset, arch, dim", [("ring8", "mlp", 2), ("grid25", "mlp", 2), ("gauss1d", "mlp", 1)])
def test_mlp_shapes_and_structure(dataset, arch, dim, mlp_layers):
    c = cfg(dataset=dataset, arch=arch, mlp_hidden=32, mlp_layers=mlp_layers, nz=3)
    g, d = build_generator(c), build_discriminator(c)
    assert isinstance(g, MLPGenerator) and isinstance(d, MLPDiscriminator)
    x = g(torch.randn(5, 3))
    assert x.shape == (5, dim) and x.dtype == torch.float32
    logits = d(x)
    assert logits.shape == (5,) and logits.dtype == torch.float32
    assert [(m.in_features, m.out_features) for m in leaves(g, nn.Linear)] == \
        [(3, 32)] + [(32, 32)] * (mlp_layers - 1) + [(32, dim)]
    assert [(m.in_features, m.out_features) for m in leaves(d, nn.Linear)] == \
        [(dim, 32)] + [(32, 32)] * (mlp_layers - 1) + [(32, 1)]
    assert type(g[-1]) is nn.Identity  # points default to a linear output
    assert names(g)[:-2:2] == ["Linear"] * mlp_layers and names(g)[1:-2:2] == ["ReLU"] * mlp_layers
    assert names(d)[1:-2:2] == ["LeakyReLU"] * mlp_layers
    for net in (g, d):
        assert not leaves(net, nn.modules.batchnorm._BatchNorm)
        assert not leaves(net, (*CONV, nn.Sigmoid))


@pytest.mark.parametrize("g_activation, d_activation, g_output",
                         [("tanh", "relu", "tanh"), ("elu", "leaky_relu", "sigmoid")])
def test_mlp_activation_switches(g_activation, d_activation, g_output):
    c = cfg(dataset="ring8", g_activation=g_activation, d_activation=d_activation, g_output=g_output)
    g, d = build_generator(c), build_discriminator(c)
    assert [type(m) for m in g][1:-2:2] == [ACT_CLASS[g_activation]] * 2
    assert type(g[-1]) is OUT_CLASS[g_output]
    assert [type(m) for m in d][1:-2:2] == [ACT_CLASS[d_activation]] * 2


def test_affine_generator_is_exactly_a_z_plus_b():
    c = cfg(dataset="gauss1d")
    assert (c.arch, c.nz) == ("affine", 1)
    g = build_generator(c)
    assert isinstance(g, AffineGenerator)
    assert dict(g.named_parameters()).keys() == {"a", "b"}
    assert g.a.item() == 1.0 and g.b.item() == 0.0
    z = torch.randn(7, 1)
    assert torch.equal(g(z), z)  # identity at init
    with torch.no_grad():
        g.a.fill_(2.5)
        g.b.fill_(-0.75)
    out = g(z)
    assert out.shape == (7, 1) and out.dtype == torch.float32
    assert torch.equal(out, 2.5 * z - 0.75)
    out.sum().backward()
    assert g.a.grad.item() == pytest.approx(z.sum().item(), rel=1e-5)
    assert g.b.grad.item() == 7.0


def test_affine_discriminator_is_the_mlp():
    c = cfg(dataset="gauss1d", mlp_hidden=16)
    d = build_discriminator(c)
    assert isinstance(d, MLPDiscriminator)
    assert leaves(d, nn.Linear)[0].in_features == 1
    assert d(torch.randn(9, 1)).shape == (9,)


def test_the_papers_mnist_model_on_32px_images():
    c = cfg(dataset="mnist5k", arch="mlp", nz=100, mlp_hidden=1200, mlp_hidden_d=240, maxout_pieces=5,
            dropout_input=0.2, dropout_hidden=0.5)
    g, d = build_generator(c), build_discriminator(c)
    x = g(torch.randn(4, 100))
    assert x.shape == (4, 1, 32, 32) and type(g[-2]) is nn.Tanh  # images default to tanh, the data's range
    assert d(x).shape == (4,)
    n = 32 * 32
    # G: 100 -> 1200 -> 1200 -> 1024; D: 1024 -> maxout 240 x 5 -> maxout 240 x 5 -> 1
    assert sum(p.numel() for p in g.parameters()) == (100 * 1200 + 1200) + (1200 * 1200 + 1200) + (1200 * n + n)
    assert sum(p.numel() for p in d.parameters()) == (n * 1200 + 1200) + (240 * 1200 + 1200) + (240 + 1)
    assert names(d) == ["Flatten", "Dropout", "Maxout", "Dropout", "Maxout", "Dropout", "Linear", "Flatten"]
    assert [m.p for m in leaves(d, nn.Dropout)] == [0.2, 0.5, 0.5]
    d.eval()  # dropout off: the same input, the same logits
    assert torch.equal(d(x), d(x))
    d.train()
    torch.manual_seed(0)
    assert not torch.equal(d(x), d(x))  # dropout on while D trains


def test_the_papers_mnist_model_in_its_own_frame_has_784_inputs_and_its_marginal_bias():
    """28 px in [0, 1] (G 100 -> 1200 -> 1200 -> 784, D 784 -> ...), the sigmoid's bias the logit of each pixel's
    training mean, clipped to [1e-7, 1 - 1e-7] as pylearn2's init_sigmoid_bias_from_marginals does."""
    from gan_core.data import load_dataset
    from gan_core.models import set_output_bias_from_marginals

    c = cfg(dataset="mnist5k", arch="mlp", nz=100, mlp_hidden=1200, mlp_hidden_d=240, maxout_pieces=5,
            dropout_input=0.2, dropout_hidden=0.5, image_size=28, pixel_range="0..1", g_output="sigmoid",
            g_bias="marginals", init="uniform")
    g, d = build_generator(c), build_discriminator(c)
    n = 28 * 28
    assert sum(p.numel() for p in g.parameters()) == (100 * 1200 + 1200) + (1200 * 1200 + 1200) + (1200 * n + n)
    assert sum(p.numel() for p in d.parameters()) == (n * 1200 + 1200) + (240 * 1200 + 1200) + (240 + 1)
    out = leaves(g, nn.Linear)[-1]
    assert torch.equal(out.bias, torch.zeros(n))  # uniform init: biases 0 until the marginals are set
    data = load_dataset(c)
    set_output_bias_from_marginals(g, data)
    mean = data.train.double().mean(0).flatten() / 255  # [784]
    assert float(mean.min()) == 0.0  # corner pixels are never inked: their bias is logit(1e-7)
    p = mean.clamp(1e-7, 1 - 1e-7)
    torch.testing.assert_close(out.bias, torch.log(p / (1 - p)).float(), rtol=0, atol=1e-6)
    torch.testing.assert_close(torch.sigmoid(out.bias.double()), p, rtol=1e-6, atol=0)
    x = g(torch.zeros(2, 100))  # zero noise through zero hidden biases: the output is sigmoid(bias) exactly
    torch.testing.assert_close(x.flatten(1)[0].double(), p, rtol=1e-6, atol=0)
    assert x.shape == (2, 1, 28, 28) and d(x).shape == (2,)


def test_without_maxout_and_dropout_the_mlp_discriminator_is_unchanged():
    c = cfg(dataset="ring8", mlp_hidden=32, mlp_hidden_d=8)
    d = build_discriminator(c)
    assert names(d) == ["Linear", "LeakyReLU", "Linear", "LeakyReLU", "Linear", "Flatten"]
    assert [(m.in_features, m.out_features) for m in leaves(d, nn.Linear)] == [(2, 8), (8, 8), (8, 1)]
    assert [(m.in_features, m.out_features) for m in leaves(build_generator(c), nn.Linear)] == \
        [(2, 32), (32, 32), (32, 2)]



def test_pacgans_2d_networks():
    c = GANConfig.from_flat({"dataset": "ring8", "pack": 2, "mlp_hidden": 400, "mlp_layers": 4, "batchnorm_g": True,
                             "mlp_hidden_d": 200, "mlp_layers_d": 3, "maxout_pieces": 5, "init": "normal_0.02"})
    g, d = build_generator(c), build_discriminator(c)
    assert names(g) == ["Linear", "BatchNorm1d", "ReLU"] * 4 + ["Linear", "Identity"]
    assert [m.bias is None for m in leaves(g, nn.Linear)] == [True, True, True, True, False]
    # G: 2 -> 400 (no bias) x 4 hidden with BatchNorm (2 x 400 each) -> 2; D: 4 -> maxout 200 x 5 -> 200 x 5 -> 1
    assert sum(p.numel() for p in g.parameters()) == 2 * 400 + 3 * 400 * 400 + 4 * 2 * 400 + (400 * 2 + 2)
    assert sum(p.numel() for p in d.parameters()) == (4 * 1000 + 1000) + 2 * (200 * 1000 + 1000) + (200 + 1)
    torch.manual_seed(0)
    weights = torch.cat([m.weight.detach().flatten() for m in leaves(build_generator(c), nn.Linear)])
    assert float(weights.std()) == pytest.approx(0.02, rel=0.01)
    assert float(weights.mean()) == pytest.approx(0.0, abs=3e-4)

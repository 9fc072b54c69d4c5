"""gan_core.stacked: N stacked copies of a network compute what each copy computes alone, BatchNorm included."""
from __future__ import annotations

import copy

import pytest
import torch
from torch.func import stack_module_state

from gan_core.config import GANConfig
from gan_core.models import build_discriminator, build_generator
from gan_core.stacked import explicit, stacked_forward

NETS = {  # name: (builder, config, one member's input shape)
    "PacGAN's G: BatchNorm1d in an MLP": (build_generator, {"dataset": "ring8", "batchnorm_g": True,
                                                            "mlp_hidden": 8}, (6, 2)),
    "PacGAN's D: packs of 2, maxout": (build_discriminator, {"dataset": "ring8", "pack": 2, "maxout_pieces": 3,
                                                              "mlp_hidden": 8}, (6, 2)),
    "the GAN paper's MLP on images: flatten, unflatten, sigmoid": (build_generator, {
        "dataset": "mnist5k", "arch": "mlp", "mlp_hidden": 8, "g_output": "sigmoid"}, (6, 100)),
    "an MLP D on images": (build_discriminator, {"dataset": "mnist5k", "arch": "mlp", "mlp_hidden": 8},
                           (6, 1, 32, 32)),
}


def _members(build, flat, n=3):
    out = []
    for s in range(n):
        torch.manual_seed(s)
        out.append(build(GANConfig.from_flat(flat)))
    return out


@pytest.mark.parametrize("name", list(NETS))
def test_the_stacked_forward_is_each_members_forward(name):
    torch.set_default_dtype(torch.float64)
    try:
        build, flat, shape = NETS[name]
        nets = _members(build, flat)
        alone = [copy.deepcopy(n) for n in nets]
        params, buffers = stack_module_state(nets)
        base = copy.deepcopy(nets[0]).to("meta")
        assert explicit(base)
        forward = stacked_forward(base)
        x = torch.randn(3, *shape)  # [N = 3, ...]
        out = forward(params, buffers, x)
        for i, net in enumerate(alone):
            torch.testing.assert_close(out[i], net(x[i]), rtol=0, atol=1e-12)
            for k, b in net.named_buffers():  # train mode: the running statistics moved as the module's did
                torch.testing.assert_close(buffers[k][i], b, rtol=0, atol=1e-12)
        loss = out.square().sum()
        grads = torch.autograd.grad(loss, list(params.values()))
        for i, net in enumerate(alone):
            own = torch.autograd.grad(net(x[i]).square().sum(), list(net.parameters()))
            for g_all, g in zip(grads, own):
                torch.testing.assert_close(g_all[i], g, rtol=0, atol=1e-10)
    finally:
        torch.set_default_dtype(torch.float32)


def test_a_network_with_convolutions_runs_through_vmap():
    nets = _members(build_generator, {"dataset": "mnist5k", "ngf": 8, "nz": 16})
    alone = [copy.deepcopy(n) for n in nets]
    params, buffers = stack_module_state(nets)
    base = copy.deepcopy(nets[0]).to("meta")
    assert not explicit(base)
    z = torch.randn(3, 4, 16)
    out = stacked_forward(base)(params, buffers, z)
    assert out.shape == (3, 4, 1, 32, 32)
    for i, net in enumerate(alone):
        torch.testing.assert_close(out[i], net(z[i]), rtol=1e-5, atol=1e-6)  # float32: another summation order

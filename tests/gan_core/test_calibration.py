"""gan_core.calibration: G's BatchNorm running statistics recomputed from the run's fixed calibration noise."""
from __future__ import annotations

import torch
from torch import nn

from gan_core.calibration import CALIBRATION_SAMPLES, calibrate_batchnorm, calibration_noise
from gan_core.config import GANConfig
from gan_core.models import build_generator
from gan_core.runtime import CALIBRATION_STREAM, stream

BN_DCGAN = {"dataset": "mnist5k", "ngf": 8, "ndf": 8, "batch_size": 8, "nz": 16}


def test_calibration_restores_momentum_and_mode_and_gives_the_average_batch_statistics():
    cfg = GANConfig.from_flat(BN_DCGAN)
    g = build_generator(cfg)
    g.eval()
    calibrate_batchnorm(g, calibration_noise(cfg, torch.device("cpu")))
    bn = next(m for m in g.modules() if isinstance(m, nn.BatchNorm2d))
    assert bn.momentum == 0.1 and not g.training
    assert int(bn.num_batches_tracked) == CALIBRATION_SAMPLES // BN_DCGAN["batch_size"] == 128
    # the same statistics by hand: the first layers' batch means over the calibration noise
    gen = stream(0, CALIBRATION_STREAM, torch.device("cpu"))
    head = nn.Sequential(*list(g)[:2])  # Unflatten, ConvT: the input of the first BatchNorm
    with torch.no_grad():
        means = [head(torch.randn(8, 16, generator=gen)).mean((0, 2, 3)) for _ in range(128)]
    assert torch.allclose(bn.running_mean, torch.stack(means).mean(0), rtol=1e-5, atol=1e-6)


def test_the_calibration_noise_is_the_same_at_every_evaluation_and_sized_like_a_training_batch():
    cfg = GANConfig.from_flat({**BN_DCGAN, "batch_size": 100})
    first, again = (list(calibration_noise(cfg, torch.device("cpu"))) for _ in range(2))
    assert [z.shape for z in first] == [torch.Size([100, 16])] * 11  # ceil(1024 / 100)
    assert all(torch.equal(a, b) for a, b in zip(first, again))


def test_a_generator_without_batchnorm_is_left_alone():
    cfg = GANConfig.from_flat({"dataset": "ring8"})
    g = build_generator(cfg)
    before = [p.clone() for p in g.parameters()]

    def noise():
        raise AssertionError("no BatchNorm: G must not be run")
        yield  # pragma: no cover

    calibrate_batchnorm(g, noise())
    assert all(torch.equal(a, b) for a, b in zip(before, g.parameters()))

"""gan_core.runtime: the device, the optimizers and the seeded random streams of a run."""
from __future__ import annotations

import pytest
import torch

from gan_core.config import MAX_SEED, GANConfig
from gan_core.runtime import (CALIBRATION_STREAM, DATA_STREAM, EVAL_STREAM, NOISE_STREAM, SEED_STRIDE, apply_schedule,
                              draw_noise, has_schedule, make_optimizer, resolve_device, schedule, stream,
                              native_bf16, resolve_precision, stream_device)


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"^device 'cuda' was asked for but torch sees no CUDA GPU; allowed "
                                             r"here: 'cpu' or 'auto'$"):
            resolve_device("cuda")


def test_make_optimizer_is_adam_with_the_betas_or_sgd_with_the_momentum():
    params = [torch.nn.Parameter(torch.zeros(2))]
    adam = make_optimizer(GANConfig.from_flat({"dataset": "ring8", "beta1": 0.8}), params, 1e-4)
    assert isinstance(adam, torch.optim.Adam)
    assert (adam.defaults["lr"], adam.defaults["betas"]) == (1e-4, (0.8, 0.999))
    sgd = make_optimizer(GANConfig.from_flat({"dataset": "ring8", "optimizer": "sgd", "momentum": 0.5}), params, 0.1)
    assert isinstance(sgd, torch.optim.SGD)
    assert (sgd.defaults["lr"], sgd.defaults["momentum"]) == (0.1, 0.5)


def test_each_stream_has_its_own_seed_from_the_runs_seed_and_its_offset():
    cpu = torch.device("cpu")
    draw = lambda seed, offset: torch.randn(4, generator=stream(seed, offset, cpu))  # noqa: E731
    assert torch.equal(draw(3, DATA_STREAM), torch.randn(4, generator=torch.Generator().manual_seed(3001)))
    assert torch.equal(draw(3, DATA_STREAM), draw(3, DATA_STREAM))
    assert not torch.equal(draw(3, DATA_STREAM), draw(3, NOISE_STREAM))
    assert not torch.equal(draw(3, DATA_STREAM), draw(4, DATA_STREAM))


def test_the_largest_seed_is_the_last_whose_stream_seeds_fit_the_32_bits_of_a_cpu_generator():
    offsets = (DATA_STREAM, NOISE_STREAM, EVAL_STREAM, CALIBRATION_STREAM)
    assert MAX_SEED * SEED_STRIDE + max(offsets) < 2**32 <= (MAX_SEED + 1) * SEED_STRIDE + min(offsets)
    # why it is a bound: a CPU generator keeps 32 bits of its seed, so seed 2**29 (2**29 * 1000 = 125 * 2**32)
    # would draw every stream of seed 0
    cpu = torch.device("cpu")
    draw = lambda seed, offset: torch.randn(4, generator=stream(seed, offset, cpu))  # noqa: E731
    for offset in offsets:
        assert torch.equal(draw(2**29, offset), draw(0, offset))
        assert not torch.equal(draw(MAX_SEED, offset), draw(0, offset))


def test_stream_device_tells_a_cpu_generator_state_by_its_size():
    assert stream_device(torch.Generator().get_state()) == "cpu"
    assert stream_device(torch.zeros(16, dtype=torch.uint8)) == "cuda"  # a CUDA generator's state: 16 bytes


PAPER_SGD = {"dataset": "ring8", "optimizer": "sgd", "momentum": 0.5, "momentum_final": 0.7, "momentum_ramp": 124_500,
             "lr_d": 0.05, "lr_g": 0.1, "lr_decay": 1.000004, "lr_min": 1e-6}


@pytest.mark.parametrize("done, lr_d, lr_g, momentum", [
    (0, 0.05, 0.1, 0.5),
    (1, 0.05 / 1.000004, 0.1 / 1.000004, 0.5 + 0.2 / 124_500),
    (62_250, 0.05 / 1.000004 ** 62_250, 0.1 / 1.000004 ** 62_250, 0.6),        # half the ramp
    (124_500, 0.05 / 1.000004 ** 124_500, 0.1 / 1.000004 ** 124_500, 0.7),
    (500_000, 0.05 / 1.000004 ** 500_000, 0.1 / 1.000004 ** 500_000, 0.7),      # the ramp ends at 0.7
    (2_800_000, 1e-6, 0.1 / 1.000004 ** 2_800_000, 0.7),                       # lr_d at its floor, lr_g not yet
    (10**9, 1e-6, 1e-6, 0.7),                                                   # far beyond: no overflow
])
def test_schedule_is_pylearn2s_exponential_decay_and_a_linear_momentum_ramp(done, lr_d, lr_g, momentum):
    got = schedule(GANConfig.from_flat(PAPER_SGD), done)
    assert got == pytest.approx((lr_d, lr_g, momentum), rel=1e-12)


def test_without_schedules_the_optimizers_keep_their_settings():
    cfg = GANConfig.from_flat({"dataset": "ring8", "optimizer": "sgd", "momentum": 0.5, "lr_d": 0.05, "lr_g": 0.1})
    assert not has_schedule(cfg)
    assert schedule(cfg, 10**6) == (0.05, 0.1, 0.5)
    assert has_schedule(GANConfig.from_flat(PAPER_SGD))


def test_apply_schedule_sets_both_optimizers():
    cfg = GANConfig.from_flat(PAPER_SGD)
    opt_d = make_optimizer(cfg, [torch.nn.Parameter(torch.zeros(2))], cfg.lr_d)
    opt_g = make_optimizer(cfg, [torch.nn.Parameter(torch.zeros(2))], cfg.lr_g)
    apply_schedule(cfg, 62_250, opt_d, opt_g)
    lr_d, lr_g, momentum = schedule(cfg, 62_250)
    assert [(g["lr"], g["momentum"]) for g in opt_d.param_groups] == [(lr_d, momentum)]
    assert [(g["lr"], g["momentum"]) for g in opt_g.param_groups] == [(lr_g, momentum)]


def test_uniform_noise_is_the_papers_uniform_in_plus_minus_sqrt_3():
    cfg = GANConfig.from_flat({"nz": 100, "noise": "uniform"})
    z = draw_noise(cfg, 5000, torch.Generator().manual_seed(7))
    expected = (torch.rand(5000, 100, generator=torch.Generator().manual_seed(7)) * 2 - 1) * 3 ** 0.5
    assert torch.equal(z, expected)
    assert float(z.abs().max()) <= 3 ** 0.5
    gaussian = draw_noise(GANConfig.from_flat({"nz": 100}), 4, torch.Generator().manual_seed(7))
    assert torch.equal(gaussian, torch.randn(4, 100, generator=torch.Generator().manual_seed(7)))


def test_native_bf16_on_this_cpu_is_what_the_processor_says():
    """avx512_bf16 or amx_bf16 among the CPU's flags (Linux): bf16 in hardware, not oneDNN's AVX512 emulation."""
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags |= set(line.split(":", 1)[1].split())
    assert native_bf16(torch.device("cpu")) == bool(flags & {"avx512_bf16", "amx_bf16"})


@pytest.mark.parametrize("precision, arch, device, native, resolved", [
    ("fp32", "dcgan", "cuda", True, "fp32"), ("bf16", "mlp", "cpu", False, "bf16"),  # an explicit choice stays
    ("auto", "dcgan", "cuda", True, "bf16"), ("auto", "dcgan", "cuda", False, "fp32"),
    ("auto", "dcgan", "cpu", True, "fp32"), ("auto", "dcgan", "cpu", False, "fp32"),  # a CPU: fp32 (the job)
    ("auto", "mlp", "cuda", True, "fp32"), ("auto", "mlp", "cpu", True, "fp32")])
def test_resolve_precision(monkeypatch, precision, arch, device, native, resolved):
    import gan_core.runtime

    monkeypatch.setattr(gan_core.runtime, "native_bf16", lambda device: native)
    dataset = "mnist5k" if arch == "dcgan" else "ring8"
    cfg = GANConfig.from_flat({"dataset": dataset, "arch": arch, "precision": precision})
    assert resolve_precision(cfg, torch.device(device)) == resolved


def test_native_bf16_on_cuda_asks_torch_without_emulation(monkeypatch):
    asked = []
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: asked.append(
        including_emulation) or True)
    assert native_bf16(torch.device("cuda")) is True and asked == [False]

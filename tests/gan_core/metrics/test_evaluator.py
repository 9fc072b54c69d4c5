"""The evaluator the trainer calls: the factory, mixtures, gauss1d, bad input, metric directions (the image
evaluator: test_image_evaluator.py; batched generation: test_evaluator_base.py)."""
from __future__ import annotations

import math
import pickle

import pytest
import torch

from gan_core.config import GANConfig
from gan_core.data import MixtureData
from gan_core.metrics import build_evaluator
from gan_core.metrics.gaussian import gaussian_jsd
from gan_core.models import build_generator

from .conftest import ReplayGenerator

class _MixtureGenerator(torch.nn.Module):
    """Samples the true mixture from z [n, 3]: mode from z[:, 0], noise from z[:, 1:]."""

    def __init__(self, data: MixtureData):
        super().__init__()
        self.register_buffer("centres", data.centres)
        self.std = data.std

    def forward(self, z):
        mode = (z[:, 0].abs() * 1e4).long() % self.centres.shape[0]
        return self.centres[mode] + self.std * z[:, 1:3]


@pytest.mark.parametrize("name,n_modes", [("ring8", 8), ("grid25", 25)])
def test_mixture_evaluator(name, n_modes):
    cfg = GANConfig.from_flat({"dataset": name})
    ev = build_evaluator(cfg)
    assert ev.primary_metric == "reverse_kl" and ev.mode == "min" and ev.n_samples == 2500
    z = torch.randn(ev.n_samples, 3, generator=torch.Generator().manual_seed(0))
    m = ev.evaluate(_MixtureGenerator(MixtureData(name)), z)
    assert m["modes_captured"] == n_modes and m["eval_status"] == "ok"
    assert m["high_quality_frac"] == pytest.approx(1 - math.exp(-4.5), abs=0.0085)
    assert m["reverse_kl"] == pytest.approx(0.0, abs=0.015)
    assert m["diversity"] == pytest.approx(1.0, abs=0.05)
    assert m["top_share"] == pytest.approx(1 / n_modes, abs=0.25 / n_modes)  # an even spread over the modes
    # an MLP generator from the models module runs through it; NaN output gives NaN metrics
    g = build_generator(cfg)
    assert set(ev.evaluate(g, torch.randn(100, cfg.nz))) == {"modes_captured", "high_quality_frac", "reverse_kl",
                                                            "top_share", "diversity", "eval_status"}
    with torch.no_grad():
        for p in g.parameters():
            p.fill_(float("nan"))
    bad = ev.evaluate(g, torch.randn(100, cfg.nz))
    assert bad["eval_status"] == "nonfinite_samples" and math.isnan(bad["reverse_kl"])
    assert pickle.loads(pickle.dumps(ev)).to("cpu").evaluate(_MixtureGenerator(MixtureData(name)), z) == m


def test_gauss1d_affine_evaluator_is_exact():
    cfg = GANConfig.from_flat({"dataset": "gauss1d"})
    ev = build_evaluator(cfg)
    assert ev.primary_metric == "jsd" and ev.mode == "min" and ev.n_samples == 10_000
    g = build_generator(cfg)  # x = a z + b, starts at a = 1, b = 0: p_g = p_data
    z = torch.randn(ev.n_samples, 1)
    assert ev.evaluate(g, z) == {"jsd": 0.0, "g_mu": 0.0, "g_sigma": 1.0, "diversity": 1.0, "eval_status": "ok"}
    with torch.no_grad():
        g.a.fill_(-2.0)  # sign of a does not matter: p_g = N(b, a^2)
        g.b.fill_(1.0)
    m = ev.evaluate(g, z)
    assert m["jsd"] == pytest.approx(gaussian_jsd(0, 1, 1, 2), abs=1e-14) and m["g_sigma"] == 2.0
    with torch.no_grad():
        g.a.fill_(0.0)
    assert ev.evaluate(g, z)["jsd"] == pytest.approx(math.log(2), abs=1e-15)  # a point mass
    with torch.no_grad():
        g.a.fill_(float("nan"))
    m = ev.evaluate(g, z)
    assert m["eval_status"] == "nonfinite_samples" and math.isnan(m["jsd"])
    with pytest.raises(ValueError, match="generator.a"):
        ev.evaluate(torch.nn.Linear(1, 1), z)


def test_gauss1d_other_generators_get_an_estimate():
    cfg = GANConfig.from_flat({"dataset": "gauss1d", "arch": "mlp"})
    ev = build_evaluator(cfg)
    assert ev.primary_metric == "jsd_estimate"
    shift = ReplayGenerator(1 + torch.randn(10_000, 1, generator=torch.Generator().manual_seed(0)))
    m = ev.evaluate(shift, ReplayGenerator.noise(10_000, 1))
    assert set(m) == {"jsd_estimate", "diversity", "eval_status"}
    assert m["jsd_estimate"] == pytest.approx(gaussian_jsd(0, 1, 1, 1), abs=0.01)


def test_build_evaluator_needs_a_config():
    with pytest.raises(ValueError, match="GANConfig"):
        build_evaluator({"dataset": "ring8"})


def test_metric_directions():
    from gan_core.metrics import METRIC_MODES

    assert METRIC_MODES["jsd_estimate"] == "min" and METRIC_MODES["parzen_ll"] == "max"
    assert METRIC_MODES["fid_inception"] == "min" and METRIC_MODES["modes_captured"] == "max"
    assert "diversity" not in METRIC_MODES  # a diagnostic (target 1), not a ranked quality metric
    ev = build_evaluator(GANConfig.from_flat({"dataset": "ring8"}))
    assert ev.metric_modes == {"modes_captured": "max", "high_quality_frac": "max", "reverse_kl": "min"}

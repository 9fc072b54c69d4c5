"""gan_core.algorithm: Algorithm 1 written once, and both the solo Trainer and the Population train through it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from gan_core import algorithm
from gan_core.config import GANConfig
from gan_core.population import Population
from gan_core.trainer import Trainer

RING = {"dataset": "ring8", "batch_size": 16, "mlp_hidden": 8, "steps": 6, "eval_every": 3, "threads": 1}


@pytest.fixture
def calls(monkeypatch):
    """Every step function of gan_core.algorithm, counted as it is called (and then run)."""
    seen = []
    for name in ("d_step", "g_step", "simultaneous_step"):
        original = getattr(algorithm, name)
        monkeypatch.setattr(algorithm, name, lambda run, _f=original, _n=name: (seen.append((_n, type(run).__name__)),
                                                                               _f(run))[1])
    return seen


@pytest.mark.parametrize("make", [lambda cfg: Trainer(cfg), lambda cfg: Population(cfg, [0, 1])],
                         ids=["trainer", "population"])
@pytest.mark.parametrize("updates, k, per_iteration", [
    ("alternating", 1, ["d_step", "g_step"]),
    ("alternating", 3, ["d_step", "d_step", "d_step", "g_step"]),
    ("simultaneous", 1, ["simultaneous_step"]),
])
def test_a_trainer_and_a_population_train_through_the_one_algorithm(calls, make, updates, k, per_iteration):
    run = make(GANConfig.from_flat({**RING, "updates": updates, "k": k}))
    list(run.run())
    assert calls == [(name, type(run).__name__) for name in per_iteration * 6]
    assert (run.g_steps, run.d_steps) == (6, 6 * (1 if updates == "simultaneous" else k))


def test_the_population_reads_no_private_attribute_of_a_trainer():
    """Only ``self._...`` in population.py: a Trainer's internals are not the Population's to use."""
    tree = ast.parse(Path(algorithm.__file__).with_name("population.py").read_text())
    private = sorted({f"{ast.unparse(node.value)}.{node.attr}" for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                      and not (isinstance(node.value, ast.Name) and node.value.id == "self")})
    assert private == []


def test_a_population_of_one_is_its_solo_run_in_float64():
    """The same lines, the same numbers: one member stacked against its Trainer, to within float64 rounding."""
    torch.set_default_dtype(torch.float64)
    try:
        cfg = GANConfig.from_flat({**RING, "k": 2})
        solo, pop = Trainer(cfg), Population(cfg, [cfg.seed])
        solo_reports, pop_reports = list(solo.run()), [r[cfg.seed] for r in pop.run()]
    finally:
        torch.set_default_dtype(torch.float32)
    assert [r["g_steps"] for r in pop_reports] == [r["g_steps"] for r in solo_reports] == [3, 6]
    for s, p in zip(solo_reports, pop_reports):
        for key in ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g"):
            assert p[key] == pytest.approx(s[key], rel=1e-9)
    for a, b in zip(list(solo.G.parameters()) + list(solo.D.parameters()),
                    list(pop.member(cfg.seed).G.parameters()) + list(pop.member(cfg.seed).D.parameters())):
        assert b.detach().numpy() == pytest.approx(a.detach().numpy(), rel=1e-9, abs=1e-12)

"""What every evaluator shares: generation in batches into one float32 tensor, in eval mode, train mode restored."""
from __future__ import annotations

import torch

from gan_core.metrics.evaluator_base import generate

from .conftest import ReplayGenerator


def test_generate_fills_one_float32_tensor_batch_by_batch_in_eval_mode():
    samples = torch.randn(1201, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    gen = ReplayGenerator(samples)
    out = generate(gen, ReplayGenerator.noise(1201, 3), batch=500)  # batches of 500, 500 and 201
    assert out.dtype == torch.float32 and torch.equal(out, samples.float())
    assert gen.modes_seen == [False, False, False] and gen.training

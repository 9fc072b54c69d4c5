"""Fixtures of the metrics tests: the mnist5k data and ONE image evaluator for the package, its classifier trained
into a temporary cache directory (never the user's ~/.cache), plus a generator that replays given samples.

The package runs on one torch thread (restored afterwards): the trials it models run on one thread by default,
and on a busy 2-core machine OpenMP's spin-waiting makes 2 threads many times slower than 1.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_core.config import GANConfig


class ReplayGenerator(nn.Module):
    """A 'generator' that returns stored samples: row i of z (all entries equal to i) -> samples[i].

    Lets a test feed known images or points through ``evaluator.evaluate`` exactly as the trainer would.
    ``modes_seen`` records whether it was in train mode at each call.
    """

    def __init__(self, samples: torch.Tensor):
        super().__init__()
        self.register_buffer("samples", samples)
        self.scale = nn.Parameter(torch.ones(()))
        self.modes_seen: list[bool] = []

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        self.modes_seen.append(self.training)
        return self.samples[z[:, 0].long()] * self.scale

    @staticmethod
    def noise(n: int, nz: int) -> torch.Tensor:
        return torch.arange(n, dtype=torch.float32)[:, None].repeat(1, nz)  # [n, nz], row i all i


@pytest.fixture(scope="package", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="package")
def mnist_cfg() -> GANConfig:
    return GANConfig.from_flat({"dataset": "mnist5k", "image_size": 32, "eval_samples": 2000})


@pytest.fixture(scope="package")
def mnist_data(one_thread, mnist_cfg):
    from gan_core.data import load_dataset

    return load_dataset(mnist_cfg, "cpu")


@pytest.fixture(scope="package")
def classifier_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("classifier_cache")


@pytest.fixture(scope="package")
def mnist_evaluator(one_thread, mnist_cfg, mnist_data, classifier_cache):
    """The mnist5k evaluator; trains the classifier once for the whole package (~5-10 s on one CPU thread)."""
    from gan_core.metrics import build_evaluator

    return build_evaluator(mnist_cfg, cache_dir=classifier_cache, device="cpu")

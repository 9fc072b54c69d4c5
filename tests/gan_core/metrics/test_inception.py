"""The optional Inception FID: skipped with one clear line, never a crash, never a download."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import socket

import pytest
import torch

from gan_core.metrics import inception


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*a, **kw):
        raise AssertionError("the Inception FID check tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    return tmp_path / "hub"


def _images(n=8):
    return torch.rand(n, 1, 32, 32) * 2 - 1


def test_skipped_without_torch_fidelity(no_network, empty_hub, monkeypatch, caplog):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch_fidelity" else real_find_spec(name, *a))
    inception._warned.clear()
    with caplog.at_level(logging.WARNING, logger=inception.__name__):
        value, msg = inception.inception_fid(_images(), _images())
        inception.inception_fid(_images(), _images())
    assert value is None
    assert msg.startswith("inception_fid skipped:") and "torch-fidelity is not installed" in msg
    assert "\n" not in msg
    assert [r.getMessage() for r in caplog.records] == [msg]  # logged once, not per call


def test_skipped_when_weights_are_not_cached(no_network, empty_hub, monkeypatch):
    real_find_spec = importlib.util.find_spec
    fake_spec = importlib.machinery.ModuleSpec("torch_fidelity", None)
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: fake_spec if name == "torch_fidelity" else real_find_spec(name, *a))
    ok, why = inception.inception_fid_status()
    assert not ok and str(empty_hub / "checkpoints" / inception.INCEPTION_WEIGHTS_FILE) in why
    value, msg = inception.inception_fid(_images(), _images())
    assert value is None and "not cached" in msg


def test_weights_path_is_in_the_torch_hub_cache(empty_hub):
    assert inception.inception_weights_path() == empty_hub / "checkpoints" / inception.INCEPTION_WEIGHTS_FILE


def test_images_are_converted_to_uint8_rgb():
    x = torch.tensor([-1.0, 0.0, 1.0, 2.0]).reshape(1, 1, 2, 2)
    y = inception._to_uint8_rgb(x)
    assert y.dtype == torch.uint8 and y.shape == (1, 3, 2, 2)
    assert y[0, 2].flatten().tolist() == [0, 128, 255, 255]  # 0.0 -> 127.5 rounds to 128 (half to even: 128)
    with pytest.raises(ValueError, match=r"\[N, 1 or 3, H, W\]"):
        inception._to_uint8_rgb(torch.zeros(1, 2, 4, 4))

"""Tests of gan_core.image_sources: torchvision's datasets read from disk, downloaded once under a lock, or refused
in one line offline; mnist5k's split (its exact pixels and stratification: test_data.py, through load_dataset).

No test touches the network: the torchvision downloads are replaced by stubs (raising, or writing a tiny fake
MNIST in torchvision's raw idx layout).
"""
from __future__ import annotations

import os
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision import datasets

from gan_core.config import GANConfig
from gan_core.data import ImageData, load_dataset
from gan_core.image_sources import DatasetUnavailableError

from .fake_mnist import fake_mnist


def _cfg(**kw) -> GANConfig:
    return GANConfig.from_flat(kw)


@pytest.mark.parametrize("name,cls", [("mnist", datasets.MNIST), ("fashion_mnist", datasets.FashionMNIST),
                                      ("cifar10", datasets.CIFAR10)])
def test_torchvision_offline_raises_clear_error(tmp_path, monkeypatch, name, cls):
    calls = []

    def no_network(self):
        calls.append(self.root)
        raise URLError("stubbed: no network in tests")

    monkeypatch.setattr(cls, "download", no_network)
    root = tmp_path / "empty"
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset(_cfg(dataset=name, data_root=str(root)))
    msg = str(info.value)
    assert "\n" not in msg
    assert repr(name) in msg and str(root) in msg and "mnist5k" in msg
    assert len(calls) == 1  # one download attempt, inside the lock
    assert (root / f"{name}.lock").exists()


def _check_fake(d: ImageData, fake) -> None:
    train_x, train_y, test_x, test_y = fake
    assert d.name == "mnist" and d.channels == 1 and d.image_size == 32
    assert d.train.shape == (6, 1, 32, 32) and d.heldout.shape == (4, 1, 32, 32)
    assert d.train.dtype == torch.uint8
    assert np.array_equal(d.train[:, 0, 2:30, 2:30].numpy(), train_x)
    assert np.array_equal(d.heldout[:, 0, 2:30, 2:30].numpy(), test_x)
    assert d.train_labels.tolist() == train_y.tolist() and d.heldout_labels.tolist() == test_y.tolist()
    for split in (d.train, d.heldout):
        border = split.clone()
        border[:, :, 2:30, 2:30] = 0
        assert int(border.count_nonzero()) == 0


def test_torchvision_mnist_from_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.MNIST, "download", lambda self: pytest.fail("must not download"))
    fake = fake_mnist(tmp_path)
    d = load_dataset(_cfg(dataset="mnist", data_root=str(tmp_path)))
    _check_fake(d, fake)
    assert load_dataset(_cfg(dataset="mnist", data_root=str(tmp_path))).train.data_ptr() == d.train.data_ptr()
    d64 = load_dataset(_cfg(dataset="mnist", data_root=str(tmp_path), image_size=64))
    assert d64.train.shape == (6, 1, 64, 64) and d64.heldout.shape == (4, 1, 64, 64)
    expected = F.interpolate(d.heldout.float(), size=(64, 64), mode="bilinear", align_corners=False,
                             antialias=False).round().to(torch.uint8)
    assert torch.equal(d64.heldout, expected)


def test_torchvision_first_use_downloads_under_lock(tmp_path, monkeypatch):
    root = tmp_path / "data"
    seen = {}

    def fake_download(self):
        seen["lock_exists"] = (root / "mnist.lock").exists()
        if not os.path.exists(os.path.join(self.raw_folder, "train-images-idx3-ubyte")):
            seen["fake"] = fake_mnist(self.root)

    monkeypatch.setattr(datasets.MNIST, "download", fake_download)
    d = load_dataset(_cfg(dataset="mnist", data_root=str(root)))
    assert seen["lock_exists"] is True
    _check_fake(d, seen["fake"])


def test_data_root_tilde_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(datasets.MNIST, "download", lambda self: pytest.fail("must not download"))
    fake = fake_mnist(tmp_path / "d")
    _check_fake(load_dataset(_cfg(dataset="mnist", data_root="~/d")), fake)

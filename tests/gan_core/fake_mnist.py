"""A tiny MNIST in torchvision's raw idx layout, written where a test's data_root points: the torchvision datasets
tested without the network."""
from __future__ import annotations

import os
import struct

import numpy as np


def write_idx(path, arr: np.ndarray) -> None:
    """torchvision's raw MNIST layout: big-endian magic (0, 0, type 0x08 = uint8, ndim), dims, then the bytes."""
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 0x08, arr.ndim))
        f.write(struct.pack(f">{arr.ndim}I", *arr.shape))
        f.write(arr.astype(np.uint8).tobytes())


def fake_mnist(root, n_train=6, n_test=4):
    rng = np.random.default_rng(0)
    train_x = rng.integers(0, 256, (n_train, 28, 28))
    test_x = rng.integers(0, 256, (n_test, 28, 28))
    train_y, test_y = np.arange(n_train) % 10, (np.arange(n_test) + 3) % 10
    raw = os.path.join(root, "MNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    write_idx(os.path.join(raw, "train-images-idx3-ubyte"), train_x)
    write_idx(os.path.join(raw, "train-labels-idx1-ubyte"), train_y)
    write_idx(os.path.join(raw, "t10k-images-idx3-ubyte"), test_x)
    write_idx(os.path.join(raw, "t10k-labels-idx1-ubyte"), test_y)
    return train_x, train_y, test_x, test_y

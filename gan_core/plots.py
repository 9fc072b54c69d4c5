"""The pictures of generated samples: points over the true modes of a 2D mixture or against the 1D data density
(``points_axes``, matplotlib), and the small image a trial writes to TensorBoard at every report
(``sample_image``: a grid of images, or a density of 2D points, as a tensor, without matplotlib).

``points_axes`` is drawn by ``python -m gan_core.train`` (its samples.png) and by the reports' sample figures
(``gan_core.render``), so both show points the same way. matplotlib is imported by the caller (``gan_core.render``
selects the Agg backend).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch

from gan_core.config import GANConfig
from gan_core.data import Gauss1D, mixture_spec

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

__all__ = ["points_axes", "sample_image", "view_of"]

POINT_BINS = 96  # pixels a side of the density image of 2D points


def _true_modes(cfg: GANConfig):
    """(centres [M, 2], std, None) of ring8 / grid25, or (None, None, (mu, sigma)) of gauss1d."""
    if cfg.dataset == "gauss1d":
        g = Gauss1D()
        return None, None, (g.mu, g.sigma)
    centres, std = mixture_spec(cfg.dataset)
    return centres, std, None


def view_of(centres: np.ndarray, cfg: GANConfig) -> tuple[np.ndarray, np.ndarray]:
    """(low corner, high corner) of the square that shows a 2D mixture: its modes and a margin around them."""
    margin = 1.0 if cfg.dataset == "ring8" else 1.5
    return centres.min(0) - margin, centres.max(0) + margin


def sample_image(samples: torch.Tensor, cfg: GANConfig) -> torch.Tensor | None:
    """[3, H, W] in [0, 1], the picture of ``samples`` a trial writes to TensorBoard: images [n, C, S, S] in [-1, 1]
    as a grid of 8 columns; 2D points [n, 2] as their density on ``POINT_BINS`` x ``POINT_BINS`` pixels over the
    view of ``points_axes`` (log counts, white = most), the true modes in red; None for 1D points (gauss1d),
    whose histogram needs axes to be read."""
    if cfg.is_image:
        from torchvision.utils import make_grid

        return make_grid(samples, nrow=8, padding=2, normalize=True, value_range=(-1, 1), pad_value=1.0)
    if cfg.data_dim != 2:
        return None
    centres, _, _ = _true_modes(cfg)
    lo, hi = view_of(centres, cfg)
    points = samples.double().numpy()
    points = points[np.isfinite(points).all(1)]
    counts, _, _ = np.histogram2d(points[:, 0], points[:, 1], bins=POINT_BINS, range=[[lo[0], hi[0]], [lo[1], hi[1]]])
    density = np.log1p(counts) / max(np.log1p(counts.max()), 1.0)  # [x bins, y bins] in [0, 1]
    gray = torch.from_numpy(density.T[::-1].copy()).float()  # [H, W]: rows from high y (top) to low y
    image = gray.expand(3, -1, -1).clone()  # [3, H, W]
    cells = np.floor((centres - lo) / (hi - lo) * POINT_BINS).astype(int)  # [M, 2] (x bin, y bin) of each mode
    for x_bin, y_bin in cells:
        image[:, POINT_BINS - 1 - y_bin, x_bin] = torch.tensor([1.0, 0.0, 0.0])
    return image


def points_axes(ax: "plt.Axes", points: np.ndarray, cfg: GANConfig) -> None:
    """Generated points [n, 2] over the true modes with their 3-std circles (ring8, grid25), or a histogram of
    [n, 1] over the data density (gauss1d); points outside the view or not finite are counted, not drawn."""
    import matplotlib.pyplot as plt

    centres, std, gauss = _true_modes(cfg)
    if gauss is not None:
        mu, sigma = gauss
        lo, hi = mu - 5 * sigma, mu + 5 * sigma
        x = points[:, 0]
        x = x[np.isfinite(x)]
        ax.hist(np.clip(x, lo, hi), bins=60, range=(lo, hi), density=True, alpha=0.6, label="generated")
        grid = np.linspace(lo, hi, 400)
        ax.plot(grid, np.exp(-0.5 * ((grid - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi)), "r-",
                label=f"data N({mu:g}, {sigma:g}²)")
        ax.legend(fontsize=7)
        return
    lo, hi = view_of(centres, cfg)
    ok = np.isfinite(points).all(1)
    inside = ok & (points >= lo).all(1) & (points <= hi).all(1)
    if len(points):
        ax.scatter(points[inside, 0], points[inside, 1], s=2, alpha=0.3, label="generated")
    for c in centres:
        ax.add_patch(plt.Circle(c, 3 * std, fill=False, color="red", lw=0.8))
    ax.plot(centres[:, 0], centres[:, 1], "r+", ms=6, label="modes (circles: 3 std)")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    if (~inside).any():
        ax.text(0.01, 0.01, f"{int((~inside).sum())} of {len(points)} points outside the view or not finite",
                transform=ax.transAxes, fontsize=7)
    ax.legend(fontsize=7, loc="upper right")

"""The report's figures that need a generator: sample grids, latent interpolations and z vector arithmetic, drawn
from trainer checkpoints, as ``python -m gan_core.render JOBS.json RESULTS.json``.

Why a command: analysis reads only what a results directory holds and imports no torch (``analysis.figures`` runs
this command in a subprocess for the figures that need a forward pass of G, and places the PNGs it writes in the
report), so the report is written, and tested, where torch is not installed.

Why these figures: a metric says how far the samples are from the data; a grid of the best and the worst seed of each
configuration shows what that distance looks like (and what "diverged" means), and DCGAN's interpolations and
vector arithmetic show whether G learnt a smooth latent space rather than memorised images.

Every figure uses the same noise (seed ``NOISE_SEED``), so grids of different trials are directly comparable.
Generators come only from ``gan_core.checkpoint.load_generator`` (``torch.load(weights_only=True)``) of a local
file (the caller copies a checkpoint on a remote filesystem to a temporary local file first).

Vector arithmetic without a classifier (none is stored in the results directory): a pool of samples is clustered
with k-means in pixel space (deterministic farthest-point initialisation); the three largest clusters are the
groups A, B and C; the three members nearest each centre stand for the group, and the figure decodes
mean_z(A) - mean_z(B) + mean_z(C) (plus three variants with uniform noise of scale 0.25 added, as DCGAN did).
For point datasets a grid is a scatter (2D) or histogram (1D) over the true modes; interpolation is drawn as paths
in data space; arithmetic is skipped (there are no visual attributes to add).

JOBS.json: a list of {"figure": "samples" | "interpolation" | "arithmetic", "state": a local state.pt, "path": the
PNG to write, "title": its title}. RESULTS.json: one entry per job, in order: {"drawn": true} or {"drawn": false,
"skipped": why in one line} (a checkpoint that cannot be read, or arithmetic of a point dataset).
"""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from gan_core.checkpoint import CheckpointError, load_generator as _load_generator  # noqa: E402
from gan_core.config import GANConfig  # noqa: E402
from gan_core.plots import points_axes  # noqa: E402

NOISE_SEED = 0
GRID_SAMPLES = 64
POINT_SAMPLES = 2500
ARITHMETIC_POOL = 512
ARITHMETIC_CLUSTERS = 8


def _shown(title: str, width: int = 70) -> str:
    """The title as drawn: wrapped to fit the figure (the PNG metadata keeps it whole)."""
    return textwrap.fill(title, width)


def save_figure(fig: plt.Figure, path: Path, title: str) -> Path:
    """Save ``fig`` as PNG with ``title`` in its metadata, and close it (as ``analysis.plots.save_figure`` does)."""
    fig.savefig(path, dpi=100, metadata={"Title": title})
    plt.close(fig)
    return path


def load_generator(state: str | Path) -> tuple[nn.Module, GANConfig]:
    """(generator in eval mode on the CPU, its config) from a local ``state.pt``."""
    return _load_generator(state, device="cpu")


def noise(n: int, cfg: GANConfig, seed: int = NOISE_SEED) -> torch.Tensor:
    """[n, nz] of G's own noise distribution (``cfg.noise``), the same for every trial of a configuration."""
    from gan_core.runtime import draw_noise

    return draw_noise(cfg, n, torch.Generator().manual_seed(seed))  # [n, nz]


@torch.no_grad()
def generate(generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    return generator(z).float().cpu()


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """The data's range [-1, 1] -> [0, 1] for display, whatever G's output layer: a grid shows samples as they
    compare with the data (a sigmoid output, in [0, 1], shows as grey to white, as it cannot reach the data's
    black -1; a linear output beyond [-1, 1] is clipped to it). NaN shows as black."""
    return torch.nan_to_num((images + 1) / 2, nan=0.0).clamp(0, 1)


def _show_grid(ax: plt.Axes, images: torch.Tensor, nrow: int) -> None:
    from torchvision.utils import make_grid

    grid = make_grid(to_unit(images), nrow=nrow, padding=2, pad_value=1.0)  # [3, H, W]
    ax.imshow(grid.permute(1, 2, 0).numpy())  # [H, W, 3]
    ax.axis("off")


def samples_figure(generator: nn.Module, cfg: GANConfig, path: Path, title: str) -> Path:
    """An 8x8 grid of samples (images), or generated points over the true modes (point datasets)."""
    if cfg.is_image:
        images = generate(generator, noise(GRID_SAMPLES, cfg))  # [64, C, S, S]
        fig, ax = plt.subplots(figsize=(6, 6.3), layout="constrained")
        _show_grid(ax, images, nrow=8)
    else:
        points = generate(generator, noise(POINT_SAMPLES, cfg)).numpy()  # [n, dim]
        fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
        points_axes(ax, points, cfg)
    ax.set_title(_shown(title), fontsize=9)
    return save_figure(fig, path, title)


def interpolation_figure(generator: nn.Module, cfg: GANConfig, path: Path, title: str, rows: int = 6,
                         steps: int = 10) -> Path:
    """Linear paths between pairs of z: one row of decoded images per pair, or paths of points in data space."""
    ends = noise(2 * rows, cfg, seed=NOISE_SEED + 1).view(rows, 2, cfg.nz)  # [rows, 2, nz]
    t = torch.linspace(0, 1, steps).view(1, steps, 1)  # [1, steps, 1]
    z = (1 - t) * ends[:, :1] + t * ends[:, 1:]  # [rows, steps, nz]
    out = generate(generator, z.reshape(rows * steps, cfg.nz))  # [rows*steps, ...]
    if cfg.is_image:
        fig, ax = plt.subplots(figsize=(steps * 0.8, rows * 0.85 + 0.4), layout="constrained")
        _show_grid(ax, out, nrow=steps)
    else:
        fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
        pts = out.numpy().reshape(rows, steps, -1)  # [rows, steps, dim]
        if cfg.data_dim == 2:
            points_axes(ax, np.zeros((0, 2)), cfg)
            for r in range(rows):
                ax.plot(pts[r, :, 0], pts[r, :, 1], "-o", ms=3, lw=1)
        else:
            for r in range(rows):
                ax.plot(np.linspace(0, 1, steps), pts[r, :, 0], "-o", ms=3, lw=1)
            ax.set_xlabel("t (z = (1 - t) z0 + t z1)")
            ax.set_ylabel("G(z)")
    ax.set_title(_shown(title), fontsize=9)
    return save_figure(fig, path, title)


def kmeans(x: np.ndarray, k: int, iters: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic k-means: farthest-point initialisation from row 0, Lloyd steps. (labels [n], centres [k, d])."""
    idx = [0]
    dist = ((x - x[0]) ** 2).sum(1)
    for _ in range(1, min(k, len(x))):
        idx.append(int(np.argmax(dist)))
        dist = np.minimum(dist, ((x - x[idx[-1]]) ** 2).sum(1))
    centres = x[idx].copy()
    labels = np.zeros(len(x), dtype=int)
    for _ in range(iters):
        d = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(-1)  # [n, k]
        labels = d.argmin(1)
        for j in range(len(centres)):
            if (labels == j).any():
                centres[j] = x[labels == j].mean(0)
    return labels, centres


def arithmetic_groups(images: torch.Tensor, k: int = ARITHMETIC_CLUSTERS, members: int = 3) -> list[np.ndarray]:
    """Indices of the ``members`` samples nearest the centre of each of the three largest k-means clusters."""
    flat = torch.nn.functional.adaptive_avg_pool2d(images, 16).flatten(1).numpy().astype(np.float64)  # [n, C*256]
    flat = np.nan_to_num(flat)
    labels, centres = kmeans(flat, k)
    sizes = np.bincount(labels, minlength=len(centres))
    big = [j for j in np.argsort(-sizes, kind="stable") if sizes[j] >= members][:3]
    groups = []
    for j in big:
        idx = np.flatnonzero(labels == j)
        d = ((flat[idx] - centres[j]) ** 2).sum(1)
        groups.append(idx[np.argsort(d, kind="stable")[:members]])
    return groups


def arithmetic_figure(generator: nn.Module, cfg: GANConfig, path: Path, title: str) -> Path | None:
    """mean_z(A) - mean_z(B) + mean_z(C), decoded; None for point datasets or when fewer than 3 groups exist."""
    if not cfg.is_image:
        return None
    z = noise(ARITHMETIC_POOL, cfg, seed=NOISE_SEED + 2)  # [pool, nz]
    images = generate(generator, z)  # [pool, C, S, S]
    groups = arithmetic_groups(images)
    if len(groups) < 3:
        return None
    means = [z[g].mean(0) for g in groups]  # 3 x [nz]
    result = means[0] - means[1] + means[2]  # [nz]
    jitter = torch.rand(3, cfg.nz, generator=torch.Generator().manual_seed(NOISE_SEED + 3)) * 0.5 - 0.25
    results = torch.cat([result[None], result[None] + jitter])  # [4, nz]
    decoded_means = generate(generator, torch.stack(means))  # [3, C, S, S]
    decoded_results = generate(generator, results)  # [4, C, S, S]
    fig, axes = plt.subplots(4, 4, figsize=(5.5, 6), layout="constrained")
    names = ["A", "B", "C"]
    for r, g in enumerate(groups):
        tiles = [images[i] for i in g] + [decoded_means[r]]
        for c, tile in enumerate(tiles):
            _tile(axes[r, c], tile)
        axes[r, 0].set_ylabel(names[r], rotation=0, labelpad=12)
        axes[r, 3].set_xlabel(f"G(mean z({names[r]}))", fontsize=7)
    for c in range(4):
        _tile(axes[3, c], decoded_results[c])
    axes[3, 0].set_ylabel("A-B+C", rotation=0, labelpad=18)
    axes[3, 0].set_xlabel("exact", fontsize=7)
    for c in range(1, 4):
        axes[3, c].set_xlabel("+ noise 0.25", fontsize=7)
    fig.suptitle(_shown(title, 60), fontsize=9)
    return save_figure(fig, path, title)


def _tile(ax: plt.Axes, image: torch.Tensor) -> None:
    x = to_unit(image).permute(1, 2, 0).numpy()  # [C, S, S] -> [S, S, C]
    ax.imshow(x[..., 0] if x.shape[2] == 1 else x, cmap="gray" if x.shape[2] == 1 else None, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


FIGURES = {"samples": samples_figure, "interpolation": interpolation_figure, "arithmetic": arithmetic_figure}
# What makes a checkpoint undrawable: a note in the report, not a failed report.
UNDRAWABLE = (CheckpointError, OSError, RuntimeError, ValueError, KeyError)


def render(jobs: list[dict]) -> list[dict]:
    """Draw each job (module docstring); one result per job, in order."""
    results = []
    for job in jobs:
        try:
            generator, cfg = load_generator(job["state"])
            drawn = FIGURES[job["figure"]](generator, cfg, Path(job["path"]), job["title"]) is not None
            results.append({"drawn": True} if drawn else {"drawn": False, "skipped": ""})
        except UNDRAWABLE as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            results.append({"drawn": False, "skipped": first})
    return results


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m gan_core.render JOBS.json RESULTS.json", file=sys.stderr)
        return 2
    jobs = json.loads(Path(args[0]).read_text())
    Path(args[1]).write_text(json.dumps(render(jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

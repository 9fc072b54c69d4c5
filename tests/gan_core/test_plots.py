"""The picture of generated points: inside the view over the true modes, the rest counted; gauss1d's histogram."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gan_core.config import GANConfig  # noqa: E402
from gan_core.data import mixture_spec  # noqa: E402
from gan_core.plots import points_axes  # noqa: E402


def test_ring_points_are_drawn_over_the_modes_with_their_3_std_circles_and_the_rest_counted():
    points = np.array([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [np.nan, 0.0]])  # two on modes, one far, one NaN
    fig, ax = plt.subplots()
    points_axes(ax, points, GANConfig.from_flat({"dataset": "ring8"}))
    drawn = ax.collections[0].get_offsets()
    assert np.asarray(drawn).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    centres, std = mixture_spec("ring8")
    assert [p.get_radius() for p in ax.patches] == pytest.approx([3 * std] * 8)
    assert [t.get_text() for t in ax.texts] == ["2 of 4 points outside the view or not finite"]
    assert (ax.get_xlim(), ax.get_ylim()) == ((-2.0, 2.0), (-2.0, 2.0))  # the modes' extent, 1 around
    plt.close(fig)


def test_gauss1d_points_are_a_histogram_beside_the_data_density():
    fig, ax = plt.subplots()
    points_axes(ax, np.random.default_rng(0).normal(size=(1000, 1)), GANConfig.from_flat({"dataset": "gauss1d"}))
    assert len(ax.patches) == 60 and ax.lines[0].get_label() == "data N(0, 1²)"
    assert max(ax.lines[0].get_ydata()) == pytest.approx(1 / np.sqrt(2 * np.pi), rel=1e-4)
    plt.close(fig)


def test_sample_image_of_points_is_their_density_over_the_view_with_the_modes_in_red():
    import torch

    from gan_core.plots import POINT_BINS, sample_image

    cfg = GANConfig.from_flat({"dataset": "ring8"})
    centres, _ = mixture_spec("ring8")
    right = torch.tensor([[1.0, 0.0]] * 10 + [[0.0, 0.25]])  # ten points on the mode at (1, 0), one elsewhere
    image = sample_image(right, cfg)
    assert image.shape == (3, POINT_BINS, POINT_BINS)
    # view [-2, 2] on both axes: x = 1 is column 72, y = 0 is row 95 - 48 = 47; y = 0.25 is row 95 - 54 = 41
    assert image[:, 47, 72].tolist() == [1.0, 0.0, 0.0]  # a mode's pixel is red, over its samples too
    assert image[:, 41, 48].tolist() == pytest.approx([math.log(2) / math.log(11)] * 3)  # one point: log counts
    assert int((image[1:] > 0).any(0).sum()) == 1  # nothing else lit but the modes (red only)
    assert int(((image[0] == 1) & (image[1] == 0)).sum()) == len(centres)


def test_sample_image_of_images_is_an_8_column_grid_and_of_1d_points_nothing():
    import torch

    from gan_core.plots import sample_image

    images = torch.full((16, 1, 32, 32), -1.0)
    grid = sample_image(images, GANConfig.from_flat({"dataset": "mnist5k"}))
    assert grid.shape == (3, 2 * 34 + 2, 8 * 34 + 2)
    assert grid[:, 2:34, 2:34].max().item() == 0.0 and grid[:, 0, 0].tolist() == [1.0, 1.0, 1.0]  # -1 -> black
    assert sample_image(torch.zeros(10, 1), GANConfig.from_flat({"dataset": "gauss1d"})) is None

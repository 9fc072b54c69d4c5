"""The picture of generated points: inside the view over the true modes, the rest counted; gauss1d's histogram."""
from __future__ import annotations

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

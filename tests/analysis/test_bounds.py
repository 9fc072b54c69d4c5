"""Each metric's range, from its definition, and the clipping the figures apply to drawn intervals."""
import math

import numpy as np
import pandas as pd

from analysis.bounds import bounds_text, clip, effect_bounds, metric_bounds


def test_ranges_by_definition():
    assert metric_bounds("precision") == (0.0, 1.0)
    assert metric_bounds("high_quality_frac") == (0.0, 1.0)
    assert metric_bounds("classes_covered") == (0.0, 10.0)
    assert metric_bounds("class_kl") == (0.0, math.log(10))
    assert metric_bounds("cis") == (1.0, 10.0)
    assert metric_bounds("fd") == (0.0, math.inf)
    assert metric_bounds("parzen_ll") == (-math.inf, math.inf)


def test_a_mixture_bounds_modes_by_its_dataset():
    ring, grid = pd.DataFrame({"dataset": ["ring8"] * 2}), pd.DataFrame({"dataset": ["grid25"]})
    assert metric_bounds("modes_captured", ring) == (0.0, 8.0)
    assert metric_bounds("modes_captured", grid) == (0.0, 25.0)
    assert metric_bounds("reverse_kl", ring) == (0.0, math.log(8))
    mixed = pd.DataFrame({"dataset": ["ring8", "grid25"]})
    assert metric_bounds("modes_captured", mixed) == (0.0, math.inf)
    assert metric_bounds("modes_captured") == (0.0, math.inf)


def test_a_difference_spans_the_width_of_the_range_either_way():
    ring = pd.DataFrame({"dataset": ["ring8"]})
    assert effect_bounds("modes_captured", ring) == (-8.0, 8.0)
    assert effect_bounds("stability") == (-1.0, 1.0)
    assert effect_bounds("fd") == (-math.inf, math.inf)


def test_clip_keeps_nan_and_text_names_the_range():
    out = clip([-30.0, 3.0, 33.0, float("nan")], (0.0, 8.0))
    assert out[:3].tolist() == [0.0, 3.0, 8.0] and math.isnan(out[3])
    assert isinstance(out, np.ndarray)
    assert bounds_text((0.0, 8.0)) == "[0, 8]"
    assert bounds_text((0.0, math.inf)) == "[0, inf)"
    assert bounds_text((-1.0, 1.0), scale=100) == "[-100, 100]"
    assert bounds_text((-math.inf, math.inf)) == ""

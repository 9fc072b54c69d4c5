"""gan_core.layers: the maxout layer and PacGAN's packing."""
from __future__ import annotations

import pytest
import torch

from gan_core.layers import Maxout, Pack

def test_maxout_is_the_largest_of_its_pieces():
    m = Maxout(2, units=2, pieces=3)
    with torch.no_grad():
        # rows: unit 0 pieces 0..2, then unit 1 pieces 0..2 (view [B, units, pieces] of the Linear's outputs)
        m.linear.weight.copy_(torch.tensor([[1., 0.], [0., 1.], [1., 1.], [-1., 0.], [0., -1.], [2., -1.]]))
        m.linear.bias.copy_(torch.tensor([0., 0., -5., 0., 1., 0.]))
    x = torch.tensor([[3., 1.], [-2., 4.]])
    # x0 = (3, 1): unit 0 max(3, 1, -1) = 3; unit 1 max(-3, 0, 5) = 5
    # x1 = (-2, 4): unit 0 max(-2, 4, -3) = 4; unit 1 max(2, -3, -8) = 2
    assert torch.equal(m(x), torch.tensor([[3., 5.], [4., 2.]]))


def test_pack_joins_consecutive_samples_of_points_and_stacks_images_as_channels():
    points = torch.tensor([[1., 2.], [3., 4.], [5., 6.], [7., 8.], [9., 10.], [11., 12.]])
    assert torch.equal(Pack(2)(points), torch.tensor([[1., 2., 3., 4.], [5., 6., 7., 8.], [9., 10., 11., 12.]]))
    assert torch.equal(Pack(3)(points), torch.tensor([[1., 2., 3., 4., 5., 6.], [7., 8., 9., 10., 11., 12.]]))
    images = torch.arange(4 * 1 * 2 * 2, dtype=torch.float32).view(4, 1, 2, 2)
    packed = Pack(2)(images)
    assert packed.shape == (2, 2, 2, 2)
    assert torch.equal(packed[1, 0], images[2, 0]) and torch.equal(packed[1, 1], images[3, 0])
    with pytest.raises(ValueError, match="does not split into packs of 4"):
        Pack(4)(points)

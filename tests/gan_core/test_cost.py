"""What an iteration costs, by counting: the FLOPs of known layers, scaled as Algorithm 1 uses them."""
import torch

from gan_core.config import GANConfig
from gan_core.cost import BACKWARD_FACTOR, forward_flops, iteration_flops


def test_forward_flops_of_the_mlp_are_its_matrix_products():
    cfg = GANConfig.from_flat({"dataset": "ring8", "mlp_hidden": 10, "mlp_layers": 2})
    # G: 2 -> 10 -> 10 -> 2, D: 2 -> 10 -> 10 -> 1; a product of [1, a] by [a, b] is 2ab FLOPs
    assert forward_flops(cfg) == (2 * (2 * 10 + 10 * 10 + 10 * 2), 2 * (2 * 10 + 10 * 10 + 10 * 1))


def test_iteration_flops_scale_with_k_and_the_batch():
    cfg = GANConfig.from_flat({"dataset": "ring8", "mlp_hidden": 10, "batch_size": 4, "k": 3})
    g, d = forward_flops(cfg)
    train = 1 + BACKWARD_FACTOR
    assert iteration_flops(cfg) == 4 * (3 * (g + 2 * d * train) + (g + d) * train)


def test_stride_1_convolutions_cost_more_and_counting_leaves_the_rng_alone():
    base = {"dataset": "mnist5k", "ngf": 16, "ndf": 16}
    torch.manual_seed(5)
    state = torch.get_rng_state()
    strided = iteration_flops(GANConfig.from_flat(base))
    assert torch.equal(torch.get_rng_state(), state)
    assert iteration_flops(GANConfig.from_flat({**base, "strided_conv": False})) > 2 * strided


def test_a_pack_costs_per_sample_and_the_minibatch_holds_batch_size_packs():
    one = GANConfig.from_flat({"dataset": "ring8", "mlp_hidden": 10, "batch_size": 4})
    packed = one.replace(pack=3)
    g, d = forward_flops(packed)
    # D's first layer reads 3 samples at once: 2 * (6 * 10) per pack, a third of it per sample
    assert (g, d) == (forward_flops(one)[0], (2 * (6 * 10 + 10 * 10 + 10 * 1)) // 3)
    train = 1 + BACKWARD_FACTOR
    assert iteration_flops(packed) == 4 * 3 * ((g + 2 * d * train) + (g + d) * train)


def test_a_simultaneous_step_runs_g_once_and_d_on_both_minibatches():
    cfg = GANConfig.from_flat({"dataset": "ring8", "mlp_hidden": 10, "batch_size": 4, "updates": "simultaneous"})
    g, d = forward_flops(cfg)
    assert iteration_flops(cfg) == 4 * (g + 2 * d) * (1 + BACKWARD_FACTOR)

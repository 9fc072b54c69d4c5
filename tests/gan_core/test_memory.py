"""The memory estimate: counted on the meta device (nothing allocated), exact for known networks, and the one-line
refusal against a given cap."""
import pytest
import torch

from gan_core.config import GANConfig
from gan_core.memory import (BACKWARD_FACTOR, DOUBLE_BYTES, EVAL_BATCH, FLOAT_BYTES, HEADROOM, HELDOUT_PER_DATASET,
                             JSD_ESTIMATE_ARRAYS, PARAMETER_COPIES, available_bytes, check_fits, estimate)
from gan_core.models import build_discriminator, build_generator


def test_the_estimate_counts_parameters_and_activations_of_known_networks():
    cfg = GANConfig.from_flat({"dataset": "ring8", "mlp_hidden": 10, "mlp_layers": 2, "batch_size": 4,
                               "eval_samples": 100})
    est = estimate(cfg)
    # G: 2 -> 10 -> 10 -> 2 (+ biases), D: 2 -> 10 -> 10 -> 1
    params = (2 * 10 + 10 + 10 * 10 + 10 + 10 * 2 + 2) + (2 * 10 + 10 + 10 * 10 + 10 + 10 * 1 + 1)
    assert est.parameters == params
    assert est.parameter_bytes == PARAMETER_COPIES * FLOAT_BYTES * params
    # leaf outputs per sample: G Linear 10, ReLU 10, Linear 10, ReLU 10, Linear 2, Identity 2 = 44;
    # D Linear 10, LeakyReLU 10, Linear 10, LeakyReLU 10, Linear 1, Flatten 1 = 42 (on a real and a fake batch)
    assert est.activation_bytes == BACKWARD_FACTOR * FLOAT_BYTES * 4 * (44 + 2 * 42)
    # one evaluation of its 100 samples (all in one batch, eval_samples < EVAL_BATCH): the noise [100, 2], the
    # samples [100, 2] and G's activations, and the mode metrics per point: two float64 copies of it, its distance
    # to each of the 8 modes, the nearest distance and index, the high-quality mask (1 byte) and its index
    assert est.evaluation_samples == 100
    assert est.evaluation_bytes == (FLOAT_BYTES * 100 * 2 + FLOAT_BYTES * 100 * 2 + FLOAT_BYTES * 100 * 44
                                    + 100 * (2 * 2 * 8 + 8 * 8 + 2 * 8 + 1 + 8))
    # the evaluation (100 samples) needs more than the training step (4 samples, forward and backward)
    assert (est.data_bytes, est.total) == (0, int(HEADROOM * (est.parameter_bytes + est.evaluation_bytes)))


def test_the_estimate_of_a_dcgan_matches_its_real_parameters_and_holds_the_dataset():
    cfg = GANConfig.from_flat({"dataset": "mnist5k", "ngf": 8, "ndf": 8, "eval_samples": 2000})
    torch.manual_seed(0)
    real = sum(p.numel() for net in (build_generator(cfg), build_discriminator(cfg)) for p in net.parameters())
    est = estimate(cfg)
    assert est.parameters == real
    # the dataset as uint8, and the evaluator's reference: features [1000, 128], two k-NN radii, covariance and its
    # square root [128, 128] in float64
    assert est.data_bytes == 5000 * 1 * 32 * 32 + FLOAT_BYTES * 1000 * (128 + 2) + 2 * DOUBLE_BYTES * 128 ** 2
    assert est.evaluation_bytes > 0 and EVAL_BATCH < cfg.eval_samples


def test_the_image_evaluation_is_counted_on_the_held_out_set_it_scores():
    from gan_core.image_sources import MNIST5K_HELDOUT_PER_CLASS
    from gan_core.metrics.evaluator_base import EVAL_BATCH as evaluator_batch

    assert (EVAL_BATCH, HELDOUT_PER_DATASET["mnist5k"]) == (evaluator_batch, 10 * MNIST5K_HELDOUT_PER_CLASS)
    flat = {"dataset": "mnist5k", "ngf": 8, "ndf": 8}
    held = estimate(GANConfig.from_flat({**flat, "eval_samples": 1000}))
    assert estimate(GANConfig.from_flat({**flat, "eval_samples": 10**9})) == held  # the evaluator scores 1,000
    assert held.evaluation_samples == 1000
    assert estimate(GANConfig.from_flat({**flat, "eval_samples": 999})).evaluation_bytes < held.evaluation_bytes


def test_gauss1d_counts_the_noise_of_the_affine_evaluator_and_the_jsd_estimates_arrays():
    n = 10**6
    affine = estimate(GANConfig.from_flat({"dataset": "gauss1d", "eval_samples": n}))
    assert affine.evaluation_bytes == FLOAT_BYTES * n  # the noise [n, 1]: the exact JSD reads G's a and b only
    mlp = GANConfig.from_flat({"dataset": "gauss1d", "arch": "mlp", "mlp_hidden": 10, "mlp_layers": 1,
                               "eval_samples": n})
    # noise [n, 1], samples [n, 1], G's activations for one batch (Linear 10, ReLU 10, Linear 1, Identity 1)
    assert estimate(mlp).evaluation_bytes == (FLOAT_BYTES * n + FLOAT_BYTES * n + FLOAT_BYTES * EVAL_BATCH * 22
                                              + JSD_ESTIMATE_ARRAYS * DOUBLE_BYTES * n)


def test_a_billion_evaluation_samples_are_refused_in_one_line_naming_eval_samples():
    cfg = GANConfig.from_flat({"dataset": "ring8", "eval_samples": 10**9})
    with pytest.raises(ValueError) as e:
        check_fits(cfg, 16 * 2**30, where="in the test")
    assert str(e.value) == (
        "config needs about 159 GB of memory for one run (34,179 parameters in G and D with gradients and Adam "
        "state: 0.522 MB; activations of a batch of 256: 3.02 MB; one evaluation of eval_samples = 1,000,000,000 "
        "samples: 128 GB), more than the 16 GB in the test; allowed: a config that fits, e.g. a smaller eval_samples")


def test_a_memory_bomb_is_refused_in_one_line_without_allocating():
    cfg = GANConfig.from_flat({"dataset": "ring8", "nz": 100_000_000})
    with pytest.raises(ValueError) as e:
        check_fits(cfg, 16 * 2**30, where="in the test")
    # its evaluation's fixed noise [2500, nz] alone is 931 GB
    assert str(e.value) == (
        "config needs about 1.37 TB of memory for one run (12,800,033,923 parameters in G and D with gradients and "
        "Adam state: 191 GB; activations of a batch of 256: 3.02 MB; one evaluation of eval_samples = 2,500 samples: "
        "931 GB), more than the 16 GB in the test; allowed: a config that fits, e.g. a smaller nz or eval_samples")
    cfg = GANConfig.from_flat({"dataset": "ring8", "mlp_hidden": 1_000_000})
    with pytest.raises(ValueError) as e:
        check_fits(cfg, 16 * 2**30, where="in the test")
    assert str(e.value).endswith("more than the 16 GB in the test; allowed: a config that fits, e.g. a smaller nz, "
                                 "ngf, ndf, mlp_hidden or batch_size")
    assert check_fits(GANConfig.from_flat({"dataset": "ring8"}), 16 * 2**30).parameters == 34179


def test_available_memory_is_the_machines_and_positive():
    with open("/proc/meminfo") as f:
        fields = dict(line.split(":", 1) for line in f)
    want = int(fields["MemAvailable"].split()[0]) * 1024
    assert available_bytes() == pytest.approx(want, rel=0.2)  # it moves between the two reads

"""The memory estimate: counted on the meta device (nothing allocated), exact for known networks, and the one-line
refusal against a given cap."""
import pytest
import torch

from gan_core.config import GANConfig
from gan_core.memory import (BACKWARD_FACTOR, EVAL_BATCH, FLOAT_BYTES, HEADROOM, PARAMETER_COPIES, available_bytes,
                             check_fits, estimate)
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
    assert est.evaluation_bytes == FLOAT_BYTES * 100 * 44  # eval_samples < EVAL_BATCH
    # the evaluation batch (100 samples) needs more than the training step (4 samples, forward and backward)
    assert (est.data_bytes, est.total) == (0, int(HEADROOM * (est.parameter_bytes + est.evaluation_bytes)))


def test_the_estimate_of_a_dcgan_matches_its_real_parameters_and_holds_the_dataset():
    cfg = GANConfig.from_flat({"dataset": "mnist5k", "ngf": 8, "ndf": 8, "eval_samples": 2000})
    torch.manual_seed(0)
    real = sum(p.numel() for net in (build_generator(cfg), build_discriminator(cfg)) for p in net.parameters())
    est = estimate(cfg)
    assert est.parameters == real
    assert est.data_bytes == 5000 * 1 * 32 * 32
    assert est.evaluation_bytes > 0 and EVAL_BATCH < cfg.eval_samples


def test_a_memory_bomb_is_refused_in_one_line_without_allocating():
    cfg = GANConfig.from_flat({"dataset": "ring8", "nz": 100_000_000})
    with pytest.raises(ValueError) as e:
        check_fits(cfg, 16 * 2**30, where="in the test")
    msg = str(e.value)
    assert msg.count("\n") == 0
    assert msg.startswith("config needs about 238 GB of memory for one run (12,800,033,923 parameters in G and D")
    assert msg.endswith("more than the 16 GB in the test; allowed: a config that fits, e.g. a smaller nz, ngf, "
                        "ndf, mlp_hidden or batch_size")
    assert check_fits(GANConfig.from_flat({"dataset": "ring8"}), 16 * 2**30).parameters == 34179


def test_available_memory_is_the_machines_and_positive():
    with open("/proc/meminfo") as f:
        fields = dict(line.split(":", 1) for line in f)
    want = int(fields["MemAvailable"].split()[0]) * 1024
    assert available_bytes() == pytest.approx(want, rel=0.2)  # it moves between the two reads

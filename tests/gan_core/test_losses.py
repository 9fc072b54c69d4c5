"""Each loss equals its formula on hand-computed logits, and stays finite where the naive formula does not."""
import math

import pytest
import torch

from gan_core.losses import (GENERATOR_LOSSES, discriminator_loss, generator_loss, minimax_value)

REAL = torch.tensor([0.0, 2.0, -1.0])
FAKE = torch.tensor([-1.0, 1.0, 3.0])


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_discriminator_loss_is_minus_the_value():
    terms = discriminator_loss(REAL, FAKE)
    real = -sum(math.log(sig(x)) for x in REAL.tolist()) / 3
    fake = -sum(math.log(1 - sig(x)) for x in FAKE.tolist()) / 3
    assert terms["d_loss_real"].item() == pytest.approx(real, rel=1e-6)
    assert terms["d_loss_fake"].item() == pytest.approx(fake, rel=1e-6)
    assert terms["d_loss"].item() == pytest.approx(real + fake, rel=1e-6)
    assert minimax_value(REAL, FAKE).item() == pytest.approx(-(real + fake), rel=1e-6)


def test_minimax_generator_loss_is_mean_log_one_minus_d():
    expected = sum(math.log(1 - sig(x)) for x in FAKE.tolist()) / 3
    assert generator_loss("minimax", FAKE)["g_loss"].item() == pytest.approx(expected, rel=1e-6)


def test_non_saturating_generator_loss_is_minus_mean_log_d():
    expected = -sum(math.log(sig(x)) for x in FAKE.tolist()) / 3
    assert generator_loss("non_saturating", FAKE)["g_loss"].item() == pytest.approx(expected, rel=1e-6)


def test_at_the_optimum_d_is_one_half_and_the_value_is_minus_log_4():
    zeros = torch.zeros(4)
    assert discriminator_loss(zeros, zeros)["d_loss"].item() == pytest.approx(math.log(4), rel=1e-7)
    assert minimax_value(zeros, zeros).item() == pytest.approx(-math.log(4), rel=1e-7)


def test_losses_stay_finite_and_exact_for_saturated_logits():
    big = torch.tensor([200.0, -200.0])
    d = discriminator_loss(big, -big)
    assert d["d_loss_real"].item() == pytest.approx(100.0, rel=1e-6)  # -(log 1 + log sigmoid(-200)) / 2 = 100
    assert d["d_loss_fake"].item() == pytest.approx(100.0, rel=1e-6)
    assert generator_loss("minimax", big)["g_loss"].item() == pytest.approx(-100.0, rel=1e-6)
    assert generator_loss("non_saturating", big)["g_loss"].item() == pytest.approx(100.0, rel=1e-6)


def test_saturation_is_why_the_non_saturating_loss_exists():
    """Where D rejects a fake with confidence (logit -10), the minimax gradient nearly vanishes; the NS one does not."""
    grads = {}
    for name in ("minimax", "non_saturating"):
        logit = torch.tensor([-10.0], requires_grad=True)
        generator_loss(name, logit)["g_loss"].backward()
        grads[name] = logit.grad.item()
    assert grads["minimax"] == pytest.approx(-sig(-10.0), rel=1e-5)      # d/dl log(1 - sig(l)) = -sig(l)
    assert grads["non_saturating"] == pytest.approx(-(1 - sig(-10.0)), rel=1e-5)  # d/dl -log sig(l) = -(1 - sig(l))


def test_losses_are_chosen_by_name():
    assert set(GENERATOR_LOSSES) == {"minimax", "non_saturating"}
    with pytest.raises(ValueError, match="unknown generator loss 'hinge'; allowed: minimax | non_saturating"):
        generator_loss("hinge", FAKE)

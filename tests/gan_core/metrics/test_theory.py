"""Goodfellow et al. 2014, Prop. 1 / Thm. 1, numerically: a trained D approaches D*, V approaches -log 4 + 2 JSD.

Tolerances (theory.MAX_ABS_D_ERROR_TOL = 0.03, VALUE_ERROR_TOL = 3e-3) are twice the worst error measured over
seeds 0-9 and five p_g (see gan_core/metrics/theory.py); the identical case is held to tighter ones.
"""
from __future__ import annotations

import math

import pytest

from gan_core.metrics.theory import MAX_ABS_D_ERROR_TOL, VALUE_ERROR_TOL, check_optimal_discriminator


def test_identical_distributions_give_one_half_and_minus_log_4():
    r = check_optimal_discriminator(0.0, 1.0, seed=0)
    assert r["jsd"] == 0.0 and r["value_theory"] == pytest.approx(-math.log(4), abs=1e-15)
    assert r["max_abs_d_error"] == pytest.approx(0.0, abs=0.01)  # measured worst over 10 seeds: 0.005
    assert r["d_at_data_mean"] == pytest.approx(0.5, abs=0.01)
    assert r["value"] == pytest.approx(-math.log(4), abs=1e-4)  # measured worst: 1.1e-5


@pytest.mark.parametrize("mu_g,sigma_g,seed", [(1.0, 1.0, 0), (0.5, 2.0, 1)])
def test_trained_discriminator_matches_theory(mu_g, sigma_g, seed):
    r = check_optimal_discriminator(mu_g, sigma_g, seed=seed)
    assert r["max_abs_d_error"] == pytest.approx(0.0, abs=MAX_ABS_D_ERROR_TOL)
    assert r["value"] == pytest.approx(r["value_theory"], abs=VALUE_ERROR_TOL)
    assert r["value_error"] == pytest.approx(abs(r["value"] - r["value_theory"]), abs=1e-15)
    # V(G, D) <= C(G) for every D: the trained one can only fall short (up to quadrature round-off)
    assert r["value_theory"] - r["value"] == pytest.approx(r["value_error"], abs=1e-12)
    assert r["value_theory"] > -math.log(4) + 0.05  # the distributions differ: C(G) is above its minimum


def test_value_of_d_star_is_the_closed_form_independently_of_training():
    r = check_optimal_discriminator(2.0, 0.5, steps=1)
    assert r["value_at_dstar"] == pytest.approx(r["value_theory"], abs=1e-9)


def test_undertrained_discriminator_fails_the_tolerance():
    """The check can fail: 5 Adam steps leave D far from D*."""
    r = check_optimal_discriminator(1.0, 1.0, steps=5, seed=0)
    assert r["max_abs_d_error"] > MAX_ABS_D_ERROR_TOL
    assert r["value_error"] > VALUE_ERROR_TOL


def test_deterministic_for_a_seed():
    a = check_optimal_discriminator(1.0, 1.0, steps=50, seed=3)
    b = check_optimal_discriminator(1.0, 1.0, steps=50, seed=3)
    c = check_optimal_discriminator(1.0, 1.0, steps=50, seed=4)
    assert a == b and a["value"] != c["value"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="sigma_g"):
        check_optimal_discriminator(0.0, 0.0)
    with pytest.raises(ValueError, match="mu_g"):
        check_optimal_discriminator(float("inf"), 1.0)
    with pytest.raises(ValueError, match="steps"):
        check_optimal_discriminator(0.0, 1.0, steps=0)

"""The Parzen-window log-likelihood, against densities known in closed form."""
import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import logsumexp

from gan_core.metrics.parzen import SIGMAS, parzen_log_densities, parzen_log_likelihood, select_parzen_sigma


def test_one_sample_is_exactly_a_gaussian():
    mu = torch.tensor([[0.5, -1.0, 2.0]])
    x = torch.tensor([[0.0, 0.0, 0.0], [0.5, -1.0, 2.0], [3.0, 1.0, -1.0]])
    got = parzen_log_densities(mu, x, sigma=0.7).numpy()
    want = stats.multivariate_normal(mean=mu[0].numpy(), cov=0.49 * np.eye(3)).logpdf(x.numpy())
    assert got == pytest.approx(want, rel=1e-12)


def test_a_window_is_the_mixture_of_its_samples():
    gen = torch.Generator().manual_seed(0)
    mu, x = torch.randn(7, 4, generator=gen), torch.randn(5, 4, generator=gen)
    comps = np.stack([stats.multivariate_normal(mean=m, cov=0.3 ** 2 * np.eye(4)).logpdf(x.numpy())
                      for m in mu.numpy()])  # [7, 5]
    want = logsumexp(comps, axis=0) - math.log(7)
    assert parzen_log_densities(mu, x, sigma=0.3, batch_size=2).numpy() == pytest.approx(want, rel=1e-12)
    mean, se = parzen_log_likelihood(mu, x, sigma=0.3)
    assert (mean, se) == pytest.approx((want.mean(), want.std(ddof=1) / math.sqrt(5)), rel=1e-12)


def test_many_samples_of_a_gaussian_give_the_smoothed_gaussians_log_likelihood():
    """Samples of N(0, s^2 I) make a window that tends to N(0, (s^2 + sigma^2) I); test points of N(0, s^2 I) then
    have the expected log-likelihood -d/2 log(2 pi v) - d s^2 / (2 v), v = s^2 + sigma^2."""
    gen = torch.Generator().manual_seed(1)
    d, s, sigma = 2, 1.0, 0.3
    mu, x = s * torch.randn(20000, d, generator=gen), s * torch.randn(5000, d, generator=gen)
    mean, se = parzen_log_likelihood(mu, x, sigma)
    v = s ** 2 + sigma ** 2
    exact = -d / 2 * math.log(2 * math.pi * v) - d * s ** 2 / (2 * v)
    assert se == pytest.approx(0.0129, abs=0.001)
    assert mean == pytest.approx(exact, abs=3 * se)


def test_sigma_is_chosen_by_validation_log_likelihood():
    gen = torch.Generator().manual_seed(2)
    mu, val = torch.randn(2000, 2, generator=gen), torch.randn(500, 2, generator=gen)
    best, scores = select_parzen_sigma(mu, val)
    assert list(scores) == pytest.approx(list(SIGMAS))
    assert SIGMAS == pytest.approx(tuple(np.logspace(-1, 0, 10)))  # the paper's grid
    assert scores[best] == max(scores.values())
    assert scores[best] == pytest.approx(parzen_log_likelihood(mu, val, best)[0])
    # the window is a density estimate: neither a very narrow nor a very wide kernel wins on 2,000 points
    assert best not in (SIGMAS[0], SIGMAS[-1])


@pytest.mark.parametrize("samples, test, sigma, message", [
    (torch.zeros(3, 2), torch.zeros(2, 3), 0.1, r"samples and test must be \[n, d\] and \[m, d\] with the same d"),
    (torch.zeros(3), torch.zeros(2, 3), 0.1, r"samples and test must be"),
    (torch.zeros(3, 2), torch.zeros(2, 2), 0.0, r"sigma = 0.0 is not allowed; allowed: a finite number > 0"),
    (torch.zeros(3, 2), torch.zeros(2, 2), math.nan, r"sigma = nan is not allowed"),
])
def test_bad_input_is_one_line(samples, test, sigma, message):
    with pytest.raises(ValueError, match=message):
        parzen_log_likelihood(samples, test, sigma)

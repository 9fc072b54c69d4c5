"""The evaluator a trial calls every ``eval_every`` generator steps: ``build_evaluator(cfg)`` picks the metrics of
the dataset and precomputes everything about the real data once.

Why this shape: a Ray study driver builds one evaluator, ships it to every trial (so it is a plain picklable
object: numbers, tensors, a small nn.Module) and each trial calls ``evaluate(generator, z)`` with its own fixed
noise z. Image evaluators train (or load from the on-disk cache) the dataset's classifier at build time, so no
trial ever trains it, and hold the held-out reals' features, mean, covariance square root and k-NN radii, so an
evaluation pays only for its generated samples.

    evaluator = build_evaluator(cfg, cache_dir=None, device="cpu")
    metrics = evaluator.evaluate(generator, z)      # z: [n, nz] on the evaluator's device
    evaluator.primary_metric, evaluator.mode, evaluator.metric_modes, evaluator.n_samples, evaluator.to(device)

This module holds the factory and the evaluators of points; what every evaluator shares (``Evaluator``, the batched
``generate``) is in ``evaluator_base.py``, the image evaluator, with its classifier, in ``image_evaluator.py`` and
the GAN paper's Parzen window on top of it in ``parzen_evaluator.py``.

Metric keys per dataset kind (all floats, plus ``eval_status``: "ok" | "nonfinite_samples"):
- images: fd, cis, precision, recall, density, coverage, classes_covered, class_kl, top_share, diversity; primary
  "fd"; with ``parzen_samples``, also parzen_ll, parzen_ll_se, parzen_sigma (the GAN paper's Table 1 metric); with
  ``inception``, fid_inception (the standard Inception FID, comparable with papers).
- ring8 / grid25: modes_captured, high_quality_frac, reverse_kl, top_share, diversity; primary "reverse_kl".
- gauss1d, affine generator: jsd (exact), g_mu, g_sigma, diversity; primary "jsd".
- gauss1d, other generators: jsd_estimate (KDE estimate), diversity; primary "jsd_estimate".
``diversity`` is the generated spread over the real spread (sqrt of the ratio of covariance traces, in the
classifier's feature space for images): 1 when they match, ~0 when G emits a single point; ``assess_stability``
uses it and ``top_share`` (the largest share of samples on one class or mode) to flag collapse. If any generated
value is NaN or infinite, every metric is NaN and eval_status is "nonfinite_samples": a metric of garbage is never
a silent number.
"""
from __future__ import annotations

import math
import os

import numpy as np
import torch
import torch.nn as nn

from gan_core.config import GANConfig
from gan_core.metrics.evaluator_base import Evaluator, check_z, generate
from gan_core.metrics.gaussian import gaussian_jsd, jsd_estimate
from gan_core.metrics.mixtures import mixture_metrics_from_spec

__all__ = ["build_evaluator", "MixtureEvaluator", "GaussianEvaluator"]  # ImageEvaluator: image_evaluator.py

def build_evaluator(cfg: GANConfig, cache_dir: str | os.PathLike | None = None,
                    device: torch.device | str = "cpu", parzen_samples: int = 0, inception: bool = False,
                    ) -> Evaluator:
    """The evaluator of ``cfg.dataset`` on ``device``. Images: trains or loads the cached classifier (under a file
    lock, see ``gan_core.metrics.classifier``) and precomputes the held-out statistics, with the Parzen
    log-likelihood of ``parzen_samples`` generated images if > 0 and with ``inception`` the Inception FID of the
    same samples (``inception.py``: torch-fidelity with cached weights, never downloaded); points: nothing heavy."""
    if not isinstance(cfg, GANConfig):
        raise ValueError(f"build_evaluator needs a GANConfig, got {type(cfg).__name__}")
    from gan_core.data import evaluation_frame, load_dataset

    if parzen_samples and not cfg.is_image:
        raise ValueError(f"parzen_samples = {parzen_samples} for dataset {cfg.dataset!r}; allowed: 0, or an image "
                         f"dataset")
    if inception and not cfg.is_image:
        raise ValueError(f"the Inception FID was asked for dataset {cfg.dataset!r}; allowed: image datasets")
    if cfg.is_image:
        from gan_core.metrics.classifier import load_or_train_classifier
        from gan_core.metrics.image_evaluator import ImageEvaluator
        from gan_core.metrics.parzen_evaluator import ParzenImageEvaluator

        cfg = evaluation_frame(cfg)  # the trainer shows G to the evaluator in this frame (data.evaluation_view)
        data = load_dataset(cfg, "cpu")
        classifier, meta = load_or_train_classifier(data, cache_dir, device)
        if parzen_samples:
            return ParzenImageEvaluator(cfg, data, classifier, meta, parzen_samples, device, inception)
        return ImageEvaluator(cfg, data, classifier, meta, device, inception)
    if cfg.dataset in ("ring8", "grid25"):
        from gan_core.data import mixture_spec

        centres, std = mixture_spec(cfg.dataset)
        return MixtureEvaluator(cfg.dataset, centres, std, cfg.eval_samples, device)
    if cfg.dataset == "gauss1d":
        data = load_dataset(cfg, "cpu")
        return GaussianEvaluator(data.mu, data.sigma, cfg.arch == "affine", cfg.eval_samples, device)
    raise ValueError(f"no evaluator for dataset {cfg.dataset!r}")


class MixtureEvaluator(Evaluator):
    """modes_captured, high_quality_frac, reverse_kl (VEEGAN / PacGAN) and diversity of 2D samples."""

    primary_metric = "reverse_kl"
    metric_keys = ("modes_captured", "high_quality_frac", "reverse_kl", "top_share", "diversity")

    def __init__(self, name: str, centres: np.ndarray, std: float, n_samples: int,
                 device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.dataset = name
        self.centres = torch.as_tensor(np.asarray(centres), dtype=torch.float64, device=self.device)  # [M, 2]
        self.std = float(std)
        self.n_samples = int(n_samples)
        c = self.centres.cpu().numpy()
        # total variance of the equal-weight mixture: spread of the centres plus the isotropic noise, both axes
        self._real_trace = float(((c - c.mean(0)) ** 2).sum(1).mean() + 2 * self.std ** 2)

    def to(self, device: torch.device | str) -> "MixtureEvaluator":
        new = self._moved(device)
        new.centres = self.centres.to(new.device)
        return new

    def score_points(self, x: torch.Tensor) -> dict:
        if not torch.is_tensor(x) or x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"generated points must have shape [n, 2], got "
                             f"{tuple(x.shape) if torch.is_tensor(x) else type(x).__name__}")
        if not bool(torch.isfinite(x).all()):
            return self._nan_result()
        out = mixture_metrics_from_spec(x, self.centres, self.std)
        spread = float(x.double().var(0, unbiased=False).sum()) if x.shape[0] > 1 else 0.0
        out["diversity"] = math.sqrt(spread / self._real_trace)
        out["eval_status"] = "ok"
        return out

    def evaluate(self, generator: nn.Module, z: torch.Tensor) -> dict:
        check_z(z, 1)
        return self.score_points(generate(generator, z).to(self.device))


class GaussianEvaluator(Evaluator):
    """gauss1d: the exact JSD(p_data || p_g) for the affine generator (p_g = N(b, a^2)), else a KDE estimate."""

    def __init__(self, mu: float, sigma: float, affine: bool, n_samples: int, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.dataset = "gauss1d"
        self.mu = float(mu)
        self.sigma = float(sigma)
        self.affine = bool(affine)
        self.n_samples = int(n_samples)
        self.primary_metric = "jsd" if self.affine else "jsd_estimate"
        self.metric_keys = ("jsd", "g_mu", "g_sigma", "diversity") if self.affine else ("jsd_estimate", "diversity")

    def to(self, device: torch.device | str) -> "GaussianEvaluator":
        return self._moved(device)

    def evaluate(self, generator: nn.Module, z: torch.Tensor) -> dict:
        check_z(z, 2)
        if self.affine:
            if not (hasattr(generator, "a") and hasattr(generator, "b")):
                raise ValueError(f"the gauss1d evaluator was built for arch 'affine' and reads generator.a and "
                                 f"generator.b; {type(generator).__name__} has no such parameters")
            a, b = float(generator.a.detach().reshape(())), float(generator.b.detach().reshape(()))
            if not (math.isfinite(a) and math.isfinite(b)):
                return self._nan_result()
            # p_g = N(b, a^2); a = 0 is a point mass, singular to p_data: JSD = log 2 exactly
            jsd = gaussian_jsd(self.mu, self.sigma, b, abs(a)) if a != 0 else math.log(2)
            return {"jsd": jsd, "g_mu": b, "g_sigma": abs(a), "diversity": abs(a) / self.sigma, "eval_status": "ok"}
        x = generate(generator, z)
        if x.ndim != 2 or x.shape[1] != 1:
            raise ValueError(f"gauss1d samples must have shape [n, 1], got {tuple(x.shape)}")
        if not bool(torch.isfinite(x).all()):
            return self._nan_result()
        return {"jsd_estimate": jsd_estimate(x, self.mu, self.sigma),
                "diversity": float(x.double().std()) / self.sigma, "eval_status": "ok"}

"""Metrics of GAN samples and training runs; imports no Ray.

- ``build_evaluator(cfg)``: the per-trial evaluator (``evaluator.py``): image metrics in the feature space of the
  dataset's cached classifier (``image_evaluator.py``, ``classifier.py``, ``features.py``), mixture metrics
  (``mixtures.py``), exact or estimated JSD for gauss1d (``gaussian.py``); ``METRIC_MODES``, each quality metric's
  better direction (``modes.py``).
- ``assess_stability(history, primary_metric, mode)``: a trial's stability label and quality summaries.
- ``check_optimal_discriminator(mu_g, sigma_g)``: the numerical check of D* and C(G) (``theory.py``).
- ``inception_fid(fake, real)``: the optional torch-fidelity Inception FID (``inception.py``), also the image
  evaluator's optional ``fid_inception``.
- ``parzen_log_likelihood(samples, test, sigma)``: the Parzen-window log-likelihood of Goodfellow et al. 2014,
  Table 1, with ``select_parzen_sigma`` for its width (``parzen.py``).

Each name is imported from its module on first use (PEP 562), so that importing one torch-free module of this
package (``modes``, ``stability``: what analysis reads) does not import torch with the evaluators.
"""
from __future__ import annotations

import importlib

_HOMES = {
    "classifier": ("CLASSIFIER_VERSION", "classifier_path", "load_or_train_classifier"),
    "evaluator": ("GaussianEvaluator", "MixtureEvaluator", "build_evaluator"),
    "features": ("class_histogram_metrics", "classifier_inception_score", "frechet_distance",
                 "frechet_distance_features", "knn_radii", "prdc"),
    "gaussian": ("gaussian_jsd", "jsd_estimate"),
    "image_evaluator": ("ImageEvaluator",),
    "inception": ("inception_fid", "inception_fid_status"),
    "mixtures": ("mixture_metrics", "mixture_metrics_from_spec"),
    "modes": ("METRIC_MODES",),
    "parzen": ("parzen_log_likelihood", "select_parzen_sigma"),
    "stability": ("assess_stability", "stability_columns"),
    "theory": ("check_optimal_discriminator",),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

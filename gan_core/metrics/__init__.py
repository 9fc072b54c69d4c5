"""Metrics of GAN samples and training runs; imports no Ray.

- ``build_evaluator(cfg)``: the per-trial evaluator, and ``METRIC_MODES``, each quality metric's better direction (``evaluator.py``): image metrics in the feature space of the
  dataset's cached classifier (``classifier.py``, ``features.py``), mixture metrics (``mixtures.py``), exact or
  estimated JSD for gauss1d (``gaussian.py``).
- ``assess_stability(history, primary_metric, mode)``: a trial's stability label and quality summaries.
- ``check_optimal_discriminator(mu_g, sigma_g)``: the numerical check of D* and C(G) (``theory.py``).
- ``inception_fid(fake, real)``: the optional torch-fidelity Inception FID (``inception.py``), also the image
  evaluator's optional ``fid_inception``.
- ``parzen_log_likelihood(samples, test, sigma)``: the Parzen-window log-likelihood of Goodfellow et al. 2014,
  Table 1, with ``select_parzen_sigma`` for its width (``parzen.py``).
"""
from gan_core.metrics.classifier import CLASSIFIER_VERSION, classifier_path, load_or_train_classifier
from gan_core.metrics.evaluator import (
    METRIC_MODES,
    GaussianEvaluator,
    ImageEvaluator,
    MixtureEvaluator,
    build_evaluator,
)
from gan_core.metrics.features import (
    class_histogram_metrics,
    classifier_inception_score,
    frechet_distance,
    frechet_distance_features,
    knn_radii,
    prdc,
)
from gan_core.metrics.gaussian import gaussian_jsd, jsd_estimate
from gan_core.metrics.inception import inception_fid, inception_fid_status
from gan_core.metrics.mixtures import mixture_metrics, mixture_metrics_from_spec
from gan_core.metrics.parzen import parzen_log_likelihood, select_parzen_sigma
from gan_core.metrics.stability import assess_stability, stability_columns
from gan_core.metrics.theory import check_optimal_discriminator

__all__ = [
    "CLASSIFIER_VERSION",
    "METRIC_MODES",
    "GaussianEvaluator",
    "ImageEvaluator",
    "MixtureEvaluator",
    "assess_stability",
    "build_evaluator",
    "check_optimal_discriminator",
    "class_histogram_metrics",
    "classifier_inception_score",
    "classifier_path",
    "frechet_distance",
    "frechet_distance_features",
    "gaussian_jsd",
    "inception_fid",
    "inception_fid_status",
    "jsd_estimate",
    "knn_radii",
    "load_or_train_classifier",
    "mixture_metrics",
    "mixture_metrics_from_spec",
    "parzen_log_likelihood",
    "prdc",
    "select_parzen_sigma",
    "stability_columns",
]

"""Sample-quality metrics in a classifier's feature space: plain functions on tensors.

- ``frechet_distance``: the Frechet (2-Wasserstein) distance between Gaussians fitted to two feature sets,
  Heusel et al. 2017 ("GANs trained by a two time-scale update rule...", the FID), here in the penultimate
  features of the dataset's own classifier instead of Inception's. Lower is better; 0 for identical statistics.
- ``classifier_inception_score``: exp(E_x KL(p(y|x) || p(y))), Salimans et al. 2016 ("Improved techniques for
  training GANs"), with the dataset's classifier in place of Inception. Higher is better, at most n_classes.
- ``prdc``: improved precision and recall, Kynkaanniemi et al. 2019 ("Improved precision and recall metric for
  assessing generative models", k-NN balls with k=3), and density and coverage, Naeem et al. 2020 ("Reliable
  fidelity and diversity metrics for generative models", k=5). Precision/density measure fidelity (do fakes
  lie where reals lie?), recall/coverage diversity (are all the reals' regions reached?). Real data score about
  1 on all four (density is about 1 on average, and may exceed 1).
- ``class_histogram_metrics``: classes covered and KL(generated class histogram || uniform), the class-level
  mode-collapse measures of the MNIST mode-collapse literature (e.g. Metz et al. 2017, Srivastava et al. 2017).

Why these choices: all of them reuse one pass of the classifier; k-NN is computed with ``torch.cdist`` in chunks
(memory O(chunk * n)), and everything about the real side (mean, covariance and its square root, k-NN radii) is
computed once by ``RealFeatureStats`` so that an evaluation pays only for its generated samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "PRECISION_RECALL_K",
    "DENSITY_COVERAGE_K",
    "COVERED_MIN_SHARE",
    "COVERED_MIN_CONFIDENCE",
    "RealFeatureStats",
    "feature_stats",
    "sqrtm_psd",
    "frechet_distance",
    "frechet_distance_features",
    "classifier_inception_score",
    "knn_radii",
    "prdc",
    "class_histogram_metrics",
]

PRECISION_RECALL_K = 3  # Kynkaanniemi et al. 2019
DENSITY_COVERAGE_K = 5  # Naeem et al. 2020
# A class counts as covered when at least this share of its uniform share n / n_classes of the samples (10% of
# 1/10 = 1% of all samples) is classified as that class with confidence >= COVERED_MIN_CONFIDENCE: the
# classifier's stray (and unconfident) errors on a one-digit generator then do not count as extra classes, while
# any class the generator really produces clears it easily.
COVERED_MIN_SHARE = 0.1
COVERED_MIN_CONFIDENCE = 0.9
_CHUNK = 1024  # rows of a distance matrix computed at once: 1024 x 2000 floats = 8 MB


def _check_features(name: str, x: torch.Tensor, min_rows: int) -> None:
    if not torch.is_tensor(x) or x.ndim != 2:
        raise ValueError(f"{name} must be a 2D tensor [n, feature_dim], got "
                         f"{tuple(x.shape) if torch.is_tensor(x) else type(x).__name__}")
    if x.shape[0] < min_rows:
        raise ValueError(f"{name} has {x.shape[0]} rows; allowed: at least {min_rows}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values; allowed: finite features only")


def feature_stats(feats: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean [F] and covariance [F, F] (unbiased, float64 numpy) of features [n, F], n >= 2."""
    _check_features("features", feats, 2)
    x = feats.detach().to(torch.float64)
    mu = x.mean(0)
    xc = x - mu  # [n, F]
    cov = xc.T @ xc / (x.shape[0] - 1)  # [F, F]
    return mu.cpu().numpy(), cov.cpu().numpy()


def sqrtm_psd(a: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix, via eigh (tiny negative eigenvalues
    from round-off are clipped to 0)."""
    a = 0.5 * (a + a.T)
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray,
                     sqrt_cov1: np.ndarray | None = None) -> float:
    """||mu1 - mu2||^2 + tr(cov1 + cov2 - 2 (cov1 cov2)^(1/2)), in float64.

    The cross term uses the symmetric form tr((cov1 cov2)^(1/2)) = tr((S cov2 S)^(1/2)) with S = cov1^(1/2):
    S cov2 S is symmetric PSD, so its eigenvalues are real and >= 0 up to round-off (clipped), and the result
    has no imaginary part to discard -- unlike ``scipy.linalg.sqrtm(cov1 @ cov2)``, whose tiny imaginary parts
    the usual FID code drops. Pass ``sqrt_cov1`` when cov1 is a fixed reference to skip its eigh.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    if mu1.ndim != 1 or mu1.shape != mu2.shape or cov1.shape != (mu1.size, mu1.size) or cov2.shape != cov1.shape:
        raise ValueError(f"frechet_distance needs means [F] and covariances [F, F] of one F; got "
                         f"{mu1.shape}, {cov1.shape}, {mu2.shape}, {cov2.shape}")
    for name, arr in (("mu1", mu1), ("cov1", cov1), ("mu2", mu2), ("cov2", cov2)):
        if not np.isfinite(arr).all():
            raise ValueError(f"frechet_distance: {name} has NaN or infinite entries; allowed: finite statistics")
    s = sqrtm_psd(cov1) if sqrt_cov1 is None else np.asarray(sqrt_cov1, np.float64)
    m = s @ cov2 @ s
    eig = np.linalg.eigvalsh(0.5 * (m + m.T))
    tr_cross = float(np.sqrt(np.clip(eig, 0, None)).sum())
    diff = mu1 - mu2
    fd = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * tr_cross)
    return max(fd, 0.0)  # round-off can leave -1e-12 for identical statistics


def frechet_distance_features(a: torch.Tensor, b: torch.Tensor) -> float:
    """Frechet distance between the Gaussians fitted to two feature sets [n, F] and [m, F]."""
    mu1, cov1 = feature_stats(a)
    mu2, cov2 = feature_stats(b)
    return frechet_distance(mu1, cov1, mu2, cov2)


def classifier_inception_score(logits: torch.Tensor) -> float:
    """exp(mean_i KL(p(y|x_i) || p(y))) with p(y) = mean_i p(y|x_i), from class logits [n, K] (float64 inside).

    Salimans et al. 2016. 1 when every sample gets the same posterior (e.g. total collapse), K when posteriors
    are one-hot and the classes are balanced. Computed on one set of n samples (no splits).
    """
    _check_features("logits", logits, 1)
    logp = torch.log_softmax(logits.detach().to(torch.float64), dim=1)  # log p(y|x_i) [n, K]
    log_py = torch.logsumexp(logp, dim=0) - math.log(logp.shape[0])  # log p(y) [K]
    kl = (logp.exp() * (logp - log_py[None, :])).sum(1)  # [n]
    return float(torch.exp(kl.mean()))


def knn_radii(x: torch.Tensor, k: int, chunk: int = _CHUNK) -> torch.Tensor:
    """Distance from each row of x [n, F] to its k-th nearest other row -> [n] (self excluded; needs n > k)."""
    _check_features("features", x, k + 1)
    n = x.shape[0]
    out = torch.empty(n, dtype=x.dtype, device=x.device)
    for i in range(0, n, chunk):
        d = torch.cdist(x[i:i + chunk], x)  # [c, n]
        rows = torch.arange(d.shape[0], device=x.device)
        d[rows, rows + i] = float("inf")  # exclude self
        out[i:i + chunk] = d.kthvalue(k, dim=1).values
    return out


@dataclass
class RealFeatureStats:
    """Everything about the real features that the metrics need, computed once: features [n, F], their mean,
    covariance and covariance square root (float64 numpy), and their k-NN radii for k = 3 and k = 5."""

    feats: torch.Tensor
    mu: np.ndarray
    cov: np.ndarray
    sqrt_cov: np.ndarray
    radii_pr: torch.Tensor
    radii_dc: torch.Tensor

    @classmethod
    def from_features(cls, feats: torch.Tensor) -> "RealFeatureStats":
        feats = feats.detach().float()
        _check_features("real features", feats, DENSITY_COVERAGE_K + 1)
        mu, cov = feature_stats(feats)
        return cls(feats, mu, cov, sqrtm_psd(cov), knn_radii(feats, PRECISION_RECALL_K),
                   knn_radii(feats, DENSITY_COVERAGE_K))

    def to(self, device: torch.device | str) -> "RealFeatureStats":
        return RealFeatureStats(self.feats.to(device), self.mu, self.cov, self.sqrt_cov, self.radii_pr.to(device),
                                self.radii_dc.to(device))


def prdc(real: RealFeatureStats, fake: torch.Tensor, chunk: int = _CHUNK) -> dict[str, float]:
    """Precision and recall (k=3) and density and coverage (k=5) of fake features [m, F] against the reals.

    With B(x, r) the closed ball and NND_k(x) the distance to x's k-th nearest neighbour in its own set:
      precision = mean_j 1[exists i: Y_j in B(X_i, NND_3(X_i))]          (Kynkaanniemi et al. 2019)
      recall    = mean_i 1[exists j: X_i in B(Y_j, NND_3(Y_j))]
      density   = 1/(5 m) sum_j sum_i 1[Y_j in B(X_i, NND_5(X_i))]       (Naeem et al. 2020)
      coverage  = mean_i 1[exists j: Y_j in B(X_i, NND_5(X_i))]
    Needs m > 3 fakes (for their own k-NN radii). One pass over the real-fake distances, in chunks of fakes.
    """
    _check_features("fake features", fake, PRECISION_RECALL_K + 1)
    if fake.shape[1] != real.feats.shape[1]:
        raise ValueError(f"fake features have dimension {fake.shape[1]}, real features {real.feats.shape[1]}; "
                         f"allowed: the same dimension")
    fake = fake.detach().to(real.feats.dtype)
    fake_radii = knn_radii(fake, PRECISION_RECALL_K, chunk)
    n, m = real.feats.shape[0], fake.shape[0]
    in_real_ball = 0
    density_hits = 0
    covered = torch.zeros(n, dtype=torch.bool, device=fake.device)
    recalled = torch.zeros(n, dtype=torch.bool, device=fake.device)
    for j in range(0, m, chunk):
        d = torch.cdist(fake[j:j + chunk], real.feats)  # [c, n]
        in_pr = d <= real.radii_pr[None, :]
        in_dc = d <= real.radii_dc[None, :]
        in_real_ball += int(in_pr.any(1).sum())
        density_hits += int(in_dc.sum())
        covered |= in_dc.any(0)
        recalled |= (d <= fake_radii[j:j + chunk, None]).any(0)
    return {
        "precision": in_real_ball / m,
        "recall": float(recalled.float().mean()),
        "density": density_hits / (DENSITY_COVERAGE_K * m),
        "coverage": float(covered.float().mean()),
    }


def class_histogram_metrics(logits: torch.Tensor, min_share: float = COVERED_MIN_SHARE,
                            min_confidence: float = COVERED_MIN_CONFIDENCE) -> dict[str, float]:
    """classes_covered, class_kl and top_share from class logits [n, K] of generated samples.

    class_kl = KL(q || uniform) = sum_c q_c log(q_c K), q the histogram of the predicted (argmax) classes of all
    n samples, with 0 log 0 = 0 (its limit): empty classes contribute 0, and the uniform reference has no empty
    class, so the value is always finite, in [0, log K]: 0 for a perfectly balanced histogram, log(10) = 2.303
    for a generator that emits one class of ten.

    classes_covered = the number of classes c that receive at least min_share * n / K samples classified as c
    with confidence max_y p(y|x) >= min_confidence (see ``COVERED_MIN_SHARE`` / ``COVERED_MIN_CONFIDENCE``): a
    class counts when the generator produces recognisable instances of it, not when the classifier's confusions
    land there (the classifier's few errors on one digit's real images can gather in a single wrong class, but
    almost none of them are confident).

    top_share = max_c q_c, the share of the samples whose predicted class is the most common one: about 1/K for a
    balanced generator, near 1 for one that emits a single class or a single blob (which the classifier still
    assigns a class). Unlike classes_covered it does not confuse "unrecognisable yet" (no confident sample, early
    in training) with "one class only".
    """
    if not torch.is_tensor(logits) or logits.ndim != 2 or logits.shape[0] == 0:
        raise ValueError(f"class logits must be a non-empty 2D tensor [n, n_classes], got "
                         f"{tuple(logits.shape) if torch.is_tensor(logits) else type(logits).__name__}")
    if not bool(torch.isfinite(logits).all()):
        raise ValueError("class logits contain NaN or infinite values; allowed: finite logits only")
    n, k = logits.shape
    prob = torch.softmax(logits.detach().to(torch.float64), dim=1)  # [n, K]
    conf, pred = prob.max(1)  # [n], [n]
    q = torch.bincount(pred, minlength=k).to(torch.float64) / n  # [K]
    nz = q > 0
    kl = float((q[nz] * torch.log(q[nz] * k)).sum())
    confident = torch.bincount(pred[conf >= min_confidence], minlength=k)  # [K]
    covered = int((confident >= min_share * n / k).sum())
    return {"classes_covered": float(covered), "class_kl": max(kl, 0.0), "top_share": float(q.max())}

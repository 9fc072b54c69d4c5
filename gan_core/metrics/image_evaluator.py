"""The image evaluator: sample quality in the feature space of the dataset's cached classifier.

Why a module of its own: it is the one evaluator that needs a trained classifier and the held-out images'
statistics (``classifier.py``, ``features.py``) and, optionally, the Inception FID (``inception.py``); the point
evaluators need none of these. ``build_evaluator`` (``evaluator.py``) builds it, and ``parzen_evaluator.py``
extends it with the GAN paper's Parzen window.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn as nn

from gan_core.config import GANConfig
from gan_core.metrics.classifier import FEATURE_DIM, LeNet
from gan_core.metrics.evaluator_base import EVAL_BATCH, REAL_SUBSET_SEED, Evaluator, check_z, generate
from gan_core.metrics.features import (
    PRECISION_RECALL_K,
    RealFeatureStats,
    class_histogram_metrics,
    classifier_inception_score,
    feature_stats,
    frechet_distance,
    prdc,
)
from gan_core.metrics.inception import inception_fid, inception_fid_status

__all__ = ["ImageEvaluator"]


class ImageEvaluator(Evaluator):
    """fd, cis, precision, recall, density, coverage, classes_covered, class_kl, top_share, diversity of images
    against ``n_samples`` held-out reals, in the feature space of the dataset's cached classifier."""

    primary_metric = "fd"
    metric_keys = ("fd", "cis", "precision", "recall", "density", "coverage", "classes_covered", "class_kl",
                   "top_share", "diversity")

    def __init__(self, cfg: GANConfig, data, classifier: LeNet, meta: dict, device: torch.device | str = "cpu",
                 inception: bool = False):
        if inception:
            ok, why = inception_fid_status()
            if not ok:
                raise ValueError(f"the Inception FID was asked for, but {why}; allowed: without it, or where "
                                 f"torch-fidelity and its weights are installed")
            self.metric_keys = type(self).metric_keys + ("fid_inception",)
        self.device = torch.device(device)
        self.dataset = data.name
        self.image_size = int(data.image_size)
        self.channels = int(data.channels)
        self.n_classes = int(data.n_classes)
        self.classifier = classifier.to(self.device).eval()
        self.classifier_meta = dict(meta)
        self.classifier_accuracy = float(meta["heldout_accuracy"])
        n_held = int(data.heldout.shape[0])
        self.n_samples = min(int(cfg.eval_samples), n_held)
        if n_held > self.n_samples:
            idx = torch.randperm(n_held, generator=torch.Generator().manual_seed(REAL_SUBSET_SEED))[:self.n_samples]
            real_u8 = data.heldout[idx.to(data.heldout.device)]
        else:
            real_u8 = data.heldout
        self.inception_real = real_u8.cpu() if inception else None  # the reference of fid_inception
        feats, logits = self.features(data.to_float(real_u8.to(self.device)))
        self.real = RealFeatureStats.from_features(feats)
        self.real_cis = classifier_inception_score(logits)  # the classifier's own score on real data
        self._real_trace = float(np.trace(self.real.cov))

    def to(self, device: torch.device | str) -> "ImageEvaluator":
        new = self._moved(device)
        new.classifier = copy.deepcopy(self.classifier).to(new.device)
        new.real = self.real.to(new.device)
        return new

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Penultimate features [n, 128] and class logits [n, K] of float images [n, C, S, S] in [-1, 1].

        Always in float32 (autocast off), like the real reference statistics, whatever context the caller is in.
        """
        n = images.shape[0]
        # one tensor each, filled batch by batch (as in generate)
        feats = torch.empty(n, FEATURE_DIM, device=self.device, dtype=torch.float32)  # [n, 128]
        logits = torch.empty(n, self.n_classes, device=self.device, dtype=torch.float32)  # [n, K]
        with torch.autocast(self.device.type, enabled=False):
            for i in range(0, n, EVAL_BATCH):
                f = self.classifier.features(images[i:i + EVAL_BATCH].to(self.device, torch.float32))
                feats[i:i + EVAL_BATCH] = f
                logits[i:i + EVAL_BATCH] = self.classifier.head(f)
        return feats, logits

    def score_images(self, images: torch.Tensor) -> dict:
        """All image metrics of float images [n, C, S, S] in [-1, 1] (n > 3) against the held-out reference."""
        want = (self.channels, self.image_size, self.image_size)
        if not torch.is_tensor(images) or images.ndim != 4 or tuple(images.shape[1:]) != want:
            raise ValueError(f"generated images must have shape [n, {want[0]}, {want[1]}, {want[2]}], got "
                             f"{tuple(images.shape) if torch.is_tensor(images) else type(images).__name__}")
        if images.shape[0] <= PRECISION_RECALL_K:
            raise ValueError(f"{images.shape[0]} generated images; allowed: at least {PRECISION_RECALL_K + 1} "
                             f"(k-NN recall needs k={PRECISION_RECALL_K} neighbours)")
        if not bool(torch.isfinite(images).all()):
            return self._nan_result()
        feats, logits = self.features(images)
        mu, cov = feature_stats(feats)
        out = {"fd": frechet_distance(self.real.mu, self.real.cov, mu, cov, sqrt_cov1=self.real.sqrt_cov),
               "cis": classifier_inception_score(logits)}
        out.update(prdc(self.real, feats))
        out.update(class_histogram_metrics(logits))
        out["diversity"] = math.sqrt(max(float(np.trace(cov)), 0.0) / self._real_trace) if self._real_trace > 0 \
            else math.nan
        if self.inception_real is not None:
            out["fid_inception"], _ = inception_fid(images.cpu(), self.inception_real)
        out["eval_status"] = "ok"
        return out

    def evaluate(self, generator: nn.Module, z: torch.Tensor) -> dict:
        check_z(z, PRECISION_RECALL_K + 1)
        return self.score_images(generate(generator, z).to(self.device))

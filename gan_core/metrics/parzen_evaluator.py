"""The image evaluator with the GAN paper's Parzen-window log-likelihood (Goodfellow et al. 2014, Table 1)."""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from gan_core.config import GANConfig
from gan_core.metrics.classifier import LeNet
from gan_core.metrics.evaluator_base import check_z, generate
from gan_core.metrics.image_evaluator import ImageEvaluator
from gan_core.metrics.parzen import parzen_log_likelihood, select_parzen_sigma

__all__ = ["ParzenImageEvaluator", "PARZEN_SPLIT_SEED"]

PARZEN_SPLIT_SEED = 0  # which held-out images choose the Parzen width (validation) and which are scored (test)
PAPER_VALIDATION_IMAGES = 1000  # parzen_ll.py's limit_size: the width is chosen on the first 1,000 validation digits


class ParzenImageEvaluator(ImageEvaluator):
    """The image metrics and the Parzen-window log-likelihood of Goodfellow et al. (2014, Table 1): a Gaussian
    window on ``parzen_samples`` generated images, its width chosen from ``parzen.SIGMAS`` by the mean
    log-likelihood of one half of the held-out images (validation), the mean log-likelihood of the other half
    (test) and its standard error, in nats per image. With a validation split (``validation_split``, the paper's
    MNIST protocol) the width is chosen on its first 1,000 images and every held-out image is scored. Scored as the paper scores MNIST: pixels in [0, 1] and, for
    the 28 px MNIST family (padded to 32 here), on the 28 x 28 digit without the padding. The other metrics use
    the first ``eval_samples`` generated images, as ImageEvaluator does.

    Keys added: parzen_ll, parzen_ll_se, parzen_sigma, and in every report the same window built of real training
    images instead of generated ones (up to ``parzen_samples`` of them, width chosen the same way):
    parzen_ll_real, parzen_ll_real_se, the scale a model's figure is read against on this split (mnist5k's 4,000
    training digits score close to the paper's 225 on its 500 test digits)."""

    def __init__(self, cfg: GANConfig, data, classifier: LeNet, meta: dict, parzen_samples: int,
                 device: torch.device | str = "cpu", inception: bool = False):
        if cfg.image_size != 32:  # build_evaluator passes the evaluation frame: 28 px models are seen padded
            raise ValueError(f"the Parzen log-likelihood is scored at 32 px (the 28 px digit inside); got image_size "
                             f"{cfg.image_size}; allowed: 32")
        if parzen_samples < 2:
            raise ValueError(f"parzen_samples = {parzen_samples}; allowed: an integer >= 2 (the paper: 10,000)")
        super().__init__(cfg, data, classifier, meta, device, inception)
        self.metric_keys = self.metric_keys + ("parzen_ll", "parzen_ll_se", "parzen_sigma")
        self.image_n_samples = self.n_samples
        self.n_samples = int(parzen_samples)  # the trainer draws this much fixed noise for each evaluation
        self.crop = 2 if data.channels == 1 else 0  # MNIST family: 28 px digits padded by 2 px (gan_core.data)
        held = self._unit_pixels(data.to_float(data.heldout))  # uint8 -> [-1, 1] -> [0, 1], flattened
        if data.validation is not None:  # the paper's protocol: its validation digits choose, all test digits score
            validation = data.validation[:PAPER_VALIDATION_IMAGES]
            self.parzen_validation = self._unit_pixels(data.to_float(validation)).to(torch.float64)  # [<= 1000, d]
            self.parzen_test = held.to(torch.float64)  # [m, d]
        else:
            order = torch.randperm(held.shape[0], generator=torch.Generator().manual_seed(PARZEN_SPLIT_SEED))
            half = held.shape[0] // 2
            self.parzen_validation = held[order[:half]].to(torch.float64)  # [m / 2, d]
            self.parzen_test = held[order[half:]].to(torch.float64)        # [m - m / 2, d]
        n_train = int(data.train.shape[0])
        pick = torch.randperm(n_train, generator=torch.Generator().manual_seed(PARZEN_SPLIT_SEED))[:self.n_samples]
        real = self._unit_pixels(data.to_float(data.train[pick.to(data.train.device)]))  # [<= parzen_samples, d]
        real_sigma, _ = select_parzen_sigma(real, self.parzen_validation)
        self.real_window = parzen_log_likelihood(real, self.parzen_test, real_sigma)  # (ll, se) of real digits

    def _unit_pixels(self, images: torch.Tensor) -> torch.Tensor:
        """[n, C, S, S] in [-1, 1] -> [n, C * (S - 2 crop)^2] in [0, 1], the padding cut away."""
        c = self.crop
        if c:
            images = images[:, :, c:-c, c:-c]  # [n, C, 32, 32] -> [n, C, 28, 28]
        return ((images + 1) / 2).flatten(1).cpu()  # [n, C, s, s] -> [n, C*s*s]

    def evaluate(self, generator: nn.Module, z: torch.Tensor) -> dict:
        check_z(z, self.n_samples)
        images = generate(generator, z).to(self.device)
        out = self.score_images(images[:self.image_n_samples])
        out["parzen_ll_real"], out["parzen_ll_real_se"] = self.real_window
        if out["eval_status"] != "ok":
            return {**out, **{k: math.nan for k in ("parzen_ll", "parzen_ll_se", "parzen_sigma")}}
        samples = self._unit_pixels(images)
        sigma, _ = select_parzen_sigma(samples, self.parzen_validation)
        out["parzen_ll"], out["parzen_ll_se"] = parzen_log_likelihood(samples, self.parzen_test, sigma)
        out["parzen_sigma"] = sigma
        return out

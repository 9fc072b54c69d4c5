"""The objectives of Goodfellow et al. (2014), exactly, as plain functions of logits.

D outputs a logit l, with D(x) = sigmoid(l). Everything is written with log-sigmoid, since
log D = logsigmoid(l) and log(1 - D) = logsigmoid(-l): finite for any finite logit, where log(sigmoid(l))
underflows to -inf once sigmoid saturates.

Every function takes logits and returns named loss terms (a dict of 0-d tensors), the quantity to *minimise*
under the key the trainer steps on ("d_loss" or "g_loss").
"""
from __future__ import annotations

from typing import Callable

import torch.nn.functional as F
from torch import Tensor


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> dict[str, Tensor]:
    """D ascends mean(log D(x)) + mean(log(1 - D(G(z)))), so it descends the negative of that.

    d_loss_real = -mean(log D(x)), d_loss_fake = -mean(log(1 - D(G(z)))), d_loss = their sum, and
    value = -d_loss is the minimax value V(D, G) estimated on these batches.
    """
    d_loss_real = -F.logsigmoid(real_logits).mean()
    d_loss_fake = -F.logsigmoid(-fake_logits).mean()
    d_loss = d_loss_real + d_loss_fake
    return {"d_loss": d_loss, "d_loss_real": d_loss_real, "d_loss_fake": d_loss_fake}


def minimax_generator_loss(fake_logits: Tensor) -> dict[str, Tensor]:
    """The original (saturating) objective: G descends mean(log(1 - D(G(z)))).

    Its gradient vanishes when D confidently rejects the fakes, which is early in training: the reason the
    non-saturating loss exists, and what the k/g_loss study measures.
    """
    return {"g_loss": F.logsigmoid(-fake_logits).mean()}


def non_saturating_generator_loss(fake_logits: Tensor) -> dict[str, Tensor]:
    """The non-saturating trick of the same paper: G ascends mean(log D(G(z))), i.e. descends its negative."""
    return {"g_loss": -F.logsigmoid(fake_logits).mean()}


GENERATOR_LOSSES: dict[str, Callable[[Tensor], dict[str, Tensor]]] = {
    "minimax": minimax_generator_loss,
    "non_saturating": non_saturating_generator_loss,
}


def generator_loss(name: str, fake_logits: Tensor) -> dict[str, Tensor]:
    """The generator loss chosen by its config name (``g_loss``)."""
    if name not in GENERATOR_LOSSES:
        raise ValueError(f"unknown generator loss {name!r}; allowed: {' | '.join(GENERATOR_LOSSES)}")
    return GENERATOR_LOSSES[name](fake_logits)


def minimax_value(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """V(D, G) = mean(log D(x)) + mean(log(1 - D(G(z)))) on the given batches."""
    return F.logsigmoid(real_logits).mean() + F.logsigmoid(-fake_logits).mean()


__all__ = [
    "GENERATOR_LOSSES",
    "discriminator_loss",
    "generator_loss",
    "minimax_generator_loss",
    "minimax_value",
    "non_saturating_generator_loss",
]

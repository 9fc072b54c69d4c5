"""Algorithm 1 of Goodfellow et al. (2014), written once: the discriminator step, the generator step, the
simultaneous step of the released codes, and the iteration that strings them together.

Why one module: a solo run (``gan_core.trainer.Trainer``) and a population of N runs stacked into one batched
computation (``gan_core.population.Population``) must train by the same algorithm, and two copies of it drift.
Each step here is written against a ``Run``: what a trainer supplies (its networks, its draws, its losses, its
optimizer steps, its running sums). A Trainer's losses are scalars; a Population's are one per member, [N], and
the gradient of their sum with respect to a member's weights is that member's own gradient, so the same lines
serve both.
"""
from __future__ import annotations

from typing import Any, ContextManager, Protocol, Sequence

import torch

from gan_core.config import GANConfig
from gan_core.runtime import apply_schedule, widen

__all__ = ["Run", "d_step", "g_step", "simultaneous_step", "iteration"]


class Run(Protocol):
    """What the steps need of a trainer. ``G`` and ``D`` map a batch to samples and to logits (a Population's
    carry the members on a leading axis); the losses return the terms of ``gan_core.losses`` (scalars, or [N])."""

    cfg: GANConfig
    g_steps: int
    scheduled: bool
    opt_d: torch.optim.Optimizer
    opt_g: torch.optim.Optimizer

    def G(self, z: torch.Tensor) -> torch.Tensor: ...
    def D(self, x: torch.Tensor) -> torch.Tensor: ...
    def real(self, m: int) -> torch.Tensor: ...
    def noise(self, m: int) -> torch.Tensor: ...
    def amp(self) -> ContextManager[Any]: ...
    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]: ...
    def g_loss(self, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]: ...
    def d_params(self) -> list[torch.Tensor]: ...
    def g_params(self) -> list[torch.Tensor]: ...
    def step_d(self, grads: Sequence[torch.Tensor]) -> None: ...
    def step_g(self, grads: Sequence[torch.Tensor]) -> None: ...
    def count_d(self, terms: dict[str, torch.Tensor], real_logits: torch.Tensor, fake_logits: torch.Tensor,
                grads: Sequence[torch.Tensor]) -> None: ...
    def count_g(self, terms: dict[str, torch.Tensor], grads: Sequence[torch.Tensor]) -> None: ...


def d_step(run: Run) -> None:
    """One discriminator update on a fresh data minibatch and fresh noise: descend BCE(D(x), 1) + BCE(D(G(z)), 0),
    that is, ascend mean log D(x) + mean log(1 - D(G(z)))."""
    m = run.cfg.samples_per_batch
    real = run.real(m)
    z = run.noise(m)
    with torch.no_grad(), run.amp():
        fake = run.G(z)
    with run.amp():
        real_logits = widen(run.D(real))
        fake_logits = widen(run.D(fake))
    terms = run.d_loss(real_logits, fake_logits)
    grads = torch.autograd.grad(terms["d_loss"].sum(), run.d_params())
    run.count_d(terms, real_logits, fake_logits, grads)  # before the step: the gradients' norms as they were taken
    run.step_d(grads)


def g_step(run: Run) -> None:
    """One generator update on fresh noise (minimax or non-saturating); only G's weights take a gradient."""
    z = run.noise(run.cfg.samples_per_batch)
    with run.amp():
        fake_logits = widen(run.D(run.G(z)))
    terms = run.g_loss(fake_logits)
    grads = torch.autograd.grad(terms["g_loss"].sum(), run.g_params())
    run.count_g(terms, grads)
    run.step_g(grads)


def simultaneous_step(run: Run) -> None:
    """D and G updated together from one minibatch (the released code of Goodfellow et al. and of PacGAN, via
    ALI): one forward of D on the real and the generated samples gives both losses; each network's gradient is
    taken of its own loss at the same weights, and then both step."""
    m = run.cfg.samples_per_batch
    real = run.real(m)
    z = run.noise(m)
    with run.amp():
        fake = run.G(z)
        real_logits = widen(run.D(real))
        fake_logits = widen(run.D(fake))
    d_terms = run.d_loss(real_logits, fake_logits)
    g_terms = run.g_loss(fake_logits)
    d_grads = torch.autograd.grad(d_terms["d_loss"].sum(), run.d_params(), retain_graph=True)
    g_grads = torch.autograd.grad(g_terms["g_loss"].sum(), run.g_params())
    run.count_d(d_terms, real_logits, fake_logits, d_grads)
    run.count_g(g_terms, g_grads)
    run.step_d(d_grads)
    run.step_g(g_grads)


def iteration(run: Run) -> None:
    """One iteration of Algorithm 1: the schedules' learning rates and momentum for this iteration, then k
    discriminator updates and one generator update (or, with updates 'simultaneous', one joint step)."""
    if run.scheduled:
        apply_schedule(run.cfg, run.g_steps, run.opt_d, run.opt_g)
    if run.cfg.updates == "simultaneous":
        simultaneous_step(run)
    else:
        for _ in range(run.cfg.k):
            d_step(run)
        g_step(run)

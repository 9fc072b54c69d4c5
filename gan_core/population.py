"""N GANs that share one config except the seed, trained as one batched computation: a population.

Why: a small GAN cannot fill a GPU; its step is a few hundred small kernel launches. Stacking the N members'
weights along a new first axis and running them through ``torch.func.vmap`` over ``functional_call`` does N
members' work in about the launches of one (a Linear becomes one batched matmul, a convolution one grouped
convolution), which is what makes seeds cheap (HFTA, Wang et al. 2021).

Exactly N Trainers: each member is a ``Trainer`` of its own (``members``), built as a solo run with its seed would
be (the same initialisation, the same data and noise streams, its own BatchNorm statistics, sums, history and
status) and holding its own state. Only the training steps are batched: Algorithm 1 with k discriminator steps
(or simultaneous updates) on the stacked weights, each member's minibatch and noise drawn from its own streams,
each member's loss differentiated on its own (the gradient of the sum of the members' losses with respect to a
member's weights is that member's own gradient), and one optimizer over the stacked weights, which is N
optimizers because Adam and SGD are elementwise. At each report the stacked state is written back into the
members, and each member reports, evaluates and assesses its stability exactly as a Trainer does
(``Trainer.report``); a member that diverged is reported as diverged and frozen (its weights, optimizer state and
streams stop), while the others go on. A population's checkpoint is its members' Trainer checkpoints, one per
seed: any of them loads into a plain ``Trainer`` and continues.

In float64 on the CPU a population step equals its members' solo steps to within rounding (the batched kernels sum
in another order); in float32 the two drift apart at the level of float32 rounding, as two machines do.
A key a population cannot run is refused (``Knob.population``: dropout, which draws from torch's global stream).
"""
from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
from torch.func import vmap

from gan_core import algorithm
from gan_core.checkpoint import STATE_FILE, load_state
from gan_core.config import GANConfig
from gan_core.data import load_dataset
from gan_core.knobs import population_refusals
from gan_core.losses import discriminator_loss, generator_loss
from gan_core.runtime import has_schedule, make_optimizer, resolve_device, widen
from gan_core.stacked import stacked_forward
from gan_core.trainer import Trainer

__all__ = ["Population", "member_folder"]


def member_folder(seed: int) -> str:
    """The folder of one member's checkpoint inside a population checkpoint."""
    return f"seed_{seed}"


class _Stack:
    """One network of every member, stacked: parameters [N, ...] (leaves that take gradients), buffers [N, ...],
    one optimizer over the stacked parameters, and the forward of all members at once (``gan_core.stacked``)."""

    def __init__(self, nets: list[torch.nn.Module], optimizers: list[torch.optim.Optimizer], cfg: GANConfig,
                 lr: float, lead: int):
        self.nets = nets
        self.optimizers = optimizers
        self.base = copy.deepcopy(nets[0]).to("meta")  # the structure; functional_call brings the tensors
        self.base.train()
        self.names = [n for n, _ in nets[0].named_parameters()]
        self.buffer_names = [n for n, _ in nets[0].named_buffers()]
        with torch.no_grad():
            self.params = {n: torch.stack([dict(net.named_parameters())[n] for net in nets]).requires_grad_()
                           for n in self.names}
            self.buffers = {n: torch.stack([dict(net.named_buffers())[n] for net in nets])
                            for n in self.buffer_names}
        self.opt = make_optimizer(cfg, list(self.params.values()), lr)
        self._stack_optimizer_state(lead)
        self._forward = stacked_forward(self.base)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(self.params, self.buffers, x)  # [N, B, ...] -> [N, B', ...]

    def param_list(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def _stack_optimizer_state(self, lead: int) -> None:
        """The members' optimizer states (empty before their first step) as the stacked optimizer's; its step
        count, one for all, is that of member ``lead`` (a running one: a member that stopped stopped counting)."""
        states = [o.state_dict() for o in self.optimizers]
        if not states[lead]["state"]:
            return
        stacked = {}
        for idx, first in states[lead]["state"].items():
            stacked[idx] = {k: (v if k == "step" or v is None else torch.stack([s["state"][idx][k] for s in states]))
                            for k, v in first.items()}
        self.opt.load_state_dict({"state": stacked, "param_groups": self.opt.state_dict()["param_groups"]})

    @torch.no_grad()
    def to_members(self, which: Sequence[int], with_optimizer: bool) -> None:
        """Write the stacked weights and buffers (and optimizer state) of members ``which`` into their own nets."""
        opt_state = self.opt.state_dict()["state"] if with_optimizer else {}
        for i in which:
            net = self.nets[i]
            for n, p in net.named_parameters():
                p.copy_(self.params[n][i])
            for n, b in net.named_buffers():
                b.copy_(self.buffers[n][i])
            if with_optimizer and opt_state:
                own = self.optimizers[i].state_dict()
                own["state"] = {idx: {k: (v.clone() if k == "step" or v is None else v[i].clone())
                                      for k, v in st.items()} for idx, st in opt_state.items()}
                self.optimizers[i].load_state_dict(own)

    @torch.no_grad()
    def buffers_from_members(self, which: Sequence[int]) -> None:
        """The members' own buffers back into the stack (after an evaluation recalibrated their BatchNorm)."""
        for i in which:
            for n, b in self.nets[i].named_buffers():
                self.buffers[n][i] = b


def _step(net: _Stack, grads: Sequence[torch.Tensor]) -> None:
    """One optimizer step of every member of ``net``."""
    for p, g in zip(net.param_list(), grads):
        p.grad = g
    net.opt.step()
    for p in net.param_list():
        p.grad = None


def _member_norms(grads: Sequence[torch.Tensor]) -> torch.Tensor:
    """Each member's total gradient norm [N], as ``torch.nn.utils.get_total_norm`` computes a solo run's: the norm
    of the per-tensor norms."""
    per_tensor = torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads], dim=1)  # [N, tensors]
    return torch.linalg.vector_norm(per_tensor, dim=1)  # [N]


class Population:
    """N members with the config ``cfg`` and one seed each, trained together; ``run()`` yields at every report a
    dict seed -> that member's metrics (the members that reported: a member frozen earlier has nothing new)."""

    def __init__(self, cfg: GANConfig, seeds: Sequence[int], evaluator: Any = None,
                 device: str | torch.device | None = None):
        seeds = [int(s) for s in seeds]
        if not seeds or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds = {seeds}; allowed: one or more distinct seeds")
        for knob, value, default in population_refusals(cfg.to_flat()):  # the first one says it
            raise ValueError(f"a population cannot run {knob.key} = {value!r} (it would use {knob.solo_why}, shared "
                             f"by all its members); allowed: {default!r}, or one member per run")
        self.cfg = cfg
        self.seeds = seeds
        self.device = resolve_device(cfg.device if device is None else device)
        data = load_dataset(cfg, self.device)
        self.members = [Trainer(cfg.replace(seed=s), evaluator=evaluator, device=self.device, data=data)
                        for s in seeds]
        self.train_time_s = 0.0
        self.scheduled = has_schedule(self.cfg)  # as Trainer: decided once, not every iteration
        self._running = [True] * len(seeds)  # which members this iteration trains (set by ``iteration``)
        self._restack()

    def _restack(self) -> None:
        """The stacked state from the members' own (at the start, and after a load)."""
        ms = self.members
        lead = next((i for i, m in enumerate(ms) if m.status == "running"),
                    max(range(len(ms)), key=lambda i: ms[i].g_steps))  # the running members' common counters
        self.G = _Stack([m.G for m in ms], [m.opt_g for m in ms], self.cfg, self.cfg.lr_g, lead)
        self.D = _Stack([m.D for m in ms], [m.opt_d for m in ms], self.cfg, self.cfg.lr_d, lead)
        self.g_steps, self.d_steps = ms[lead].g_steps, ms[lead].d_steps
        self.d_sum = torch.stack([m.d_sum for m in ms])  # [N, len(_D_TERMS)]
        self.g_sum = torch.stack([m.g_sum for m in ms])  # [N, len(_G_TERMS)]
        self.train_time_s = max(m.train_time_s for m in ms)

    @property
    def running(self) -> torch.Tensor:
        """bool [N]: the members still training (not diverged, not done)."""
        return torch.tensor([m.status == "running" for m in self.members], device=self.device)

    # ------------------------------------------------- training: what gan_core.algorithm's steps need of a run
    def _draw(self, draw) -> torch.Tensor:
        """One tensor per member from its own streams (``draw(member)``), stacked [N, ...]; zeros for a frozen
        member, whose streams stay as they were."""
        out = [draw(m) if r else None for m, r in zip(self.members, self._running)]
        like = next(t for t in out if t is not None)
        return torch.stack([t if t is not None else torch.zeros_like(like) for t in out])

    def real(self, m: int) -> torch.Tensor:
        return self._draw(lambda t: t.real(m))  # [N, m, ...]

    def noise(self, m: int) -> torch.Tensor:
        return self._draw(lambda t: t.noise(m))  # [N, m, nz]

    def amp(self):
        return self.members[0].amp()

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]:
        return vmap(discriminator_loss)(real_logits, fake_logits)  # each term [N]

    def g_loss(self, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]:
        return vmap(lambda logits: generator_loss(self.cfg.g_loss, logits))(fake_logits)  # each term [N]

    def d_params(self) -> list[torch.Tensor]:
        return self.D.param_list()

    def g_params(self) -> list[torch.Tensor]:
        return self.G.param_list()

    def step_d(self, grads: Sequence[torch.Tensor]) -> None:
        _step(self.D, grads)

    def step_g(self, grads: Sequence[torch.Tensor]) -> None:
        _step(self.G, grads)

    def count_d(self, terms, real_logits, fake_logits, grads) -> None:
        self.d_steps += 1
        self.d_sum += torch.stack([
            terms["d_loss"].detach(), terms["d_loss_real"].detach(), terms["d_loss_fake"].detach(),
            torch.sigmoid(real_logits.detach()).mean(1), torch.sigmoid(fake_logits.detach()).mean(1),
            widen(_member_norms(grads)),
        ], dim=1)  # [N, 6]

    def count_g(self, terms, grads) -> None:
        self.g_steps += 1
        self.g_sum += torch.stack([terms["g_loss"].detach(), widen(_member_norms(grads))], dim=1)  # [N, 2]

    @property
    def opt_d(self) -> torch.optim.Optimizer:
        return self.D.opt

    @property
    def opt_g(self) -> torch.optim.Optimizer:
        return self.G.opt

    def iteration(self) -> None:
        """One iteration of Algorithm 1 (``gan_core.algorithm.iteration``) for every running member. A member that
        stopped (diverged) keeps its rows in the stack, fed zeros, but they are never read again: its Trainer
        holds its state as it was at its last report, and that is what reports and checkpoints show."""
        self._running = self.running.tolist()
        algorithm.iteration(self)

    def run(self) -> Iterator[dict[int, dict[str, Any]]]:
        """Train every member to ``cfg.steps`` generator updates; at every ``eval_every`` (and the end) yield
        seed -> metrics of each member that was running, exactly as its Trainer would report them."""
        while bool(self.running.any()) and self.g_steps < self.cfg.steps:
            start = time.perf_counter()
            self.iteration()
            self.train_time_s += time.perf_counter() - start
            if self.g_steps % self.cfg.eval_every == 0 or self.g_steps == self.cfg.steps:
                yield self._report()

    def _report(self) -> dict[int, dict[str, Any]]:
        finite = (torch.isfinite(self.d_sum).all(1) & torch.isfinite(self.g_sum).all(1)).tolist()
        reporting = [i for i, m in enumerate(self.members) if m.status == "running"]
        self._to_members(reporting)
        out = {}
        for i in reporting:
            m = self.members[i]
            if not finite[i]:
                m.status = "diverged"
            elif self.g_steps == self.cfg.steps:
                m.status = "ok"
            out[m.cfg.seed] = m.report()  # recalibrates the member's BatchNorm, evaluates, resets its sums
            self.d_sum[i] = m.d_sum
            self.g_sum[i] = m.g_sum
        self.G.buffers_from_members(reporting)
        return out

    def _to_members(self, which: Sequence[int]) -> None:
        """The stacked state of the running members ``which`` into their Trainers: weights, buffers, optimizer
        state, counters, sums and time. (A member that stopped, diverged or done, was written at its last report,
        and its Trainer holds its final state.)"""
        self.G.to_members(which, with_optimizer=True)
        self.D.to_members(which, with_optimizer=True)
        for i in which:
            m = self.members[i]
            m.g_steps, m.d_steps = self.g_steps, self.d_steps
            m.d_sum, m.g_sum = self.d_sum[i].clone(), self.g_sum[i].clone()
            m.train_time_s = self.train_time_s

    # ------------------------------------------------------------------------------------------ saved state
    def sync_members(self) -> None:
        """Write the stacked state of the running members into their Trainers (those that stopped hold theirs)."""
        self._to_members([i for i, m in enumerate(self.members) if m.status == "running"])

    def save(self, folder: str | Path) -> None:
        """Each member's complete Trainer state in ``folder/seed_<seed>/state.pt``."""
        self.sync_members()
        for m in self.members:
            m.save(Path(folder) / member_folder(m.cfg.seed) / STATE_FILE)

    def load(self, folder: str | Path) -> None:
        """Load every member from ``folder`` (as ``save`` wrote it) and stack them again. Every member's file is
        read before any is loaded, so that an unreadable one (``UnreadableCheckpoint``) leaves the population as
        it was: a caller can then try an older checkpoint, or start from step 0, with no member half-restored."""
        states = [load_state(Path(folder) / member_folder(m.cfg.seed) / STATE_FILE) for m in self.members]
        for m, state in zip(self.members, states):
            m.load_state_dict(state)
        self._restack()

    # ------------------------------------------------------------------------------------------- one member
    def member(self, seed: int) -> Trainer:
        """The Trainer of the member with ``seed`` (its state is current after a report or ``sync_members``)."""
        for m in self.members:
            if m.cfg.seed == seed:
                return m
        raise ValueError(f"seed {seed} is not a member; allowed: one of {self.seeds}")

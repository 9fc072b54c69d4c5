"""Algorithm 1 of Goodfellow et al. (2014), exactly, with a complete, resumable training state.

Per iteration: k discriminator updates, each on a fresh data minibatch and fresh noise, then one generator update
on fresh noise; separate optimizers (Adam, or SGD with momentum) for D and G. Two switches of the released
codes: ``pack`` (PacGAN: D judges packs of samples, in the models) and ``updates`` = simultaneous (D and G from
one minibatch in one step). Every ``eval_every`` generator updates the run hands back a
metrics dict. All randomness after model initialisation comes from two explicit ``torch.Generator`` streams
(data and noise) that are part of the saved state, so a run resumed from a checkpoint continues bit for bit as if it
had never stopped, and evaluation (which uses its own fixed noise) never disturbs training.

How G is sampled for evaluation: in eval mode, after its BatchNorm running statistics are recomputed from fixed
calibration noise (``calibrate_batchnorm``). Training runs G in train mode in each of the k discriminator steps
and in the generator step, so the running statistics would otherwise depend on k (k + 1 updates an iteration)
and on how far back the momentum reaches; recomputed, they depend only on G's weights, so an evaluation compares
generators, not training schedules.
"""
from __future__ import annotations

import math
import time
from typing import Any, Iterator

import torch
from torch import nn

from gan_core.checkpoint import CheckpointError, load_state, save_state
from gan_core.config import GANConfig
from gan_core.data import load_dataset
from gan_core.losses import discriminator_loss, generator_loss
from gan_core.models import build_discriminator, build_generator

# Config keys that may differ between a checkpoint and the run that resumes it: where and how fast it runs.
RESUMABLE_DIFFERENCES = ("threads", "device", "data_root")

# Order of the running sums kept on the device between evaluations (one sync per evaluation, not per step).
_D_TERMS = ("d_loss", "d_loss_real", "d_loss_fake", "d_real", "d_fake", "grad_norm_d")
_G_TERMS = ("g_loss", "grad_norm_g")

# Offsets that give each random stream of a run its own seed.
_DATA_STREAM, _NOISE_STREAM, _EVAL_STREAM, _CALIBRATION_STREAM = 1, 2, 3, 4
CALIBRATION_SAMPLES = 1024  # noise samples whose batch statistics become G's running statistics before evaluation


def resolve_device(name: str | torch.device) -> torch.device:
    """'auto' is CUDA when torch sees a GPU, else CPU; 'cuda' without a GPU is an error, not a silent CPU run."""
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for but torch sees no CUDA GPU; allowed here: 'cpu' or 'auto'")
    return torch.device(name)


def make_optimizer(cfg: GANConfig, params, lr: float) -> torch.optim.Optimizer:
    """Adam with (beta1, beta2), or SGD with ``momentum`` (the GAN paper's optimizer, without its schedules)."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum)
    return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))


def _stream(seed: int, offset: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed * 1000 + offset)


class Trainer:
    """One GAN run: data, both networks, both optimizers, the step counters and every random stream."""

    def __init__(self, cfg: GANConfig, evaluator: Any = None, device: str | torch.device | None = None):
        self.cfg = cfg
        self.device = resolve_device(cfg.device if device is None else device)
        torch.set_num_threads(cfg.threads)  # never silently all cores: trials share a node
        torch.manual_seed(cfg.seed)  # model initialisation only; training uses the streams below
        self.data = load_dataset(cfg, self.device)
        self.G = build_generator(cfg).to(self.device)
        self.D = build_discriminator(cfg).to(self.device)
        self.opt_g = make_optimizer(cfg, self.G.parameters(), cfg.lr_g)
        self.opt_d = make_optimizer(cfg, self.D.parameters(), cfg.lr_d)
        self.data_gen = _stream(cfg.seed, _DATA_STREAM, self.device)
        self.noise_gen = _stream(cfg.seed, _NOISE_STREAM, self.device)
        self.evaluator = evaluator.to(self.device) if evaluator is not None else None
        self.g_steps = 0
        self.d_steps = 0
        self.status = "running"
        self.train_time_s = 0.0
        self.eval_time_s = 0.0
        self._reset_sums()
        # Divergence is checked every iteration on CPU (free) and less often on CUDA, where a check is a sync.
        self._check_every = 1 if self.device.type == "cpu" else 25
        self._autocast = self.cfg.precision == "bf16"

    # ----------------------------------------------------------------------------------------------- training
    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.nz, generator=self.noise_gen, device=self.device)  # [n, nz]

    def _amp(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self._autocast)

    def _d_step(self) -> None:
        """One discriminator update on a fresh data minibatch and fresh noise."""
        m = self.cfg.samples_per_batch
        real = self.data.sample(m, self.data_gen)
        z = self._noise(m)
        with torch.no_grad(), self._amp():
            fake = self.G(z)
        self.opt_d.zero_grad(set_to_none=True)
        with self._amp():
            real_logits = self.D(real).float()
            fake_logits = self.D(fake).float()
        terms = discriminator_loss(real_logits, fake_logits)
        terms["d_loss"].backward()
        grad_norm = torch.nn.utils.get_total_norm([p.grad for p in self.D.parameters() if p.grad is not None])
        self.opt_d.step()
        self._count_d(terms, real_logits, fake_logits, grad_norm)

    def _count_d(self, terms: dict[str, torch.Tensor], real_logits: torch.Tensor, fake_logits: torch.Tensor,
                 grad_norm: torch.Tensor) -> None:
        self.d_steps += 1
        self._d_sum += torch.stack([
            terms["d_loss"].detach(), terms["d_loss_real"].detach(), terms["d_loss_fake"].detach(),
            torch.sigmoid(real_logits.detach()).mean(), torch.sigmoid(fake_logits.detach()).mean(),
            grad_norm.float(),
        ])

    def _g_step(self) -> None:
        """One generator update on fresh noise; D's parameters take no gradient (it is not being updated)."""
        z = self._noise(self.cfg.samples_per_batch)
        self.D.requires_grad_(False)
        try:
            self.opt_g.zero_grad(set_to_none=True)
            with self._amp():
                fake_logits = self.D(self.G(z)).float()
            terms = generator_loss(self.cfg.g_loss, fake_logits)
            terms["g_loss"].backward()
        finally:
            self.D.requires_grad_(True)
        grad_norm = torch.nn.utils.get_total_norm([p.grad for p in self.G.parameters() if p.grad is not None])
        self.opt_g.step()
        self._count_g(terms, grad_norm)

    def _count_g(self, terms: dict[str, torch.Tensor], grad_norm: torch.Tensor) -> None:
        self.g_steps += 1
        self._g_sum += torch.stack([terms["g_loss"].detach(), grad_norm.float()])

    def _simultaneous_step(self) -> None:
        """D and G updated together from one minibatch (the released code of Goodfellow et al. and of PacGAN, via
        ALI): one forward of D on the real and the generated samples gives both losses; each network's gradient
        is taken of its own loss at the same weights, and then both step."""
        m = self.cfg.samples_per_batch
        real = self.data.sample(m, self.data_gen)
        z = self._noise(m)
        d_params = [p for p in self.D.parameters() if p.requires_grad]
        g_params = [p for p in self.G.parameters() if p.requires_grad]
        with self._amp():
            fake = self.G(z)
            real_logits = self.D(real).float()
            fake_logits = self.D(fake).float()
        d_terms = discriminator_loss(real_logits, fake_logits)
        g_terms = generator_loss(self.cfg.g_loss, fake_logits)
        d_grads = torch.autograd.grad(d_terms["d_loss"], d_params, retain_graph=True)
        g_grads = torch.autograd.grad(g_terms["g_loss"], g_params)
        for p, g in zip(d_params + g_params, d_grads + g_grads):
            p.grad = g
        d_norm = torch.nn.utils.get_total_norm(list(d_grads))
        g_norm = torch.nn.utils.get_total_norm(list(g_grads))
        self.opt_d.step()
        self.opt_g.step()
        self._count_d(d_terms, real_logits, fake_logits, d_norm)
        self._count_g(g_terms, g_norm)

    def iteration(self) -> None:
        """One iteration of Algorithm 1: k discriminator updates, then one generator update (or, with updates
        'simultaneous', one joint step)."""
        if self.cfg.updates == "simultaneous":
            self._simultaneous_step()
        else:
            for _ in range(self.cfg.k):
                self._d_step()
            self._g_step()
        if self.g_steps % self._check_every == 0 and not self._sums_finite():
            self.status = "diverged"

    def _sums_finite(self) -> bool:
        return bool(torch.isfinite(self._d_sum).all() and torch.isfinite(self._g_sum).all())

    def run(self) -> Iterator[dict[str, Any]]:
        """Train to ``cfg.steps`` generator updates, yielding metrics every ``eval_every`` and at the end.

        The last dict yielded has status "ok", or "diverged" as soon as a loss is non-finite: a result, not an
        exception, so one bad trial never kills a study.
        """
        self.G.train()
        self.D.train()
        while self.status == "running" and self.g_steps < self.cfg.steps:
            start = time.perf_counter()
            self.iteration()
            at_eval = self.g_steps % self.cfg.eval_every == 0 or self.g_steps == self.cfg.steps
            checked = self.g_steps % self._check_every == 0  # iteration() has just looked
            if at_eval and not checked and self.status == "running" and not self._sums_finite():
                self.status = "diverged"  # the CUDA path checks less often: never miss it at a report
            self.train_time_s += time.perf_counter() - start
            if self.status == "diverged":
                yield self._metrics()
                return
            if at_eval:
                if self.g_steps == self.cfg.steps:
                    self.status = "ok"
                yield self._metrics()

    # ---------------------------------------------------------------------------------------------- metrics
    def _reset_sums(self) -> None:
        self._d_sum = torch.zeros(len(_D_TERMS), device=self.device)
        self._g_sum = torch.zeros(len(_G_TERMS), device=self.device)
        self._d_steps_at_reset = self.d_steps
        self._g_steps_at_reset = self.g_steps

    def _metrics(self) -> dict[str, Any]:
        """Means of the loss terms over the interval since the last report, plus the evaluator's metrics."""
        n_d = max(self.d_steps - self._d_steps_at_reset, 1)
        n_g = max(self.g_steps - self._g_steps_at_reset, 1)
        d_means = (self._d_sum / n_d).tolist()
        g_means = (self._g_sum / n_g).tolist()
        out: dict[str, Any] = {"g_steps": self.g_steps, "d_steps": self.d_steps, "status": self.status}
        out.update(zip(_D_TERMS, d_means))
        out.update(zip(_G_TERMS, g_means))
        out["value"] = -out["d_loss"]
        if self.status == "diverged":
            for key, v in list(out.items()):
                if isinstance(v, float) and not math.isfinite(v):
                    out[key] = float("nan")
        self._reset_sums()
        start = time.perf_counter()
        if self.evaluator is not None:
            self.calibrate_batchnorm()
            out.update(self.evaluator.evaluate(self.G, self.eval_noise()))  # G back in train mode after
        self.eval_time_s += time.perf_counter() - start
        out["train_time_s"] = self.train_time_s
        out["eval_time_s"] = self.eval_time_s
        return out

    def eval_noise(self, n: int | None = None) -> torch.Tensor:
        """The run's fixed evaluation noise [n, nz]: the same z at every evaluation, from its own stream."""
        if n is None:
            n = self.evaluator.n_samples if self.evaluator is not None else self.cfg.eval_samples
        gen = _stream(self.cfg.seed, _EVAL_STREAM, torch.device("cpu"))
        return torch.randn(n, self.cfg.nz, generator=gen).to(self.device)  # [n, nz]

    @torch.no_grad()
    def calibrate_batchnorm(self) -> None:
        """Recompute G's BatchNorm running statistics as the average batch statistics of ``CALIBRATION_SAMPLES``
        fixed noise samples in minibatches of ``samples_per_batch`` (the training batch), G in train mode, momentum off
        (a cumulative average); every BatchNorm's momentum and G's mode are restored. No BatchNorm: nothing."""
        norms = [m for m in self.G.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
        if not norms:
            return
        momenta = [m.momentum for m in norms]
        was_training = self.G.training
        gen = _stream(self.cfg.seed, _CALIBRATION_STREAM, torch.device("cpu"))
        m = self.cfg.samples_per_batch
        try:
            for bn in norms:
                bn.reset_running_stats()
                bn.momentum = None
            self.G.train()
            with self._amp():
                for _ in range(math.ceil(CALIBRATION_SAMPLES / m)):
                    self.G(torch.randn(m, self.cfg.nz, generator=gen).to(self.device))  # [m, nz] -> samples
        finally:
            for bn, momentum in zip(norms, momenta):
                bn.momentum = momentum
            self.G.train(was_training)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """n samples of G in eval mode, BatchNorm recalibrated, from the fixed evaluation noise, on the CPU (for
        grids and plots)."""
        self.calibrate_batchnorm()
        was_training = self.G.training
        self.G.eval()
        try:
            return self.G(self.eval_noise(n)).float().cpu()
        finally:
            self.G.train(was_training)

    # ------------------------------------------------------------------------------------------ saved state
    def state_dict(self) -> dict[str, Any]:
        """Everything a run needs to continue exactly: networks, optimizers, counters, sums and random streams."""
        rng = {"torch": torch.get_rng_state(), "data": self.data_gen.get_state(), "noise": self.noise_gen.get_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            "config": self.cfg.to_flat(),
            "g_steps": self.g_steps,
            "d_steps": self.d_steps,
            "status": self.status,
            "train_time_s": self.train_time_s,
            "eval_time_s": self.eval_time_s,
            "generator": self.G.state_dict(),
            "discriminator": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": rng,
            "sums": {"d": self._d_sum.cpu(), "g": self._g_sum.cpu(),
                     "d_steps_at_reset": self._d_steps_at_reset, "g_steps_at_reset": self._g_steps_at_reset},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from ``state_dict``; CheckpointError if it was made with another configuration."""
        saved = state["config"]
        mine = self.cfg.to_flat()
        differing = sorted(k for k in set(saved) | set(mine)
                           if k not in RESUMABLE_DIFFERENCES and saved.get(k, "<missing>") != mine.get(k, "<missing>"))
        if differing:
            key = differing[0]
            raise CheckpointError(f"checkpoint was made with another configuration: {key!r} is "
                                  f"{saved.get(key, '<missing>')!r} there and {mine.get(key, '<missing>')!r} here "
                                  f"({len(differing)} key(s) differ); allowed: the same config "
                                  f"(only {', '.join(RESUMABLE_DIFFERENCES)} may change)")
        saved_on, here = _stream_device(state["rng"]["data"]), _stream_device(self.data_gen.get_state())
        if saved_on != here:
            raise CheckpointError(f"checkpoint was saved by a run on {saved_on} and this run is on {here}: its random "
                                  f"streams are {saved_on} generator states, which a {here} run cannot continue; "
                                  f"allowed: resume on {saved_on} (config key 'device')")
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.g_steps = state["g_steps"]
        self.d_steps = state["d_steps"]
        self.status = state["status"]
        self.train_time_s = state["train_time_s"]
        self.eval_time_s = state["eval_time_s"]
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        self.data_gen.set_state(rng["data"])
        self.noise_gen.set_state(rng["noise"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        sums = state["sums"]
        self._d_sum = sums["d"].to(self.device)
        self._g_sum = sums["g"].to(self.device)
        self._d_steps_at_reset = sums["d_steps_at_reset"]
        self._g_steps_at_reset = sums["g_steps_at_reset"]

    def save(self, path) -> None:
        save_state(path, self.state_dict())

    def load(self, path) -> None:
        self.load_state_dict(load_state(path))


_CPU_STATE_BYTES = torch.Generator().get_state().numel()  # a CPU generator's Mersenne Twister state; CUDA's is 16


def _stream_device(state: torch.Tensor) -> str:
    """Which device type a saved ``torch.Generator`` state belongs to, by its size."""
    return "cpu" if state.numel() == _CPU_STATE_BYTES else "cuda"

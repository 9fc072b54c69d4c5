"""Algorithm 1 of Goodfellow et al. (2014), exactly, with a complete, resumable training state.

Per iteration: k discriminator updates, each on a fresh data minibatch and fresh noise, then one generator update
on fresh noise; separate optimizers (Adam, or SGD with momentum and the GAN paper's schedules:
``runtime.schedule``) for D and G. Two switches of the released codes: ``pack`` (PacGAN: D judges packs of
samples, in the models) and ``updates`` = simultaneous (D and G from one minibatch in one step). Every
``eval_every`` generator updates the run hands back a metrics dict. All randomness after model initialisation
comes from two explicit ``torch.Generator`` streams (data and noise) that are part of the saved state, so a run
resumed from a checkpoint continues bit for bit as if it had never stopped, and evaluation (which uses its own
fixed noise) never disturbs training.

How G is sampled for evaluation: in eval mode, after its BatchNorm running statistics are recomputed from fixed
calibration noise (``gan_core.calibration``), so that they depend only on G's weights, not on k. Each report also
carries the run's stability so far (``gan_core.metrics.stability``), computed here, where the run is, from the
history of its reports, which the saved state holds.
"""
from __future__ import annotations

import math
import time
from typing import Any, Iterator

import torch

from gan_core import algorithm
from gan_core.calibration import calibrate_batchnorm, calibration_noise
from gan_core.checkpoint import check_resumable, load_state, save_state
from gan_core.config import GANConfig
from gan_core.cost import iteration_flops
from gan_core.data import evaluation_view, load_dataset
from gan_core.losses import discriminator_loss, generator_loss
from gan_core.metrics.stability import HISTORY_KEYS, stability_columns
from gan_core.models import build_discriminator, build_generator, set_output_bias_from_marginals
from gan_core.runtime import (DATA_STREAM, EVAL_STREAM, NOISE_STREAM, draw_noise, has_schedule, make_optimizer,
                              resolve_device, resolve_precision, stream, stream_device, widen)

# Order of the running sums kept on the device between evaluations (one sync per evaluation, not per step).
_D_TERMS = ("d_loss", "d_loss_real", "d_loss_fake", "d_real", "d_fake", "grad_norm_d")
_G_TERMS = ("g_loss", "grad_norm_g")


def _optimizer_step(optimizer: torch.optim.Optimizer, params: list[torch.Tensor], grads) -> None:
    """One step of ``optimizer`` with ``grads`` as the gradients of ``params``; the gradients are let go after."""
    for p, g in zip(params, grads):
        p.grad = g
    optimizer.step()
    for p in params:
        p.grad = None


class Trainer:
    """One GAN run: data, both networks, both optimizers, the step counters and every random stream."""

    def __init__(self, cfg: GANConfig, evaluator: Any = None, device: str | torch.device | None = None,
                 data: Any = None):
        """``data``: the dataset, where runs share one (a population's members); else it is loaded."""
        self.cfg = cfg
        self.device = resolve_device(cfg.device if device is None else device)
        torch.set_num_threads(cfg.threads)  # never silently all cores: trials share a node
        torch.manual_seed(cfg.seed)  # model initialisation only; training uses the streams below
        self.data = data if data is not None else load_dataset(cfg, self.device)
        self.G = build_generator(cfg).to(self.device)
        self.D = build_discriminator(cfg).to(self.device)
        if cfg.g_bias == "marginals":
            set_output_bias_from_marginals(self.G, self.data)
        self.G_view = evaluation_view(self.G, cfg)  # what the evaluator and the sample grids see of G
        self.opt_g = make_optimizer(cfg, self.G.parameters(), cfg.lr_g)
        self.opt_d = make_optimizer(cfg, self.D.parameters(), cfg.lr_d)
        self.data_gen = stream(cfg.seed, DATA_STREAM, self.device)
        self.noise_gen = stream(cfg.seed, NOISE_STREAM, self.device)
        self.evaluator = evaluator.to(self.device) if evaluator is not None else None
        self.g_steps = 0
        self.d_steps = 0
        self.status = "running"
        self.train_time_s = 0.0
        self.eval_time_s = 0.0
        self.history: list[dict[str, Any]] = []  # what the stability assessment reads of each report (HISTORY_KEYS)
        self.reset_sums()
        self.precision = resolve_precision(cfg, self.device)  # precision "auto" decided here, for this device
        self._autocast = self.precision == "bf16"
        self.scheduled = has_schedule(cfg)  # decided once: a run without schedules never touches its optimizers
        # Each report's ``flops`` (the cost model's count of training so far) lets a report set an effect beside
        # what it cost: a stride-1 variant can cost several times the baseline per step.
        self.iteration_flops = iteration_flops(cfg)

    # ------------------------------------------------- training: what gan_core.algorithm's steps need of a run
    def noise(self, n: int) -> torch.Tensor:
        """n fresh noise vectors from the run's noise stream: [n, nz]."""
        return draw_noise(self.cfg, n, self.noise_gen)

    def real(self, m: int) -> torch.Tensor:
        """m training examples drawn from the run's data stream."""
        return self.data.sample(m, self.data_gen)

    def amp(self):
        """bf16 autocast where the run computes in bf16 (``precision`` bf16, or auto resolved to it), else nothing."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self._autocast)

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]:
        return discriminator_loss(real_logits, fake_logits)

    def g_loss(self, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]:
        return generator_loss(self.cfg.g_loss, fake_logits)

    def d_params(self) -> list[torch.Tensor]:
        return [p for p in self.D.parameters() if p.requires_grad]

    def g_params(self) -> list[torch.Tensor]:
        return [p for p in self.G.parameters() if p.requires_grad]

    def step_d(self, grads) -> None:
        _optimizer_step(self.opt_d, self.d_params(), grads)

    def step_g(self, grads) -> None:
        _optimizer_step(self.opt_g, self.g_params(), grads)

    def count_d(self, terms: dict[str, torch.Tensor], real_logits: torch.Tensor, fake_logits: torch.Tensor,
                grads) -> None:
        self.d_steps += 1
        self.d_sum += torch.stack([
            terms["d_loss"].detach(), terms["d_loss_real"].detach(), terms["d_loss_fake"].detach(),
            torch.sigmoid(real_logits.detach()).mean(), torch.sigmoid(fake_logits.detach()).mean(),
            widen(torch.nn.utils.get_total_norm(list(grads))),
        ])

    def count_g(self, terms: dict[str, torch.Tensor], grads) -> None:
        self.g_steps += 1
        self.g_sum += torch.stack([terms["g_loss"].detach(), widen(torch.nn.utils.get_total_norm(list(grads)))])

    def iteration(self) -> None:
        """One iteration of Algorithm 1 (``gan_core.algorithm.iteration``)."""
        algorithm.iteration(self)

    def sums_finite(self) -> bool:
        return bool(torch.isfinite(self.d_sum).all() and torch.isfinite(self.g_sum).all())

    def run(self) -> Iterator[dict[str, Any]]:
        """Train to ``cfg.steps`` generator updates, yielding metrics every ``eval_every`` and at the end.

        The last dict yielded has status "ok", or "diverged" when a loss went non-finite since the report before:
        a result, not an exception, so one bad trial never kills a study. Divergence is checked once a report,
        on the running sums of the losses (a non-finite loss keeps its sum non-finite), so a step costs no sync
        with the GPU; a run that diverged trains on for at most ``eval_every`` steps of NaN.
        """
        self.G.train()
        self.D.train()
        while self.status == "running" and self.g_steps < self.cfg.steps:
            start = time.perf_counter()
            self.iteration()
            self.train_time_s += time.perf_counter() - start
            if self.g_steps % self.cfg.eval_every == 0 or self.g_steps == self.cfg.steps:
                if not self.sums_finite():
                    self.status = "diverged"
                elif self.g_steps == self.cfg.steps:
                    self.status = "ok"
                yield self.report()

    # ---------------------------------------------------------------------------------------------- metrics
    def reset_sums(self) -> None:
        self.d_sum = torch.zeros(len(_D_TERMS), device=self.device)
        self.g_sum = torch.zeros(len(_G_TERMS), device=self.device)
        self._d_steps_at_reset = self.d_steps
        self._g_steps_at_reset = self.g_steps

    def report(self) -> dict[str, Any]:
        """The report of the interval since the last one: the means of the loss terms, the evaluator's metrics and
        the stability so far (the sums are reset). ``run`` yields it; a Population's members give theirs."""
        n_d = max(self.d_steps - self._d_steps_at_reset, 1)
        n_g = max(self.g_steps - self._g_steps_at_reset, 1)
        d_means = (self.d_sum / n_d).tolist()
        g_means = (self.g_sum / n_g).tolist()
        out: dict[str, Any] = {"g_steps": self.g_steps, "d_steps": self.d_steps, "status": self.status}
        out.update(zip(_D_TERMS, d_means))
        out.update(zip(_G_TERMS, g_means))
        out["value"] = -out["d_loss"]
        if self.status == "diverged":
            for key, v in list(out.items()):
                if isinstance(v, float) and not math.isfinite(v):
                    out[key] = float("nan")
        self.reset_sums()
        start = time.perf_counter()
        if self.evaluator is not None:
            self.calibrate_batchnorm()
            out.update(self.evaluator.evaluate(self.G_view, self.eval_noise()))  # G back in train mode after
            out.update(self._stability(out))
        self.eval_time_s += time.perf_counter() - start
        out["train_time_s"] = self.train_time_s
        out["eval_time_s"] = self.eval_time_s
        out["flops"] = self.g_steps * self.iteration_flops
        return out

    def _stability(self, out: dict[str, Any]) -> dict[str, Any]:
        """The run's stability so far (``STABILITY_KEYS``), with this report in its history. A diverged report's
        quality metrics become NaN first: what the evaluator measures on a network whose training blew up is no
        result, and it can be a finite, even winning, number (a diverged ring8 generator whose points miss every
        mode scores reverse_kl = log 8, as a short healthy run does); NaN keeps every selection from picking it."""
        if self.status == "diverged":
            out.update({k: float("nan") for k in self.evaluator.metric_keys})
        primary = self.evaluator.primary_metric
        self.history.append({k: out[k] for k in (*HISTORY_KEYS, primary) if k in out})
        return stability_columns(self.history, primary, self.evaluator.mode)

    def eval_noise(self, n: int | None = None) -> torch.Tensor:
        """The run's fixed evaluation noise [n, nz]: the same z at every evaluation, from its own stream."""
        if n is None:
            n = self.evaluator.n_samples if self.evaluator is not None else self.cfg.eval_samples
        gen = stream(self.cfg.seed, EVAL_STREAM, torch.device("cpu"))
        return draw_noise(self.cfg, n, gen, self.device)  # [n, nz]

    def calibrate_batchnorm(self) -> None:
        """G's BatchNorm running statistics from the run's fixed calibration noise (``gan_core.calibration``)."""
        calibrate_batchnorm(self.G, calibration_noise(self.cfg, self.device), self.amp())

    @torch.no_grad()
    def sample(self, n: int, recalibrate: bool = True) -> torch.Tensor:
        """n samples of G in eval mode, BatchNorm recalibrated, from the fixed evaluation noise, on the CPU (for
        grids and plots). ``recalibrate=False`` right after an evaluation, which has just recalibrated."""
        if recalibrate:
            self.calibrate_batchnorm()
        was_training = self.G.training
        self.G.eval()
        try:
            return self.G_view(self.eval_noise(n)).float().cpu()
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
            "precision": self.precision,
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
            "history": self.history,
            "sums": {"d": self.d_sum.cpu(), "g": self.g_sum.cpu(),
                     "d_steps_at_reset": self._d_steps_at_reset, "g_steps_at_reset": self._g_steps_at_reset},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from ``state_dict``; CheckpointError if it was made with another configuration."""
        check_resumable(state, self.cfg.to_flat(), stream_device(self.data_gen.get_state()), self.precision)
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.g_steps = state["g_steps"]
        self.d_steps = state["d_steps"]
        self.status = state["status"]
        self.train_time_s = state["train_time_s"]
        self.eval_time_s = state["eval_time_s"]
        self.history = list(state["history"])
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        self.data_gen.set_state(rng["data"])
        self.noise_gen.set_state(rng["noise"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        sums = state["sums"]
        self.d_sum = sums["d"].to(self.device)
        self.g_sum = sums["g"].to(self.device)
        self._d_steps_at_reset = sums["d_steps_at_reset"]
        self._g_steps_at_reset = sums["g_steps_at_reset"]

    def save(self, path) -> None:
        save_state(path, self.state_dict())

    def load(self, path) -> None:
        self.load_state_dict(load_state(path))

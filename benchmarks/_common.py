"""What every benchmark script shares: the repository on sys.path, a local Ray, the median/min/max summary, the
configs the benchmarks measure, and the measuring code that more than one script runs (a population's and solo
Trainers' member-steps per second; one trial's timed training loop started together with others).

Nothing here imports torch, Ray or gan_core at import time: a script can check its machine (``gpu_check.py``:
is there a GPU at all?) before it pays for them.
"""
from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# The configs the benchmarks time (flat GANConfig keys; everything else takes GANConfig's defaults).
RING8_MLP = {"dataset": "ring8"}  # k_sweep's ring8 MLP: GANConfig's ring8 defaults, 2 x 128 hidden units, batch 256
DCGAN_LAPTOP = {"dataset": "mnist5k", "image_size": 32, "ngf": 16, "ndf": 16,
                "batch_size": 64}  # arch_ablation's laptop preset (studies/arch_ablation.py PRESETS["default"])


def spread(values: list[float], digits: int = 3) -> dict[str, float]:
    """Median, min and max: the figure and its spread over repeated runs."""
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits), "runs": len(values)}


def fmt(s: dict[str, float]) -> str:
    return f"{s['median']:.3f} [{s['min']:.3f}, {s['max']:.3f}] over {s['runs']} runs"


def start_local_ray(num_cpus: int | None = None, num_gpus: int | None = None) -> None:
    """A fresh local Ray (never a stale cluster named in /tmp/ray), quiet."""
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=num_cpus, num_gpus=num_gpus, log_to_driver=False,
                 include_dashboard=False)


# ------------------------------------------------------------------------------------- populations against solo
def sync(device) -> None:
    """Wait for the device's queued work (a CUDA step returns before the GPU has done it)."""
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def population_rate(cfg, n: int, iters: int, device, warmup: int = 1) -> float:
    """Member-steps per second of one population of n members (after ``warmup`` iterations)."""
    from gan_core.population import Population

    pop = Population(cfg, range(n), device=device)
    for _ in range(warmup):
        pop.iteration()
    sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        pop.iteration()
    sync(device)
    return n * iters / (time.perf_counter() - start)


def solo_rate(cfg, n: int, iters: int, device, concurrency: int, warmup: int = 1) -> float:
    """Member-steps per second of n solo Trainers: one after another, or ``concurrency`` of them at a time
    stepping together (a GPU shared by fractional trials)."""
    from gan_core.trainer import Trainer

    trainers = [Trainer(cfg.replace(seed=s), device=device) for s in range(n)]
    for t in trainers:
        for _ in range(warmup):
            t.iteration()
    sync(device)
    start = time.perf_counter()
    if concurrency <= 1:
        for t in trainers:
            for _ in range(iters):
                t.iteration()
    else:
        for i in range(0, n, concurrency):
            group = [threading.Thread(target=lambda t=t: [t.iteration() for _ in range(iters)])
                     for t in trainers[i:i + concurrency]]
            for th in group:
                th.start()
            for th in group:
                th.join()
    sync(device)
    return n * iters / (time.perf_counter() - start)


# ------------------------------------------------------------------------- trials that start their steps together
def file_barrier(folder: str, parties: int, timeout_s: float) -> None:
    """Wait until ``parties`` processes have reached this point: each leaves a file in ``folder`` (a fresh folder
    per measurement) and waits for the others'. Works across any processes of one machine (Ray workers, spawned
    processes), where a multiprocessing.Barrier would have to be inherited."""
    open(os.path.join(folder, f"{os.getpid()}-{uuid.uuid4().hex}"), "w").close()
    deadline = time.time() + timeout_s
    while len(os.listdir(folder)) < parties:
        if time.time() > deadline:
            raise TimeoutError(f"{len(os.listdir(folder))} of {parties} trials reached the start within "
                               f"{timeout_s:.0f} s")
        time.sleep(0.0005)


def train_together(flat: dict, device: str, steps: int, warmup: int, barrier: str, parties: int,
                   timeout_s: float = 600.0) -> dict:
    """One trial of several that share a machine: a Trainer of ``flat`` built and warmed up (start-up, not
    throughput), then, once all ``parties`` trials are ready (``file_barrier``), ``steps`` timed iterations.
    Returns the wall-clock start and end (seconds since the epoch, comparable across processes), the steps, and
    whether the weights are on the device asked for and finite."""
    import torch

    from gan_core.config import GANConfig
    from gan_core.trainer import Trainer

    trainer = Trainer(GANConfig.from_flat(flat), device=device)
    for _ in range(warmup):
        trainer.iteration()
    sync(trainer.device)
    file_barrier(barrier, parties, timeout_s)
    start = time.time()
    for _ in range(steps):
        trainer.iteration()
    sync(trainer.device)
    end = time.time()
    params = [*trainer.G.parameters(), *trainer.D.parameters()]
    return {"start": start, "end": end, "steps": steps, "pid": os.getpid(),
            "on_device": all(p.device.type == torch.device(device).type for p in params),
            "finite": all(bool(torch.isfinite(p).all()) for p in params)}


def trial_process(commands, results) -> None:
    """A worker process that runs ``train_together(**command)`` for each command it receives until it gets None;
    each answer is ("ok", result) or ("error", message). The target of ``gpu_check.py``'s trial processes (here,
    so that a spawned process can import it)."""
    while True:
        command = commands.get()
        if command is None:
            return
        try:
            results.put(("ok", train_together(**command)))
        except BaseException as e:  # noqa: BLE001 (the parent reports it; a worker must not die silently)
            results.put(("error", f"{type(e).__name__}: {e}"))

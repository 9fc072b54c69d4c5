"""Benchmark: bf16 autocast against fp32 on the CPU, per network the studies train (issue: speed on the CPU).

Each row times ``Trainer.iteration()`` (Algorithm 1, no evaluation) of one network in several settings: fp32,
bf16 autocast (config key ``precision``), and for the convolutional networks each with channels_last weights.
Timings on a shared machine drift, so the settings are measured in alternating rounds within one run (each
setting first in turn) and each figure is the ratio setting / fp32 per round: median [min, max] over the rounds (below 1: faster than fp32).
The networks: arch_ablation's laptop DCGAN (32 px, ngf = ndf = 16, batch 64) and the DCGAN width (ngf = ndf =
64), k_sweep's ring8 MLP, mode_collapse's PacGAN networks, and the GAN paper's fully connected MNIST model
(goodfellow2014: 28 px, 1200-unit G, maxout D, batch 100). The processor's features that decide whether bf16 is
computed natively (avx512_bf16, amx_bf16) are printed first.

    python benchmarks/precision.py                  # 1 and 2 threads, every network (2.5 minutes on 2 idle cores)
    python benchmarks/precision.py --threads 1      # one thread only
    python benchmarks/precision.py --quick          # a few iterations: keeps the script working (tests run this)

The last line is a JSON summary: the processor's features and every row.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import _common  # noqa: F401  (the repository on sys.path)
import torch
from _common import DCGAN_LAPTOP, RING8_MLP, spread

from gan_core.config import MAX_STEPS, GANConfig
from gan_core.trainer import Trainer
from studies.goodfellow2014 import PAPER_MODEL, PAPER_OPTIMIZER
from studies.mode_collapse import variants as mode_collapse_variants

CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")  # those that matter for bf16 matmuls
NETWORKS = [
    ("DCGAN laptop (ngf 16)", DCGAN_LAPTOP, True),
    ("DCGAN ngf 64", {**DCGAN_LAPTOP, "ngf": 64, "ndf": 64}, True),
    ("ring8 MLP (k_sweep)", RING8_MLP, False),
    ("PacGAN nets (mode_collapse gan)", {"dataset": "ring8", **mode_collapse_variants([2], False)["gan"]}, False),
    ("GAN paper MLP (goodfellow2014)", {"dataset": "mnist5k", **PAPER_MODEL, **PAPER_OPTIMIZER}, False),
]
QUICK_NETWORKS = [("DCGAN ngf 4", {**DCGAN_LAPTOP, "ngf": 4, "ndf": 4, "batch_size": 8}, True),
                  ("ring8 MLP, batch 16", {**RING8_MLP, "batch_size": 16}, False)]


def cpu_features() -> dict:
    """The processor's name and which of ``CPU_FLAGS`` /proc/cpuinfo lists (Linux; empty elsewhere)."""
    flags: set[str] = set()
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
                elif line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"processor": name, **{flag: flag in flags for flag in CPU_FLAGS}, "torch": torch.__version__,
            "mkldnn_bf16_supported": bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)())}


def build(flat: dict, precision: str, channels_last: bool, threads: int) -> Trainer:
    steps = MAX_STEPS  # never reached: iteration() is called directly
    cfg = GANConfig.from_flat({**flat, "precision": precision, "threads": threads, "steps": steps,
                               "eval_every": steps})
    trainer = Trainer(cfg, device="cpu")
    if channels_last:  # the weights in NHWC: convolutions then take and give channels_last tensors
        trainer.G.to(memory_format=torch.channels_last)
        trainer.D.to(memory_format=torch.channels_last)
    return trainer


def settings_of(conv: bool) -> list[tuple[str, str, bool]]:
    """(label, precision, channels_last) of each setting a network is timed in; fp32 first (the reference)."""
    out = [("fp32", "fp32", False), ("bf16", "bf16", False)]
    if conv:
        out += [("fp32 channels_last", "fp32", True), ("bf16 channels_last", "bf16", True)]
    return out


def seconds_per_iteration(trainer: Trainer, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        trainer.iteration()
    return (time.perf_counter() - start) / n


def measure(name: str, flat: dict, conv: bool, threads: int, rounds: int, iters: int, warmup: int) -> dict:
    """The settings of one network in alternating rounds: each one's ms per iteration and ratio to fp32."""
    torch.set_num_threads(threads)
    settings = settings_of(conv)
    trainers = {label: build(flat, precision, cl, threads) for label, precision, cl in settings}
    torch.set_num_threads(threads)  # a Trainer sets the threads of its config; the same here, said once more
    for trainer in trainers.values():
        for _ in range(warmup):
            trainer.iteration()
    seconds: dict[str, list[float]] = {label: [] for label, _, _ in settings}
    labels = list(trainers)
    for r in range(rounds):
        for label in labels[r % len(labels):] + labels[:r % len(labels)]:  # each setting first in turn
            seconds[label].append(seconds_per_iteration(trainers[label], iters))
    ratios = {label: [s / f for s, f in zip(seconds[label], seconds["fp32"])] for label in seconds if label != "fp32"}
    return {"network": name, "threads": threads, "rounds": rounds, "iters_per_round": iters,
            "fp32_ms": round(1000 * statistics.median(seconds["fp32"]), 2),
            "ms": {label: round(1000 * statistics.median(v), 2) for label, v in seconds.items()},
            "ratio_to_fp32": {label: spread(v) for label, v in ratios.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few iterations on tiny networks (the tests)")
    parser.add_argument("--threads", type=int, nargs="+", default=None, help="torch threads (default: 1 2; "
                        "--quick: 1)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args(argv)
    rounds, iters, warmup = (2, 2, 1) if args.quick else (args.rounds, args.iters, 3)
    threads = args.threads or ([1] if args.quick else [1, 2])
    features = cpu_features()
    print("cpu  " + ", ".join(f"{k}={v}" for k, v in features.items()), flush=True)
    rows = []
    for name, flat, conv in QUICK_NETWORKS if args.quick else NETWORKS:
        for n in threads:
            row = measure(name, flat, conv, n, rounds, iters, warmup)
            rows.append(row)
            ratios = "; ".join(f"{label} {r['median']:.3f} [{r['min']:.3f}, {r['max']:.3f}]"
                               for label, r in row["ratio_to_fp32"].items())
            print(f"precision  {name:<32} threads={n}  fp32 {row['fp32_ms']:8.2f} ms  ratio to fp32: {ratios}",
                  flush=True)
    print(json.dumps({"cpu": features, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

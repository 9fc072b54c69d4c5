"""Benchmark: aggregate generator steps per second of N concurrent trials on one machine against one trial alone.

Each trial is a Ray task with the resources a study trial gets (1 CPU and 1 torch thread on CPU; a GPU fraction on
a GPU), running gan_core's Trainer for a fixed number of generator steps on mnist5k at 32 px. A task times its own
training loop, so start-up (imports, data, model build) is not counted; the aggregate rate of N trials is their
total steps over the span from the first start to the last end. The figure is rate(N) / rate(1), repeated.

    python benchmarks/packing.py                 # CPU: 1 vs os.cpu_count() trials of 1 thread each
    python benchmarks/packing.py --gpu           # GPU: 1 trial holding the GPU vs 4 trials at 0.25 GPU each
    python benchmarks/packing.py --quick         # a few steps (tests run this)
    python benchmarks/packing.py --precisions fp32,bf16 --ngf 16   # also bf16's time / fp32's, alone and packed

Precision matters here because a study runs its trials side by side: on a 2-core CPU bf16 was faster than fp32
for one process alone and slower for two one-thread trials at once (the main job, issue 26), so the precision
rows compare the two both ways, interleaved within each repeat.

Goals (issue 6): CPU, 2 trials x 1 thread on 2 cores >= 1.8x one trial; GPU, 4 trials at 0.25 >= 3x one trial.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import _common  # noqa: F401  (puts the repository on sys.path)
from _common import fmt, spread, start_local_ray


def _train(flat: dict, device: str, steps: int) -> tuple[float, float, int]:
    """(start, end, steps) of one trial's training loop, in wall-clock seconds since the epoch."""
    from gan_core.config import GANConfig
    from gan_core.trainer import Trainer

    trainer = Trainer(GANConfig.from_flat(flat), device=device)
    trainer.iteration()  # warm-up: first-call allocations are start-up, not throughput
    start = time.time()
    for _ in range(steps):
        trainer.iteration()
    return start, time.time(), steps


def aggregate_rate(n: int, flat: dict, device: str, num_cpus: float, num_gpus: float, steps: int) -> float:
    """Generator steps per second of n trials run at once."""
    import ray

    task = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus)(_train)
    spans = ray.get([task.remote(flat, device, steps) for _ in range(n)])
    first = min(s for s, _, _ in spans)
    last = max(e for _, e, _ in spans)
    return sum(steps for _, _, steps in spans) / (last - first)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps, to check the script runs")
    parser.add_argument("--gpu", action="store_true", help="GPU packing: 4 trials at 0.25 GPU vs 1 trial")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--precisions", default="fp32",
                        help="comma-separated, from fp32 and bf16 (default fp32); two add bf16 / fp32 time ratios")
    args = parser.parse_args(argv)
    precisions = args.precisions.split(",")
    if any(p not in ("fp32", "bf16") for p in precisions) or len(set(precisions)) != len(precisions):
        parser.error(f"--precisions {args.precisions!r}: a comma-separated list of distinct fp32, bf16")
    steps, repeats = (4, 1) if args.quick else (args.steps, args.repeats)
    ngf = 8 if args.quick else args.ngf
    if args.gpu:
        start_local_ray()
        n, device, cpus, gpus_one, gpus_many = 4, "cuda", 1, 1.0, 0.25
    else:
        n = os.cpu_count() or 1
        start_local_ray(num_cpus=n)
        device, cpus, gpus_one, gpus_many = "cpu", 1, 0.0, 0.0
    rates = {p: {"one": [], "many": []} for p in precisions}
    for _ in range(repeats):
        for precision in precisions:
            flat = {"dataset": "mnist5k", "ngf": ngf, "ndf": ngf, "threads": 1, "precision": precision}
            one = aggregate_rate(1, flat, device, cpus, gpus_one, steps)
            many = aggregate_rate(n, flat, device, cpus, gpus_many, steps)
            rates[precision]["one"].append(one)
            rates[precision]["many"].append(many)
            print(f"packing {device} {precision}: 1 trial {one:.2f} steps/s, {n} trials {many:.2f} steps/s, "
                  f"ratio {many / one:.3f}", flush=True)
    summary = {"benchmark": "packing", "device": device, "trials": n, "ngf": ngf, "steps": steps,
               "precisions": precisions}
    for precision, r in rates.items():
        summary[f"ratio_{precision}"] = spread([m / o for o, m in zip(r["one"], r["many"])])
        print(f"packing {device} {precision}: {n} concurrent trials / 1 trial = {fmt(summary[f'ratio_{precision}'])}")
    summary["ratio"] = summary[f"ratio_{precisions[0]}"]
    if len(precisions) == 2:
        # time per step of bf16 over fp32 = fp32's rate over bf16's, repeat by repeat
        fp32, bf16 = rates["fp32"], rates["bf16"]
        for where in ("one", "many"):
            summary[f"bf16_time_{where}"] = spread([f / b for f, b in zip(fp32[where], bf16[where])])
        print(f"packing {device}: bf16 time / fp32 time, 1 trial alone = {fmt(summary['bf16_time_one'])}")
        print(f"packing {device}: bf16 time / fp32 time, {n} trials at once = {fmt(summary['bf16_time_many'])}")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

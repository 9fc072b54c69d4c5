"""Benchmark: a population of N members (gan_core.population) against the same N members trained one by one.

Each row: aggregate member-steps per second (training iterations of Algorithm 1, no evaluation) of one
Population of N seeds, divided by that of N solo Trainers of the same seeds on the same hardware and threads,
measured in alternating rounds within one run (timings on a shared machine drift); the figure is the median ratio
over the rounds with [min, max].

- CPU (``--device cpu``, 1 thread: a trial's share of a laptop): the ring8 MLP of the k_sweep study (GANConfig's
  ring8 defaults: 2 x 128 hidden units, batch 256) at N in {1, 8, 32}, the mnist5k DCGAN of arch_ablation's laptop
  preset (32 px, ngf = ndf = 16, batch 64) at N in {1, 3, 8}, and the mode-collapse study's three setups (PacGAN's
  networks, packed by 2, VEEGAN's) at N in {3, 5}, the chunks its 5 seeds would make.
- GPU (``--device cuda``): the DCGAN at 32 px (ngf = ndf = 64, batch 64), N in {1, 8, 32, 128}, fp32 and bf16
  autocast; the solo side is what the studies run on a GPU today, four 0.25-GPU trials: four Trainers stepping
  concurrently on one GPU (``--solo-concurrency``, threads in one process: each trial's launches overlap the
  others' as separate processes' do), so the ratio is the population's member-steps/s over those four's.

    python benchmarks/population.py                    # the CPU rows
    python benchmarks/population.py --device cuda      # the GPU rows (one short run: about 5 minutes on an H100)
    python benchmarks/population.py --quick            # a few iterations: keeps the script working (tests run this)

The last line is a JSON summary of every row.
"""
from __future__ import annotations

import argparse
import json
import statistics

import _common  # noqa: F401  (the repository on sys.path)
import torch
from _common import DCGAN_LAPTOP, RING8_MLP, population_rate, solo_rate

from gan_core.config import GANConfig
from studies.mode_collapse import variants as mode_collapse_variants

MODE_COLLAPSE = mode_collapse_variants([2], factorial=False)  # the networks the mode-collapse study trains
CPU_ROWS = [
    ("ring8 MLP", RING8_MLP, (1, 8, 32)),
    ("mnist5k DCGAN, laptop preset", DCGAN_LAPTOP, (1, 3, 8)),
    ("mode_collapse gan (PacGAN nets)", {"dataset": "ring8", **MODE_COLLAPSE["gan"]}, (3, 5)),
    ("mode_collapse pacgan2", {"dataset": "ring8", **MODE_COLLAPSE["pacgan2"]}, (3, 5)),
    ("mode_collapse veegan", {"dataset": "ring8", **MODE_COLLAPSE["veegan"]}, (3, 5)),
]
GPU_ROWS = [
    ("DCGAN 32 px fp32", {"dataset": "mnist5k", "image_size": 32, "ngf": 64, "ndf": 64, "batch_size": 64},
     (1, 8, 32, 128)),
    ("DCGAN 32 px bf16", {"dataset": "mnist5k", "image_size": 32, "ngf": 64, "ndf": 64, "batch_size": 64,
                          "precision": "bf16"}, (1, 8, 32, 128)),
]


def measure(name: str, flat: dict, n: int, args, device: torch.device) -> dict:
    cfg = GANConfig.from_flat({**flat, "threads": args.threads, "device": device.type})
    concurrency = args.solo_concurrency if device.type == "cuda" else 1
    solo_n = concurrency if device.type == "cuda" else n  # GPU: the four fractional trials' aggregate rate
    ratios, pops, solos = [], [], []
    for _ in range(args.rounds):
        p = population_rate(cfg, n, args.iters, device)
        s = solo_rate(cfg, solo_n, args.iters, device, concurrency)
        pops.append(p)
        solos.append(s)
        ratios.append(p / s)
    row = {"row": name, "n": n, "device": device.type, "threads": args.threads,
           "solo": f"{concurrency} concurrent" if concurrency > 1 else "one after another",
           "ratio": {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios),
                     "rounds": len(ratios)},
           "population_member_steps_per_s": statistics.median(pops), "solo_member_steps_per_s": statistics.median(solos)}
    print(f"{name:32s} N = {n:3d}: population / solo = {row['ratio']['median']:.2f} "
          f"[{row['ratio']['min']:.2f}, {row['ratio']['max']:.2f}] over {len(ratios)} rounds "
          f"({row['population_member_steps_per_s']:.1f} vs {row['solo_member_steps_per_s']:.1f} member-steps/s)",
          flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python benchmarks/population.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch threads on each side (default 1)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per row (default 3)")
    p.add_argument("--iters", type=int, default=20, help="timed iterations per side and round (default 20)")
    p.add_argument("--solo-concurrency", type=int, default=4,
                   help="GPU: solo trainers stepping at once, as 0.25-GPU trials do (default 4)")
    p.add_argument("--quick", action="store_true", help="tiny sizes and 2 iterations: keeps the script working")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    rows = GPU_ROWS if device.type == "cuda" else CPU_ROWS
    if args.quick:
        args.rounds, args.iters = 1, 2
        rows = [("ring8 MLP", {"dataset": "ring8", "mlp_hidden": 16}, (2,)),
                ("mnist5k DCGAN", {"dataset": "mnist5k", "ngf": 8, "ndf": 8, "batch_size": 8}, (2,))]
    torch.set_num_threads(args.threads)
    out = [measure(name, flat, n, args, device) for name, flat, ns in rows for n in ns]
    print(json.dumps({"device": device.type, "rows": out}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

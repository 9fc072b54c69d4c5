"""Benchmark: our training iteration against a reference loop written the way pytorch/examples' DCGAN writes it.

Both sides use the same networks (gan_core.models), the same batch size and thread count, on mnist5k at 32 px, in
fp32 (the reference has no autocast; bf16 against fp32 is benchmarks/precision.py's).
The reference follows pytorch/examples dcgan/main.py: a DataLoader over the dataset, a sigmoid on D's output with
nn.BCELoss, D updated on the real then the fake batch, and G updated on the same fake batch. Ours is
gan_core.trainer.Trainer.iteration() (Algorithm 1 with k = 1: fresh noise for the G update, data drawn by index
from a tensor on the device, losses on logits).

Timings on a shared machine drift, so the two are measured in alternating rounds within one run and the figure is
the ratio ours / reference per round: median, min and max over the rounds. A third contender, SameWorkTrainer,
is our code doing the reference's work (the G update reuses the D step's fakes instead of Algorithm 1's fresh
noise): it separates the efficiency of the implementation from the extra G forward the exact algorithm needs.

    python benchmarks/step.py                 # 1 thread and all threads, CPU (and CUDA when present)
    python benchmarks/step.py --quick         # a few iterations: keeps the script working (tests run this)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gan_core.config import MAX_STEPS, GANConfig  # noqa: E402
from gan_core.data import load_dataset  # noqa: E402
from gan_core.losses import discriminator_loss, generator_loss  # noqa: E402
from gan_core.models import build_discriminator, build_generator  # noqa: E402
from gan_core.trainer import Trainer  # noqa: E402


class ReferenceLoop:
    """pytorch/examples dcgan/main.py's training step, verbatim in structure, on our networks."""

    def __init__(self, cfg: GANConfig, device: torch.device):
        torch.manual_seed(cfg.seed)
        data = load_dataset(cfg, "cpu")
        images = data.to_float(data.train)  # float32 [N, C, S, S] in [-1, 1], as the example's transforms give
        dataset = torch.utils.data.TensorDataset(images, data.train_labels)
        self.loader = torch.utils.data.DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True, drop_last=True)
        self.batches = iter(self.loader)
        self.device = device
        self.nz = cfg.nz
        self.netG = build_generator(cfg).to(device)
        self.netD = nn.Sequential(build_discriminator(cfg), nn.Sigmoid()).to(device)  # the example's D ends in Sigmoid
        self.criterion = nn.BCELoss()
        betas = (cfg.beta1, cfg.beta2)
        self.optimizerD = torch.optim.Adam(self.netD.parameters(), lr=cfg.lr_d, betas=betas)
        self.optimizerG = torch.optim.Adam(self.netG.parameters(), lr=cfg.lr_g, betas=betas)

    def _next_batch(self):
        try:
            return next(self.batches)
        except StopIteration:
            self.batches = iter(self.loader)
            return next(self.batches)

    def iteration(self) -> None:
        data = self._next_batch()
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        self.netD.zero_grad()
        real_cpu = data[0].to(self.device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), 1.0, dtype=real_cpu.dtype, device=self.device)
        output = self.netD(real_cpu)
        errD_real = self.criterion(output, label)
        errD_real.backward()
        noise = torch.randn(batch_size, self.nz, device=self.device)
        fake = self.netG(noise)
        label.fill_(0.0)
        output = self.netD(fake.detach())
        errD_fake = self.criterion(output, label)
        errD_fake.backward()
        self.optimizerD.step()
        # (2) Update G network: maximize log(D(G(z)))
        self.netG.zero_grad()
        label.fill_(1.0)
        output = self.netD(fake)
        errG = self.criterion(output, label)
        errG.backward()
        self.optimizerG.step()


class SameWorkTrainer(Trainer):
    """Our implementation doing the reference's work: the G update reuses the D step's fake batch.

    Not Algorithm 1 (which draws fresh noise for the G update, one more G forward per iteration): a benchmark-only
    variant that separates how efficient our step is from how much work the exact algorithm asks for.
    """

    def iteration(self) -> None:
        m = self.cfg.batch_size
        real = self.data.sample(m, self.data_gen)
        fake = self.G(self.noise(m))  # with grad: the G update below reuses it, as the reference does
        self.opt_d.zero_grad(set_to_none=True)
        d_terms = discriminator_loss(self.D(real), self.D(fake.detach()))
        d_terms["d_loss"].backward()
        self.opt_d.step()
        self.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        generator_loss(self.cfg.g_loss, self.D(fake))["g_loss"].backward()
        self.D.requires_grad_(True)
        self.opt_g.step()
        self.d_steps += 1
        self.g_steps += 1


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_iterations(step, n: int, device: torch.device) -> float:
    """Seconds per iteration over n iterations."""
    _sync(device)
    start = time.perf_counter()
    for _ in range(n):
        step()
    _sync(device)
    return (time.perf_counter() - start) / n


def compare(cfg: GANConfig, device: torch.device, threads: int, rounds: int, iters: int, warmup: int) -> dict:
    """Alternate reference and ours for ``rounds`` rounds; the ratio of each round, summarised."""
    torch.set_num_threads(threads)
    steps = MAX_STEPS // cfg.k  # never reached: the loop below calls iteration() directly, never run()
    run_cfg = cfg.replace(threads=threads, steps=steps, eval_every=steps)
    ours = Trainer(run_cfg, device=device)
    same = SameWorkTrainer(run_cfg, device=device)
    ref = ReferenceLoop(cfg, device)
    torch.set_num_threads(threads)
    for _ in range(warmup):
        ours.iteration()
        same.iteration()
        ref.iteration()
    ratios, same_ratios, ours_s, same_s, ref_s = [], [], [], [], []
    for _ in range(rounds):
        r = time_iterations(ref.iteration, iters, device)
        o = time_iterations(ours.iteration, iters, device)
        w = time_iterations(same.iteration, iters, device)
        ratios.append(o / r)
        same_ratios.append(w / r)
        ours_s.append(o)
        same_s.append(w)
        ref_s.append(r)
    return {
        "device": str(device), "threads": threads, "precision": cfg.precision, "batch_size": cfg.batch_size,
        "ngf": cfg.ngf, "rounds": rounds, "iters_per_round": iters,
        "ours_ms": round(1000 * statistics.median(ours_s), 2), "reference_ms": round(1000 * statistics.median(ref_s), 2),
        "same_work_ms": round(1000 * statistics.median(same_s), 2),
        "ratio_median": round(statistics.median(ratios), 3), "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        "same_work_ratio_median": round(statistics.median(same_ratios), 3),
        "same_work_ratio_min": round(min(same_ratios), 3), "same_work_ratio_max": round(max(same_ratios), 3),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few iterations, to check the script runs")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--ngf", type=int, default=64, help="ngf = ndf (default 64, the DCGAN width)")
    args = parser.parse_args(argv)
    rounds, iters, warmup = (2, 2, 1) if args.quick else (args.rounds, args.iters, 5)
    ngf = 8 if args.quick else args.ngf
    cfg = GANConfig.from_flat({"dataset": "mnist5k", "image_size": 32, "batch_size": 64, "ngf": ngf, "ndf": ngf,
                               "precision": "fp32"})
    settings = [(torch.device("cpu"), 1), (torch.device("cpu"), os.cpu_count() or 1)]
    if torch.cuda.is_available():
        settings.append((torch.device("cuda"), 1))
    rows = []
    for device, threads in settings:
        row = compare(cfg, device, threads, rounds, iters, warmup)
        rows.append(row)
        print(f"step  {row['device']:>5} threads={row['threads']:<2} ours {row['ours_ms']:8.2f} ms  reference "
              f"{row['reference_ms']:8.2f} ms  ratio {row['ratio_median']:.3f} [{row['ratio_min']:.3f}, "
              f"{row['ratio_max']:.3f}]; same work as the reference {row['same_work_ms']:8.2f} ms ratio "
              f"{row['same_work_ratio_median']:.3f} [{row['same_work_ratio_min']:.3f}, "
              f"{row['same_work_ratio_max']:.3f}]", flush=True)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: evaluation time as a share of a trial's time at the default settings.

Runs gan_core's Trainer with the dataset's evaluator for a few evaluation intervals and reports
eval_time / (train_time + eval_time). The defaults measured are the study defaults: the laptop preset of
studies/arch_ablation.py (mnist5k, 32 px, ngf = ndf = 16, eval_every 200, 1,000 evaluation samples) and the
GANConfig defaults (ngf = ndf = 64, eval_every 250, 2,000 samples capped at the 1,000 held-out digits).

    python benchmarks/eval_share.py           # both settings, 1 thread
    python benchmarks/eval_share.py --quick   # tiny (tests run this)

Goal (issue 6): <= 10%.
"""
from __future__ import annotations

import argparse
import json

import _common  # noqa: F401
from _common import fmt, spread

SETTINGS = {
    "arch_ablation laptop preset": {"ngf": 16, "ndf": 16, "eval_every": 200, "eval_samples": 1000},
    "GANConfig defaults": {},
}


def eval_share(flat: dict, intervals: int, repeats: int) -> dict:
    import torch

    from gan_core.config import GANConfig
    from gan_core.metrics import build_evaluator
    from gan_core.trainer import Trainer

    torch.set_num_threads(1)
    cfg = GANConfig.from_flat(flat)
    cfg = cfg.replace(steps=cfg.eval_every * intervals, threads=1)
    evaluator = build_evaluator(cfg)  # cached classifier: built once, as a study driver does
    shares = []
    for _ in range(repeats):
        trainer = Trainer(cfg, evaluator=evaluator)
        *_, last = trainer.run()
        shares.append(last["eval_time_s"] / (last["train_time_s"] + last["eval_time_s"]))
    return {"eval_every": cfg.eval_every, "ngf": cfg.ngf, "eval_samples": evaluator.n_samples,
            "share": spread(shares)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--intervals", type=int, default=1)
    args = parser.parse_args(argv)
    rows = []
    for name, flat in SETTINGS.items():
        if args.quick:
            flat = {"ngf": 8, "ndf": 8, "eval_every": 5, "eval_samples": 100}
        row = {"benchmark": "eval_share", "setting": name,
               **eval_share(flat, 1 if args.quick else args.intervals, 1 if args.quick else args.repeats)}
        rows.append(row)
        print(f"eval share, {name} (ngf {row['ngf']}, eval_every {row['eval_every']}, {row['eval_samples']} "
              f"samples): {fmt(row['share'])}", flush=True)
        if args.quick:
            break
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

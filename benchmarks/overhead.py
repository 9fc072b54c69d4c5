"""Benchmark: the wall time of a Ray Tune study against the ideal, its trials' summed compute over the slots.

Runs the k_sweep study (the real study code: runner, trainable, checkpoints every report, evaluator shipped from
the driver) with N trials of ring8 whose length is set so each takes about a minute, on a local Ray with
`slots` = CPUs / cpus-per-trial. The wall time is Tuner.fit's, from Tune's first callback to the experiment's end
(Ray's start and the report are outside it); the ideal is the sum of the trials' own time_total_s / slots.

    python benchmarks/overhead.py            # 4 trials of ~60 s on 2 slots, 2 repeats
    python benchmarks/overhead.py --quick    # 2 tiny trials (tests run this)

Goal (issue 6): wall / ideal <= 1.10.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import _common  # noqa: F401
from _common import fmt, spread, start_local_ray


def run_once(trials: int, steps: int, eval_every: int, storage: str, name: str) -> tuple[float, float]:
    """(wall seconds of Tuner.fit, ideal seconds) for one study."""
    from ray import tune

    from studies import k_sweep
    from studies.runner import run_study

    class Clock(tune.Callback):
        start = end = 0.0

        def setup(self, **info):
            Clock.start = time.perf_counter()

        def on_experiment_end(self, trials, **info):
            Clock.end = time.perf_counter()

    argv = ["--k", "1", "--g-loss", "non_saturating", "--seeds", str(trials), "--steps", str(steps),
            "--eval-every", str(eval_every), "--gpus-per-trial", "0", "--storage-path", storage, "--name", name]
    args = k_sweep.build_parser().parse_args(argv)
    run = run_study(k_sweep.build_spec(args), args, callbacks=[Clock()], command=argv)
    compute = sum(result.metrics["time_total_s"] for result in run.result_grid)
    slots = int(float(os.cpu_count() or 1) // args.cpus_per_trial)
    return Clock.end - Clock.start, compute / min(slots, trials)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--steps", type=int, default=17000, help="generator steps per trial (~60 s on ring8)")
    args = parser.parse_args(argv)
    trials, steps, eval_every, repeats = (2, 20, 10, 1) if args.quick else (args.trials, args.steps, 500,
                                                                             args.repeats)
    start_local_ray()
    ratios, rows = [], []
    with tempfile.TemporaryDirectory(prefix="gan-overhead-") as storage:
        for i in range(repeats):
            wall, ideal = run_once(trials, steps, eval_every, storage, f"overhead_{i}")
            ratios.append(wall / ideal)
            rows.append({"wall_s": round(wall, 2), "ideal_s": round(ideal, 2)})
            print(f"overhead: wall {wall:.1f} s, ideal {ideal:.1f} s, ratio {wall / ideal:.3f}", flush=True)
    summary = {"benchmark": "overhead", "trials": trials, "steps": steps, "runs": rows, "ratio": spread(ratios)}
    print(f"overhead: study wall / ideal = {fmt(summary['ratio'])}")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

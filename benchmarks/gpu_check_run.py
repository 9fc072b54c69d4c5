"""What gpu_check's sections share: the run's time budget, the rows measured so far, and how they are printed (a
markdown table) and kept (JSON after every section, so that a run stopped early still brings its figures back).
"""
from __future__ import annotations

import json
import os
import statistics
import time

from _common import spread


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
    """What the sections share: the device, sizes (gpu_check's ``GPU`` or ``TINY``), rounds, the budget, and the
    rows measured so far."""

    def __init__(self, args, device: str, sizes, rounds: int, budget: Budget, workers: str):
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


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def trial_config(flat: dict, **changes):
    from gan_core.config import GANConfig

    return GANConfig.from_flat({**flat, "threads": 1, **changes})


def release(device: str) -> None:
    import gc

    import torch

    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


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

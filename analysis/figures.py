"""Which figures a report draws, and from what: curves, effects and stability from the tables (``analysis.plots``
draws them); sample grids, latent interpolation and z arithmetic from the checkpoints of the best and worst seeds.
Each is (section, title, path relative to the report folder); a checkpoint that cannot be drawn is a note in the
report, not a failed report.

The checkpoint figures need a forward pass of the generator, so torch: ``python -m gan_core.render`` draws them all
in one subprocess, from a list of jobs, and this module places the PNGs it wrote. So analysis imports no torch
(``tests/analysis/test_torch_free.py``), and where torch is not installed the report is written without them and
says so in one line.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from analysis.effects import STABILITY
from analysis.fsio import Location
from analysis.markdown import num
from analysis.results import Results

__all__ = ["PLOTS", "MAX_CONFIGS", "slug", "table_figures", "checkpoint_figures"]

PLOTS = "plots"
MAX_CONFIGS = 12  # more configurations than this, or a binned factor (a search): curves per level of the first
#                   factor, and sample grids of the best and worst trials of the study instead of per configuration


def _many_configs(results: Results) -> bool:
    """A binned factor or more than MAX_CONFIGS configurations: figures by level and by study, not by config."""
    return any(f.binned for f in results.design.factors) or len(results.configurations) > MAX_CONFIGS


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", text).strip("_")[:80] or "all"


def table_figures(results: Results, plot_dir: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(section, title, relative path) of every figure drawn from the tables."""
    from analysis import forest, plots  # matplotlib on first use: a mistyped path fails fast, before heavy imports

    name = results.study.meta.name
    figures = []
    groups, column, by = results.configurations, "configuration", ""
    if _many_configs(results) and results.design.factors:
        first = results.design.factors[0]
        groups, column, by = first.levels, first.column, f" by {first.name}"
    trials, design = results.trials, results.design
    meta = results.study.meta
    if results.is_search:
        title = f"{name}: final {meta.primary_metric} of every trial against the searched settings"
        p = forest.plot_search(trials, [f.name for f in design.factors], meta.primary_metric, meta.mode,
                               plot_dir / "search.png", title)
        if p:
            figures.append(("Answer", title, f"{PLOTS}/{p.name}"))
    elif not results.effects.empty:
        title = f"{name}: the answer's effects on {meta.primary_metric} and stability against the baseline (95% CI)"
        p = forest.plot_forest(results.effects, meta.primary_metric, plot_dir / "forest.png", title, trials)
        if p:
            figures.append(("Answer", title, f"{PLOTS}/{p.name}"))
    for m in results.study.metrics:
        title = f"{name}: {m} during training{by} (mean and 95% CI over seeds)"
        p = plots.plot_curves(results.history, m, results.study.metric_mode(m), groups,
                              plot_dir / f"curves_{slug(m)}.png", title, group_column=column, trials=trials,
                              design=design)
        if p:
            figures.append(("Curves", title, f"{PLOTS}/{p.name}"))
    for m in [*results.study.metrics[:1], STABILITY, *results.study.metrics[1:]]:
        title = f"{name}: effect on {m} against the baseline (95% CI)"
        p = plots.plot_effects(results.effects, m, plot_dir / f"effects_{slug(m)}.png", title, trials)
        if p:
            figures.append(("Effects", title, f"{PLOTS}/{p.name}"))
    title = f"{name}: share of finished seeds that trained stably"
    p = plots.plot_stability(trials, design, plot_dir / "stability.png", title)
    figures.append(("Stability", title, f"{PLOTS}/{p.name}"))
    return figures, []


def _how_it_ended(row: pd.Series) -> str:
    """ "stable", or the status and why (a collapsed run's grid can look empty: its title says what was found)."""
    status = row.get("stability") or row["status"]
    reason = row.get("stability_reason")
    return f"{status}: {reason}" if status != "stable" and isinstance(reason, str) and reason \
        and reason != "no failure found" else str(status)


def _rank(trials: pd.DataFrame, primary: str, mode: str) -> pd.DataFrame:
    """Trials with a checkpoint, best first by final primary metric; non-finite values last (the worst)."""
    t = trials[trials["checkpoint"] != ""].copy()
    col = f"final_{primary}"
    v = pd.to_numeric(t[col], errors="coerce") if col in t else pd.Series(float("nan"), index=t.index)
    t["_key"] = (v if mode == "min" else -v).where(v.notna() & (v.abs() != float("inf")))
    return t.sort_values(["_key", "trial_dir"], na_position="last", kind="stable")


def checkpoint_figures(results: Results, plot_dir: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    meta = results.study.meta
    loc = results.study.location
    primary, mode = meta.primary_metric, meta.mode
    notes: list[str] = []
    with_ckpt = results.trials[results.trials["checkpoint"] != ""]
    if with_ckpt.empty:
        return [], ["No trial has a checkpoint (checkpoint_NNNNNN/state.pt): no sample figures."]
    if importlib.util.find_spec("torch") is None:
        return [], ["Sample figures skipped: torch is not installed (python -m gan_core.render draws them)."]
    configs = [c for c in results.configurations if c in set(with_ckpt["configuration"])]
    if _many_configs(results):
        groups = [("", with_ckpt)]  # a search: a trial or two per configuration, so the study's best and worst
        notes.append("A search: the sample grids show the best and the worst trial of the whole study.")
    else:
        groups = [(label, with_ckpt[with_ckpt["configuration"] == label]) for label in configs]
    jobs: list[tuple[str, str, Location, Path, str]] = []  # (section, figure, state, path, title)
    for label, group in groups:
        ranked = _rank(group, primary, mode)
        picks = [("best", ranked.iloc[0])] + ([("worst", ranked.iloc[-1])] if len(ranked) > 1 else [])
        for which, row in picks:
            state = loc.join(row["trial_dir"], row["checkpoint"], "state.pt")
            title = (f"{label or row['configuration']}: {which} {'seed' if label else 'trial'} (seed "
                     f"{row.get('seed', '?')}, final {primary} {num(row.get(f'final_{primary}'))}, "
                     f"{_how_it_ended(row)})")
            path = plot_dir / (f"samples_{slug(label)}_{which}.png" if label else f"samples_{which}.png")
            jobs.append(("Samples", "samples", state, path, title))
    best = _rank(with_ckpt[with_ckpt["status"] == "ok"], primary, mode)
    best = best if len(best) else _rank(with_ckpt, primary, mode)
    row = best.iloc[0]
    ckpt = row["best_checkpoint"] if isinstance(row.get("best_checkpoint"), str) and row["best_checkpoint"] \
        and loc.join(row["trial_dir"], row["best_checkpoint"], "state.pt").is_file() else row["checkpoint"]
    state = loc.join(row["trial_dir"], ckpt, "state.pt")
    who = f"{row['configuration']}, seed {row.get('seed', '?')}, {ckpt}"
    jobs.append(("Latent space", "interpolation", state, plot_dir / "interpolation.png",
                 f"Latent interpolation, best trial ({who})"))
    jobs.append(("Latent space", "arithmetic", state, plot_dir / "arithmetic.png",
                 f"z arithmetic: G(mean z(A) - mean z(B) + mean z(C)), best trial ({who})"))
    figures = []
    for (section, _, state, path, title), skipped in zip(jobs, _render(jobs, notes)):
        if skipped is None:
            figures.append((section, title, f"{PLOTS}/{path.name}"))
        elif skipped:
            notes.append(f"Figure from {state.uri} skipped: {skipped}")
    return figures, notes


def _render(jobs: list[tuple[str, str, Location, Path, str]], notes: list[str]) -> list[str | None]:
    """Draw ``jobs`` with ``python -m gan_core.render``: per job None (drawn), "" (nothing to draw, e.g. arithmetic
    of points) or why it was skipped. A checkpoint on a remote filesystem is copied to a local file first."""
    out: list[str | None] = [""] * len(jobs)
    with tempfile.TemporaryDirectory(prefix="gan-study-ckpt-") as tmp:
        local: dict[str, str] = {}  # state URI -> local path (each checkpoint copied once)
        todo: list[tuple[int, dict]] = []  # (job index, gan_core.render job)
        for i, (_, figure, state, path, title) in enumerate(jobs):
            if state.uri not in local:
                folder = Path(tmp, str(i))
                folder.mkdir()
                try:
                    local[state.uri] = str(state.local_copy(folder))
                except OSError as e:
                    out[i] = _first_line(e)
                    continue
            todo.append((i, {"figure": figure, "state": local[state.uri], "path": str(path), "title": title}))
        if not todo:
            return out
        jobs_file, results_file = Path(tmp, "jobs.json"), Path(tmp, "results.json")
        jobs_file.write_text(json.dumps([job for _, job in todo]))
        done = subprocess.run([sys.executable, "-m", "gan_core.render", str(jobs_file), str(results_file)],
                              env=_render_env(), capture_output=True, text=True)
        if done.returncode != 0 or not results_file.is_file():
            last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            notes.append(f"Sample figures skipped: python -m gan_core.render failed: {last}")
            return [""] * len(jobs)
        for (i, _), got in zip(todo, json.loads(results_file.read_text())):
            out[i] = None if got["drawn"] else got["skipped"]
    return out


def _render_env() -> dict[str, str]:
    """The environment, with gan_core importable from where this process imports it (a checkout need not be the
    installed copy)."""
    import gan_core  # pure Python: gan_core/__init__ imports only gan_core.config

    root = str(Path(gan_core.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


# -------------------------------------------------------------------------------------------------- markdown

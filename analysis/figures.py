"""Which figures a report draws, and from what: curves, effects and stability from the tables; sample grids,
latent interpolation and z arithmetic from the checkpoints of the best and worst seeds (``analysis.plots`` and
``analysis.samples`` draw them). Each is (section, title, path relative to the report folder); a checkpoint that
cannot be drawn is a note in the report, not a failed report."""
from __future__ import annotations

import re
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
    from analysis import plots  # matplotlib on first use: a mistyped path fails fast, before heavy imports

    name = results.study.meta.name
    figures = []
    groups, column, by = results.configurations, "configuration", ""
    if _many_configs(results) and results.design.factors:
        first = results.design.factors[0]
        groups, column, by = first.levels, first.column, f" by {first.name}"
    for m in results.study.metrics:
        title = f"{name}: {m} during training{by} (mean and 95% CI over seeds)"
        p = plots.plot_curves(results.history, m, results.study.metric_mode(m), groups,
                              plot_dir / f"curves_{slug(m)}.png", title, group_column=column)
        if p:
            figures.append(("Curves", title, f"{PLOTS}/{p.name}"))
    for m in [*results.study.metrics[:1], STABILITY, *results.study.metrics[1:]]:
        title = f"{name}: effect on {m} against the baseline (95% CI)"
        p = plots.plot_effects(results.effects, m, plot_dir / f"effects_{slug(m)}.png", title)
        if p:
            figures.append(("Effects", title, f"{PLOTS}/{p.name}"))
    title = f"{name}: share of finished seeds that trained stably"
    p = plots.plot_stability(results.trials, results.design, plot_dir / "stability.png", title)
    figures.append(("Stability", title, f"{PLOTS}/{p.name}"))
    return figures, []


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
    figures: list[tuple[str, str, str]] = []
    notes: list[str] = []
    with_ckpt = results.trials[results.trials["checkpoint"] != ""]
    if with_ckpt.empty:
        return figures, ["No trial has a checkpoint (checkpoint_NNNNNN/state.pt): no sample figures."]
    try:
        from analysis import samples  # torch, torchvision: only when there is a checkpoint to draw from
    except ImportError as e:
        return figures, [f"Sample figures skipped: gan_core.checkpoint cannot be imported ({e})."]
    configs = [c for c in results.configurations if c in set(with_ckpt["configuration"])]
    if _many_configs(results):
        groups = [("", with_ckpt)]  # a search: a trial or two per configuration, so the study's best and worst
        notes.append("A search: the sample grids show the best and the worst trial of the whole study.")
    else:
        groups = [(label, with_ckpt[with_ckpt["configuration"] == label]) for label in configs]
    with tempfile.TemporaryDirectory(prefix="gan-study-ckpt-") as tmp:
        for label, group in groups:
            ranked = _rank(group, primary, mode)
            picks = [("best", ranked.iloc[0])] + ([("worst", ranked.iloc[-1])] if len(ranked) > 1 else [])
            for which, row in picks:
                state = loc.join(row["trial_dir"], row["checkpoint"], "state.pt")
                title = (f"{label or row['configuration']}: {which} {'seed' if label else 'trial'} (seed "
                         f"{row.get('seed', '?')}, final {primary} {num(row.get(f'final_{primary}'))}, "
                         f"{row.get('stability') or row['status']})")
                path = plot_dir / (f"samples_{slug(label)}_{which}.png" if label else f"samples_{which}.png")
                if _draw(lambda g, c: samples.samples_figure(g, c, path, title), state, tmp, notes):
                    figures.append(("Samples", title, f"{PLOTS}/{path.name}"))
        best = _rank(with_ckpt[with_ckpt["status"] == "ok"], primary, mode)
        best = best if len(best) else _rank(with_ckpt, primary, mode)
        row = best.iloc[0]
        ckpt = row["best_checkpoint"] if isinstance(row.get("best_checkpoint"), str) and row["best_checkpoint"] \
            and loc.join(row["trial_dir"], row["best_checkpoint"], "state.pt").is_file() else row["checkpoint"]
        state = loc.join(row["trial_dir"], ckpt, "state.pt")
        who = f"{row['configuration']}, seed {row.get('seed', '?')}, {ckpt}"
        title = f"Latent interpolation, best trial ({who})"
        path = plot_dir / "interpolation.png"
        if _draw(lambda g, c: samples.interpolation_figure(g, c, path, title), state, tmp, notes):
            figures.append(("Latent space", title, f"{PLOTS}/{path.name}"))
        title = f"z arithmetic: G(mean z(A) - mean z(B) + mean z(C)), best trial ({who})"
        path = plot_dir / "arithmetic.png"
        if _draw(lambda g, c: samples.arithmetic_figure(g, c, path, title), state, tmp, notes):
            figures.append(("Latent space", title, f"{PLOTS}/{path.name}"))
    return figures, notes


def _draw(draw, state: Location, tmp: str, notes: list[str]) -> bool:
    """Load a generator and draw one figure; a bad checkpoint is a note in the report, not a failed report."""
    from analysis import samples
    from gan_core.checkpoint import CheckpointError

    try:
        generator, cfg = samples.load_generator(state, tmp)
        return draw(generator, cfg) is not None
    except (CheckpointError, OSError, RuntimeError, ValueError, KeyError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        notes.append(f"Figure from {state.uri} skipped: {first}")
        return False


# -------------------------------------------------------------------------------------------------- markdown

"""The report's figures that need only the tables: quality curves, effects with CIs, the stability heatmap.

Every figure is a PNG written through ``save_figure``, which also stores the title in the PNG's "Title" text
chunk, so a test (or a script collecting figures) can tell which figure a file is without reading pixels.
Matplotlib runs on the Agg backend: reports are written on headless cluster nodes.
"""
from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis import stats  # noqa: E402
from analysis.design import Design  # noqa: E402
from analysis.trial_frame import FINISHED, STABLE, stability_labels  # noqa: E402
from analysis.markdown import better_text  # noqa: E402

MAX_LEGEND = 12


def save_figure(fig: plt.Figure, path: Path, title: str) -> Path:
    """Save ``fig`` as PNG with ``title`` in its metadata, and close it (figures are not reused)."""
    fig.savefig(path, dpi=100, metadata={"Title": title})
    plt.close(fig)
    return path


def plot_curves(history: pd.DataFrame, metric: str, mode: str, configurations: list[str], path: Path,
                title: str, group_column: str = "configuration") -> Path | None:
    """Mean of ``metric`` against generator steps per configuration (the labels ``configurations`` of
    ``group_column``), with a 95% t band over the trials of each."""
    if metric not in history.columns or "g_steps" not in history.columns or not history[metric].notna().any():
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    colors = plt.get_cmap("tab10" if len(configurations) <= 10 else "tab20")
    for i, label in enumerate(configurations):
        h = history[history[group_column] == label]
        steps, means, los, his = [], [], [], []
        for step, g in h.groupby("g_steps"):
            x = stats.finite(g[metric])
            if not len(x):
                continue
            lo, hi = stats.mean_ci(x)
            steps.append(step)
            means.append(x.mean())
            los.append(lo)
            his.append(hi)
        if not steps:
            continue
        color = colors(i % colors.N)
        ax.plot(steps, means, marker="o", ms=3, color=color, label=label if i < MAX_LEGEND else None)
        ax.fill_between(steps, los, his, color=color, alpha=0.2, linewidth=0)
    ax.set_xlabel("generator steps")
    ax.set_ylabel(f"{metric} ({better_text(mode)})")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        fig.legend(fontsize=7, loc="outside right upper")
    return save_figure(fig, path, title)


def plot_effects(effects: pd.DataFrame, metric: str, path: Path, title: str) -> Path | None:
    """Each comparison's effect on ``metric`` over the measured seeds with its 95% CI as a horizontal error bar, in
    the colour of its verdict over every seed (red worse, green better, grey neither), with the failed seeds
    named; in the effects' order (largest on top)."""
    rows = effects[effects["metric"] == metric]
    if not len(rows):
        return None
    mode = rows["mode"].iloc[0]
    y = np.arange(len(rows))[::-1]
    fig, ax = plt.subplots(figsize=(7, 1.4 + 0.35 * len(rows)), layout="constrained")
    colors = rows["direction"].map({"better": "tab:green", "worse": "tab:red"}).fillna("tab:gray")  # verdicts
    effect = rows["effect"].to_numpy(dtype=float)
    lo, hi = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    has_ci = np.isfinite(lo) & np.isfinite(hi)
    for yi, e, l, h, c, ok in zip(y, effect, lo, hi, colors, has_ci):
        if not math.isfinite(e):
            continue
        if ok:
            ax.errorbar(e, yi, xerr=[[max(e - l, 0.0)], [max(h - e, 0.0)]], fmt="o", color=c, capsize=3)
        else:
            ax.plot(e, yi, marker="x", color=c, linestyle="none")
    ax.axvline(0, color="black", lw=0.8)
    names = [c if metric == "stability" or not nf else f"{c} ({int(nf)} of {int(n)} failed)"
             for c, nf, n in zip(rows["comparison"], rows["n_failed_level"], rows["n_level"])]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(f"{metric}: level minus baseline ({better_text(mode)}; x = no CI)")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path, title)


def plot_stability(trials: pd.DataFrame, design: Design, path: Path, title: str) -> Path:
    """Share of finished seeds whose stability status is ok (``analysis.load``: not diverged, collapsed or
    D-dominated), as a heatmap over the first two factors (one factor: a column); cells read n_stable/n."""
    done = trials[trials["status"].isin(FINISHED)]
    done = done.assign(_stability=stability_labels(done))
    factors = design.factors[:2]
    if len(factors) == 2:
        rows_f, cols_f = factors
        row_levels, col_levels = rows_f.levels, cols_f.levels
        row_col, col_col = rows_f.column, cols_f.column
    elif len(factors) == 1:
        rows_f, cols_f = factors[0], None
        row_levels, col_levels, row_col, col_col = rows_f.levels, ["all"], rows_f.column, None
    else:
        rows_f = cols_f = None
        row_levels, col_levels, row_col, col_col = ["all"], ["all"], None, None
    rate = np.full((len(row_levels), len(col_levels)), np.nan)
    text = [["" for _ in col_levels] for _ in row_levels]
    for i, rl in enumerate(row_levels):
        for j, cl in enumerate(col_levels):
            sel = done
            if row_col is not None:
                sel = sel[sel[row_col] == rl]
            if col_col is not None:
                sel = sel[sel[col_col] == cl]
            if len(sel):
                n_stable = int((sel["_stability"] == STABLE).sum())
                rate[i, j] = n_stable / len(sel)
                text[i][j] = f"{n_stable}/{len(sel)}"
            else:
                text[i][j] = "none"
    width = max(5.5, 2.6 + 1.1 * len(col_levels))
    fig, ax = plt.subplots(figsize=(width, 1.6 + 0.45 * len(row_levels)), layout="constrained")
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="lightgray")
    im = ax.imshow(np.ma.masked_invalid(rate), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for i in range(len(row_levels)):
        for j in range(len(col_levels)):
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=8)
    ax.set_yticks(range(len(row_levels)), row_levels, fontsize=8)
    ax.set_xticks(range(len(col_levels)), col_levels, fontsize=8, rotation=30 if len(col_levels) > 4 else 0)
    ax.set_ylabel(rows_f.name if rows_f is not None else "")
    ax.set_xlabel(cols_f.name if cols_f is not None else "")
    fig.colorbar(im, ax=ax, label="share of finished seeds with stability ok")
    ax.set_title(textwrap.fill(title, int(width * 8)))
    return save_figure(fig, path, title)

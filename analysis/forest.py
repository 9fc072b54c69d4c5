"""Two figures beside the tables' own: the answer's forest plot and a search's objective against its rates.

``plot_forest``: the comparisons the answer rests on (the primary metric and stability, the family Holm's
correction runs over) side by side on one row per comparison, each effect with its 95% CI in the colour of its
verdict, a legend naming each verdict. ``plot_search``: a search (lr_search) has no baseline to compare with, so its
figure is the objective (final primary metric) of every trial against each searched key, on a log axis for a rate,
a trial that a scheduler stopped early drawn hollow (it was measured at a smaller budget).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from analysis.effects import STABILITY
from analysis.markdown import better_text
from analysis.plots import effect_rows, plt, save_figure, verdict_handles, wrap

__all__ = ["plot_forest", "plot_search"]


def plot_forest(effects: pd.DataFrame, primary: str, path: Path, title: str,
                trials: pd.DataFrame | None = None) -> Path | None:
    """The answer's effects: ``primary`` and stability (percentage points), one row per comparison."""
    metrics = [m for m in (primary, STABILITY) if (effects["metric"] == m).any()]
    if not metrics:
        return None
    order = list(dict.fromkeys(effects.loc[effects["metric"] == metrics[0], "comparison"]))
    n = len(order)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 + 4 * len(metrics), 2.4 + 0.35 * n), sharey=True,
                             layout="constrained", squeeze=False)
    no_ci = False
    for ax, m in zip(axes[0], metrics):
        rows = effects[effects["metric"] == m].set_index("comparison").reindex(order).reset_index()
        rows["metric"] = m
        said = effect_rows(ax, rows, m, trials)
        no_ci |= said["no_ci"]
        mode = effects.loc[effects["metric"] == m, "mode"].iloc[0]
        ax.set_xlabel(f"{said['label']} ({better_text(mode)})", fontsize=8)
        ax.set_title(m, fontsize=10)
    fig.suptitle(wrap(title, 5 + 4 * len(metrics)))
    fig.legend(handles=verdict_handles(no_ci), fontsize=8, loc="outside lower center", ncols=4,
               title="verdict over every seed, Holm's correction over these comparisons", title_fontsize=8)
    return save_figure(fig, path, title)


def plot_search(trials: pd.DataFrame, keys: list[str], primary: str, mode: str, path: Path,
                title: str) -> Path | None:
    """Final ``primary`` of every trial against each numeric key of ``keys`` (one panel each)."""
    col = f"final_{primary}"
    keys = [k for k in keys if k in trials.columns and pd.api.types.is_numeric_dtype(trials[k])]
    if col not in trials.columns or not keys:
        return None
    y = pd.to_numeric(trials[col], errors="coerce")
    finite = np.isfinite(y.to_numpy(dtype=float))
    status = trials["status"].astype(str)
    full = status.isin(("ok", "diverged")).to_numpy()
    fig, axes = plt.subplots(1, len(keys), figsize=(1.5 + 3.6 * len(keys), 4.4), sharey=True, layout="constrained",
                             squeeze=False)
    best = y[finite].min() if mode == "min" else y[finite].max()
    for ax, key in zip(axes[0], keys):
        x = pd.to_numeric(trials[key], errors="coerce").to_numpy(dtype=float)
        ax.scatter(x[full & finite], y[full & finite], color="tab:blue", zorder=3)
        ax.scatter(x[~full & finite], y[~full & finite], facecolors="none", edgecolors="tab:blue", zorder=3)
        if finite.any():
            ax.scatter(x[finite & (y == best).to_numpy()], y[finite & (y == best).to_numpy()], marker="*", s=180,
                       color="tab:orange", zorder=4)
        positive = x[np.isfinite(x)]
        if key.startswith("lr") or (len(positive) and positive.min() > 0 and positive.max() / positive.min() > 20):
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # labels at 1, 2, 5 of each decade
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}"))
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a narrow range overlap
        ax.set_xlabel(key)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"final {primary} ({better_text(mode)})")
    fig.suptitle(wrap(title, 1.5 + 3.6 * len(keys)))
    handles = [Line2D([], [], color="tab:blue", marker="o", linestyle="none", label="ran the whole budget"),
               Line2D([], [], markerfacecolor="none", markeredgecolor="tab:blue", marker="o", linestyle="none",
                      label="stopped early by the scheduler (smaller budget)"),
               Line2D([], [], color="tab:orange", marker="*", markersize=12, linestyle="none", label="best trial")]
    if (~finite).any():
        handles.append(Line2D([], [], linestyle="none", label=f"{int((~finite).sum())} trial(s) without a finite "
                                                               f"{primary}: not drawn"))
    fig.legend(handles=handles, fontsize=8, loc="outside lower center", ncols=len(handles))
    return save_figure(fig, path, title)

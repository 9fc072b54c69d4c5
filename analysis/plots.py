"""The report's figures that need only the tables: quality curves, effects with CIs, the stability heatmap.

Every figure is a PNG written through ``save_figure``, which also stores the title in the PNG's "Title" text
chunk, so a test (or a script collecting figures) can tell which figure a file is without reading pixels.
Matplotlib runs on the Agg backend: reports are written on headless cluster nodes.

Conventions every figure keeps: the title wrapped to the figure's width, legends below the axes (never over the
title or the data), integer ticks on a step axis, an interval of a bounded metric clipped to the metric's range
(``analysis.bounds``) with a line saying so, stability effects in percentage points as report.md gives them, the
verdict colours explained in a legend, and a row or panel with nothing to draw saying why.
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
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from analysis import stats  # noqa: E402
from analysis.bounds import bounds_text, clip, effect_bounds, metric_bounds  # noqa: E402
from analysis.design import Design  # noqa: E402
from analysis.trial_frame import FINISHED, STABLE, stability_labels  # noqa: E402
from analysis.markdown import better_text  # noqa: E402

MAX_LEGEND = 12
COUNTS = ("modes_captured", "classes_covered")
VERDICT_COLOURS = {"better": "tab:green", "worse": "tab:red"}  # any other verdict: NO_VERDICT
NO_VERDICT = "tab:gray"
VERDICT_LABELS = {"better": "better (Holm p < 0.05)", "worse": "worse (Holm p < 0.05)",
                  "": "no clear effect (unclear, not resolvable or no test)"}
STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"), ((0, (1, 3)), "P")]


def save_figure(fig: plt.Figure, path: Path, title: str) -> Path:
    """Save ``fig`` as PNG with ``title`` in its metadata, and close it (figures are not reused)."""
    fig.savefig(path, dpi=100, metadata={"Title": title})
    plt.close(fig)
    return path


def wrap(title: str, width_inches: float) -> str:
    """``title`` broken into lines that fit a figure ``width_inches`` wide at the title's font size."""
    return textwrap.fill(title, max(30, int(width_inches * 10)))


def changed(raw, drawn) -> bool:
    """Whether clipping moved a finite end of an interval."""
    raw, drawn = np.asarray(raw, dtype=float), np.asarray(drawn, dtype=float)
    return bool(np.any(np.isfinite(raw) & (raw != drawn)))


def step_axis(ax: plt.Axes, steps: pd.Series) -> None:
    """Integer ticks on a generator-step axis: at the evaluations when there are few, else round integers."""
    evals = np.unique(pd.to_numeric(steps, errors="coerce").dropna().to_numpy())
    if 0 < len(evals) <= 10:
        ax.set_xticks(evals, [str(int(v)) for v in evals])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def verdict_colour(direction) -> str:
    return VERDICT_COLOURS.get(direction, NO_VERDICT)


def verdict_handles(no_ci: bool) -> list[Line2D]:
    """Legend entries naming each verdict colour (and the cross of a point without an interval)."""
    handles = [Line2D([], [], color=VERDICT_COLOURS.get(v, NO_VERDICT), marker="o", label=text)
               for v, text in VERDICT_LABELS.items()]
    if no_ci:
        handles.append(Line2D([], [], color=NO_VERDICT, marker="x", linestyle="none", label="no CI (too few seeds)"))
    return handles


def _config_styles(trials: pd.DataFrame | None, design: Design | None, configurations: list[str],
                   group_column: str) -> tuple[dict[str, dict], list[Line2D]] | None:
    """Two factors, every configuration one level of each: colour for the first factor, line style and marker for
    the second, and a legend of both (k x g_loss reads as two factors, not eight unrelated colours)."""
    if trials is None or design is None or group_column != "configuration" or len(design.factors) != 2:
        return None
    f0, f1 = design.factors
    if len(f1.levels) > len(STYLES) or len(f0.levels) > 10:
        return None
    pairs = trials.drop_duplicates("configuration").set_index("configuration")[[f0.column, f1.column]]
    colours = plt.get_cmap("tab10")
    styles = {}
    for label in configurations:
        if label not in pairs.index:
            return None
        l0, l1 = pairs.loc[label]
        ls, marker = STYLES[f1.levels.index(l1)]
        styles[label] = {"color": colours(f0.levels.index(l0)), "linestyle": ls, "marker": marker}
    handles = [Line2D([], [], color=colours(i), label=f"{f0.name}={lv}") for i, lv in enumerate(f0.levels)]
    handles += [Line2D([], [], color="black", linestyle=STYLES[i][0], marker=STYLES[i][1], label=f"{f1.name}={lv}")
                for i, lv in enumerate(f1.levels)]
    return styles, handles


def _why_empty(trials: pd.DataFrame | None, label: str, group_column: str) -> str:
    """ "all 6 seeds collapsed", "2 diverged, 1 collapsed": how the trials of a configuration without a finite
    value ended; "" when the trials do not say."""
    if trials is None or group_column not in trials.columns or "stability" not in trials.columns:
        return ""
    labels = trials.loc[trials[group_column] == label, "stability"].fillna("").astype(str)
    counts = labels[labels != ""].value_counts()
    return ", ".join(f"{int(n)} {s}" for s, n in counts.items())


def plot_curves(history: pd.DataFrame, metric: str, mode: str, configurations: list[str], path: Path,
                title: str, group_column: str = "configuration", trials: pd.DataFrame | None = None,
                design: Design | None = None) -> Path | None:
    """Mean of ``metric`` against generator steps per configuration (the labels ``configurations`` of
    ``group_column``), with a 95% t band over the trials of each, clipped to the metric's range. Two factors:
    colour for the first, line style for the second. A configuration with no finite value is named in the panel
    with how its trials ended."""
    if metric not in history.columns or "g_steps" not in history.columns:
        return None
    bounds = metric_bounds(metric, trials)
    styled = _config_styles(trials, design, configurations, group_column)
    colors = plt.get_cmap("tab10" if len(configurations) <= 10 else "tab20")
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    clipped, empty, notes = False, [], []
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
            why = _why_empty(trials, label, group_column)
            empty.append(f"{label}" + (f" ({why})" if why else ""))
            continue
        drawn_lo, drawn_hi = clip(los, bounds), clip(his, bounds)
        clipped |= changed(los, drawn_lo) or changed(his, drawn_hi)
        style = styled[0][label] if styled else {"color": colors(i % colors.N), "marker": "o"}
        ax.plot(steps, means, ms=4, label=label if styled is None and i < MAX_LEGEND else None, **style)
        ax.fill_between(steps, drawn_lo, drawn_hi, color=style["color"], alpha=0.15, linewidth=0)
    if len(empty) == len(configurations):
        ax.text(0.5, 0.5, textwrap.fill(f"No finite {metric} in any evaluation: " + "; ".join(empty), 70),
                transform=ax.transAxes, ha="center", va="center", fontsize=9, wrap=True)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        if empty:
            notes.append(f"no finite {metric}, not drawn: " + "; ".join(empty))
        if clipped:
            notes.append(f"bands clipped to the range of {metric}, {bounds_text(bounds)}")
        step_axis(ax, history["g_steps"])
        if metric in COUNTS:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # a count: whole ticks (its mean may not be)
        ax.grid(alpha=0.3)
    ax.set_xlabel("\n".join(["generator steps", *(textwrap.fill(n, 110) for n in notes)]), fontsize=9)
    ax.set_ylabel(f"{metric} ({better_text(mode)})")
    ax.set_title(wrap(title, 8))
    handles = styled[1] if styled else ax.get_legend_handles_labels()[0]
    if handles:
        widest = max(len(h.get_label()) for h in handles) + 6  # characters of an entry with its handle
        fig.legend(handles=handles, fontsize=8, loc="outside lower center",
                   ncols=max(1, min(len(handles), 4, 120 // widest)))  # no wider than the figure
    return save_figure(fig, path, title)


def effect_rows(ax: plt.Axes, rows: pd.DataFrame, metric: str, trials: pd.DataFrame | None = None) -> dict:
    """Draw each comparison of ``rows`` (one metric) on ``ax``, largest on top: its effect with its 95% CI clipped
    to the range a difference of ``metric`` can take, in its verdict's colour; stability in percentage points; a
    comparison without a finite effect says why in its row. Returns what the axis label should say."""
    scale = 100.0 if metric == "stability" else 1.0
    bounds = effect_bounds(metric, trials)
    y = np.arange(len(rows))[::-1]
    effect = rows["effect"].to_numpy(dtype=float) * scale
    lo = clip(rows["ci_low"].to_numpy(dtype=float), bounds) * scale
    hi = clip(rows["ci_high"].to_numpy(dtype=float), bounds) * scale
    clipped = changed(rows["ci_low"].to_numpy(dtype=float) * scale, lo) \
        or changed(rows["ci_high"].to_numpy(dtype=float) * scale, hi)
    no_ci = False
    for yi, e, l, h, d, (_, r) in zip(y, effect, lo, hi, rows["direction"], rows.iterrows()):
        c = verdict_colour(d)
        if not math.isfinite(e):
            n, nf = (int(pd.to_numeric(r.get(k), errors="coerce") or 0) for k in ("n_level", "n_failed_level"))
            why = f"all {n} seeds failed (diverged or collapsed): nothing finished to measure" if n and nf == n \
                else "no finished seed on one side: nothing to measure"
            if d in VERDICT_COLOURS:  # called on how the seeds failed (the two-part test's rank part)
                why += f"; {d} over every seed, by how they failed"
            ax.text(0.5, yi, why, transform=ax.get_yaxis_transform(), ha="center", va="center", fontsize=7,
                    color=c if d in VERDICT_COLOURS else "dimgray", style="italic")
        elif math.isfinite(l) and math.isfinite(h):
            ax.errorbar(e, yi, xerr=[[max(e - l, 0.0)], [max(h - e, 0.0)]], fmt="o", color=c, capsize=3)
        else:
            no_ci = True
            ax.plot(e, yi, marker="x", color=c, linestyle="none")
    ax.axvline(0, color="black", lw=0.8)
    counts = rows[["n_failed_level", "n_level"]].apply(pd.to_numeric, errors="coerce").fillna(0).astype(int)
    names = [c if metric == "stability" or not nf else f"{c} ({nf} of {n} failed)"
             for c, nf, n in zip(rows["comparison"], counts["n_failed_level"], counts["n_level"])]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="x", alpha=0.3)
    unit = " (percentage points)" if metric == "stability" else ""
    note = f"; CIs clipped to {bounds_text(bounds, scale)}" if clipped else ""
    return {"no_ci": no_ci, "label": f"{metric}{unit}: level minus baseline{note}"}


def plot_effects(effects: pd.DataFrame, metric: str, path: Path, title: str,
                 trials: pd.DataFrame | None = None) -> Path | None:
    """Each comparison's effect on ``metric`` over the measured seeds with its 95% CI as a horizontal error bar, in
    the colour of its verdict over every seed (legend below), with the failed seeds named; in the effects' order
    (largest on top). Stability in percentage points, as report.md gives it."""
    rows = effects[effects["metric"] == metric]
    if not len(rows):
        return None
    mode = rows["mode"].iloc[0]
    fig, ax = plt.subplots(figsize=(8, 2.2 + 0.35 * len(rows)), layout="constrained")
    said = effect_rows(ax, rows, metric, trials)
    ax.set_xlabel(f"{said['label']} ({better_text(mode)})", fontsize=9)
    ax.set_title(wrap(title, 8))
    fig.legend(handles=verdict_handles(said["no_ci"]), fontsize=8, loc="outside lower center", ncols=3,
               title="verdict over every seed", title_fontsize=8)
    return save_figure(fig, path, title)


def plot_stability(trials: pd.DataFrame, design: Design, path: Path, title: str) -> Path:
    """Percentage of finished seeds whose stability status is ok (``analysis.load``: not diverged, collapsed or
    D-dominated), as a heatmap over the first two factors (one factor: a column); cells read n_stable/n and %."""
    done = trials[trials["status"].isin(FINISHED)]
    done = done.assign(_stability=stability_labels(done))
    factors = design.factors[:2]
    rows_f = factors[0] if factors else None
    cols_f = factors[1] if len(factors) == 2 else None
    row_levels = rows_f.levels if rows_f else ["all"]
    col_levels = cols_f.levels if cols_f else ["all"]
    rate = np.full((len(row_levels), len(col_levels)), np.nan)
    text = [["no trial" for _ in col_levels] for _ in row_levels]
    for i, rl in enumerate(row_levels):
        for j, cl in enumerate(col_levels):
            sel, every = done, trials
            if rows_f is not None:
                sel, every = sel[sel[rows_f.column] == rl], every[every[rows_f.column] == rl]
            if cols_f is not None:
                sel, every = sel[sel[cols_f.column] == cl], every[every[cols_f.column] == cl]
            if len(every) and not len(sel):  # e.g. stopped early by a scheduler: a grey cell says so
                text[i][j] = f"{len(every)} not finished"
            if len(sel):
                n_stable = int((sel["_stability"] == STABLE).sum())
                rate[i, j] = 100.0 * n_stable / len(sel)
                text[i][j] = f"{n_stable}/{len(sel)} ({rate[i, j]:.0f}%)"
    width = max(5.5, 2.6 + 1.1 * len(col_levels))
    fig, ax = plt.subplots(figsize=(width, 1.8 + 0.45 * len(row_levels)), layout="constrained")
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="lightgray")
    im = ax.imshow(np.ma.masked_invalid(rate), cmap=cmap, vmin=0, vmax=100, aspect="auto")
    for i in range(len(row_levels)):
        for j in range(len(col_levels)):
            dark = np.isfinite(rate[i, j]) and not 20 <= rate[i, j] <= 85  # the ends of RdYlGn are dark
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_yticks(range(len(row_levels)), row_levels, fontsize=8)
    ax.set_xticks(range(len(col_levels)), col_levels, fontsize=8, rotation=30 if len(col_levels) > 4 else 0)
    ax.set_ylabel(rows_f.name if rows_f is not None else "")
    ax.set_xlabel(cols_f.name if cols_f is not None else "")
    fig.colorbar(im, ax=ax, label="% of finished seeds with stability ok")
    ax.set_title(wrap(title, width))
    return save_figure(fig, path, title)

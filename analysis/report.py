"""``python -m analysis.report RESULTS_DIR [--out DIR]``: a study's answer as tables, plots and report.md.

Every study calls ``write_report(experiment_path)`` at its end; the CLI does the same for any results directory,
later and anywhere (a local path, ``file://`` or ``s3://`` URI). The output goes to ``RESULTS_DIR/report`` by
default, on the same filesystem; ``--out`` picks another place, local or a URI. Files written:

    trials.csv, trials.parquet   one row per trial: config, variant, status, stability, final/best metrics, steps,
                                 time, node
    history.parquet              one row per evaluation per trial (curves)
    summary.csv                  per configuration, seeds pooled: mean, std, 95% CI per metric; stability rate
    effects.csv                  per factor level against its baseline: effect, 95% CI, p-value (sorted by size)
    report.md                    the answer first, then the tables read out in sentences, and the plots
    plots/*.png                  curves, effects, stability heatmap, sample grids, interpolation, z arithmetic

Input that is not a results directory gives one line on stderr and exit status 2 (``ResultsError``), never a
traceback; a study whose trials all diverged or failed still gets a report, which says so.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
from pyarrow import fs as pafs

from analysis import stats
from analysis.effects import STABILITY
from analysis.fsio import Location, ResultsError, publish, resolve, staging_dir
from analysis.load import FINISHED, MEASURED, STABILITY_STATUSES, stability_labels
from analysis.markdown import better_text, ci, num, pct, pvalue, table
from analysis.results import Results, load_results
from analysis.text import STABILITY_RATE, STABILITY_STATUSES_TEXT, answer, effect_sentence, summary_sentence

PLOTS = "plots"
MAX_CONFIGS = 12  # more configurations than this, or a binned factor (a search): curves per level of the first
#                   factor, and sample grids of the best and worst trials of the study instead of per configuration


def _is_search(results: Results) -> bool:
    return any(f.binned for f in results.design.factors) or len(results.configurations) > MAX_CONFIGS


def write_report(experiment_path: str, out_dir: str | None = None, *, filesystem: pafs.FileSystem | None = None,
                 sample_figures: bool = True, n_resamples: int = stats.N_RESAMPLES) -> Path | str:
    """Write every report file; returns the output folder (a Path when local, else its URI as given)."""
    results = load_results(experiment_path, filesystem, n_resamples=n_resamples)
    src = results.study.location
    dest = _out_location(src, out_dir)
    if dest.is_local:
        out = Path(dest.path)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ResultsError(f"cannot write the report to {dest.uri!r}: {e.strerror or e}") from None
        _write_all(results, out, sample_figures)
        return out
    with staging_dir() as tmp:
        _write_all(results, Path(tmp), sample_figures)
        publish(Path(tmp), dest)
    return dest.uri


def _out_location(src: Location, out_dir: str | None) -> Location:
    if out_dir is None:
        return src.join("report")
    if "://" in str(out_dir):
        return resolve(out_dir)
    return resolve(os.path.abspath(os.path.expanduser(str(out_dir))))


# ----------------------------------------------------------------------------------------------------- files
def _write_all(results: Results, out: Path, sample_figures: bool) -> None:
    plot_dir = out / PLOTS
    if plot_dir.is_dir():  # a report is rewritten whole: no stale figure of an earlier run may be linked
        for old in plot_dir.glob("*.png"):
            old.unlink()
    plot_dir.mkdir(parents=True, exist_ok=True)
    results.trials.to_csv(out / "trials.csv", index=False)
    _parquet(results.trials, out / "trials.parquet")
    _parquet(results.history, out / "history.parquet")
    results.summary.to_csv(out / "summary.csv", index=False)
    results.effects.to_csv(out / "effects.csv", index=False)
    figures, notes = _table_figures(results, plot_dir)
    if sample_figures:
        more, more_notes = _checkpoint_figures(results, plot_dir)
        figures += more
        notes += more_notes
    (out / "report.md").write_text(render_markdown(results, figures, notes))


def _parquet(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` as parquet; object columns of mixed Python types (free-form Ray keys) become text."""
    df = df.copy()
    for col in df.columns:
        if df[col].dtype == object:
            kinds = {type(v) for v in df[col].dropna()}
            if len(kinds) > 1 or (kinds and not kinds <= {str, bool}):
                df[col] = df[col].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))
    try:
        df.to_parquet(path, index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        df.astype({c: "string" for c in df.columns if df[c].dtype == object}).to_parquet(path, index=False)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", text).strip("_")[:80] or "all"


# --------------------------------------------------------------------------------------------------- figures
def _table_figures(results: Results, plot_dir: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(section, title, relative path) of every figure drawn from the tables."""
    from analysis import plots  # matplotlib on first use: a mistyped path fails fast, before heavy imports

    name = results.study.meta.name
    figures = []
    groups, column, by = results.configurations, "configuration", ""
    if _is_search(results) and results.design.factors:
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


def _checkpoint_figures(results: Results, plot_dir: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
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
    if _is_search(results):
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
def render_markdown(results: Results, figures: list[tuple[str, str, str]], notes: list[str]) -> str:
    meta = results.study.meta
    primary, mode = meta.primary_metric, meta.mode
    summary, effects, trials = results.summary, results.effects, results.trials
    baseline = results.design.baseline_config
    lines = [f"# Study {meta.name}", ""]
    lines += [f"Primary metric: **{primary}** ({better_text(mode)}). Baseline: "
              f"**{baseline or 'each factor at its baseline level'}**. Factors: "
              + (", ".join(f"{f.name} (baseline level {f.baseline}, from {f.how_baseline})" for f in results.design.factors)
                 or "none (only the seed varies)") + ".", ""]
    lines += ["## Answer", ""]
    lines += [ln if ln.startswith("  - ") else f"- {ln}" for ln in answer(effects, summary, trials, primary, mode,
                                                                           baseline)]
    lines += ["", "## Configurations", "",
              "Final values of the seeds (trainer status ok, diverged or stopped), mean [95% bootstrap CI]; "
              f"{STABILITY_RATE} [95% Wilson interval]; seeds = finished/all. {STABILITY_STATUSES_TEXT}",
              ""]
    metrics = results.study.metrics
    header = ["configuration", "seeds", "stability", *metrics]
    rows = []
    for _, r in summary.iterrows():
        stab = "n/a" if not r["n_finished"] else \
            f"{pct(r['stability'])} [{pct(r['stability_ci_low'])}, {pct(r['stability_ci_high'])}]"
        cells = [r["configuration"], f"{int(r['n_finished'])}/{int(r['n_trials'])}", stab]
        cells += [_mean_ci(r, m) for m in metrics]
        rows.append(cells)
    lines += [table(header, rows), ""]
    lines += [f"- {summary_sentence(r, primary)}" for _, r in summary.iterrows()]
    lines += ["", "## Effects against the baseline", ""]
    if effects.empty:
        lines += ["Nothing to compare: every trial has the same configuration (only the seed varies).", ""]
    else:
        lines += ["Difference of means (level minus baseline) [95% bootstrap CI]; p: two-sided permutation test; "
                  "p (Holm): adjusted over all comparisons of that metric. Sorted by the standardized effect on "
                  f"{primary}. The stability effect is the difference of the shares of finished seeds whose "
                  "stability status is ok (see Configurations).", ""]
        for metric in [*metrics[:1], STABILITY]:
            sub = effects[effects["metric"] == metric]
            if sub.empty:
                continue
            lines += [f"### {metric} ({better_text(sub['mode'].iloc[0])})", ""]
            lines += [table(["comparison", "effect", "95% CI", "p", "p (Holm)", "seeds", "verdict"],
                            [[r["comparison"], num(r["effect"], signed=True), ci(r["ci_low"], r["ci_high"], True),
                              pvalue(r["p_value"]), pvalue(r["p_holm"]), f"{r['n_level']} vs {r['n_baseline']}",
                              r["direction"]] for _, r in sub.iterrows()]), ""]
            lines += [f"- {effect_sentence(effects[effects['comparison'] == c], metric)}"
                      for c in sub["comparison"]]
            lines += [""]
        if len(metrics) > 1:
            lines += [f"Effects on the other metrics ({', '.join(metrics[1:])}) are in effects.csv and the plots.", ""]
    lines += ["## Plots", ""]
    section = None
    for sec, title, rel in figures:
        if sec != section:
            lines += ["", f"### {sec}", ""]
            section = sec
        lines += [f"- [{title}]({rel})"]
    if not figures:
        lines += ["No plots."]
    lines += ["", "## Trials", ""]
    counts = trials["status"].value_counts()
    lines += [f"{len(trials)} trials: " + ", ".join(f"{int(v)} {k}" for k, v in counts.items()) + " (trainer "
              "status)."]
    labels = stability_labels(trials[trials["status"].isin(FINISHED)])
    if len(labels):
        lines += [f"Stability status of the {len(labels)} finished: "
                  + ", ".join(f"{int((labels == st).sum())} {st}" for st in STABILITY_STATUSES
                              if (labels == st).any()) + " (trials.csv: stability, stability_reason)."]
    lines += [""]
    failed = trials[trials["status"] == "error"]
    for _, r in failed.head(10).iterrows():
        lines += [f"- {r['trial_dir']}: {r['error'] or 'failed before reporting any result'}"]
    if len(failed) > 10:
        lines += [f"- ... and {len(failed) - 10} more (trials.csv, column error)"]
    all_notes = results.notes + notes
    if all_notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in all_notes]
    lines += ["", "## Method", "",
              f"- Statistics use each trial's last evaluation, over the trials with status {', '.join(MEASURED)} "
              f"(stopped: cut early by a scheduler); non-finite values are left out. Stability counts the "
              f"trials with trainer status {' or '.join(FINISHED)}, by their stability status "
              f"({' | '.join(STABILITY_STATUSES)}; gan_core.metrics.assess_stability on each trial's history, "
              f"thresholds in the README, section \"Metrics\"). Seeds are pooled per configuration.",
              f"- 95% CIs: percentile bootstrap (scipy.stats.bootstrap, {results.n_resamples} resamples, seed "
              f"{stats.SEED}); for a difference, seeds are resampled within each group. Fewer than 2 values: no CI.",
              "- p-values: two-sided permutation test of the difference of means (scipy.stats.permutation_test; exact "
              "for small groups). Stability intervals: Wilson score.",
              "- Effects of a factor pool the other factors' levels (main effects). Files: trials.csv/.parquet, "
              "history.parquet, summary.csv, effects.csv.", ""]
    if meta.command:
        lines += [f"Command: `{' '.join(meta.command)}`", ""]
    return "\n".join(lines)


def _mean_ci(row: pd.Series, metric: str) -> str:
    n = int(row[f"{metric}_n"])
    if n < 2:
        return f"{num(row[f'{metric}_mean'])} (n={n})"
    return f"{num(row[f'{metric}_mean'])} {ci(row[f'{metric}_ci_low'], row[f'{metric}_ci_high'])}"


# ------------------------------------------------------------------------------------------------------- CLI
class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # one line on stderr and exit 2, like every other error of this CLI
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    parser = _OneLineParser(prog="python -m analysis.report",
                            description="Write a study's report (tables, plots, report.md) from its Ray results "
                                        "directory. Exit status 2 on input that is not one.")
    parser.add_argument("results_dir", help="a study's Ray results directory: a local path or a URI (s3://...)")
    parser.add_argument("--out", default=None, help="output folder (default: RESULTS_DIR/report); path or URI")
    parser.add_argument("--no-samples", action="store_true", help="skip the figures drawn from checkpoints")
    args = parser.parse_args(argv)
    try:
        out = write_report(args.results_dir, args.out, sample_figures=not args.no_samples)
    except ResultsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"report written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

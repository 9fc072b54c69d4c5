"""``python -m analysis.report RESULTS_DIR [--out DIR]``: a study's answer as tables, plots and report.md.

Every study calls ``write_report(experiment_path)`` at its end; the CLI does the same for any results directory,
later and anywhere (a local path, ``file://`` or ``s3://`` URI). The output goes to ``RESULTS_DIR/report`` by
default, on the same filesystem; ``--out`` picks another place, local or a URI. Files written:

    trials.csv, trials.parquet   one row per trial: config, variant, status, stability, final/best metrics, steps,
                                 time, node
    history.parquet              one row per evaluation per trial (curves)
    summary.csv, summary.parquet per configuration, seeds pooled: seed counts by outcome, mean, std, 95% CI per
                                 metric, stability rate, whether the primary metric was still improving, compute
                                 per run (FLOPs by gan_core's cost model, measured training seconds)
    effects.csv, effects.parquet per factor level against its baseline: effect, 95% CI, the all-seeds test, Holm p
                                 and verdict, the measured-seeds verdict, compute against the baseline's (none for
                                 a search)
    published.csv, .parquet      a reproduction study only (study.json "published"): each published figure beside
                                 our mean and 95% CI over seeds, and whether it lies inside
    report.md                    the answer first, then the tables read out in sentences, and the plots; every
                                 interval printed clipped to its metric's range (``analysis.bounds``), with a note
                                 under each table where that moved one (the files above keep them as computed)
    plots/*.png                  the answer's forest plot (a search: its objective against the searched settings),
                                 curves, effects, stability heatmap, sample grids, interpolation, z arithmetic;
                                 report.md shows each inline

Each table is typed once (``analysis.tables``): a column has one type, the same in its CSV and parquet file; a
boolean column with missing values (``<metric>_improving``, ``improving_level``), which a CSV cannot type, is a
nullable boolean in the parquet file.

Input that is not a results directory gives one line on stderr and exit status 2 (``ResultsError``), never a
traceback; a study whose trials all diverged or failed still gets a report, which says so.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pyarrow import fs as pafs

from analysis.bounds import shown_effects, shown_published, shown_summary
from analysis.effects import STABILITY
from analysis.figures import PLOTS, checkpoint_figures, table_figures
from analysis.fsio import Location, ResultsError, publish, resolve, staging_dir
from analysis.markdown import better_text, image
from analysis.published import compare
from analysis.report_tables import configurations_table, effects_table, published_table
from analysis.results import Results, load_results
from analysis.tables import write_csv, write_parquet
from analysis.answer import SAVED, answer, search_answer
from analysis.text import STABILITY_RATE, STABILITY_STATUSES_TEXT, effect_sentence, summary_sentence
from analysis.trial_frame import FINISHED, STABILITY_STATUSES, stability_labels

REPORT_DIR = "report"  # the report's folder inside the experiment directory, unless --out says otherwise


def write_report(experiment_path: str, out_dir: str | None = None, *, filesystem: pafs.FileSystem | None = None,
                 sample_figures: bool = True) -> Path | str:
    """Write every report file; returns the output folder (a Path when local, else its URI as given)."""
    results = load_results(experiment_path, filesystem)
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
        return src.join(REPORT_DIR)
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
    write_csv(results.trials, out / "trials.csv")  # every table typed once (analysis.tables.tidy)
    write_parquet(results.trials, out / "trials.parquet")
    write_parquet(results.history, out / "history.parquet")
    tables = {"summary": results.summary, "effects": results.effects}
    if results.study.meta.published:
        tables["published"] = compare(results.summary, results.study.meta.published)
    for name, frame in tables.items():
        write_csv(frame, out / f"{name}.csv")
        write_parquet(frame, out / f"{name}.parquet")  # its types, a boolean with missing values included
    figures, notes = table_figures(results, plot_dir)
    if sample_figures:
        more, more_notes = checkpoint_figures(results, plot_dir)
        figures += more
        notes += more_notes
    (out / "report.md").write_text(render_markdown(results, figures, notes))


def render_markdown(results: Results, figures: list[tuple[str, str, str]], notes: list[str]) -> str:
    meta = results.study.meta
    primary, mode = meta.primary_metric, meta.mode
    trials, metrics = results.trials, results.study.metrics
    # printed as clipped to each metric's range (analysis.bounds); the files and the verdicts keep them as computed
    summary, effects = shown_summary(results.summary, metrics, trials), shown_effects(results.effects, trials)
    baseline = results.design.baseline_config
    tables = ["trials", "summary", "effects", *(["published"] if meta.published else [])]
    lines = [f"# Study {meta.name}", ""]
    lines += [f"Primary metric: **{primary}** ({better_text(mode)}). Baseline: "
              f"**{baseline or 'each factor at its baseline level'}**. Factors: "
              + (", ".join(f"{f.name} (baseline level {f.baseline}, from {f.how_baseline})"
                           for f in results.design.factors)
                 or "none (only the seed varies)") + ".", ""]
    lines += ["## Answer", ""]
    said = search_answer(trials, primary, mode, meta.search, [f.name for f in results.design.factors]) \
        if results.is_search else answer(effects, summary, trials, primary, mode, baseline)
    lines += [ln if ln.startswith("  - ") else f"- {ln}" for ln in said]
    lines += [ln for sec, title, rel in figures if sec == "Answer" for ln in ("", image(title, rel))]
    lines += ["", "## Configurations", "",
              "Seeds that ran the whole budget: finished of all, and how many failed (diverged or collapsed); the "
              "final values of the measured seeds, mean [95% t interval]; "
              f"{STABILITY_RATE} [95% Wilson interval]. {STABILITY_STATUSES_TEXT} Compute per run: FLOPs of a run of "
              "the whole budget by gan_core's cost model (\"not recorded\" for results written before the reports "
              "carried them), and the measured training seconds of the seeds that ran it without diverging.", ""]
    lines += configurations_table(summary, metrics) + [""]
    lines += [f"- {summary_sentence(r, primary)}" for _, r in summary.iterrows()]
    if meta.published:
        lines += ["", "## Against the published figures", "",
                  "Each figure a paper published for one of these configurations, beside our mean [95% t interval] "
                  "over its seeds at this study's budget; inside: whether the published value lies in our interval "
                  "(published.csv).", ""]
        lines += published_table(shown_published(compare(results.summary, meta.published), trials))
    lines += ["", "## Effects against the baseline", ""]
    if results.is_search:
        lines += ["None: this is a search (see the Answer); trials.csv holds every trial with its settings.", ""]
    elif effects.empty:
        lines += ["Nothing to compare: every trial has the same configuration (only the seed varies).", ""]
    else:
        lines += [f"Effect: difference of means over the finished seeds (level minus baseline; a diverged or "
                  f"collapsed seed left out) [95% Welch interval]. P(worse): the share of (level, baseline) seed "
                  f"pairs in which the level's seed did worse, a failed (diverged or collapsed) seed counting as "
                  f"worse than any finished one. p: the test over every seed (Welch's t when no seed failed, else the "
                  f"two-part test: how the seeds failed and how the finished ones did; Boschloo's exact test for "
                  f"stability); Holm: adjusted over the answer's {primary} and stability comparisons together. "
                  f"Verdict: better or worse when Holm p < 0.05 and the evidence does not point both ways; "
                  f"\"measured only\": the verdict of the finished seeds alone, for comparison. Compute: the "
                  f"level's FLOPs per run (gan_core's cost model) and measured training seconds per run, each over the "
                  f"baseline's. Sorted by P(worse) on {primary}.", ""]
        for metric in [*metrics[:1], STABILITY]:
            sub = effects[effects["metric"] == metric]
            if sub.empty:
                continue
            lines += [f"### {metric} ({better_text(sub['mode'].iloc[0])})", ""]
            lines += effects_table(sub) + [""]
            lines += [f"- {effect_sentence(effects[effects['comparison'] == c], metric)}"
                      for c in sub["comparison"]]
            lines += [""]
        if len(metrics) > 1:
            lines += [f"Effects on the other metrics ({', '.join(metrics[1:])}) are in effects.csv and the plots.", ""]
    lines += ["## Plots", ""]
    section = None
    for sec, title, rel in figures:  # inline, so GitHub and an editor's preview show them; the answer's above
        if sec == "Answer":
            continue
        if sec != section:
            lines += ["", f"### {sec}", ""]
            section = sec
        lines += [image(title, rel), ""]
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
    ran = trials[trials["device_used"] != ""].groupby(["device_used", "precision_used"]).size()
    if len(ran):  # where and in which precision (config key precision, "auto" decided by each trial)
        lines += ["Ran on " + ", ".join(f"{dev}{f' in {prec}' if prec else ''} ({n} trials)" for (dev, prec), n
                                        in ran.items()) + " (trials.csv: device_used, precision_used)."]
    lines += [""]
    failed = trials[trials["status"] == "error"]
    for _, r in failed.head(10).iterrows():
        lines += [f"- {r['trial_dir']}: {r['error'] or 'failed before reporting any result'}"]
    if len(failed) > 10:
        lines += [f"- ... and {len(failed) - 10} more (trials.csv, column error)"]
    unfinished = trials[trials["status"].isin(("running", "pending"))]
    named = unfinished["trial_dir"].where(unfinished["trial_dir"] != "", unfinished["trial_id"])
    unfinished = unfinished.assign(_name=named).drop_duplicates("_name")  # a population's members: one folder
    for _, r in unfinished.head(10).iterrows():
        lines += [f"- {r['_name']}: not finished ({r['status']} {SAVED})"]
    if len(unfinished) > 10:
        lines += [f"- ... and {len(unfinished) - 10} more (trials.csv, column status)"]
    all_notes = results.notes + notes
    if all_notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in all_notes]
    lines += ["", "## Method", "",
              f"- Each trial's last evaluation, over the trials that ran the whole budget (trainer status "
              f"{' or '.join(FINISHED)}); a trial stopped early by a scheduler was measured at another budget and is "
              f"only counted. Stability statuses ({' | '.join(STABILITY_STATUSES)}): what each trial's last report "
              f"says, gan_core.metrics.assess_stability on its history, computed in the trial (thresholds: "
              f"docs/METRICS.md, \"Stability\"). Seeds "
              f"are pooled per configuration; a factor's effect pools the other factors' levels (a main effect).",
              "- Means: Student's t interval. Differences of means: Welch's interval and test. A comparison in which "
              "a seed failed (diverged or collapsed): the two-part test, an exact permutation test of mean ranks of "
              "how the seeds failed (finished seeds tied ahead, collapsed ones by value behind them, diverged ones "
              "last) and Welch's test over the finished seeds, joined by a weighted Bonferroni split (3/4 to the "
              "failures where they can decide). Stability: Newcombe's hybrid score interval and "
              "Boschloo's exact test. Holm's correction over the answer's primary-metric and stability comparisons. "
              "Coverage and error rates of each at 3 to 10 seeds, simulated: docs/STATISTICS.md.",
              "- Still improving: the last quarter of training brought more than 10% of the primary metric's "
              "improvement since the first evaluation (mean over the seeds that trained).",
              f"- Files: {', '.join(f'{name}.csv' for name in tables)}, each also as .parquet, and history.parquet.",
              ""]
    if meta.command:
        lines += [f"Command: `{' '.join(meta.command)}`", ""]
    return "\n".join(lines)


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

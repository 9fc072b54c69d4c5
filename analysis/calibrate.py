"""``python -m analysis.calibrate``: the simulation that checks every interval and test of the reports, and writes
docs/STATISTICS.md.

Why a simulation: a 95% interval is only as good as the share of the time it covers the truth, and a test only as
good as its false-positive rate, at the sample sizes the studies use (a handful of seeds), where textbook
asymptotics do not hold. An earlier version of the reports used percentile-bootstrap intervals that covered the
truth 78% of the time at 3 seeds; one worked example had passed its tests. So each procedure of ``analysis.stats``
is run here on thousands of simulated samples whose truth is known, and the whole answer of a study is run through
the real report code on synthetic results directories with no true effect, to count how often it calls anything
"clear" (``_null_effects``: the directory's trials as ``analysis.load`` reads them, outcomes drawn per study, then
``analysis.effects.compute_effects``; the test suite checks it against ``load_results`` on written directories).
Every number in docs/STATISTICS.md comes from this script, with its seed: anyone can re-run it (``--reps`` sets
the repetitions per cell, ``--study-reps`` the simulated studies per scenario, ``--jobs`` the worker processes
that share the studies; the defaults' run time: benchmarks/RESULTS.md, "Study and tool run times"). The cells are
in ``analysis.calibrate_cells``, the whole studies in ``analysis.calibrate_studies``, the page in
``analysis.calibrate_table``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from analysis.calibrate_cells import interval_rows, power_rows, proportion_rows, two_part_rows
from analysis.calibrate_studies import VARIANTS, study_rows
from analysis.calibrate_table import render


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.calibrate", description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=4000, help="repetitions per cell (default 4000; at least 2000)")
    p.add_argument("--study-reps", type=int, default=2000, help="simulated studies per cell (default 2000)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes for the studies")
    p.add_argument("--out", default="docs/STATISTICS.md", help="where to write the tables")
    args = p.parse_args(argv)
    if args.reps < 1 or args.study_reps < 1 or args.jobs < 1:
        p.error("--reps, --study-reps and --jobs must be >= 1")
    n_tests = 2 * (VARIANTS - 1)
    print("intervals ...", flush=True)
    intervals = interval_rows(args.reps)
    print("the test over every seed ...", flush=True)
    ranks = two_part_rows(args.reps)
    print("proportions ...", flush=True)
    proportions = proportion_rows(args.reps)
    print("power ...", flush=True)
    power = power_rows(args.reps, n_tests)
    print("whole studies ...", flush=True)
    studies = study_rows(args.study_reps, args.jobs)
    text = render(args.reps, args.study_reps, intervals, ranks, proportions, power, studies, n_tests)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a study's driver prints at its end: the summary of its trials and, for a reproduction, the published
table beside ours."""
from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING

from studies.experiment_dir import ExperimentDir, read_text, unfinished_trial_ids

if TYPE_CHECKING:
    from studies.runner import StudyRun

__all__ = ["print_summary", "error_line", "print_published"]


STOPPED_EARLY = "stopped early by the scheduler"


def print_summary(run: "StudyRun") -> None:
    """The trials by how they ended, where the results and report are, and, last, what to do next: the failures
    with the --resume command, an interruption or a stall with it. A trial that the saved state lists as
    unfinished is counted "unfinished", whatever Ray's in-memory grid says (it marks every trial TERMINATED when the
    study is interrupted)."""
    grid = run.result_grid
    unfinished = unfinished_trial_ids(run.location) if (run.unfinished or run.stalled) else set()
    statuses: dict[str, int] = {}
    for result in grid:
        if any(str(result.path).rstrip("/").endswith(f"_{tid}") for tid in unfinished):
            status = "unfinished"
        elif result.error is not None:
            status = "error"
        else:
            status = str(result.metrics["status"]) if "status" in result.metrics else "done"
            if status == "running":  # finished without training to its end: a scheduler (ASHA) stopped it
                status = STOPPED_EARLY
        statuses[status] = statuses.get(status, 0) + 1
    print(f"\nTrials: {len(grid)} ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})")
    print(f"Results: {run.location.experiment_path}")
    for path in run.report_paths:
        print(f"Report:  {path}")
    if run.n_errors:
        failed = sorted({error_line(result.error) for result in grid if result.error is not None})
        print(f"{run.n_errors} trial(s) failed after all restarts, with: {'; '.join(failed[:3])}"
              f"{'; ...' if len(failed) > 3 else ''} (each trial's error.txt has the whole traceback). A damaged "
              f"checkpoint is skipped on a restart; any other cause repeats: fix it, then run the failed trials "
              f"again from their last checkpoint with: {run.resume}")
    if run.stalled:
        print(f"Stopped: {run.stalled}; {run.unfinished} of {len(grid)} trial(s) unfinished; once the cluster can "
              f"start such a node, continue with: {run.resume}")
    elif run.unfinished:
        print(f"Interrupted: {run.unfinished} of {len(grid)} trial(s) unfinished; continue with: {run.resume}")


def error_line(error: BaseException) -> str:
    """The last line of a trial's error (Ray wraps the trainable's exception; its last line names it)."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    return (lines[-1] if lines else type(error).__name__)[:200]


def print_published(loc: ExperimentDir) -> None:
    """Print the table of the study's results beside the published figures that its report has just written
    (``report/published.csv``, made by ``analysis.published``), rather than reading the whole study again; a
    failure is printed in one line and loses nothing (the report folder has the same table)."""
    try:
        import pandas as pd

        from analysis.fsio import ResultsError
        from analysis.published import markdown
        from analysis.report import REPORT_DIR

        relative = f"{REPORT_DIR}/published.csv"
        try:
            text = read_text(loc, relative)
        except OSError as e:  # the report could not be written (write_study_report said why)
            raise ResultsError(f"{relative} is not in {loc.experiment_path!r} ({type(e).__name__})") from None
        table = pd.read_csv(io.StringIO(text))
        table["published_se"] = table["published_se"].astype(object).where(table["published_se"].notna(), None)
        table["inside"] = table["inside"].astype(object).where(table["inside"].notna(), None)
    except Exception as e:  # noqa: BLE001 -- as in write_study_report: the study has finished, its files are on disk
        first = (str(e).strip().splitlines() or [""])[0]
        print(f"The comparison with the published figures could not be made ({type(e).__name__}: {first}).",
              file=sys.stderr)
        return
    print("\nAgainst the published figures (ours: mean [95% CI] over seeds, at this budget):")
    print("\n".join(markdown(table)))

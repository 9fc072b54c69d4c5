"""``load_results(path)``: the report's four frames for notebook users, computed exactly as the report does.

    trials, history, summary, effects = load_results("results/k_sweep")   # or s3://bucket/studies/k_sweep

A ``Results`` unpacks into those four frames and also carries what was read (``study``: the StudyData with the
study's metadata and notes) and the inferred ``design`` (factors, levels, baselines).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from pyarrow import fs as pafs

from analysis import stats
from analysis.design import Design, infer_design
from analysis.effects import compute_effects
from analysis.load import StudyData, read_study
from analysis.summary import configuration_order, summarize


@dataclass
class Results:
    trials: pd.DataFrame
    history: pd.DataFrame
    summary: pd.DataFrame
    effects: pd.DataFrame
    study: StudyData = field(repr=False)
    design: Design = field(repr=False)
    n_resamples: int = stats.N_RESAMPLES

    def __iter__(self):
        return iter((self.trials, self.history, self.summary, self.effects))

    @property
    def configurations(self) -> list[str]:
        """Configuration labels, baseline first."""
        return configuration_order(self.trials, self.design)

    @property
    def notes(self) -> list[str]:
        return self.study.notes + self.design.notes


def load_results(path: str, filesystem: pafs.FileSystem | None = None,
                 n_resamples: int = stats.N_RESAMPLES) -> Results:
    """Read a results directory (local path or URI) and compute every table of the report."""
    study = read_study(path, filesystem)
    trials, design = infer_design(study.trials, study.meta)
    history = _label_history(study.history, trials, design)
    modes = {m: study.metric_mode(m) for m in study.metrics}
    summary = summarize(trials, design, study.metrics, n_resamples=n_resamples)
    effects = compute_effects(trials, design, study.metrics, modes, n_resamples=n_resamples)
    return Results(trials, history, summary, effects, study, design, n_resamples)


def _label_history(history: pd.DataFrame, trials: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Each evaluation row carries its trial's configuration, seed and factor levels (one tidy frame for curves)."""
    keep = ["trial_id", "configuration", *[c for c in ("variant", "seed") if c in trials.columns],
            *[f.column for f in design.factors]]
    keep = list(dict.fromkeys(keep))
    labels = trials[keep].drop_duplicates("trial_id")
    if "trial_id" not in history.columns or history.empty:
        return pd.DataFrame(columns=keep)
    clash = [c for c in keep if c in history.columns and c != "trial_id"]
    merged = history.drop(columns=clash).merge(labels, on="trial_id", how="left")
    front = keep + [c for c in merged.columns if c not in keep]
    return merged[front]

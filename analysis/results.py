"""``load_results(path)``: the report's four frames for notebook users, computed exactly as the report does.

    trials, history, summary, effects = load_results("results/k_sweep")   # or s3://bucket/studies/k_sweep

A ``Results`` unpacks into those four frames and also carries what was read (``study``: the StudyData with the
study's metadata and notes) and the inferred ``design`` (factors, levels, baselines).

A search (``study.json`` names a searcher or scheduler, or a scheduler stopped some trials) gets no effects: its
trials were chosen by the searcher and cut at different budgets, so a difference between its levels is not an
effect of the setting. Its report presents the best settings it found instead (``analysis.report``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from pyarrow import fs as pafs

from analysis.design import Design, infer_design
from analysis.effects import COLUMNS, compute_effects
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

    def __iter__(self):
        return iter((self.trials, self.history, self.summary, self.effects))

    @property
    def configurations(self) -> list[str]:
        """Configuration labels, baseline first."""
        return configuration_order(self.trials, self.design)

    @property
    def is_search(self) -> bool:
        return is_search(self.study)

    @property
    def notes(self) -> list[str]:
        return self.study.notes + self.design.notes


def is_search(study: StudyData) -> bool:
    """A searcher or scheduler chose or cut the trials (study.json "search"; where it does not say: a stopped trial)."""
    return bool(study.meta.search) or bool((study.trials["status"] == "stopped").any())


def load_results(path: str, filesystem: pafs.FileSystem | None = None) -> Results:
    """Read a results directory (local path or URI) and compute every table of the report."""
    study = read_study(path, filesystem)
    trials, design = infer_design(study.trials, study.meta)
    history = _label_history(study.history, trials, design)
    modes = {m: study.metric_mode(m) for m in study.metrics}
    summary = summarize(trials, design, study.metrics, modes)
    effects = pd.DataFrame(columns=COLUMNS) if is_search(study) else \
        compute_effects(trials, design, study.metrics, modes)
    return Results(trials, history, summary, effects, study, design)


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

"""A Ray Tune results directory -> tidy frames: one row per trial, one row per evaluation.

Why read files rather than ``ray.tune.ExperimentAnalysis``: the analysis must run anywhere, later, on a copy, with
no Ray and without unpickling anything (``tuner.pkl``, ``params.pkl`` and the pickled parts of Ray's experiment
state are never opened). What a study needs is all in plain files: ``params.json`` (the flat config), ``result.json``
(one JSON object per report), ``error.txt``, the ``checkpoint_NNNNNN`` folders and the study's own ``study.json``.

Every trial Ray's state lists is a row, so that the counts add up to the study's trials: one whose folder Ray has
not yet written (or has made, empty) is "pending" or "running" with its config from Ray's state; one whose folder is
gone although Ray ended it is "missing". Whether a driver still runs the unfinished ones a results directory cannot
tell (a running study and an interrupted one look alike), so one note says what the state said, and when. A
configuration and seed that a design ran twice (two drivers at once) is "duplicate" after its first. The status
of each trial read from its folder, and why: ``analysis.trial_rows``.

A GAN trial (its reports carry ``g_steps``) also gets a *stability* status, the project's definition of whether it
trained stably: ``gan_core.metrics.assess_stability`` on its history with the study's primary metric, which the
trainer computes at every report, so that its last report carries it (``trial_frame`` reads it). One of stable,
diverged (non-finite losses, samples or final metric), collapsed (G puts almost all its samples on one class or
mode, or they have almost no spread) or d_dominates (D(x) near 1 and D(G(z)) near 0 over the last quarter of
training). Columns ``stability``, ``stability_reason``, ``steps_to_90pct``, ``oscillation`` and
``final_best_gap``. A trainer status "ok" says only that the losses stayed finite: a generator that emits one
blurred digit ends "ok" too, which is why the stability rates count the stability status, not ``status``. Trials
without GAN reports (the theory check) have ``stability`` "" and count as stable when they finished
(``stability_labels``). A population trial's folder (seeds trained together) is one result per member
(``analysis.members``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from pyarrow import fs as pafs

from analysis.fsio import Location, ResultsError, resolve
from analysis.ray_state import RAY_RUNNING, has_state, newest_state, read_ray_trials
from analysis.study_meta import StudyMeta, read_meta
from analysis.trial_files import TRIAL_FILES, read_trial_files, study_keys
from analysis.trial_frame import CONFIG_KEYS, numeric, present_metrics, trials_frame
from analysis.trial_rows import read_trial, unread_trials, unreported

UNFINISHED = ("running", "pending")  # statuses of trials Ray's state says are not done and that have not ended


@dataclass
class StudyData:
    """Everything read from one results directory."""

    location: Location
    meta: StudyMeta
    trials: pd.DataFrame   # one row per trial
    history: pd.DataFrame  # one row per report of a trial
    metrics: list[str]     # quality metrics present, primary first
    notes: list[str] = field(default_factory=list)  # things the reader of the report must know

    def metric_mode(self, metric: str) -> str:
        return self.meta.metric_mode(metric)


def read_study(path: str, filesystem: pafs.FileSystem | None = None) -> StudyData:
    """Read a results directory (local path or URI); ResultsError with one clear line if it is not one."""
    loc = resolve(path, filesystem)
    try:
        return _read(loc)
    except ResultsError:
        raise
    except OSError as e:  # permissions, network: the filesystem's own words, on one line
        raise ResultsError(f"cannot read {loc.uri!r}: {str(e).strip().splitlines()[0] if str(e).strip() else e}") \
            from None


def _read(loc: Location) -> StudyData:
    if not loc.exists():
        raise ResultsError(f"{loc.uri!r} does not exist; give the experiment folder of a study "
                           f"(<storage_path>/<study name>)")
    if not loc.is_dir():
        raise ResultsError(f"{loc.uri!r} is a file, not a Ray results directory")
    entries = loc.children()
    names = {e.base_name for e in entries}
    folders = {e.base_name for e in entries if e.type == pafs.FileType.Directory}
    with_files = {n for n in folders if _has_any(loc.join(n), TRIAL_FILES)}
    is_experiment = "study.json" in names or any(n.startswith("experiment_state-") for n in names)
    if not with_files and not is_experiment:
        raise ResultsError(f"{loc.uri!r} is not a Ray results directory: no study.json, no experiment_state-*.json "
                           f"and no trial folders with params.json{_hint_subfolders(loc, entries)}")
    notes: list[str] = []
    meta = read_meta(loc, names, notes)
    ray_trials = read_ray_trials(loc, entries, notes)
    if not with_files and not ray_trials:
        raise ResultsError(f"study {meta.name!r} at {loc.uri!r} is empty: it has no trial folders yet")
    by_folder = {t.folder: t for t in ray_trials if t.folder}
    by_id = {t.trial_id: t for t in ray_trials}
    # a folder Ray's state names is a trial's even while it holds nothing yet (Ray makes it before the trial runs)
    files = [read_trial_files(loc.join(n)) for n in sorted(with_files | (folders & set(by_folder)))]
    common = study_keys([f.params for f in files if isinstance(f.params, dict)])
    scheduled = bool(meta.search.get("scheduler"))
    trial_rows, histories = [], []
    for f in files:
        for row, hist in read_trial(f, by_folder, by_id, common, scheduled, notes):
            trial_rows.append(row)
            histories.append(hist)
    for t in ray_trials:
        if t.folder in folders:
            continue
        if t.status in RAY_RUNNING:  # not started, or its folder not yet written: nothing of it is lost
            trial_rows.extend(unread_trials(t.trial_id, t.folder, t.config, unreported(t.status), t.status))
            continue
        notes.append(f"trial {t.folder or t.trial_id}: listed in Ray's experiment state ({t.status}) but its folder "
                     f"is missing: not in the statistics")
        trial_rows.extend(unread_trials(t.trial_id, t.folder, t.config, "missing", t.status))
    history = pd.concat([h for h in histories if len(h)], ignore_index=True) if any(len(h) for h in histories) \
        else pd.DataFrame({"trial_id": pd.Series(dtype=str)})
    history = numeric(history, meta)
    metrics = present_metrics(history, meta)
    trials = trials_frame(trial_rows, history, metrics, meta)
    if not meta.search:
        trials = _mark_duplicates(trials, notes)
    _note_unfinished(trials, newest_state(entries), notes)
    return StudyData(loc, meta, trials, history, metrics, notes)


def _note_unfinished(trials: pd.DataFrame, state: str | None, notes: list[str]) -> None:
    """One note for the trials that had not finished when Ray last saved the study's state (status running or
    pending). Why worded so: the results directory cannot tell whether a driver still runs them (a study being
    run, or one whose driver was interrupted, killed or lost); the note is true either way."""
    unfinished = trials["status"].isin(UNFINISHED)
    if not unfinished.any():
        return
    counts = trials.loc[unfinished, "status"].value_counts()
    when = f"when Ray last saved the study's state ({state})" if state else \
        "(no experiment_state-*.json says more: nothing, or not their last report, in their result.json)"
    notes.append(f"{int(unfinished.sum())} of {len(trials)} trials had not finished {when}: "
                 + ", ".join(f"{int(counts[s])} {s}" for s in UNFINISHED if s in counts)
                 + ". A results directory cannot tell whether a driver still runs them; if none does, the study's "
                   "command with --resume finishes them. Until then they are not in the statistics.")


def _mark_duplicates(trials: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Status "duplicate" for every trial but the first of a (configuration, seed) that a design study ran twice.

    Why: a design runs each configuration once per seed, so a repeat means a second driver wrote into this study at
    the same time (possible only where the storage cannot be locked, as on s3://; ``studies.lock``). The same seed
    gives the same result, so counting both would count one seed twice, narrowing every interval.
    """
    keys = [c for c in (*CONFIG_KEYS, "variant") if c in trials.columns]
    if not keys:
        return trials
    on_disk = ~trials["status"].isin(("missing", "damaged", "pending"))  # trials whose results were read
    key = trials[keys].map(str).agg("\x1f".join, axis=1)  # one string per trial; NaN compares equal as "nan"
    repeated = key.where(on_disk).duplicated(keep="first") & on_disk
    for i in trials.index[repeated]:
        first = trials.loc[(key == key[i]) & on_disk & ~repeated, "trial_dir"].iloc[0]
        dup = trials.loc[i]
        notes.append(f"trial {dup['trial_dir']} repeats the configuration and seed of {first}: two drivers wrote "
                     f"this study at once (a storage without locks, such as s3://); only {first} is in the "
                     f"statistics")
    return trials.assign(status=trials["status"].where(~repeated, "duplicate"))


def _has_any(loc: Location, names: tuple[str, ...]) -> bool:
    return any(loc.join(n).is_file() for n in names)


def _hint_subfolders(loc: Location, entries: list[pafs.FileInfo]) -> str:
    """Name experiment folders one level down: the common mistake is to pass the storage path."""
    found = []
    for e in entries[:50]:
        if e.type == pafs.FileType.Directory and (loc.join(e.base_name, "study.json").is_file()
                                                  or has_state(loc.join(e.base_name))):
            found.append(e.base_name)
    return f"; did you mean one of its subfolders: {', '.join(found[:5])}?" if found else ""

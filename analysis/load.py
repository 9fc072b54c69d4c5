"""A Ray Tune results directory -> tidy frames: one row per trial, one row per evaluation.

Why read files rather than ``ray.tune.ExperimentAnalysis``: the analysis must run anywhere, later, on a copy, with
no Ray and without unpickling anything (``tuner.pkl``, ``params.pkl`` and the pickled parts of Ray's experiment
state are never opened). What a study needs is all in plain files: ``params.json`` (the flat config), ``result.json``
(one JSON object per report), ``error.txt``, the ``checkpoint_NNNNNN`` folders and the study's own ``study.json``.

A trial's status is the status its last report carries ("ok" or "diverged"); a trial that ended without one is
"error" (Ray recorded a failure), "running" or "pending" (so Ray's experiment state said when Ray last saved it:
running, or pending with nothing reported), or "stopped" (Ray ended it early: a scheduler such as ASHA cut it
because it trailed). Reports without any status key (a trainable that is not a GAN run, such as the theory check)
make a trial "ok" once Ray has ended it. The statistics compare the trials that ran the study's whole budget ("ok"
or "diverged": FINISHED); a "stopped" trial was measured at another budget, so it is counted and labelled, and a
search (``study.json`` "search") reports its best settings instead of effects.

Every trial Ray's state lists is a row, so that the counts add up to the study's trials: one whose folder Ray has
not yet written (or has made, empty) is "pending" or "running" with its config from Ray's state; one whose folder is
gone although Ray ended it is "missing". Whether a driver still runs the unfinished ones a results directory cannot
tell (a running study and an interrupted one look alike), so one note says what the state said, and when.

What else keeps a trial out of the statistics, each named in a note: "incomplete" (its result.json ends before the
last report Ray received, or was cut short, or, without a scheduler, before its budget), "damaged" (its params.json
or result.json cannot be read as Ray wrote it: ``analysis.trial_files``; column ``damage`` says why), "duplicate".
An empty error.txt beside a trial that ran its whole budget and that Ray ended (TERMINATED) is no error (Ray could
not write it, e.g. on a full disk, and the trial was then resumed); beside any other trial it reads "failed (empty
error.txt)".

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

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pyarrow import fs as pafs

from analysis.fsio import Location, ResultsError, resolve
from analysis.members import member_name, member_params, member_rows, member_seeds
from analysis.ray_state import RAY_RUNNING, RayTrial, has_state, newest_state, read_ray_trials, trial_id_from_name
from analysis.study_meta import StudyMeta, read_meta
from analysis.trial_files import EMPTY_ERROR, TRIAL_FILES, TrialFiles, params_damage, read_trial_files, study_keys
from analysis.trial_frame import CONFIG_KEYS, FINISHED, numeric, present_metrics, trials_frame

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
        for row, hist in _read_trial(f, by_folder, by_id, common, scheduled, notes):
            trial_rows.append(row)
            histories.append(hist)
    for t in ray_trials:
        if t.folder in folders:
            continue
        if t.status in RAY_RUNNING:  # not started, or its folder not yet written: nothing of it is lost
            trial_rows.extend(_unread_trials(t.trial_id, t.folder, t.config, _unreported(t.status), t.status))
            continue
        notes.append(f"trial {t.folder or t.trial_id}: listed in Ray's experiment state ({t.status}) but its folder "
                     f"is missing: not in the statistics")
        trial_rows.extend(_unread_trials(t.trial_id, t.folder, t.config, "missing", t.status))
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


# ------------------------------------------------------------------------------------------------------- a trial
def _unread_trials(trial_id: str, folder: str, config: dict[str, Any], status: str, ray_status: str,
                   error: str = "", damage: str = "") -> list[dict[str, Any]]:
    """The trials-frame rows of a trial none of whose reports are read (its folder gone, not yet written, or
    damaged), one per member of a population trial: its config as the best record holds it, and ``status``."""
    seeds = member_seeds(config)
    units = [(trial_id, config)] if seeds is None else \
        [(f"{trial_id}_{member_name(s)}", member_params(config, s)) for s in seeds]
    out = []
    for unit_id, unit_config in units:
        row: dict[str, Any] = {"trial_id": unit_id, "trial_dir": folder}
        row.update({k: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
                    for k, v in unit_config.items()})
        row.update({"status": status, "ray_status": ray_status, "error": error, "damage": damage, "n_evals": 0,
                    "checkpoint": "", "n_checkpoints": 0, **({"population": trial_id} if seeds is not None else {})})
        out.append(row)
    return out


def _read_trial(f: TrialFiles, by_folder: dict[str, RayTrial], by_id: dict[str, RayTrial], common: set[str],
                scheduled: bool, notes: list[str]) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """(trials-frame row, history) of one trial folder: one, or one per member of a population trial
    (``analysis.members``); a damaged trial's rows have no history."""
    name, rows = f.name, f.rows
    trial_id = str(rows[-1]["trial_id"]) if rows and "trial_id" in rows[-1] else trial_id_from_name(name)
    ray_trial = by_folder.get(name) or by_id.get(trial_id)
    if ray_trial is not None and not rows:
        trial_id = ray_trial.trial_id
    params_bad = params_damage(f, common | (set(ray_trial.config) if ray_trial is not None else set()))
    params = f.params if isinstance(f.params, dict) and not params_bad else {}
    if not params:  # no params.json, or a damaged one: the config as another record holds it
        params = rows[-1]["config"] if rows and isinstance(rows[-1].get("config"), dict) else \
            ray_trial.config if ray_trial is not None and ray_trial.config else \
            f.params if isinstance(f.params, dict) else {}
    notes.extend(f.notes)
    rstatus = ray_trial.status if ray_trial is not None else ""
    damage = "; ".join(d for d in (params_bad, f.results_damage) if d)
    if damage:
        notes.append(f"trial {name}: damaged, not in the statistics: {damage}")
        return [(row, pd.DataFrame()) for row in _unread_trials(trial_id, name, params, "damaged", rstatus,
                                                                f.error or "", damage)]
    recorded = max((int(r["training_iteration"]) for r in rows if isinstance(r.get("training_iteration"), int)),
                   default=0)
    trial = _Trial(name, f.error, ray_trial, recorded, scheduled, f.cut_short)
    seeds = member_seeds(params)
    if seeds is None:
        ckpts = [n for n in f.checkpoints if f.location.join(n, "state.pt").is_file()]
        return [trial.result(trial_id, params, rows, ckpts, notes)]
    out = []
    for seed in seeds:
        member = member_name(seed)
        ckpts = [f"{n}/{member}" for n in f.checkpoints if f.location.join(n, member, "state.pt").is_file()]
        row, hist = trial.result(f"{trial_id}_{member}", member_params(params, seed), member_rows(rows, seed),
                                 ckpts, notes, label=f"{name} ({member})")
        row["population"] = trial_id
        out.append((row, hist))
    return out


@dataclass
class _Trial:
    """What one trial folder says of all its results (one, or a population's members)."""

    name: str
    error: str | None  # error.txt's last line; "" when it is empty; None when there is none
    ray_trial: RayTrial | None
    recorded: int  # the last report result.json holds
    scheduled: bool
    cut_short: bool  # result.json's last line was cut short (dropped)

    def result(self, trial_id: str, params: dict[str, Any], rows: list[dict[str, Any]], ckpts: list[str],
               notes: list[str], label: str | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
        label = label or self.name
        ray_trial = self.ray_trial
        rstatus = ray_trial.status if ray_trial is not None else ""
        last = rows[-1].get("status", "<none>") if rows else None
        error = EMPTY_ERROR if self.error == "" else self.error or ""
        status = _status(last, error, rstatus, self.scheduled)
        lost = ray_trial is not None and self.recorded < ray_trial.last_iteration
        ended = status in (*FINISHED, "stopped") or status == "error" and not error and rstatus == "TERMINATED"
        if ended and lost or status == "stopped" and self.cut_short:
            # result.json lost its last lines (or all: a file emptied by a full disk), or the last was cut short:
            # what is left would count an early value
            status = "incomplete"
        if status == "incomplete":
            notes.append(f"trial {label}: its result.json ends at report {self.recorded}"
                         + (f", before the {ray_trial.last_iteration} Ray received" if lost
                            else ", before its run's last report")
                         + ": incomplete, not in the statistics")
        if self.error == "" and status in FINISHED and rstatus == "TERMINATED":
            error = ""  # it ran to its end and Ray ended it: the empty file tells of an earlier, mended failure
        row = {"trial_id": trial_id, "trial_dir": self.name}
        for k, v in params.items():
            row[k] = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
        hist = pd.DataFrame([{k: v for k, v in r.items() if k != "config"} for r in rows])
        if "g_steps" in hist.columns:
            hist["g_steps"] = pd.to_numeric(hist["g_steps"], errors="coerce")  # a stray string or list: NaN
        if "g_steps" in hist.columns and hist["g_steps"].duplicated().any():
            # a trial restored from a checkpoint (worker failure, --resume) reports again the steps after that
            # checkpoint: the later report of a step is the one its training continued from
            hist = hist.drop_duplicates("g_steps", keep="last").sort_values("g_steps", kind="stable")
            hist = hist.reset_index(drop=True)
        row.update({"status": status, "ray_status": rstatus, "error": error, "damage": "", "n_evals": len(hist),
                    "checkpoint": ckpts[-1] if ckpts else "", "n_checkpoints": len(ckpts)})
        if len(hist):
            hist["trial_id"] = trial_id
            hist.insert(0, "trial_id", hist.pop("trial_id"))
        return row, hist


def _has_any(loc: Location, names: tuple[str, ...]) -> bool:
    return any(loc.join(n).is_file() for n in names)


def _unreported(ray_status: str) -> str:
    """The status of a trial that reported nothing while Ray's state says it is not done."""
    return "pending" if ray_status == "PENDING" else "running"


def _status(last: Any, error: str, ray_status: str, scheduled: bool) -> str:
    if last in FINISHED:
        return str(last)
    if error or ray_status == "ERROR":
        return "error"
    if last is None:  # nothing reported yet
        return "running" if ray_status in ("RUNNING", "PAUSED") else \
            "error" if ray_status == "TERMINATED" else "pending"
    if ray_status in RAY_RUNNING:
        return "running"
    # reports without a status (a trainable that is not a GAN run, e.g. the theory check) end "ok" when Ray is done
    if last == "<none>":
        return "ok"
    # ended before its budget: a scheduler's stop where the study has a scheduler, else a record cut short
    return "stopped" if scheduled or ray_status == "" else "incomplete"


def _hint_subfolders(loc: Location, entries: list[pafs.FileInfo]) -> str:
    """Name experiment folders one level down: the common mistake is to pass the storage path."""
    found = []
    for e in entries[:50]:
        if e.type == pafs.FileType.Directory and (loc.join(e.base_name, "study.json").is_file()
                                                  or has_state(loc.join(e.base_name))):
            found.append(e.base_name)
    return f"; did you mean one of its subfolders: {', '.join(found[:5])}?" if found else ""

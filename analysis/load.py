"""A Ray Tune results directory -> tidy frames: one row per trial, one row per evaluation.

Why read files rather than ``ray.tune.ExperimentAnalysis``: the analysis must run anywhere, later, on a copy, with
no Ray and without unpickling anything (``tuner.pkl``, ``params.pkl`` and the pickled parts of Ray's experiment
state are never opened). What a study needs is all in plain files: ``params.json`` (the flat config), ``result.json``
(one JSON object per report), ``error.txt``, the ``checkpoint_NNNNNN`` folders and the study's own ``study.json``.

A trial's status is the status its last report carries ("ok" or "diverged"); a trial that ended without one is
"error" (Ray recorded a failure), "running" (Ray says it still runs), "pending" (nothing reported yet) or "stopped"
(Ray ended it early: a scheduler such as ASHA cut it because it trailed). Reports without any status key (a
trainable that is not a GAN run, such as the theory check) make a trial "ok" once Ray has ended it. The statistics
compare the trials that ran the study's whole budget ("ok" or "diverged": FINISHED); a "stopped" trial was
measured at another budget, so it is counted and labelled, and a search (``study.json`` "search") reports its best
settings instead of effects.

A GAN trial (its reports carry ``g_steps``) also gets a *stability* status, the project's definition of whether it
trained stably: ``gan_core.metrics.assess_stability`` on its history with the study's primary metric, which the
trainer computes at every report, so that its last report carries it (results written before it did are assessed
here, with the same function: ``trial_frame``). One of stable,
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
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pyarrow import fs as pafs

from analysis.fsio import Location, ResultsError, resolve
from analysis.members import member_name, member_params, member_rows, member_seeds
from analysis.ray_state import RAY_RUNNING, RayTrial, has_state, read_ray_trials, trial_id_from_name
from analysis.study_meta import StudyMeta, read_meta
from analysis.trial_frame import CONFIG_KEYS, FINISHED, numeric, present_metrics, trials_frame

_CHECKPOINT = re.compile(r"^checkpoint_(\d+)$")


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
    trial_dirs = [e for e in entries if e.type == pafs.FileType.Directory
                  and _has_any(loc.join(e.base_name), ("params.json", "result.json"))]
    is_experiment = "study.json" in names or any(n.startswith("experiment_state-") for n in names)
    if not trial_dirs and not is_experiment:
        raise ResultsError(f"{loc.uri!r} is not a Ray results directory: no study.json, no experiment_state-*.json "
                           f"and no trial folders with params.json{_hint_subfolders(loc, entries)}")
    notes: list[str] = []
    meta = read_meta(loc, names, notes)
    if not trial_dirs:
        raise ResultsError(f"study {meta.name!r} at {loc.uri!r} is empty: it has no trial folders yet")
    ray_trials = read_ray_trials(loc, entries, notes)
    by_folder = {t.folder: t for t in ray_trials}
    by_id = {t.trial_id: t for t in ray_trials}
    scheduled = bool(meta.search.get("scheduler"))
    trial_rows, histories = [], []
    for entry in trial_dirs:
        for row, hist in _read_trial(loc.join(entry.base_name), by_folder, by_id, scheduled, notes) or []:
            trial_rows.append(row)
            histories.append(hist)
    on_disk = {e.base_name for e in entries if e.type == pafs.FileType.Directory}
    for t in ray_trials:
        if t.folder not in on_disk:
            notes.append(f"trial {t.folder}: listed in Ray's experiment state ({t.status}) but its folder is "
                         f"missing: not in the statistics")
            trial_rows.extend(_missing_trials(t))
    if not trial_rows:
        raise ResultsError(f"study {meta.name!r} at {loc.uri!r} has no readable trials: " + "; ".join(notes[:3]))
    history = pd.concat([h for h in histories if len(h)], ignore_index=True) if any(len(h) for h in histories) \
        else pd.DataFrame({"trial_id": pd.Series(dtype=str)})
    history = numeric(history, meta)
    metrics = present_metrics(history, meta)
    trials = trials_frame(trial_rows, history, metrics, meta)
    if not meta.search:
        trials = _mark_duplicates(trials, notes)
    return StudyData(loc, meta, trials, history, metrics, notes)


def _mark_duplicates(trials: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Status "duplicate" for every trial but the first of a (configuration, seed) that a design study ran twice.

    Why: a design runs each configuration once per seed, so a repeat means a second driver wrote into this study at
    the same time (possible only where the storage cannot be locked, as on s3://; ``studies.lock``). The same seed
    gives the same result, so counting both would count one seed twice, narrowing every interval.
    """
    keys = [c for c in (*CONFIG_KEYS, "variant") if c in trials.columns]
    if not keys:
        return trials
    on_disk = trials["status"].ne("missing")
    key = trials[keys].astype(str).agg("\x1f".join, axis=1)  # one string per trial; NaN compares equal as "nan"
    repeated = key.where(on_disk).duplicated(keep="first") & on_disk
    for i in trials.index[repeated]:
        first = trials.loc[(key == key[i]) & on_disk & ~repeated, "trial_dir"].iloc[0]
        dup = trials.loc[i]
        notes.append(f"trial {dup['trial_dir']} repeats the configuration and seed of {first}: two drivers wrote "
                     f"this study at once (a storage without locks, such as s3://); only {first} is in the "
                     f"statistics")
    return trials.assign(status=trials["status"].where(~repeated, "duplicate"))


# ------------------------------------------------------------------------------------------------------- a trial
def _missing_trials(t: RayTrial) -> list[dict[str, Any]]:
    """The trials-frame rows of a trial whose folder is gone (one per member of a population trial): its config
    from Ray's state, status "missing"."""
    seeds = member_seeds(t.config)
    units = [(t.trial_id, t.config)] if seeds is None else \
        [(f"{t.trial_id}_{member_name(s)}", member_params(t.config, s)) for s in seeds]
    out = []
    for trial_id, config in units:
        row: dict[str, Any] = {"trial_id": trial_id, "trial_dir": t.folder}
        row.update({k: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v for k, v in config.items()})
        row.update({"status": "missing", "ray_status": t.status, "error": "", "n_evals": 0, "checkpoint": "",
                    "n_checkpoints": 0, **({"population": t.trial_id} if seeds is not None else {})})
        out.append(row)
    return out


def _read_trial(tdir: Location, by_folder: dict[str, RayTrial], by_id: dict[str, RayTrial], scheduled: bool,
                notes: list[str]) -> list[tuple[dict[str, Any], pd.DataFrame]] | None:
    """(trials-frame row, history) of the trial in ``tdir``: one, or one per member of a population trial
    (``analysis.members``); None when its params.json cannot be read."""
    name = tdir.name
    params: dict[str, Any] = {}
    pfile = tdir.join("params.json")
    if pfile.is_file():
        try:
            params = json.loads(pfile.read_text())
        except json.JSONDecodeError:
            notes.append(f"trial {name}: params.json is not valid JSON; trial left out")
            return None
        if not isinstance(params, dict):
            notes.append(f"trial {name}: params.json is not a JSON object; trial left out")
            return None
    rows, bad = _result_rows(tdir.join("result.json"))
    if bad:
        notes.append(f"trial {name}: {bad} line(s) of result.json unreadable (e.g. cut short by a crash), skipped")
    if not params and rows and isinstance(rows[-1].get("config"), dict):
        params = rows[-1]["config"]
    children = tdir.children()
    child_names = {c.base_name for c in children}
    trial_id = str(rows[-1]["trial_id"]) if rows and "trial_id" in rows[-1] else trial_id_from_name(name)
    error = _error_line(tdir.join("error.txt")) if "error.txt" in child_names else ""
    numbered = sorted((int(m.group(1)), c.base_name) for c in children
                      if c.type == pafs.FileType.Directory and (m := _CHECKPOINT.match(c.base_name)))
    ckpt_dirs = [n for _, n in numbered]
    ray_trial = by_folder.get(name) or by_id.get(trial_id)
    recorded = max((int(r["training_iteration"]) for r in rows if isinstance(r.get("training_iteration"), int)),
                   default=0)
    trial = _Trial(name, error, ray_trial, recorded, scheduled)
    seeds = member_seeds(params)
    if seeds is None:
        ckpts = [n for n in ckpt_dirs if tdir.join(n, "state.pt").is_file()]
        return [trial.result(trial_id, params, rows, ckpts, notes)]
    out = []
    for seed in seeds:
        member = member_name(seed)
        ckpts = [f"{n}/{member}" for n in ckpt_dirs if tdir.join(n, member, "state.pt").is_file()]
        row, hist = trial.result(f"{trial_id}_{member}", member_params(params, seed), member_rows(rows, seed),
                                 ckpts, notes, label=f"{name} ({member})")
        row["population"] = trial_id
        out.append((row, hist))
    return out


@dataclass
class _Trial:
    """What one trial folder says of all its results (one, or a population's members)."""

    name: str
    error: str
    ray_trial: RayTrial | None
    recorded: int  # the last report result.json holds
    scheduled: bool

    def result(self, trial_id: str, params: dict[str, Any], rows: list[dict[str, Any]], ckpts: list[str],
               notes: list[str], label: str | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
        label = label or self.name
        ray_trial = self.ray_trial
        rstatus = ray_trial.status if ray_trial is not None else ""
        last = rows[-1].get("status", "<none>") if rows else None
        status = _status(last, self.error, rstatus, self.scheduled)
        if ray_trial is not None and self.recorded < ray_trial.last_iteration and status in (*FINISHED, "stopped"):
            status = "incomplete"  # result.json lost its last lines: what is left would count an early value
        if status == "incomplete":
            notes.append(f"trial {label}: its result.json ends at report {self.recorded}"
                         + (f", before the {ray_trial.last_iteration} Ray received" if ray_trial is not None
                            and self.recorded < ray_trial.last_iteration else ", before its run's last report")
                         + ": incomplete, not in the statistics")
        row = {"trial_id": trial_id, "trial_dir": self.name}
        for k, v in params.items():
            row[k] = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
        hist = pd.DataFrame([{k: v for k, v in r.items() if k != "config"} for r in rows])
        if "g_steps" in hist.columns and hist["g_steps"].duplicated().any():
            # a trial restored from a checkpoint (worker failure, --resume) reports again the steps after that
            # checkpoint: the later report of a step is the one its training continued from
            hist = hist.drop_duplicates("g_steps", keep="last").sort_values("g_steps", kind="stable")
            hist = hist.reset_index(drop=True)
        row.update({"status": status, "ray_status": rstatus, "error": self.error, "n_evals": len(hist),
                    "checkpoint": ckpts[-1] if ckpts else "", "n_checkpoints": len(ckpts)})
        if len(hist):
            hist["trial_id"] = trial_id
            hist.insert(0, "trial_id", hist.pop("trial_id"))
        return row, hist


def _has_any(loc: Location, names: tuple[str, ...]) -> bool:
    return any(loc.join(n).is_file() for n in names)


def _result_rows(loc: Location) -> tuple[list[dict[str, Any]], int]:
    if not loc.is_file():
        return [], 0
    rows, bad = [], 0
    for line in loc.read_text().splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)  # Ray writes NaN / Infinity literals, which json accepts
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(obj, dict):
            rows.append(obj)
        else:
            bad += 1
    return rows, bad


def _error_line(loc: Location) -> str:
    """The last non-empty line of Ray's error.txt: the exception, which is what a reader needs first."""
    lines = [ln.strip() for ln in loc.read_text().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "failed (empty error.txt)"


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

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
trained stably: ``gan_core.metrics.assess_stability`` on its history with the study's primary metric, one of ok,
diverged (non-finite losses, samples or final metric), collapsed (G puts almost all its samples on one class or
mode, or they have almost no spread) or d_dominates (D(x) near 1 and D(G(z)) near 0 over the last quarter of
training). Columns ``stability``, ``stability_reason``, ``steps_to_90pct``, ``oscillation`` and
``final_best_gap``. A trainer status "ok" says only that the losses stayed finite: a generator that emits one
blurred digit ends "ok" too, which is why the stability rates count the stability status, not ``status``. Trials
without GAN reports (the theory check) have ``stability`` "" and count as stable when they finished
(``stability_labels``).
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pyarrow import fs as pafs

from analysis.convergence import curve_points
from analysis.fsio import Location, ResultsError, resolve
from analysis.published import check_published
from gan_core.config import GANConfig

# Quality metrics the evaluators report, with the direction that is better. Order = order in every table.
METRIC_MODES: dict[str, str] = {
    "fd": "min", "cis": "max", "precision": "max", "recall": "max", "density": "max", "coverage": "max",
    "classes_covered": "max", "class_kl": "min",
    "modes_captured": "max", "high_quality_frac": "max", "reverse_kl": "min",
    "jsd": "min", "jsd_estimate": "min", "parzen_ll": "max",
}
# ``diversity`` (generated spread / real spread, target 1) is a diagnostic, not a ranked quality metric: it is kept in
# the history and read by the stability assessment (collapse), but gets no summary or effect of its own.
FINISHED = ("ok", "diverged")  # statuses of trials that ran their whole budget (or diverged on the way)
CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(GANConfig))
_CHECKPOINT = re.compile(r"^checkpoint_(\d+)$")
_TRIAL_ID = re.compile(r"_([0-9a-f]{5}_\d{5})(?:_|$)")
_RAY_RUNNING = ("RUNNING", "PENDING", "PAUSED")
NUMERIC_KEYS = frozenset(METRIC_MODES) | {
    "g_steps", "d_steps", "d_loss", "d_loss_real", "d_loss_fake", "g_loss", "value", "d_real", "d_fake",
    "grad_norm_d", "grad_norm_g", "train_time_s", "eval_time_s", "training_iteration", "time_total_s",
    "time_this_iter_s", "time_since_restore", "iterations_since_restore", "timestamp", "diversity", "top_share",
    "g_mu", "g_sigma", "parzen_ll_se", "parzen_sigma"}
STABILITY_STATUSES = ("ok", "diverged", "d_dominates", "collapsed")  # as gan_core.metrics.stability names them
STABILITY_COLUMNS = ("stability", "stability_reason", "steps_to_90pct", "oscillation", "final_best_gap")


@dataclass
class StudyMeta:
    """What ``study.json`` says (or what was inferred when it is missing: see ``notes``)."""

    name: str
    primary_metric: str
    mode: str
    baseline_variant: str | None = None
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)  # a config subset naming the baseline levels
    factors: list[str] | None = None
    command: list[str] = field(default_factory=list)
    search: dict[str, str] = field(default_factory=dict)  # a search's searcher and scheduler (empty: a design)
    published: list[dict[str, Any]] = field(default_factory=list)  # a paper's figures (analysis.published)


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
        return self.meta.mode if metric == self.meta.primary_metric else METRIC_MODES.get(metric, "min")


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
    meta = _read_meta(loc, names, notes)
    if not trial_dirs:
        raise ResultsError(f"study {meta.name!r} at {loc.uri!r} is empty: it has no trial folders yet")
    ray_trials = _read_ray_trials(loc, entries, notes)
    by_folder = {t.folder: t for t in ray_trials}
    by_id = {t.trial_id: t for t in ray_trials}
    scheduled = bool(meta.search.get("scheduler"))
    trial_rows, histories = [], []
    for entry in trial_dirs:
        got = _read_trial(loc.join(entry.base_name), by_folder, by_id, scheduled, notes)
        if got is not None:
            trial_rows.append(got[0])
            histories.append(got[1])
    on_disk = {e.base_name for e in entries if e.type == pafs.FileType.Directory}
    for t in ray_trials:
        if t.folder not in on_disk:
            notes.append(f"trial {t.folder}: listed in Ray's experiment state ({t.status}) but its folder is "
                         f"missing: not in the statistics")
            trial_rows.append(_missing_trial(t))
    if not trial_rows:
        raise ResultsError(f"study {meta.name!r} at {loc.uri!r} has no readable trials: " + "; ".join(notes[:3]))
    history = pd.concat([h for h in histories if len(h)], ignore_index=True) if any(len(h) for h in histories) \
        else pd.DataFrame({"trial_id": pd.Series(dtype=str)})
    history = _numeric(history)
    metrics = _present_metrics(history, meta)
    trials = _trials_frame(trial_rows, history, metrics, meta)
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


# --------------------------------------------------------------------------------------------------- study.json
def _read_meta(loc: Location, names: set[str], notes: list[str]) -> StudyMeta:
    if "study.json" not in names:
        notes.append("study.json is missing: the primary metric, its direction and the baseline were inferred")
        return StudyMeta(name=loc.name, primary_metric="", mode="")  # metric filled in by _present_metrics
    try:
        d = json.loads(loc.join("study.json").read_text())
    except json.JSONDecodeError as e:
        raise ResultsError(f"{loc.join('study.json').uri!r} is not valid JSON: {e}") from None
    if not isinstance(d, dict):
        raise ResultsError(f"{loc.join('study.json').uri!r} must hold a JSON object, got {type(d).__name__}")
    mode = d.get("mode", "")
    if mode not in ("min", "max", ""):
        raise ResultsError(f"study.json key 'mode' = {mode!r} is not allowed; allowed: 'min' | 'max'")
    primary = d.get("primary_metric", "")
    if not isinstance(primary, str):
        raise ResultsError(f"study.json key 'primary_metric' = {primary!r} must be a metric name")
    baseline_variant = d.get("baseline_variant")
    baseline = d.get("baseline")
    if isinstance(baseline, str) and baseline_variant is None:  # ARCHITECTURE.md's form: a variant label
        baseline_variant = baseline
    variants = d.get("variants") or {}
    if not isinstance(variants, dict):
        variants = {str(v): {} for v in variants} if isinstance(variants, list) else {}
    factors = d.get("factors")
    try:
        published = check_published(d["published"]) if d.get("published") is not None else []
    except ValueError as e:
        raise ResultsError(f"{loc.join('study.json').uri!r}: {e}") from None
    return StudyMeta(
        name=str(d.get("study") or loc.name),
        primary_metric=primary,
        mode=mode or METRIC_MODES.get(primary, ""),
        baseline_variant=baseline_variant if isinstance(baseline_variant, str) else None,
        variants={str(k): (v if isinstance(v, dict) else {}) for k, v in variants.items()},
        baseline=baseline if isinstance(baseline, dict) else {},
        factors=[str(f) for f in factors] if isinstance(factors, list) and factors else None,
        command=[str(c) for c in d.get("command") or []],
        search={str(k): str(v) for k, v in search.items()} if isinstance(search := d.get("search"), dict) else {},
        published=published,
    )


@dataclass(frozen=True)
class RayTrial:
    """What Ray's experiment state says of one trial (its JSON parts only)."""

    trial_id: str
    status: str
    folder: str               # the trial folder's name (relative_logdir)
    config: dict[str, Any]
    last_iteration: int       # training_iteration of the last report Ray received (0: none)


def _read_ray_trials(loc: Location, entries: list[pafs.FileInfo], notes: list[str]) -> list[RayTrial]:
    """Every trial of the newest experiment_state-*.json, as Ray last saw it."""
    states = sorted(e.base_name for e in entries if e.base_name.startswith("experiment_state-")
                    and e.base_name.endswith(".json"))
    if not states:
        return []
    try:
        d = json.loads(loc.join(states[-1]).read_text())
        out = []
        for item in d["trial_data"]:
            trial = json.loads(item[0])
            runtime = json.loads(item[1]) if len(item) > 1 else {}
            last = runtime.get("last_result") or {}  # Ray's own record: absent until a trial reports
            config = trial.get("config")
            out.append(RayTrial(str(trial["trial_id"]), str(trial["status"]), str(trial["relative_logdir"]),
                                config if isinstance(config, dict) else {},
                                int(last.get("training_iteration") or 0)))
        return out
    except (json.JSONDecodeError, TypeError, AttributeError, IndexError, KeyError, ValueError):
        notes.append(f"{states[-1]} could not be read: Ray's trial status is unknown")
        return []


# ------------------------------------------------------------------------------------------------------- a trial
def _missing_trial(t: RayTrial) -> dict[str, Any]:
    """The trials-frame row of a trial whose folder is gone: its config from Ray's state, status "missing"."""
    row: dict[str, Any] = {"trial_id": t.trial_id, "trial_dir": t.folder}
    row.update({k: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v for k, v in t.config.items()})
    row.update({"status": "missing", "ray_status": t.status, "error": "", "n_evals": 0, "checkpoint": "",
                "n_checkpoints": 0})
    return row


def _read_trial(tdir: Location, by_folder: dict[str, RayTrial], by_id: dict[str, RayTrial], scheduled: bool,
                notes: list[str]):
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
    trial_id = str(rows[-1]["trial_id"]) if rows and "trial_id" in rows[-1] else _trial_id_from_name(name)
    error = _error_line(tdir.join("error.txt")) if "error.txt" in child_names else ""
    ckpts = sorted((int(m.group(1)), c.base_name) for c in children if c.type == pafs.FileType.Directory
                   and (m := _CHECKPOINT.match(c.base_name)))
    ckpts = [n for _, n in ckpts if tdir.join(n, "state.pt").is_file()]
    ray_trial = by_folder.get(name) or by_id.get(trial_id)
    rstatus = ray_trial.status if ray_trial is not None else ""
    last = rows[-1].get("status", "<none>") if rows else None
    status = _status(last, error, rstatus, scheduled)
    recorded = max((int(r["training_iteration"]) for r in rows if isinstance(r.get("training_iteration"), int)),
                   default=0)
    if ray_trial is not None and recorded < ray_trial.last_iteration and status in (*FINISHED, "stopped"):
        status = "incomplete"  # result.json lost its last lines: what is left would count an early value
    if status == "incomplete":
        notes.append(f"trial {name}: its result.json ends at report {recorded}"
                     + (f", before the {ray_trial.last_iteration} Ray received" if ray_trial is not None
                        and recorded < ray_trial.last_iteration else ", before its run's last report")
                     + ": incomplete, not in the statistics")
    row = {"trial_id": trial_id, "trial_dir": name}
    for k, v in params.items():
        row[k] = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
    hist = pd.DataFrame([{k: v for k, v in r.items() if k != "config"} for r in rows])
    if "g_steps" in hist.columns and hist["g_steps"].duplicated().any():
        # a trial restored from a checkpoint (worker failure, --resume) reports again the steps after that
        # checkpoint: the later report of a step is the one its training continued from
        hist = hist.drop_duplicates("g_steps", keep="last").sort_values("g_steps", kind="stable")
        hist = hist.reset_index(drop=True)
    row.update({"status": status, "ray_status": rstatus, "error": error, "n_evals": len(hist),
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
    if ray_status in _RAY_RUNNING:
        return "running"
    # reports without a status (a trainable that is not a GAN run, e.g. the theory check) end "ok" when Ray is done
    if last == "<none>":
        return "ok"
    # ended before its budget: a scheduler's stop where the study has a scheduler, else a record cut short
    return "stopped" if scheduled or ray_status == "" else "incomplete"


def _trial_id_from_name(name: str) -> str:
    m = _TRIAL_ID.search(name)
    return m.group(1) if m else name


def _hint_subfolders(loc: Location, entries: list[pafs.FileInfo]) -> str:
    """Name experiment folders one level down: the common mistake is to pass the storage path."""
    found = []
    for e in entries[:50]:
        if e.type == pafs.FileType.Directory and (loc.join(e.base_name, "study.json").is_file()
                                                  or _has_state(loc.join(e.base_name))):
            found.append(e.base_name)
    return f"; did you mean one of its subfolders: {', '.join(found[:5])}?" if found else ""


def _has_state(loc: Location) -> bool:
    return any(c.base_name.startswith("experiment_state-") for c in loc.children())


# ------------------------------------------------------------------------------------------------------ frames
def _numeric(history: pd.DataFrame) -> pd.DataFrame:
    """Known numeric columns as floats: Ray's encoder may write a stray string (e.g. "null") for odd values."""
    for col in history.columns:
        if col in NUMERIC_KEYS and history[col].dtype == object:
            history[col] = pd.to_numeric(history[col], errors="coerce")
    return history


def _present_metrics(history: pd.DataFrame, meta: StudyMeta) -> list[str]:
    present = [m for m in METRIC_MODES if m in history.columns and history[m].notna().any()]
    if not meta.primary_metric:
        meta.primary_metric = present[0] if present else "fd"
    if not meta.mode:
        meta.mode = METRIC_MODES.get(meta.primary_metric, "min")
    if meta.primary_metric in history.columns:
        present = [meta.primary_metric] + [m for m in present if m != meta.primary_metric]
    return present


def best_value(values: pd.Series, mode: str) -> tuple[float, int | None]:
    """(best finite value, its position) by ``mode``; (nan, None) when no value is finite."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(v)
    if not ok.any():
        return math.nan, None
    idx = np.flatnonzero(ok)
    pos = idx[np.argmin(v[ok])] if mode == "min" else idx[np.argmax(v[ok])]
    return float(v[pos]), int(pos)


def _trials_frame(rows: list[dict[str, Any]], history: pd.DataFrame, metrics: list[str],
                  meta: StudyMeta) -> pd.DataFrame:
    trials = pd.DataFrame(rows)
    by_trial = {tid: h for tid, h in history.groupby("trial_id", sort=False)} if len(history) else {}
    extra = []
    for tid in trials["trial_id"]:
        h = by_trial.get(tid)
        out: dict[str, Any] = {"best_checkpoint": ""}
        last = h.iloc[-1] if h is not None and len(h) else None

        def last_of(key: str, default: Any = math.nan) -> Any:
            return last[key] if last is not None and key in last.index and pd.notna(last[key]) else default

        out["g_steps"] = last_of("g_steps")
        out["d_steps"] = last_of("d_steps")
        out["wall_time_s"] = last_of("time_total_s")
        out["train_time_s"] = last_of("train_time_s")
        out["eval_time_s"] = last_of("eval_time_s")
        for key in ("node_id", "hostname", "node_ip"):
            out[key] = last_of(key, "")
        out["device_used"] = last_of("device", "")
        for m in metrics:
            mode = meta.mode if m == meta.primary_metric else METRIC_MODES.get(m, "min")
            out[f"final_{m}"] = float(last_of(m)) if m in (h.columns if h is not None else []) else math.nan
            best, pos = best_value(h[m], mode) if h is not None and m in h.columns else (math.nan, None)
            out[f"best_{m}"] = best
            out[f"best_{m}_g_steps"] = h["g_steps"].iloc[pos] if pos is not None and "g_steps" in h else math.nan
            if m == meta.primary_metric:
                ck = h["checkpoint_dir_name"].iloc[pos] if pos is not None and "checkpoint_dir_name" in h else None
                out["best_checkpoint"] = ck if isinstance(ck, str) else ""
                first, at_3q, _ = curve_points(h, m) if h is not None else (math.nan, math.nan, math.nan)
                out[f"first_{m}"], out[f"three_quarter_{m}"] = first, at_3q
        out.update(_stability(h, meta))
        extra.append(out)
    trials = pd.concat([trials, pd.DataFrame(extra, index=trials.index)], axis=1)
    config_cols = [c for c in CONFIG_KEYS if c in trials.columns]
    front = ["trial_id", "trial_dir", *config_cols]
    rest = [c for c in trials.columns if c not in front]
    return trials[front + rest].sort_values("trial_dir", kind="stable").reset_index(drop=True)


def _stability(h: pd.DataFrame | None, meta: StudyMeta) -> dict[str, Any]:
    """The stability columns of one trial: ``assess_stability`` on its evaluations in g_steps order. "" (and NaN)
    for a trial without GAN reports; "" with the reason when its history cannot be assessed (e.g. it never
    reported the primary metric), so that the trainer status decides (``stability_labels``)."""
    out: dict[str, Any] = {"stability": "", "stability_reason": "", "steps_to_90pct": math.nan,
                           "oscillation": math.nan, "final_best_gap": math.nan}
    if h is None or "g_steps" not in h.columns or not h["g_steps"].notna().any():
        return out
    from gan_core.metrics.stability import assess_stability  # torch comes with gan_core.metrics: on first use

    rows = h[h["g_steps"].notna()].sort_values("g_steps", kind="stable")
    # keys no report has are dropped; the primary metric stays even when every value is NaN (a trial that diverged
    # at its first report): assess_stability then reads it as what it is, a non-finite final metric
    keep = rows.notna().any().to_numpy() | (rows.columns == meta.primary_metric)
    rows = rows.loc[:, keep]
    try:
        got = assess_stability(rows.to_dict("records"), meta.primary_metric, meta.mode)
    except ValueError as e:
        out["stability_reason"] = f"not assessed: {e}"
        return out
    out.update({"stability": got["status"], "stability_reason": got["reason"],
                "steps_to_90pct": got["steps_to_90pct"], "oscillation": got["oscillation"],
                "final_best_gap": got["final_best_gap"]})
    return out


def stability_labels(trials: pd.DataFrame) -> pd.Series:
    """Each trial's stability status as the statistics count it: ``stability`` where it was assessed, else the
    trainer status when the trial finished ("ok" or "diverged": the theory check, whose reports are not a GAN's),
    else ""."""
    assessed = trials["stability"].fillna("").astype(str) if "stability" in trials.columns \
        else pd.Series("", index=trials.index)
    fallback = trials["status"].where(trials["status"].isin(FINISHED), "")
    return assessed.where(assessed != "", fallback)

"""One trial folder -> its rows of the trials frame (one, or one per member of a population trial) and its history,
each with the status that decides whether it is in the statistics.

Why a module of its own: a study's directory (``analysis.load``) is many trials, Ray's state and notes about the
whole; what one trial's files say about that trial is decided here, once, from its reports, its error.txt, what
Ray's state recorded of it and whether the study has a scheduler.

A trial's status is the status its last report carries ("ok" or "diverged"); a trial that ended without one is
"error" (Ray recorded a failure), "running" or "pending" (so Ray's experiment state said when Ray last saved it:
running, or pending with nothing reported), or "stopped" (Ray ended it early: a scheduler such as ASHA cut it
because it trailed). Reports without any status key (a trainable that is not a GAN run, such as the theory check)
make a trial "ok" once Ray has ended it. The statistics compare the trials that ran the study's whole budget ("ok"
or "diverged": FINISHED); a "stopped" trial was measured at another budget, so it is counted and labelled, and a
search (``study.json`` "search") reports its best settings instead of effects.

What else keeps a trial out of the statistics, each named in a note: "incomplete" (its result.json ends before the
last report Ray received, or was cut short, or, without a scheduler, before its budget), "damaged" (its params.json
or result.json cannot be read as Ray wrote it: ``analysis.trial_files``; column ``damage`` says why). An empty
error.txt beside a trial that ran its whole budget and that Ray ended (TERMINATED) is no error (Ray could not write
it, e.g. on a full disk, and the trial was then resumed); beside any other trial it reads "failed (empty
error.txt)".
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.members import member_name, member_params, member_rows, member_seeds
from analysis.ray_state import RAY_RUNNING, RayTrial, trial_id_from_name
from analysis.trial_files import EMPTY_ERROR, TrialFiles, params_damage
from analysis.trial_frame import FINISHED


def unread_trials(trial_id: str, folder: str, config: dict[str, Any], status: str, ray_status: str,
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


def read_trial(f: TrialFiles, by_folder: dict[str, RayTrial], by_id: dict[str, RayTrial], common: set[str],
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
        return [(row, pd.DataFrame()) for row in unread_trials(trial_id, name, params, "damaged", rstatus,
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


def unreported(ray_status: str) -> str:
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

"""Synthetic Ray Tune results directories with known effects, laid out exactly as Ray 2.60 and the studies write them.

Why here and not only in the tests: the statistics are validated by simulation through the real report code
(``python -m analysis.calibrate``), which needs thousands of results directories with planted effects; the tests use
the same writer for their fixtures.

Layout (checked against a real Ray 2.60 run and the studies' smoke runs): ``<exp>/study.json``,
``experiment_state-<date>.json`` (a JSON object whose ``trial_data`` holds [trial JSON string, runtime JSON string]
pairs), ``basic-variant-state-<date>.json``, ``tuner.pkl``; per trial a folder named as ``studies.runner`` names it,
``<variant>_seed<seed>_<trial_id>`` (or Ray's default ``<trainable>_<id>_<n>_<params>_<date>``, ``ray_names``),
with ``params.json`` (indent 2), ``params.pkl``, ``result.json`` (one JSON object per line, NaN/Infinity literals,
Ray's bookkeeping keys and the nested ``config``), ``progress.csv``, ``error.txt`` for failures and
``checkpoint_NNNNNN/state.pt``.

The pickle files hold bytes that are not a pickle: a loader that tried to unpickle them would fail loudly.
"""
from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path
from typing import Any

from gan_core.metrics.modes import METRIC_MODES
from gan_core.metrics.stability import HISTORY_KEYS, stability_columns

NOT_A_PICKLE = b"this is not a pickle: the analysis must never unpickle"
DATE = "2026-11-25_12-00-00"


def trial_rows(params: dict[str, Any], final: dict[str, float], n_evals: int = 4, eval_every: int = 50,
               diverge_at: int | None = None, stability: str | None = None,
               flops_per_step: int | None = None) -> list[dict[str, Any]]:
    """The trainer's reports for one trial: metrics move linearly from twice their final value to it. Each report
    carries the run's stability so far, as the trainer computes it (``gan_core.metrics.stability``, on the first
    metric of ``final`` as the primary one: ``with_stability``), unless ``stability`` names the status every report
    carries instead.
    ``flops_per_step``: each report carries ``flops``, the training FLOPs through it (this times its g_steps), as
    the trainer writes them (default none: reports that record no FLOPs)."""
    rows = []
    for i in range(1, n_evals + 1):
        diverged = diverge_at is not None and i >= diverge_at
        frac = i / n_evals
        row = {"g_steps": i * eval_every, "d_steps": i * eval_every * params.get("k", 1),
               "status": "diverged" if diverged else ("ok" if i == n_evals else "running"),
               "d_loss": 1.2, "d_loss_real": 0.6, "d_loss_fake": 0.6, "g_loss": 0.8, "value": -1.2,
               "d_real": 0.55, "d_fake": 0.45, "grad_norm_d": 1.0, "grad_norm_g": 1.0,
               "train_time_s": 2.0 * i, "eval_time_s": 0.5 * i, "node_id": "n1", "device": "cpu",
               "compute_precision": "fp32"}
        for m, v in final.items():
            row[m] = math.nan if diverged else v * (2 - frac)
        if stability is not None:
            row["stability"] = "diverged" if diverged else stability
        if flops_per_step is not None:
            row["flops"] = int(flops_per_step) * row["g_steps"]
        rows.append(row)
        if diverged:
            break
    return rows if stability is not None or not final else with_stability(rows, next(iter(final)))


def with_stability(rows: list[dict[str, Any]], primary: str) -> list[dict[str, Any]]:
    """``rows`` with each report's stability so far, as the trainer computes it from what it keeps of its reports
    (``HISTORY_KEYS`` and the primary metric, whose better direction is gan_core's); for a test that changes the
    reports ``trial_rows`` wrote, to write them again as a trainer would have."""
    history: list[dict[str, Any]] = []
    for row in rows:
        history.append({k: row[k] for k in (*HISTORY_KEYS, primary) if k in row})
        row.update(stability_columns(history, primary, METRIC_MODES[primary]))
    return rows


def write_experiment(root: Path, name: str, trials: list[dict[str, Any]], study: dict[str, Any] | None = None,
                     ray_files: bool = True, ray_names: bool = False) -> Path:
    """Write one experiment folder. Each trial: {"params", "rows", optional "error", "checkpoint" (a state.pt to
    copy into every checkpoint folder), "n_checkpoints", "ray_status", "bad_lines", "ray_iterations" (the reports
    Ray received: default all rows)}."""
    exp = Path(root) / name
    exp.mkdir(parents=True)
    if study is not None:
        (exp / "study.json").write_text(json.dumps(study, indent=2))
    trial_data = []
    for n, spec in enumerate(trials):
        params = spec["params"]
        tid = f"a1b2c_{n:05d}"
        if ray_names:
            tag = ",".join(f"{k}={v}" for k, v in params.items() if k in ("variant", "k", "g_loss", "seed"))[:40]
            tdir = exp / f"train_gan_{tid}_{n}_{tag}_{DATE}"
        else:
            tdir = exp / f"{params.get('variant', 'default')}_seed{params.get('seed', 0)}_{tid}"
        tdir.mkdir()
        (tdir / "params.json").write_text(json.dumps(params, indent=2))
        (tdir / "params.pkl").write_bytes(NOT_A_PICKLE)
        lines, total = [], 0.0
        n_ckpt = spec.get("n_checkpoints", len(spec["rows"]) if "checkpoint" in spec else 0)
        for i, row in enumerate(spec["rows"]):
            total += 2.5
            ck = f"checkpoint_{i:06d}" if i >= len(spec["rows"]) - n_ckpt else None
            full = {**row, "timestamp": 1795650268 + i, "checkpoint_dir_name": ck, "should_checkpoint": True,
                    "done": False, "training_iteration": i + 1, "trial_id": tid, "date": DATE,
                    "time_this_iter_s": 2.5, "time_total_s": total, "pid": 4242, "hostname": "vm",
                    "node_ip": "192.0.2.2", "config": params, "time_since_restore": total,
                    "iterations_since_restore": i + 1}
            lines.append(json.dumps(full))
            if ck and "checkpoint" in spec:
                (tdir / ck).mkdir()
                shutil.copy(spec["checkpoint"], tdir / ck / "state.pt")
        lines += spec.get("bad_lines", [])
        (tdir / "result.json").write_text("".join(line + "\n" for line in lines))
        if spec["rows"]:
            keys = [k for k in json.loads(lines[0]) if k != "config"]
            with open(tdir / "progress.csv", "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
                w.writeheader()
                for line in lines[:len(spec["rows"])]:
                    w.writerow(json.loads(line))
        if spec.get("error"):
            (tdir / "error.txt").write_text(f"Failure # 1 (occurred at {DATE})\nTraceback (most recent call last):\n"
                                            f"  File \"trainable.py\", line 1\n{spec['error']}\n")
        trial_json = {"stub": False, "trainable_name": "gan_trainable", "trial_id": tid, "config": params,
                      "status": spec.get("ray_status", "ERROR" if spec.get("error") else "TERMINATED"),
                      "relative_logdir": tdir.name, "placement_group_factory": NOT_A_PICKLE.hex()}
        last_result = {"training_iteration": spec.get("ray_iterations", len(spec["rows"]))} if spec["rows"] else {}
        trial_data.append([json.dumps(trial_json, indent=2),
                           json.dumps({"num_failures": 0, "last_result": last_result})])
    if ray_files:
        (exp / f"experiment_state-{DATE}.json").write_text(
            json.dumps({"trial_data": trial_data, "runner_data": {}, "stats": {}}))
        (exp / f"basic-variant-state-{DATE}.json").write_text(json.dumps({}))
        (exp / "tuner.pkl").write_bytes(NOT_A_PICKLE)
        (exp / ".validate_storage_marker").write_text("")
    return exp

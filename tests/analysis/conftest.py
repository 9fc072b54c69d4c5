"""Synthetic Ray Tune results directories with known effects, laid out exactly as Ray 2.60 and the studies write them.

Layout (checked against a real Ray 2.60 run and the studies' smoke runs): ``<exp>/study.json``,
``experiment_state-<date>.json`` (a JSON object whose ``trial_data`` holds [trial JSON string, runtime JSON string]
pairs), ``basic-variant-state-<date>.json``, ``tuner.pkl``; per trial a folder named as ``studies.runner`` names it,
``<variant>_seed<seed>_<trial_id>`` (or Ray's default ``<trainable>_<id>_<n>_<params>_<date>``, ``ray_names``),
with ``params.json`` (indent 2),
``params.pkl``, ``result.json`` (one JSON object per line, NaN/Infinity literals, Ray's bookkeeping keys and the
nested ``config``), ``progress.csv``, ``error.txt`` for failures and ``checkpoint_NNNNNN/state.pt``.

The pickle files hold bytes that are not a pickle: a loader that tried to unpickle them would fail loudly.
"""
from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

NOT_A_PICKLE = b"this is not a pickle: the analysis must never unpickle"
DATE = "2026-11-25_12-00-00"
IMAGE_METRICS = ("fd", "cis", "precision", "recall", "density", "coverage", "classes_covered", "class_kl")
# fixed per-seed noise: groups sharing it have exactly the planted difference of means
NOISE = np.array([-1.5, 0.5, 1.0, -0.5, 0.5, 0.0, 1.5, -1.5])


def trial_rows(params: dict[str, Any], final: dict[str, float], n_evals: int = 4, eval_every: int = 50,
               diverge_at: int | None = None) -> list[dict[str, Any]]:
    """The trainer's reports for one trial: metrics move linearly from twice their final value to it."""
    rows = []
    for i in range(1, n_evals + 1):
        diverged = diverge_at is not None and i >= diverge_at
        frac = i / n_evals
        row = {"g_steps": i * eval_every, "d_steps": i * eval_every * params.get("k", 1),
               "status": "diverged" if diverged else ("ok" if i == n_evals else "running"),
               "d_loss": 1.2, "d_loss_real": 0.6, "d_loss_fake": 0.6, "g_loss": 0.8, "value": -1.2,
               "d_real": 0.55, "d_fake": 0.45, "grad_norm_d": 1.0, "grad_norm_g": 1.0,
               "train_time_s": 2.0 * i, "eval_time_s": 0.5 * i, "node_id": "n1", "device": "cpu"}
        for m, v in final.items():
            row[m] = math.nan if diverged else v * (2 - frac)
        rows.append(row)
        if diverged:
            break
    return rows


def write_experiment(root: Path, name: str, trials: list[dict[str, Any]], study: dict[str, Any] | None = None,
                     ray_files: bool = True, ray_names: bool = False) -> Path:
    """Write one experiment folder. Each trial: {"params", "rows", optional "error", "checkpoint" (a state.pt to
    copy into every checkpoint folder), "n_checkpoints", "ray_status", "bad_lines"}."""
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
        trial_data.append([json.dumps(trial_json, indent=2), json.dumps({"num_failures": 0})])
    if ray_files:
        (exp / f"experiment_state-{DATE}.json").write_text(
            json.dumps({"trial_data": trial_data, "runner_data": {}, "stats": {}}))
        (exp / f"basic-variant-state-{DATE}.json").write_text(json.dumps({}))
        (exp / "tuner.pkl").write_bytes(NOT_A_PICKLE)
        (exp / ".validate_storage_marker").write_text("")
    return exp


def base_params(**over: Any) -> dict[str, Any]:
    """A flat GANConfig dict as the studies write it (every key resolved), for mnist5k with a small DCGAN."""
    from gan_core.config import GANConfig

    flat = GANConfig.from_flat({"dataset": "mnist5k", "ngf": 8, "ndf": 8, "nz": 16, "steps": 200,
                                "eval_every": 50, "device": "cpu"}).to_flat()
    variant = over.pop("variant", None)
    flat.update(over)
    if variant is not None:
        flat["variant"] = variant
    return flat


def ablation_trials(effects: dict[str, float], seeds: int = 6, diverged: dict[str, int] | None = None,
                    checkpoint: Path | None = None, changes: dict[str, dict[str, Any]] | None = None,
                    metrics: tuple[str, ...] = IMAGE_METRICS) -> list[dict[str, Any]]:
    """Variants with fd = 40 + planted effect + NOISE[seed]; the first ``diverged[v]`` seeds of v diverge."""
    out = []
    for variant, eff in effects.items():
        for seed in range(seeds):
            params = base_params(seed=seed, variant=variant, **(changes or {}).get(variant, {}))
            final = {"fd": 40 + eff + NOISE[seed], "cis": 5.0 + 0.1 * NOISE[seed], "precision": 0.6,
                     "recall": 0.5, "density": 0.9, "coverage": 0.7, "classes_covered": 10.0, "class_kl": 0.05}
            final = {m: v for m, v in final.items() if m in metrics}
            div = (diverged or {}).get(variant, 0) > seed
            spec = {"params": params, "rows": trial_rows(params, final, diverge_at=3 if div else None)}
            if checkpoint is not None:
                spec["checkpoint"] = checkpoint
            out.append(spec)
    return out


ABLATION_STUDY = {"study": "ablation", "primary_metric": "fd", "mode": "min", "baseline_variant": "baseline",
                  "variants": {"baseline": {}, "batchnorm_d_off": {"batchnorm_d": False},
                               "g_output_off": {"g_output": "sigmoid"}},
                  "command": ["python", "-m", "studies.ablation"]}


@pytest.fixture
def ablation_dir(tmp_path: Path) -> Path:
    """batchnorm_d_off: fd +12 (planted), 2 of 6 seeds diverge; g_output_off: no effect (0)."""
    trials = ablation_trials({"baseline": 0.0, "batchnorm_d_off": 12.0, "g_output_off": 0.0},
                             diverged={"batchnorm_d_off": 2},
                             changes={"batchnorm_d_off": {"batchnorm_d": False},
                                      "g_output_off": {"g_output": "sigmoid"}})
    return write_experiment(tmp_path, "ablation", trials, ABLATION_STUDY)


UNSTABLE_STUDY = {"study": "unstable", "primary_metric": "fd", "mode": "min", "baseline_variant": "baseline",
                  "variants": {"baseline": {}, "collapsed": {"g_output": "sigmoid"}, "d_wins": {"batchnorm_d": False}},
                  "command": ["python", "-m", "studies.ablation"]}


def unstable_trials(seeds: int = 3) -> list[dict[str, Any]]:
    """Trainer status "ok" in every trial, yet: "collapsed" ends with classes_covered 1 (its fd finite, 40 + 30 +
    NOISE[seed]), "d_wins" has D(G(z)) = 0.01 and D(x) = 0.99 over its last quarter (g_steps 150 and 200 of 200; fd
    40 + 5 + NOISE[seed]); the baseline (fd 40 + NOISE[seed], classes_covered 10) trains stably."""
    trials = ablation_trials({"baseline": 0.0, "collapsed": 30.0, "d_wins": 5.0}, seeds=seeds,
                             changes={"collapsed": {"g_output": "sigmoid"}, "d_wins": {"batchnorm_d": False}},
                             metrics=("fd", "classes_covered"))
    for t in trials:
        variant = t["params"]["variant"]
        for row in t["rows"]:
            if variant == "collapsed" and row["status"] == "ok":
                row["classes_covered"] = 1.0
            if variant == "d_wins" and row["g_steps"] >= 150:
                row["d_fake"], row["d_real"] = 0.01, 0.99
    return trials


@pytest.fixture
def unstable_dir(tmp_path: Path) -> Path:
    """3 seeds each of baseline (stable), collapsed and d_wins (see ``unstable_trials``): all trainer status ok."""
    return write_experiment(tmp_path, "unstable", unstable_trials(), UNSTABLE_STUDY)


@pytest.fixture
def ksweep_dir(tmp_path: Path) -> Path:
    """k in {1, 2, 5} x g_loss in {non_saturating, minimax}, 4 seeds: fd = 30 + 4 (k - 1) + 10 [minimax]."""
    trials = []
    for k in (1, 2, 5):
        for loss in ("non_saturating", "minimax"):
            for seed in range(4):
                params = base_params(k=k, g_loss=loss, seed=seed)
                fd = 30 + 4 * (k - 1) + (10 if loss == "minimax" else 0) + NOISE[seed]
                trials.append({"params": params, "rows": trial_rows(params, {"fd": fd, "cis": 6.0})})
    study = {"study": "k_sweep", "primary_metric": "fd", "mode": "min", "baseline_variant": None, "variants": {},
             "command": ["python", "-m", "studies.k_sweep"]}
    return write_experiment(tmp_path, "k_sweep", trials, study)


@pytest.fixture(scope="session")
def ring8_checkpoint(tmp_path_factory) -> Path:
    """A real trainer checkpoint: ring8, MLP, 20 generator steps."""
    from gan_core.config import GANConfig
    from gan_core.trainer import Trainer

    cfg = GANConfig.from_flat({"dataset": "ring8", "steps": 20, "eval_every": 10, "device": "cpu",
                               "mlp_hidden": 16})
    trainer = Trainer(cfg)
    for _ in trainer.run():
        pass
    path = tmp_path_factory.mktemp("ckpt") / "ring8.pt"
    trainer.save(path)
    return path


@pytest.fixture(scope="session")
def dcgan_checkpoint(tmp_path_factory) -> Path:
    """A real trainer checkpoint: mnist5k, 32 px DCGAN with ngf = ndf = 8, nz = 16, 2 generator steps."""
    from gan_core.config import GANConfig
    from gan_core.trainer import Trainer

    cfg = GANConfig.from_flat(base_params(batch_size=8, steps=2, eval_every=1))
    trainer = Trainer(cfg)
    for _ in trainer.run():
        pass
    path = tmp_path_factory.mktemp("ckpt") / "dcgan.pt"
    trainer.save(path)
    return path


@pytest.fixture
def synth(tmp_path: Path):
    """The helpers above for tests that build their own studies (conftest modules are not importable)."""
    import types

    return types.SimpleNamespace(
        write=lambda name, trials, study=None, **kw: write_experiment(tmp_path, name, trials, study, **kw),
        trial_rows=trial_rows, base_params=base_params, ablation_trials=ablation_trials, noise=NOISE,
        ablation_study=dict(ABLATION_STUDY), root=tmp_path)

"""What a configuration cost: FLOPs per run by gan_core's cost model, and measured training seconds.

Why beside every effect: a configuration can be better because it does more work (a stride-1 variant costs 3 to 6
times the baseline's FLOPs per step), and an effect read without its price invites the wrong trade. So each
configuration states its compute, each comparison the ratio of its compute to the baseline's, and the answer names a
"better" that cost ``COSTLY`` times the baseline's or more.

Two measures, because each misses what the other sees:
- **FLOPs per run** (``flops_per_run``): every report of a trial carries ``flops``, the training FLOPs through that
  report (``gan_core.cost.iteration_flops`` of its config times its generator steps). A run of the whole budget
  costs its last report's ``flops`` / ``g_steps`` x ``steps`` (the budget): for a trial that ran it, exactly its
  last report's; for one that diverged and stopped early, what the run it started would have cost, so that a
  configuration's price does not fall with its failures. A count, not a clock: the same on any machine, and blind to
  what it leaves out (pooling, elementwise work, data loading, evaluation).
- **Training seconds per run** (``train_s_per_run``): the last report's ``train_time_s`` (measured training time,
  evaluation excluded), mean over the trials that ran the whole budget without diverging (status ok; one that
  stopped early trained for less). A clock: it sees everything, and also the machine and whatever shared it.
Results written before the reports carried ``flops`` have none: their FLOPs are "not recorded" (NaN), never guessed.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.markdown import num
from analysis.trial_frame import FINISHED

FLOPS = "flops"   # the reports' key: cumulative training FLOPs through the report
COSTLY = 2.0      # the answer names a "better" configuration whose FLOPs per run are at least this many times the
#                   baseline's (or, where FLOPs are not recorded, its measured training seconds)
NOT_RECORDED = "FLOPs not recorded"


def _column(trials: pd.DataFrame, col: str) -> np.ndarray:
    if col not in trials.columns:
        return np.full(len(trials), np.nan)
    return pd.to_numeric(trials[col], errors="coerce").to_numpy(dtype=float)


def run_flops(trials: pd.DataFrame) -> np.ndarray:
    """float [trials]: each trial's FLOPs of a run of its whole budget (module docstring); NaN where its reports
    carry no ``flops`` or it reached no generator step. Without a ``steps`` budget, the FLOPs it spent."""
    flops, done = _column(trials, FLOPS), _column(trials, "g_steps")
    budget = _column(trials, "steps")
    budget = np.where(np.isfinite(budget), budget, done)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(done > 0, flops / done * budget, np.nan)
    return np.where(np.isfinite(out), out, np.nan)


def compute_of(trials: pd.DataFrame) -> dict[str, float]:
    """``flops_per_run`` (mean of ``run_flops`` over the finished trials: ok or diverged) and ``train_s_per_run``
    (mean last ``train_time_s`` of the trials with status ok) of one group of trials; NaN where there is none."""
    finished = trials["status"].isin(FINISHED).to_numpy()
    flops = run_flops(trials)[finished]
    flops = flops[np.isfinite(flops)]
    seconds = _column(trials, "train_time_s")[(trials["status"] == "ok").to_numpy()]
    seconds = seconds[np.isfinite(seconds)]
    return {"flops_per_run": float(flops.mean()) if len(flops) else math.nan,
            "train_s_per_run": float(seconds.mean()) if len(seconds) else math.nan}


def ratios(level: pd.DataFrame, base: pd.DataFrame) -> dict[str, float]:
    """``flops_ratio`` and ``seconds_ratio``: a level's compute per run over its baseline's (``compute_of``); NaN
    where either side's is not known."""
    x, y = compute_of(level), compute_of(base)

    def ratio(a: float, b: float) -> float:
        return a / b if math.isfinite(a) and math.isfinite(b) and b > 0 else math.nan
    return {"flops_ratio": ratio(x["flops_per_run"], y["flops_per_run"]),
            "seconds_ratio": ratio(x["train_s_per_run"], y["train_s_per_run"])}


PREFIXES = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def flops_text(x: float) -> str:
    """ "3.21 TFLOP", "512 FLOP"; ``NOT_RECORDED`` for NaN."""
    if not math.isfinite(x):
        return NOT_RECORDED
    for scale, prefix in PREFIXES:
        if abs(x) >= scale:
            return f"{num(x / scale)} {prefix}FLOP"
    return f"{num(x)} FLOP"


def seconds_text(x: float) -> str:
    """ "41.0 s of training"; "no measured run" for NaN (no trial ran the whole budget without diverging)."""
    return f"{num(x)} s of training" if math.isfinite(x) else "no measured run"


def compute_cell(row: pd.Series) -> str:
    """A summary row's compute per run, for the configurations table: "3.21 TFLOP, 41.0 s of training"."""
    return f"{flops_text(row['flops_per_run'])}, {seconds_text(row['train_s_per_run'])}"


def compute_phrase(row: pd.Series) -> str:
    """A summary row's compute per run in a sentence."""
    flops = row["flops_per_run"]
    model = f"{flops_text(flops)} (gan_core's cost model)" if math.isfinite(flops) else \
        f"{NOT_RECORDED} (its reports carry none)"
    return f"compute per run: {model}, {seconds_text(row['train_s_per_run'])} (measured)"


def ratio_text(x: float) -> str:
    """ "4.2x"; "n/a" for NaN."""
    return f"{num(x, digits=2)}x" if math.isfinite(x) else "n/a"


def ratio_cell(row: pd.Series) -> str:
    """An effects row's compute against its baseline, for the effects table: "4.2x FLOPs, 3.9x s"."""
    flops = f"{ratio_text(row['flops_ratio'])} FLOPs" if math.isfinite(row["flops_ratio"]) else NOT_RECORDED
    return f"{flops}, {ratio_text(row['seconds_ratio'])} s"


def costly(row: pd.Series) -> bool:
    """Whether a comparison's level cost ``COSTLY`` times its baseline's or more: by FLOPs where they are recorded,
    else by measured training seconds."""
    f, s = row["flops_ratio"], row["seconds_ratio"]
    return bool(f >= COSTLY) if math.isfinite(f) else bool(math.isfinite(s) and s >= COSTLY)


def costly_phrase(row: pd.Series) -> str:
    """ "conv_stride1 (4.2 times baseline's FLOPs per run, 3.9 times its measured training seconds)"; by the seconds
    alone where FLOPs are not recorded."""
    f, s, base = row["flops_ratio"], row["seconds_ratio"], row["baseline"]
    if math.isfinite(f):
        secs = f"{num(s, digits=2)} times its measured training seconds" if math.isfinite(s) else \
            "training seconds not measured"
        return f"{row['comparison']} ({num(f, digits=2)} times {base}'s FLOPs per run, {secs})"
    return f"{row['comparison']} ({num(s, digits=2)} times {base}'s measured training seconds; {NOT_RECORDED})"

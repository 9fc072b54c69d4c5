"""While a study runs: no silent waiting for nodes, no trial hung for ever.

``StudyWatchdog`` is a Tune callback that looks at the trials before every step of Tune's loop:
- **Stalled**: trials are waiting (PENDING) and none runs, for longer than ``--start-timeout`` (a cluster whose GPU
  workers were lost and cannot be started again: a quota, no capacity, a setup that fails). It stops the study the
  way Ctrl+C does (SIGUSR1, as ``studies.storage.StorageGuard`` does: Ray saves the state, unfinished trials stay
  resumable), and the runner ends with one line naming what the trials wait for, what the autoscaler says, and the
  --resume command (``STALLED``). The pre-flight probe (``studies.preflight``) covers the start of a study; this
  covers the rest of it.
- **Hung** (``--trial-timeout``): a RUNNING trial that has reported nothing for that long (a worker stopped by a
  signal, a deadlocked data loader, a GPU that hangs) has its actor killed, so that Tune restarts it from its last
  checkpoint (one of its ``--max-failures``) instead of stalling the study for ever. The clock of a trial starts
  when it starts (or restarts) and again at every result.

Why settings live in ``configure`` and not in the callback: Ray pickles the experiment's callbacks into tuner.pkl
and a resumed study gets those back, with the settings of the first run; the runner configures the watchdog of
each run (a resume may change ``--start-timeout`` and ``--trial-timeout``), and nothing of a run is pickled.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

import ray
from ray import tune

__all__ = ["StudyWatchdog", "configure", "STALLED"]

_SETTINGS = {"start_timeout": None, "trial_timeout": None}
STALLED: dict[str, str] = {}  # "reason" -> why the last configured watchdog stopped its study (read by the runner)


def configure(start_timeout: float | None, trial_timeout: float | None) -> None:
    """The settings of the study about to run in this process; clears what an earlier study's watchdog found."""
    _SETTINGS.update(start_timeout=start_timeout, trial_timeout=trial_timeout)
    STALLED.clear()


class StudyWatchdog(tune.Callback):
    """See the module docstring."""

    def __init__(self):
        self._reset()

    def __getstate__(self) -> dict[str, Any]:
        return {}  # the clocks belong to one run of the driver

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._reset()

    def _reset(self) -> None:
        self.stalled_since: float | None = None
        self.last_seen: dict[str, float] = {}  # trial id -> when it last started or reported
        self.killed: set[tuple[str, float]] = set()

    def on_trial_start(self, iteration, trials, trial, **info):
        self.last_seen[trial.trial_id] = time.monotonic()

    def on_trial_restore(self, iteration, trials, trial, **info):
        self.last_seen[trial.trial_id] = time.monotonic()

    def on_trial_recover(self, iteration, trials, trial, **info):
        self.last_seen[trial.trial_id] = time.monotonic()

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.last_seen[trial.trial_id] = time.monotonic()

    def on_step_begin(self, iteration, trials, **info):
        now = time.monotonic()
        self._check_stall(trials, now)
        self._check_hung(trials, now)

    def _check_stall(self, trials, now: float) -> None:
        limit = _SETTINGS["start_timeout"]
        waiting = [t for t in trials if t.status == "PENDING"]
        if limit is None or not waiting or any(t.status == "RUNNING" for t in trials) or STALLED:
            self.stalled_since = None
            return
        if self.stalled_since is None:
            self.stalled_since = now
            return
        if now - self.stalled_since <= limit:
            return
        from studies.autoscaler import autoscaler_status

        resources = waiting[0].placement_group_factory.required_resources
        asks = " + ".join(f"{v:g} {k}" for k, v in sorted(resources.items()) if v)
        said = autoscaler_status()
        STALLED["reason"] = (f"{len(waiting)} trial(s) waited {now - self.stalled_since:.0f} s (--start-timeout "
                             f"{limit:g}) for a node with {asks} and none came up"
                             f"{'; the autoscaler: ' + said if said else ''}")
        if callable(signal.getsignal(signal.SIGUSR1)):  # Tune's handler (only where fit runs in the main thread)
            os.kill(os.getpid(), signal.SIGUSR1)

    def _check_hung(self, trials, now: float) -> None:
        limit = _SETTINGS["trial_timeout"]
        if limit is None:
            return
        for trial in trials:
            if trial.status != "RUNNING" or trial.trial_id not in self.last_seen:
                continue
            since = self.last_seen[trial.trial_id]
            if now - since <= limit or (trial.trial_id, since) in self.killed:
                continue
            actor = trial.temporary_state.ray_actor  # Tune's handle of the trial's worker
            if actor is None:
                continue
            self.killed.add((trial.trial_id, since))
            print(f"Trial {trial.trial_id} reported nothing for {now - since:.0f} s (--trial-timeout {limit:g}): "
                  f"restarting it from its last checkpoint", file=sys.stderr, flush=True)
            ray.kill(actor, no_restart=True)

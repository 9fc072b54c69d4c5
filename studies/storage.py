"""The storage path while a study runs: stop in time when a local disk fills, and say so when storage fails.

``StorageGuard`` is a Tune callback (part of the experiment, so a resumed study has it too); what it finds reaches
the runner through ``STORAGE_PROBLEMS``, keyed by the experiment path, and ``raise_if_storage_problem`` turns it,
or a storage that stopped taking writes, into one line (``StudyStorageError``).
"""
from __future__ import annotations

import os
import shutil
import signal

import pyarrow.fs as pafs
from ray import tune

from studies.cli import StudyStorageError
from studies.experiment_dir import ExperimentDir, storage_problem

__all__ = ["STORAGE_RESERVE_EXTRA", "STORAGE_PROBLEMS", "StorageGuard", "raise_if_storage_problem"]

# Room kept free on a local storage path (``StorageGuard``): the next checkpoint of every running trial, one more,
# and this much for Ray's experiment state and the result files.
STORAGE_RESERVE_EXTRA = 8 * 2**20
STORAGE_PROBLEMS: dict[str, str] = {}  # experiment path -> why a StorageGuard stopped that study (see run_study)


class StorageGuard(tune.Callback):
    """Stops the study in time when its local storage path runs out of room, so that it stays resumable.

    Why: Ray writes its experiment state (what --resume reads) over the previous one; if the disk fills up during
    that write, the state is cut short and the study cannot be resumed. So after every checkpoint the guard
    compares the free space with the room still needed (``STORAGE_RESERVE_EXTRA`` plus the largest checkpoint
    so far, once per running trial and once more) and, when it falls short, asks Tune to stop the way Ctrl+C
    does (SIGUSR1: the state is saved, unfinished trials stay resumable). ``run_study`` then reports it in one
    line. The guard is part of the experiment (Ray pickles it into tuner.pkl), so a resumed study has it too; it
    finds the storage from the checkpoints themselves (a study may be resumed from where it was moved to) and
    passes its finding through ``STORAGE_PROBLEMS``, keyed by the experiment path. A URI is Ray's to check.
    """

    def __init__(self):
        self.largest = 0

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        if not isinstance(checkpoint.filesystem, pafs.LocalFileSystem):
            return
        experiment = os.path.dirname(os.path.dirname(checkpoint.path))  # <experiment>/<trial>/checkpoint_NNNNNN
        if experiment in STORAGE_PROBLEMS:
            return
        try:
            self.largest = max(self.largest, sum(os.path.getsize(os.path.join(d, f))
                                                 for d, _, files in os.walk(checkpoint.path) for f in files))
            free = shutil.disk_usage(experiment).free
        except OSError:  # a storage that is gone: the end of the study reports it
            return
        reserve = (sum(t.status == "RUNNING" for t in trials) + 1) * self.largest + STORAGE_RESERVE_EXTRA
        if free >= reserve:
            return
        STORAGE_PROBLEMS[experiment] = (
            f"the storage path {os.path.dirname(experiment)!r} is nearly full: {free:,} bytes free, less than the "
            f"{reserve:,} that the running trials' next checkpoints and the study's state need")
        if callable(signal.getsignal(signal.SIGUSR1)):  # Tune's handler (only where fit runs in the main thread)
            os.kill(os.getpid(), signal.SIGUSR1)


def raise_if_storage_problem(loc: ExperimentDir) -> None:
    """StudyStorageError, one line, if the storage path stopped taking data: the study is not lost, what was saved
    stays, and --resume continues it once there is room."""
    problem = STORAGE_PROBLEMS.pop(loc.experiment_path, None) or storage_problem(loc)
    if problem is not None:
        raise StudyStorageError(f"{problem}; the study stopped, keeping every trial's last saved checkpoint: make "
                                f"room there (or fix it), then continue with --resume") from None

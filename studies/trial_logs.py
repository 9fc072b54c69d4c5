"""Tune's CSV and JSON trial loggers (``progress.csv``, ``result.json``: what the analysis reads), without the step
that can lose a restarted trial's history.

Tune's loggers write on the driver, into its staging copy of each trial's folder, which Ray uploads to the storage
path in the background with the experiment state. When a trial starts again after a failure (a killed worker, a
hung trial restarted by the watchdog) and has a checkpoint, Tune's ``LoggerCallback._restore_from_remote`` first
copies the stored file over the staging one. Within one driver session the staging file is the newest (the logger
itself wrote and flushed every row of it), while the stored one lags by up to a sync, and may be in the middle of
being uploaded: the copy then drops the rows since the last sync, or all of them when it catches a file the upload
has only begun (the restarted trial's ``progress.csv`` held only its post-restart rows, seen under load in
tests/studies/test_trainable.py). warprec met the same (sisinflab/warprec#128) and took the same way out.

Here the stored file is copied back only when the staging copy does not exist: a new driver session (``--resume``
after an interrupted or crashed driver), where the stored file is all there is.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

if TYPE_CHECKING:
    from ray.tune.experiment import Trial


class _KeepsTheSessionsFile:
    """Restores a logger's file from the storage path only into a staging folder that does not have it."""

    def _restore_from_remote(self, file_name: str, trial: "Trial") -> None:
        if Path(trial.local_path, file_name).exists():
            return  # this session wrote it: newer than, or as new as, the stored copy
        super()._restore_from_remote(file_name, trial)  # type: ignore[misc]


class TrialCSVLogger(_KeepsTheSessionsFile, CSVLoggerCallback):
    """Tune's ``CSVLoggerCallback`` (``progress.csv``), keeping a restarted trial's rows (module docstring)."""


class TrialJsonLogger(_KeepsTheSessionsFile, JsonLoggerCallback):
    """Tune's ``JsonLoggerCallback`` (``result.json``, ``params.json``), keeping a restarted trial's rows."""

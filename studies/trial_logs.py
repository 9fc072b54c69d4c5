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
after an interrupted or crashed driver), where the stored file is all there is. And there it is cut back to the
rows of the checkpoint the trial continues from: the stored file can hold rows reported after the checkpoint that
the stored experiment state names (the upload of the files runs in the background, after the state was written),
and the continued trial reports those steps again (a row twice, seen in tests/studies/test_runner.py's killed
driver). A row that does not parse (the last one of a killed driver) goes too.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

if TYPE_CHECKING:
    from ray.tune.experiment import Trial


class _KeepsTheSessionsFile:
    """Restores a logger's file from the storage path only into a staging folder that does not have it."""

    def _restore_from_remote(self, file_name: str, trial: "Trial") -> None:
        local = Path(trial.local_path, file_name)
        if local.exists():
            return  # this session wrote it: newer than, or as new as, the stored copy
        super()._restore_from_remote(file_name, trial)  # type: ignore[misc]
        result = trial.latest_checkpoint_result
        if local.exists() and result is not None and "training_iteration" in result.metrics:
            self._keep_rows_until(local, int(result.metrics["training_iteration"]))

    @staticmethod
    def _keep_rows_until(path: Path, iteration: int) -> None:
        raise NotImplementedError


class TrialCSVLogger(_KeepsTheSessionsFile, CSVLoggerCallback):
    """Tune's ``CSVLoggerCallback`` (``progress.csv``), keeping a restarted trial's rows (module docstring)."""

    @staticmethod
    def _keep_rows_until(path: Path, iteration: int) -> None:
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            fields, rows = reader.fieldnames, list(reader)
        if fields is None:
            return  # an empty file: nothing to keep
        kept = [r for r in rows if (r.get("training_iteration") or "").isdigit()
                and int(r["training_iteration"]) <= iteration]
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fields)
            writer.writeheader()
            writer.writerows(kept)


class TrialJsonLogger(_KeepsTheSessionsFile, JsonLoggerCallback):
    """Tune's ``JsonLoggerCallback`` (``result.json``, ``params.json``), keeping a restarted trial's rows."""

    @staticmethod
    def _keep_rows_until(path: Path, iteration: int) -> None:
        kept = []
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # half written
            if isinstance(row, dict) and isinstance(row.get("training_iteration"), int) \
                    and row["training_iteration"] <= iteration:
                kept.append(line)
        path.write_text("".join(f"{line}\n" for line in kept))


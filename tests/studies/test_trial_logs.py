"""studies.trial_logs: a trial restarted within a driver session keeps the rows its loggers wrote before, whatever
state the stored copy is in; a new session (``--resume``) starts from the stored copy. Tune's own loggers, run on
the same events, show the loss the subclasses exist for."""
import csv
import json
import shutil
from pathlib import Path

import pyarrow.fs
import pytest
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

from studies.trial_logs import TrialCSVLogger, TrialJsonLogger


class _Storage:
    def __init__(self, trial_fs_path: Path):
        self.trial_fs_path = str(trial_fs_path)
        self.storage_filesystem = pyarrow.fs.LocalFileSystem()


class _Result:
    def __init__(self, metrics: dict):
        self.metrics = metrics


class _Trial:
    """What Tune's loggers use of a Trial: a checkpoint (so that a start restores from storage), the driver's
    staging folder and the stored one."""

    def __init__(self, staging: Path, stored: Path, checkpoint_iteration: int = 1):
        self.checkpoint = object()
        self.latest_checkpoint_result = _Result({"training_iteration": checkpoint_iteration})
        self.local_path = str(staging)
        self.storage = _Storage(stored)
        self.config = {"k": 1}
        self.init_local_path()  # (Tune makes the staging folder before the loggers see the trial)

    def init_local_path(self) -> None:
        Path(self.local_path).mkdir(parents=True, exist_ok=True)


def _report(logger, trial, step: int) -> None:
    logger.on_trial_result(step, [trial], trial, {"training_iteration": step, "g_steps": 100 * step})


def _steps(cls, folder: Path) -> list[int]:
    if cls in (TrialCSVLogger, CSVLoggerCallback):
        with open(folder / "progress.csv") as f:
            return [int(row["g_steps"]) for row in csv.DictReader(f)]
    return [json.loads(line)["g_steps"] for line in (folder / "result.json").read_text().splitlines()]


def _file(cls) -> str:
    return "progress.csv" if cls in (TrialCSVLogger, CSVLoggerCallback) else "result.json"


@pytest.mark.parametrize("cls, kept", [(TrialCSVLogger, True), (TrialJsonLogger, True),
                                       (CSVLoggerCallback, False), (JsonLoggerCallback, False)])
@pytest.mark.parametrize("stored_rows", [1, 0], ids=["stored-copy-behind", "stored-copy-empty"])
def test_a_trial_restarted_in_the_session_keeps_its_rows(tmp_path, cls, kept, stored_rows):
    """Three reports, an upload that caught the file after ``stored_rows`` of them (0: an upload that had only
    created it), a failure, a restart, two more reports: all five rows stay (Tune's loggers: the stored rows and the
    two new ones)."""
    staging, stored = tmp_path / "staging" / "trial", tmp_path / "stored" / "trial"
    trial = _Trial(staging, stored)
    logger = cls()
    logger.on_trial_start(0, [trial], trial)
    for step in (1, 2, 3):
        _report(logger, trial, step)
        if step == stored_rows:
            shutil.copytree(staging, stored)
    if stored_rows == 0:
        stored.mkdir(parents=True)
        (stored / _file(cls)).write_text("")
    logger.on_trial_error(3, [trial], trial)  # the worker died
    logger.on_trial_start(3, [trial], trial)  # Tune starts the trial again from its checkpoint
    for step in (4, 5):
        _report(logger, trial, step)
    expected = [100, 200, 300, 400, 500] if kept else [100 * s for s in range(1, stored_rows + 1)] + [400, 500]
    assert _steps(cls, staging) == expected


@pytest.mark.parametrize("cls", [TrialCSVLogger, TrialJsonLogger])
def test_a_new_session_continues_the_stored_file_from_the_trials_checkpoint(tmp_path, cls):
    """``--resume`` in a new driver: its staging folder is empty, so the stored file is copied back, cut to the rows
    of the checkpoint the trial continues from (iteration 2; the upload also caught report 3 and half a line of a
    4th), and the continued trial's reports follow under the one header: no step twice."""
    first, second, stored = tmp_path / "session1" / "trial", tmp_path / "session2" / "trial", tmp_path / "stored"
    logger = cls()
    trial = _Trial(first, stored)
    logger.on_trial_start(0, [trial], trial)
    for step in (1, 2, 3):
        _report(logger, trial, step)
    shutil.copytree(first, stored)  # the last upload before the driver was killed
    with open(stored / _file(cls), "a") as f:
        f.write('{"training_iteration": 4, "g_st' if cls is TrialJsonLogger else "4,")

    logger = cls()
    trial = _Trial(second, stored, checkpoint_iteration=2)
    logger.on_trial_start(0, [trial], trial)
    for step in (3, 4):
        _report(logger, trial, step)
    assert _steps(cls, second) == [100, 200, 300, 400]
    if cls is TrialCSVLogger:
        assert (second / "progress.csv").read_text().count("g_steps") == 1

"""Ray's own ``MLflowLoggerCallback``, changed where a GAN study needs it (``studies.tracker`` builds it).

Ray's callback makes one MLflow run per trial and logs the trial's config as params at its start; kept as it is.
Changed, and why:
- ``setup``: the experiment is created with ``artifact_location`` when it does not exist yet (Ray's callback
  cannot pass one), so that the default store keeps its artifacts in the experiment directory and not in
  ``./mlruns`` of whatever directory the driver was started from.
- ``log_trial_start``: the run is named after the trial's Ray folder (``<variant>_seed<N>_<id>``) instead of
  Ray's ``train_gan_<id>``, and tagged ``ray_trial_dir``, so that a run in MLflow's table says what it is and
  where its Ray files are.
- ``log_trial_result``: the step is ``step_key`` (``g_steps``, the generator step: the axis of TensorBoard, Optuna
  and the report's curves) where Ray takes its report counter (``training_iteration``); the config is left out
  (it is in the params); the numbers of a report go in one ``log_batch`` call instead of one call per metric
  (with SQLite one transaction each, some 40 per report, in the driver's loop); and the report's sample pictures
  (``trainable.SampleWriter``: ``samples/g_steps_<NNNNNN>.png`` in the trial folder, there before the report
  reaches the driver) are logged as MLflow images at the same step, key ``samples``: the step slider of MLflow's
  image view. A picture is read from the trial folder, which the trial's worker copies whole at every report, each
  file written anew: one the driver reads while the next report's copy rewrites it is truncated (seen in the test
  suite under load). So a picture that does not open is left for a later report or the trial's end (after its last,
  blocking copy), and one that still does not open then is named in one line on stderr, not logged. A population
  trial's report holds every member's metrics under ``members``: flattened as Ray does, they are ``members/seed_<s>/<metric>``, beside the population's mean of the primary metric; its pictures are
  one per member, key ``samples/seed_<s>``.

A ``--resume`` (a new driver) starts a new MLflow run, of the same name, for each trial that continues; its
metrics go on from the step the trial resumed at.
"""
from __future__ import annotations

import io
import sys
import time
from typing import Any

import pyarrow.fs as pafs
from mlflow import MlflowClient
from mlflow.entities import Metric, RunTag
from PIL import Image, UnidentifiedImageError
from ray.tune.utils import flatten_dict
from ray.air.integrations.mlflow import MLflowLoggerCallback

from studies.trainable import PICTURE_NAME, SAMPLES


class StudyMLflowLogger(MLflowLoggerCallback):
    """``MLflowLoggerCallback`` with the study's step axis, run names, artifact location and sample pictures."""

    def __init__(self, tracking_uri: str, *, experiment_name: str, tags: dict[str, str], step_key: str,
                 artifact_location: str | None):
        super().__init__(tracking_uri, experiment_name=experiment_name, tags=tags)
        self.step_key = step_key
        self.artifact_location = artifact_location
        self._pictures_logged: dict[Any, set[tuple[str, int]]] = {}  # trial -> (tag, step) of its logged pictures

    def setup(self, *args: Any, **kwargs: Any) -> None:
        if self.artifact_location is not None:
            client = MlflowClient(tracking_uri=self.tracking_uri)
            if client.get_experiment_by_name(self.experiment_name) is None:
                client.create_experiment(self.experiment_name, artifact_location=self.artifact_location)
        super().setup(*args, **kwargs)

    def _client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri)

    def log_trial_start(self, trial: Any) -> None:
        new = trial not in self._trial_runs
        super().log_trial_start(trial)
        if new:
            folder = trial.path.rstrip("/").rsplit("/", 1)[-1]
            self._client().log_batch(self._trial_runs[trial], tags=[RunTag("mlflow.runName", folder),
                                                                    RunTag("ray_trial_dir", trial.path)])

    def log_trial_result(self, iteration: int, trial: Any, result: dict[str, Any]) -> None:
        step = int(result[self.step_key])
        flat = flatten_dict({k: v for k, v in result.items() if k != "config"})
        now = int(time.time() * 1000)
        metrics = [Metric(key, float(value), now, step) for key, value in flat.items()
                   if isinstance(value, (int, float))]
        client = self._client()
        run_id = self._trial_runs[trial]
        client.log_batch(run_id, metrics=metrics)
        self._log_pictures(trial, final=False)

    def log_trial_end(self, trial: Any, failed: bool = False) -> None:
        if trial in self._trial_runs:
            self._log_pictures(trial, final=True)
        self._pictures_logged.pop(trial, None)
        super().log_trial_end(trial, failed)

    def _log_pictures(self, trial: Any, final: bool) -> None:
        """Every picture in the trial folder not logged yet that opens (module docstring); at the trial's end, each
        that does not open is said on stderr."""
        logged = self._pictures_logged.setdefault(trial, set())
        client, run_id, now = self._client(), self._trial_runs[trial], int(time.time() * 1000)
        fs = trial.storage.storage_filesystem
        for tag, step, path in trial_pictures(fs, trial.path):
            if (tag, step) in logged:
                continue  # (not read again: a long trial has hundreds)
            try:
                with fs.open_input_stream(path) as f:
                    image = Image.open(io.BytesIO(f.readall()))
                image.load()
            except (UnidentifiedImageError, OSError) as e:  # (truncated: being copied again)
                if final:
                    print(f"--tracker mlflow: the picture {path} does not open at the trial's end ({e}); not logged",
                          file=sys.stderr, flush=True)
                continue
            client.log_image(run_id, image, key=tag, step=step, timestamp=now)
            logged.add((tag, step))


def trial_pictures(fs: pafs.FileSystem, trial_path: str) -> list[tuple[str, int, str]]:
    """[(tag, step, path)] of the pictures in the trial folder (``trainable.picture_file``:
    ``samples[/seed_<s>]/g_steps_<NNNNNN>.png``), ordered by tag and step; none for a trial without pictures (1D
    points, the theory check)."""
    prefix, suffix = PICTURE_NAME.split("{", 1)[0], ".png"
    root = f"{trial_path.rstrip('/')}/"
    found = fs.get_file_info(pafs.FileSelector(f"{root}{SAMPLES}", recursive=True, allow_not_found=True))
    out = []
    for path in sorted(i.path for i in found if i.type == pafs.FileType.File and i.base_name.startswith(prefix)
                       and i.base_name.endswith(suffix)):
        tag, name = path[len(root):].rsplit("/", 1)
        out.append((tag, int(name[len(prefix):-len(suffix)]), path))
    return out

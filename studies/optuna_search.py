"""The Optuna searcher of lr_search: each trial recorded in optuna.db as Optuna's own ``optimize()`` with a pruner
would record it. Its own module so that ``lr_search --help`` loads neither Ray nor Optuna."""
from __future__ import annotations

import math

from ray.tune.search.optuna import OptunaSearch

RAY_FOLDER_ATTR = "ray_trial_dir"  # the Optuna trial's user attribute naming its Ray trial folder
STEP_KEY = "g_steps"  # the step of Optuna's intermediate values: ASHA's time attribute


def _diverged(result: dict | None, metric: str) -> bool:
    """A diverged trial reports its quality metric as NaN (studies.trainable)."""
    return result is not None and metric in result and isinstance(result[metric], float) and \
        math.isnan(result[metric])


def _stopped_early(result: dict | None) -> bool:
    """The trial's last report says it had steps to go (the trainer's status "running"): a scheduler stopped it."""
    return result is not None and result.get("status") == "running"


class DivergenceAwareOptunaSearch(OptunaSearch):
    """OptunaSearch that records each trial in optuna.db as Optuna's own ``optimize()`` with a pruner would, so that
    optuna-dashboard and ``optuna.load_study`` read the search as Optuna users expect:

    - intermediate values at the step ``g_steps`` (ASHA's time attribute; Ray reports them at its iteration count),
      the last report's included (Ray does not pass the report that ends a trial to ``on_trial_result``);
    - a trial ASHA stopped before its budget is PRUNED at the step it stopped, with its last value as its value
      (Optuna's rule for a pruned trial), not COMPLETE beside the trials that ran to the end;
    - a diverged trial is FAIL, as ``optimize()`` records a NaN objective (Ray's OptunaSearch tells Optuna the NaN as
      COMPLETE; Optuna refuses it, and the trial would stay RUNNING in optuna.db for ever);
    - the objective is named after the study's metric (``Study.set_metric_names``), not "Objective 0";
    - each trial has its Ray trial folder as the user attribute ``ray_trial_dir`` (from its first report).

    TPE learns from COMPLETE trials only; the pruned and diverged ones are in the study's results and report either
    way.
    """

    def __init__(self, *args, experiment_path: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.experiment_path = experiment_path
        self._reported_steps: dict[str, set[int]] = {}

    def _setup_study(self, mode):
        import warnings

        import optuna

        super()._setup_study(mode)
        if isinstance(self._metric, str):
            with warnings.catch_warnings():  # (experimental since Optuna 3.2, and stable in use)
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                self._ot_study.set_metric_names([self._metric])

    def _report(self, trial_id: str, result: dict) -> None:
        """The result's metric as an intermediate value at its step, once per step."""
        step = int(result.get(STEP_KEY, result.get("training_iteration", 0)))
        done = self.__dict__.setdefault("_reported_steps", {}).setdefault(trial_id, set())  # (a searcher pickled
        # by an earlier version, resumed, has no such record)
        if step not in done and self.metric in result:
            self._ot_trials[trial_id].report(float(result[self.metric]), step)
            done.add(step)

    def _note_folder(self, trial_id: str, result: dict) -> None:
        """The Ray trial folder as the Optuna trial's user attribute (its name as ``trial_dirname`` gives it)."""
        from studies.experiment_dir import trial_folder_name
        from studies.trial import VARIANT_KEY

        ot_trial = self._ot_trials[trial_id]
        if getattr(self, "experiment_path", None) is None or RAY_FOLDER_ATTR in ot_trial.user_attrs:
            return
        config = {k.split("/", 1)[1]: v for k, v in result.items() if k.startswith("config/")}
        if VARIANT_KEY in config:
            name = trial_folder_name(config, result.get("trial_id", trial_id))
            ot_trial.set_user_attr(RAY_FOLDER_ATTR, f"{self.experiment_path.rstrip('/')}/{name}")

    def on_trial_result(self, trial_id: str, result: dict):
        if trial_id in self._completed_trials or isinstance(self.metric, list):
            return super().on_trial_result(trial_id, result)
        self._note_folder(trial_id, result)
        self._report(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False):
        if trial_id in self._completed_trials or trial_id not in self._ot_trials:
            return super().on_trial_complete(trial_id, result, error)
        if result and not error:
            self._note_folder(trial_id, result)
        if _diverged(result, self.metric):
            result, error = None, True
        elif result and not error:
            self._report(trial_id, result)
            if _stopped_early(result):
                result = None  # Ray's OptunaSearch tells Optuna a trial without a value as PRUNED
        super().on_trial_complete(trial_id, result, error)

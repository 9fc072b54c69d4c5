"""Which learning rates for D and G, and which Adam beta1? Optuna's TPE through Ray Tune, with ASHA early stopping.

lr_d and lr_g log-uniform in [1e-5, 1e-2], beta1 uniform in [0, 0.9]; the first trial is the dataset's default
setting (a warm start that anchors the search). ASHA stops trials whose primary metric trails at g_steps
milestones. The Optuna study lives in SQLite, ``<experiment>/optuna.db``, study name = the experiment name:

    optuna.load_study(study_name="lr_search", storage="sqlite:///results/lr_search/optuna.db")

(with an s3:// storage path the database is kept at ``./optuna/<name>/optuna.db`` on the driver, since SQLite
needs a local file, and copied into the experiment directory when the study ends). Run from the repository root:

    python studies/lr_search.py                     # ring8, 20 trials
    python studies/lr_search.py --smoke-test
    python studies/lr_search.py --dataset mnist5k --num-samples 50
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import the project from the repository root, not studies/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from ray import tune  # noqa: E402
from ray.tune.search.optuna import OptunaSearch  # noqa: E402

from gan_core.config import IMAGE_DATASETS  # noqa: E402
from studies import cli  # noqa: E402
from studies.experiment_dir import ExperimentDir  # noqa: E402
from studies.resume import study_args  # noqa: E402
from studies.runner import StudySpec, resolve_base, run_study  # noqa: E402

STUDY = "lr_search"
DATASETS = ("ring8", "grid25", *IMAGE_DATASETS)
SPACE = {
    "lr_d": tune.loguniform(1e-5, 1e-2),
    "lr_g": tune.loguniform(1e-5, 1e-2),
    "beta1": tune.uniform(0.0, 0.9),
}
VARIANT = "tpe"
ASHA_REDUCTION_FACTOR = 3
ASHA_GRACE_EVALS = 2  # a trial runs at least this many evaluation intervals before ASHA may stop it

# The presets (options given on the command line win); cli.IMAGE_PRESETS add to them for image datasets.
PRESETS = {
    "default": {"dataset": "ring8", "steps": 2000, "eval_every": 250, "num_samples": 20, "search_seed": 0},
    "smoke": {"dataset": "ring8", "steps": 40, "eval_every": 10, "num_samples": 4, "search_seed": 0},
    "full": {"dataset": "ring8", "steps": 5000, "eval_every": 250, "num_samples": 100, "search_seed": 0},
}


def optuna_db_path(loc: ExperimentDir) -> Path:
    """Where the SQLite database lives while the study runs (a local file, see the module docstring)."""
    folder = Path(loc.experiment_path) if loc.is_local else Path("optuna", loc.name).resolve()
    return folder / "optuna.db"


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

        ot_trial = self._ot_trials[trial_id]
        if getattr(self, "experiment_path", None) is None or RAY_FOLDER_ATTR in ot_trial.user_attrs:
            return
        config = {k.split("/", 1)[1]: v for k, v in result.items() if k.startswith("config/")}
        if "variant" in config:
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


def make_searcher_factory(search_seed: int, first_point: dict):
    def make_searcher(loc: ExperimentDir):
        import optuna

        db = optuna_db_path(loc)
        db.parent.mkdir(parents=True, exist_ok=True)
        return DivergenceAwareOptunaSearch(
            sampler=optuna.samplers.TPESampler(seed=search_seed),
            study_name=loc.name,
            storage=optuna.storages.RDBStorage(f"sqlite:///{db}"),
            points_to_evaluate=[first_point],
            experiment_path=loc.experiment_path,
        )
    return make_searcher


def make_scheduler_factory(steps: int, eval_every: int):
    def make_scheduler():
        return tune.schedulers.ASHAScheduler(
            time_attr="g_steps", max_t=steps, grace_period=min(steps, ASHA_GRACE_EVALS * eval_every),
            reduction_factor=ASHA_REDUCTION_FACTOR)
    return make_scheduler


def build_parser() -> cli.StudyParser:
    p = cli.make_parser(STUDY, __doc__.split("\n\n")[0], PRESETS)
    g = p.add_argument_group("study")
    g.add_argument("--dataset", choices=DATASETS, default=None, help="dataset (preset: ring8)")
    g.add_argument("--num-samples", type=cli.positive_int, default=None, help="trials the search runs")
    g.add_argument("--steps", type=cli.positive_int, default=None, help="generator steps per trial (ASHA max_t)")
    g.add_argument("--eval-every", type=cli.positive_int, default=None, help="generator steps between reports")
    g.add_argument("--search-seed", type=cli.non_negative_int, default=None, help="seed of the TPE sampler")
    return p


def build_spec(args) -> StudySpec:
    preset = cli.choose_preset(args, PRESETS)
    evaluator_config, base = resolve_base(cli.base_flat(args, PRESETS, preset))
    first_point = {key: base[key] for key in SPACE}
    return StudySpec(
        study=STUDY, base=base, variants={VARIANT: {}}, seeds=(), baseline_variant=None,
        factors=list(SPACE), baseline=first_point, evaluator_config=evaluator_config,
        searched=dict(SPACE), num_samples=preset["num_samples"],
        make_searcher=make_searcher_factory(preset["search_seed"], first_point),
        make_scheduler=make_scheduler_factory(base["steps"], base["eval_every"]),
        search={"searcher": "Optuna TPE", "scheduler": "ASHA"},
    )


def publish_optuna_db(loc: ExperimentDir) -> str:
    """With a remote storage path, copy the local SQLite database into the experiment directory."""
    db = optuna_db_path(loc)
    if loc.is_local:
        return str(db)
    import pyarrow.fs as pafs

    fs, path = pafs.FileSystem.from_uri(loc.join("optuna.db"))
    with fs.open_output_stream(path) as out:
        out.write(db.read_bytes())
    return loc.join("optuna.db")


def main(argv: list[str] | None = None) -> int:
    def body() -> int:
        args = study_args(STUDY, build_parser, argv)
        run = run_study(build_spec(args), args, command=cli.command_line(STUDY, argv))
        where = publish_optuna_db(run.location)
        db = optuna_db_path(run.location)
        print(f"Optuna:  optuna.load_study(study_name={run.location.name!r}, storage='sqlite:///{db}')"
              + ("" if where == str(db) else f"  (copied to {where})"))
        return run.exit_code

    return cli.run_main(STUDY, body)


if __name__ == "__main__":
    sys.exit(main())

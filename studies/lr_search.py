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

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gan_core.config import IMAGE_DATASETS
from studies import cli, options
from studies.option_types import non_negative_int, positive_int
from studies.experiment_dir import ExperimentDir
from studies.options import StudyOption, StudyOptions
from studies.resume import study_args

if TYPE_CHECKING:  # the runner loads Ray and torch: only once the arguments are parsed
    from studies.runner import StudySpec

STUDY = "lr_search"
DATASETS = ("ring8", "grid25", *IMAGE_DATASETS)


def search_space() -> dict:
    """The searched keys and their Tune domains (Ray is imported here, not for --help)."""
    from ray import tune

    return {"lr_d": tune.loguniform(1e-5, 1e-2), "lr_g": tune.loguniform(1e-5, 1e-2), "beta1": tune.uniform(0.0, 0.9)}


def __getattr__(name: str):
    """``SPACE`` and the searcher class, loaded on first use (a saved search unpickles the class by this name)."""
    if name == "SPACE":
        return search_space()
    if name == "DivergenceAwareOptunaSearch":
        from studies.optuna_search import DivergenceAwareOptunaSearch

        return DivergenceAwareOptunaSearch
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

VARIANT = "tpe"
ASHA_REDUCTION_FACTOR = 3
ASHA_GRACE_EVALS = 2  # a trial runs at least this many evaluation intervals before ASHA may stop it

# The presets (options given on the command line win); options.IMAGE_PRESETS add to them for image datasets.
PRESETS = {
    "default": {"dataset": "ring8", "steps": 2000, "eval_every": 250, "num_samples": 20, "search_seed": 0},
    "smoke": {"dataset": "ring8", "steps": 40, "eval_every": 10, "num_samples": 4, "search_seed": 0},
    "full": {"dataset": "ring8", "steps": 5000, "eval_every": 250, "num_samples": 100, "search_seed": 0},
}
OPTIONS = StudyOptions(PRESETS, [
    options.dataset(DATASETS, "dataset"),
    StudyOption("num_samples", positive_int, "trials the search runs"),
    options.STEPS.but(help="generator steps per trial (ASHA max_t)"), options.EVAL_EVERY,
    StudyOption("search_seed", non_negative_int, "seed of the TPE sampler"),
])


def optuna_db_path(loc: ExperimentDir) -> Path:
    """Where the SQLite database lives while the study runs (a local file, see the module docstring)."""
    folder = Path(loc.experiment_path) if loc.is_local else Path("optuna", loc.name).resolve()
    return folder / "optuna.db"


def make_searcher_factory(search_seed: int, first_point: dict):
    def make_searcher(loc: ExperimentDir):
        import optuna

        from studies.optuna_search import DivergenceAwareOptunaSearch

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
        from ray import tune

        return tune.schedulers.ASHAScheduler(
            time_attr="g_steps", max_t=steps, grace_period=min(steps, ASHA_GRACE_EVALS * eval_every),
            reduction_factor=ASHA_REDUCTION_FACTOR)
    return make_scheduler


def build_parser() -> cli.StudyParser:
    return OPTIONS.parser(STUDY, __doc__)


def build_spec(args) -> StudySpec:
    from studies.runner import StudySpec, resolve_base  # Ray and torch: not for --help

    space = search_space()
    preset = OPTIONS.choose(args)
    evaluator_config, base = resolve_base(options.image_base_config(args, OPTIONS, preset))
    first_point = {key: base[key] for key in space}
    return StudySpec(
        study=STUDY, base=base, variants={VARIANT: {}}, seeds=(), baseline_variant=None,
        factors=list(space), baseline=first_point, evaluator_config=evaluator_config,
        searched=space, num_samples=preset["num_samples"],
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
        from studies.runner import run_study  # after parsing: --help imports neither Ray nor torch

        run = run_study(build_spec(args), args, command=cli.command_line(STUDY, argv))
        where = publish_optuna_db(run.location)
        db = optuna_db_path(run.location)
        print(f"Optuna:  optuna.load_study(study_name={run.location.name!r}, storage='sqlite:///{db}')"
              + ("" if where == str(db) else f"  (copied to {where})"))
        return run.exit_code

    return cli.run_main(STUDY, body)


if __name__ == "__main__":
    sys.exit(main())

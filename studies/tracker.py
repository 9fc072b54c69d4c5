"""``--tracker mlflow``: every trial of a study also as a run in MLflow, the experiment tracker a lab may already
use, beside Ray's own folders (which stay what the report reads).

What is logged, and how (``studies.mlflow_logger``, Ray's own ``MLflowLoggerCallback`` with three small changes):
one MLflow experiment per study, named after the experiment directory (the study's name by default,
``<study>_smoke`` for a smoke test, ``--name`` otherwise), tagged ``study`` and ``ray_experiment``; one MLflow run per
trial, named after its Ray trial folder (tag ``ray_trial_dir``), with its config as params (the variant, the seed,
every key the study varies and every other key of the complete config), every number it reports as a metric at
step ``g_steps`` (the generator step, as in TensorBoard and Optuna; the theory check, which has no generator, at its
report's number), and the picture of its samples at each report (``studies.trainable.SampleWriter``) as an MLflow
image at the same step. A population trial is one run too: its members' metrics are ``members/seed_<s>/<metric>``
and their pictures ``samples/seed_<s>``; its ``seed`` param is its first member's, ``members`` lists them all.

Where: by default a SQLite database inside the experiment directory, ``<experiment>/mlflow.db``, with the artifacts
(the pictures) in ``<experiment>/mlartifacts``: it works offline, with no server, and travels with the study's
results. Why not MLflow's file store (``./mlruns``): MLflow 3 keeps it in maintenance mode and refuses to open it
unless ``MLFLOW_ALLOW_FILE_STORE=true``; SQLite is what MLflow itself now recommends for a local store.
``--mlflow-uri`` names another store (a tracking server ``http://host:5000``, or ``sqlite:///path.db``), where a
study with a ``s3://`` storage path must log, since its driver has no local experiment directory.

Why the tracker runs in the driver only: Ray's callback receives every report there, so the trials need neither
mlflow nor a connection to the store. ``mlflow`` is imported only when ``--tracker mlflow`` is given: ``--help`` and
every study without it stay as fast as before, and mlflow stays an optional dependency (``pip install -e
'.[tracker]'``); without it, ``--tracker mlflow`` is one line and exit 2 before Ray starts.
"""
from __future__ import annotations

import argparse
from typing import Any

from studies.cli import StudyInputError

TRACKERS = ("none", "mlflow")
DB_FILE = "mlflow.db"          # the default store: <experiment>/mlflow.db
ARTIFACTS_DIR = "mlartifacts"  # its artifacts: <experiment>/mlartifacts
INSTALL = "pip install -e '.[tracker]' (mlflow-skinny: what logging needs)"


def add_options(parser: argparse.ArgumentParser) -> None:
    """The tracker's options, in every study's parser (``studies.cli.make_parser``)."""
    g = parser.add_argument_group("tracker")
    g.add_argument("--tracker", choices=TRACKERS, default="none",
                   help="also log every trial to an experiment tracker: mlflow (one run per trial: its config as "
                        "params, its metrics at step g_steps, its sample pictures; needs " + INSTALL + ") "
                        "(default: none)")
    g.add_argument("--mlflow-uri", default=None, metavar="URI",
                   help=f"the MLflow tracking URI, e.g. http://host:5000 or sqlite:///path.db (default: "
                        f"sqlite:///<experiment>/{DB_FILE}, offline, artifacts in <experiment>/{ARTIFACTS_DIR})")


def default_uri(experiment_path: str) -> str:
    """The default store of an experiment directory (a local absolute path): its SQLite database."""
    return f"sqlite:///{experiment_path.rstrip('/')}/{DB_FILE}"


def tracker_callbacks(args: argparse.Namespace, loc: Any, study: str, gan_trials: bool) -> list[Any]:
    """The Tune callbacks ``args.tracker`` asks for (none: ``[]``), checked before Ray starts: mlflow installed, a
    store it can reach. ``loc``: the study's ``ExperimentDir``; ``gan_trials``: the trials report ``g_steps``."""
    if args.tracker == "none":
        if args.mlflow_uri is not None:
            raise StudyInputError("--mlflow-uri: only with --tracker mlflow; allowed: add --tracker mlflow, or "
                                  "leave --mlflow-uri out")
        return []
    try:
        import mlflow  # noqa: F401 (the check; studies.mlflow_logger uses it)
    except ImportError:
        raise StudyInputError(f"--tracker mlflow: mlflow is not installed; allowed: {INSTALL}, or --tracker "
                              f"none") from None
    if args.mlflow_uri is None:
        if not loc.is_local:
            raise StudyInputError(f"--tracker mlflow: the default store lies in the experiment directory, and "
                                  f"{loc.experiment_path!r} is not on this machine; allowed: --mlflow-uri (a "
                                  f"tracking server http://host:port, or sqlite:///path.db on the driver)")
        uri, artifacts = default_uri(loc.experiment_path), f"file://{loc.join(ARTIFACTS_DIR)}"
    else:
        # Another store: MLflow's own rules for its artifacts (a server's artifact root; ./mlruns beside a local
        # database). Probed now, so that a store MLflow cannot open is refused before any trial starts.
        uri, artifacts = args.mlflow_uri, None
        _probe(uri, loc.name)
    from studies.mlflow_logger import StudyMLflowLogger

    print(f"MLflow: experiment {loc.name!r} at {uri}", flush=True)
    return [StudyMLflowLogger(uri, experiment_name=loc.name, artifact_location=artifacts,
                              tags={"study": study, "ray_experiment": loc.experiment_path},
                              step_key="g_steps" if gan_trials else "training_iteration")]


def _probe(uri: str, experiment: str) -> None:
    """StudyInputError unless MLflow can open the store at ``uri`` (it looks the experiment up; nothing is made)."""
    from mlflow import MlflowClient

    try:
        MlflowClient(tracking_uri=uri).get_experiment_by_name(experiment)
    except Exception as e:  # mlflow's own words: an unknown scheme, the file store refused, a server unreachable
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise StudyInputError(f"--mlflow-uri {uri!r}: MLflow cannot open it ({first}); allowed: a tracking "
                              f"server http://host:port, or sqlite:///path.db") from None

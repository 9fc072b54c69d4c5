"""The study runner every study shares: a StudySpec (``studies.spec``) in, a finished Ray Tune experiment and its
report out.

Order of work, so that bad input costs nothing: validate every trial config of the space (strictly, with
``GANConfig.from_flat``), refuse per-trial resources no node has and configs larger than a trial's share of the
memory (``studies.capacity``), check the results directory, take the study's lock (``studies.lock``: one driver
per study), probe the cluster address, build the evaluator once in
the driver (it loads the dataset, so a torchvision dataset that is neither on disk nor downloadable is refused
here; for images it trains or loads the scoring classifier, slow the first time) -- each failure one line and
exit 2 (``StudyInputError``) -- and only then start or join Ray and ship the evaluator to the trials with
``tune.with_parameters``.

What Tune is told, and why:
- resources per trial with ``tune.with_resources``: ``cpus_per_trial`` (torch threads follow it through the
  config key ``threads``, set by each study) and ``gpus_per_trial`` (fractions pack several small trials on one
  GPU; ``auto``: 0.25 when an alive node or a node type of the cluster's autoscaler has GPUs, ``studies.capacity``);
  before the first trial a probe checks the storage and the GPU where trials run (``studies.preflight``);
- the trainable gets ``cpu_fallback`` (``--allow-cpu-fallback``): without it a GPU torch cannot use fails the trial;
- callbacks: ``StorageGuard`` (below) and ``StudyWatchdog`` (``studies.watchdog``: no silent waiting for nodes, a hung
  trial restarted), and with ``--tracker mlflow`` Ray's MLflow logger (``studies.tracker``); while Tune runs,
  ``studies.raywatch`` watches the driver's own raylet and GCS;
- loggers: Tune's CSV and JSON loggers (``result.json``, what the analysis reads; ``studies.trial_logs``: without
  the copy that loses a restarted trial's rows) and ``StudyTensorBoard``
  (``studies.tensorboard``: every trial a run on the generator-step axis, the primary metric first, the factors and
  the seed as HParams) instead of Tune's TensorBoard logger; ``tensorboard --logdir <experiment>`` shows the study;
- ``FailureConfig(max_failures)``: a crashed trial restarts from its latest checkpoint;
  ``CheckpointConfig(num_to_keep=2)``: the newest two checkpoints of each trial are kept;
- ``Tuner.restore(..., resume_unfinished=True, resume_errored=True)`` for ``--resume``: finished trials are not
  run again, the others continue from their checkpoints;
- the grid over chunks of seeds where trials host populations (``--members-per-trial``, ``studies.members``:
  decided once Ray is up, because ``auto`` depends on whether the trials get a GPU);
- the grid in ``StudySpec.run_order``: the costliest variants first (``gan_core.cost``), so that the slowest
  trials do not start last and run alone while the other workers idle;
- ``reuse_actors=True``: a finished trial's worker process takes the next trial (same resources), so torch,
  the project and the dataset are imported and loaded once per worker, not once per trial (what that saves:
  benchmarks/RESULTS.md, "Worker reuse"). Nothing carries over between trials: the
  trainer seeds everything it uses and rebuilds data, networks and optimizers from the config;
- ``StorageGuard`` (a callback): a local storage path running out of room stops the study in time, resumable,
  with one line and exit 1; a storage path that stops taking writes (read-only, gone) is reported the same way
  once the trials fail (``StudyStorageError``);
- ``RunConfig(verbose=0)`` and ``studies.progress.StudyProgress``: one line of the study's progress (trials done,
  running, pending, failed; elapsed; time left from the cost model) instead of Ray's tables, which
  ``--ray-output`` brings back (``verbose=1``: variant, seed and changed keys as columns, the primary metric,
  g_steps and losses first, see ``trainable.ordered_metrics``); trial output stays out of the terminal unless
  ``--worker-logs``.

The experiment directory is ``<storage_path>/<name>``; ``name`` defaults to the study name (``<study>_smoke``
for smoke tests) so that ``--resume`` finds it without a timestamp to remember. Starting a study where one
already exists is refused (pass ``--resume`` or another ``--name``): two runs in one directory would mix.

A resume runs what the study stored (``studies.resume``: the stored command, and the stored design checked).

Exit codes (``StudyRun.exit_code``): 0 every trial finished; 1 a trial failed after all its restarts, the
storage stopped taking data, or the cluster could not run the study (no node came up, Ray died); 2 bad input;
130 interrupted (Ctrl+C, SIGTERM, SIGHUP), read from the experiment state Ray saved (``unfinished_trials``), with the
``--resume`` command as the summary's last line.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Sequence

import ray
from ray import tune

from studies import space as space_mod
from studies.capacity import check_cluster, check_memory, check_resources, check_trial_count, cluster_offers
from studies.cli import (GPUS_AUTO, StudyClusterError, StudyInputError, StudyInterrupted, default_name,
                         parse_overrides, resume_command, sigterm_as_ctrl_c)
from studies.connect import check_address, connect
from studies.console import print_published, print_summary
from studies.lock import study_lock
from studies.preflight import preflight
from studies.progress import StudyProgress, TrialCost, quiet_ray
from studies.raywatch import watch_ray
from studies.resume import check_design, design_record
from studies.tracker import tracker_callbacks
from studies.watchdog import STALLED, StudyWatchdog, configure as configure_watchdog
from studies.members import AUTO, spec_members
from studies.experiment_dir import (ExperimentDir, check_writable, damaged_state, experiment_exists, has_file, locate,
                                    read_study_json, study_json, trial_dirname, unfinished_trials, write_bytes,
                                    write_study_report, write_text)
from studies.tensorboard import (HPARAMS_FILE, StudyTensorBoard, event_file, experiment_summary, metric_tags,
                                 ray_tensorboard_off, study_hparams)
from studies.storage import STORAGE_PROBLEMS, StorageGuard, raise_if_storage_problem
from studies.spec import StudyRun, StudySpec, gan_trial_cost, resolve_base
from studies.trial_logs import TrialCSVLogger, TrialJsonLogger

# (StudySpec, StudyRun, resolve_base and gan_trial_cost live in studies.spec; the study scripts import them here)
__all__ = ["StudySpec", "StudyRun", "run_study", "resolve_base", "gan_trial_cost"]

# What tuner.fit raises when Ray's own processes die under the driver (the raylet, the GCS): the study ends with its
# one line and --resume command instead of Ray's traceback.
RAY_FAILURES = (ray.exceptions.RayError, ConnectionError)  # (a trial's own failure is Tune's: it never reaches fit)

CHECKPOINTS_TO_KEEP = 2


def run_study(spec: StudySpec, args: argparse.Namespace, callbacks: Sequence[tune.Callback] = (),
              command: Sequence[str] | None = None) -> StudyRun:
    """Validate, connect, run (or resume) the study with Ray Tune, write study.json and the report."""
    # Tune forces an experiment snapshot whenever a trial has saved num_to_keep checkpoints since the last one
    # (that is what makes --resume exact) and warns about it every few seconds: expected here, so not printed.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    loc = locate(args.storage_path, default_name(spec.study, args))
    check_trial_count(spec.n_trials())  # before the configs are built: --seeds 1000000 must not fill the memory
    overridden = space_mod.set_by_the_study(parse_overrides(args.overrides), spec.variants, spec.searched, spec.seeds)
    if overridden:  # (--set seed=5 ran seeds 0, 1, 2 without a word)
        raise StudyInputError(f"--set {overridden[0]}: study {spec.study!r} sets {overridden[0]!r} itself in every "
                              f"trial (its seeds, variants or search); allowed: its own options for it (e.g. --seeds), "
                              f"or --set of a key it shares across trials")
    try:
        trials = spec.design  # built and validated once, before Ray starts
    except ValueError as e:
        raise StudyInputError(str(e)) from None
    if not spec.gan_trials and args.gpus_per_trial not in (GPUS_AUTO, 0.0):
        raise StudyInputError(f"--gpus-per-trial {args.gpus_per_trial:g}: the trials of study {spec.study!r} run on "
                              f"the CPU; allowed: --gpus-per-trial 0 or auto")
    side_by_side = check_resources(args)
    if spec.gan_trials:
        check_memory(trials, side_by_side)
    if args.members_per_trial != AUTO:  # an explicit N that the study cannot host: refused before Ray starts
        members = spec_members(spec, args.members_per_trial, 0.0, side_by_side)
        if members > 1:
            check_memory(spec.trials(members), side_by_side)
    check_writable(loc)
    with study_lock(loc):  # from here to the end: a second driver of this study is refused (studies.lock)
        return _run_locked(spec, args, loc, side_by_side, callbacks,
                           list(command if command is not None else sys.argv))


def _run_locked(spec: StudySpec, args: argparse.Namespace, loc: ExperimentDir, side_by_side: int,
                callbacks: Sequence[tune.Callback], command: list[str]) -> StudyRun:
    exists = experiment_exists(loc)
    if args.resume and not exists:
        raise StudyInputError(f"--resume: no study to resume at {loc.experiment_path!r}; allowed: the "
                              f"--storage-path and --name of a study that was started before")
    if not args.resume and exists:
        raise StudyInputError(f"a study already exists at {loc.experiment_path!r}: pass --resume to continue it, "
                              f"or another --name")
    damaged = damaged_state(loc) if args.resume else None
    if damaged is not None:
        raise StudyInputError(f"--resume: {damaged}; allowed: a study whose experiment state is complete (run "
                              f"this one again under another --name)")
    design = design_record(spec, args.inception_fid)
    if args.resume:
        stored = read_study_json(loc)
        if "design" not in stored:
            raise StudyInputError(f"--resume: the study.json of {loc.experiment_path!r} holds no design; allowed: a "
                                  f"study started by this version of gan-study")
        check_design(loc, stored["design"], design)
    check_address(args.address)  # before the evaluator, which may take minutes the first time
    tracker = tracker_callbacks(args, loc, spec.study, spec.gan_trials)  # (a resume: Ray restores its own)
    evaluator, metric, mode = _evaluator(spec, args.inception_fid)
    started_ray = connect(args.address, args.worker_logs)
    resume = resume_command(command)
    stalled = ""
    try:
        if spec.gan_trials:
            gpus, why, offers = check_cluster(args, node_types=not started_ray)  # (a local Ray has no autoscaler)
        else:
            gpus, why, offers = 0.0, "the trials run on the CPU", cluster_offers(node_types=False)
        preflight(loc, args.cpus_per_trial, gpus, offers, args.allow_cpu_fallback, args.start_timeout)
        members = spec_members(spec, args.members_per_trial, gpus, side_by_side)
        if members > 1 and args.members_per_trial == AUTO:  # (an explicit N was checked before Ray started)
            check_memory(spec.trials(members), side_by_side)
        parameters = {"cpu_fallback": args.allow_cpu_fallback, **({} if evaluator is None else
                                                                   {"evaluator": evaluator})}
        trainable = tune.with_parameters(spec.trainable, **parameters)
        trainable = tune.with_resources(trainable, {"cpu": args.cpus_per_trial, "gpu": gpus})
        configure_watchdog(args.start_timeout, args.trial_timeout)
        quality = list(evaluator.metric_modes) if evaluator is not None else [metric]  # the metrics of HParams
        reported = list(evaluator.metric_keys) if evaluator is not None else [metric]  # every quality metric
        hparams = study_hparams(spec.base, spec.variants, spec.seeds, spec.searched, spec.factors)
        ours = not args.resume or has_file(loc, HPARAMS_FILE)  # (a study started before keeps Tune's loggers)
        if args.resume:
            print(f"Resuming {loc.experiment_path} ...", flush=True)
            tuner = tune.Tuner.restore(loc.experiment_path, trainable=trainable, resume_unfinished=True,
                                       resume_errored=True)
        else:
            hosted = f" of up to {members} seeds (a population)" if members > 1 else ""
            print(f"Study {spec.study}: {spec.n_trials(members)} trials{hosted}, "
                  f"{args.cpus_per_trial} CPU + {gpus:g} GPU each ({why}) -> {loc.experiment_path}", flush=True)
            progress = [] if args.ray_output else [
                StudyProgress(spec.study, spec.n_trials(members), TrialCost(spec.variant_costs()))]
            tuner = _new_tuner(spec, args, loc, trainable, metric, mode,
                               [StorageGuard(), StudyWatchdog(), *progress, *callbacks, *tracker, TrialCSVLogger(),
                                TrialJsonLogger(), StudyTensorBoard(metric, reported, [h.name for h in hparams])],
                               members)
        if ours:
            print(f"TensorBoard: tensorboard --logdir {loc.experiment_path}", flush=True)
        try:
            if not args.resume:
                write_text(loc, "study.json", study_json(
                    spec.study, metric, mode, spec.baseline_variant, spec.variants, spec.factors, spec.baseline,
                    command, spec.search, spec.published,
                    evaluator.metric_modes if evaluator is not None else {metric: mode}, members, design))
                write_bytes(loc, HPARAMS_FILE, event_file([experiment_summary(hparams, metric_tags(metric, quality))]))
            with sigterm_as_ctrl_c(), watch_ray(spec.study, resume, started_ray), quiet_ray(args.ray_output), \
                    ray_tensorboard_off(ours):
                grid = tuner.fit()
        except KeyboardInterrupt:  # a second Ctrl+C: Ray stops without its state save; the last snapshot stays
            raise StudyInterrupted(f"interrupted; continue with: {resume}") from None
        except RAY_FAILURES as e:  # Ray's own processes died under the driver (raylet, GCS)
            raise_if_storage_problem(loc)
            raise StudyClusterError(f"Ray failed under the study ({type(e).__name__}: {_first_line(e)}); what was "
                                    f"saved stays: continue with: {resume}") from None
        except Exception:
            raise_if_storage_problem(loc)  # Ray fails in its own words (often reading a file it could not write)
            raise
        if grid.num_terminated < len(grid) or loc.experiment_path in STORAGE_PROBLEMS:
            raise_if_storage_problem(loc)  # (counted by status: a trial's error file may not have been written)
        stalled = STALLED.pop("reason", "")
        reports = write_study_report(loc, grid)
    finally:
        if started_ray:
            ray.shutdown()
    run = StudyRun(loc, grid, reports, len(grid.errors), metric, mode,
                   unfinished=unfinished_trials(loc), resume=resume, stalled=stalled)
    print_summary(run)
    if spec.published:
        print_published(loc)
    return run


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[0][:300]


def _evaluator(spec: StudySpec, inception: bool = False) -> tuple[Any, str, str]:
    """(evaluator or None, primary metric, mode): built once here, shared by every trial; ``inception`` adds the
    Inception FID (--inception-fid)."""
    if spec.evaluator_config is None:
        if spec.metric is None or spec.mode is None:
            raise ValueError(f"study {spec.study!r} has neither an evaluator nor a metric and mode")
        if inception:
            raise StudyInputError(f"--inception-fid: study {spec.study!r} scores no images; allowed: without it")
        return None, spec.metric, spec.mode
    from gan_core.data import DatasetUnavailableError
    from gan_core.metrics import build_evaluator

    print(f"Preparing the evaluator for {spec.evaluator_config.dataset} (once, in the driver) ...", flush=True)
    try:
        options = {**spec.evaluator_options, **({"inception": True} if inception else {})}
        evaluator = build_evaluator(spec.evaluator_config, cache_dir=None, device="cpu", **options)
    except (DatasetUnavailableError, ValueError) as e:  # the dataset, or an evaluator option that cannot be met
        raise StudyInputError(str(e)) from None
    return evaluator, evaluator.primary_metric, evaluator.mode


def _new_tuner(spec: StudySpec, args: argparse.Namespace, loc: ExperimentDir, trainable: Any, metric: str, mode: str,
               callbacks: Sequence[tune.Callback], members: int) -> tune.Tuner:
    tune_config = tune.TuneConfig(
        metric=metric,
        mode=mode,
        search_alg=spec.make_searcher(loc) if spec.make_searcher is not None else None,
        scheduler=spec.make_scheduler() if spec.make_scheduler is not None else None,
        num_samples=spec.num_samples,
        trial_dirname_creator=trial_dirname,
        reuse_actors=True,
    )
    run_config = tune.RunConfig(
        name=loc.name,
        storage_path=loc.storage_path,
        failure_config=tune.FailureConfig(max_failures=args.max_failures),
        checkpoint_config=tune.CheckpointConfig(num_to_keep=CHECKPOINTS_TO_KEEP),
        sync_config=tune.SyncConfig(sync_artifacts=True),  # the trials' TensorBoard samples (trainable.SampleWriter)
        verbose=1 if args.ray_output else 0,  # Ray's tables, or only the study's progress line (studies.progress)
        callbacks=list(callbacks) or None,
    )
    return tune.Tuner(trainable, param_space=spec.param_space(members), tune_config=tune_config,
                      run_config=run_config)

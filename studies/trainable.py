"""The Ray Tune function trainables: a GAN trial (``train_gan``) and a theory-check trial (``check_theory``).

A trial config is what ``studies.trial.StudyTrial.tune_config`` made: a flat GANConfig dict plus the variant (and a
population's seeds). The trainable reads it back as that trial (``StudyTrial.from_tune``) and builds its GANConfig
strictly, so a trial can only run what its ``params.json`` says.

Every metrics dict the trainer yields is reported with a checkpoint holding the complete training state
(``state.pt``); a restarted trial (worker crash, node loss, ``--resume``) loads the latest one and continues the
step counter from there, so no finished step is run twice. A checkpoint that cannot be read (truncated,
overwritten) is skipped, not retried: the trial says so on stderr and continues from the newest older checkpoint
that loads (``restore``), losing only the steps in between, or from the start when none does. A diverged run is a
result: its last report has status "diverged" (and, from the trainer, NaN for every quality metric and stability
"diverged"), and the trainable returns normally. Each report carries the trial's stability so far, computed by the
trainer, so the last report of a trial that a scheduler stopped early carries it too.

A population trial (several seeds of one variant, ``studies.members``) does the same for
every member at once: one report holds each member's metrics, one checkpoint each member's state, so that the
analysis still sees one result per seed.
"""
from __future__ import annotations

import math
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

import pyarrow.fs as pafs
import ray
from ray import tune

from gan_core.checkpoint import STATE_FILE, UnreadableCheckpoint
from gan_core.config import GANConfig
from gan_core.plots import sample_image
from gan_core.population import Population, member_folder
from gan_core.trainer import Trainer
from studies.trial import MEMBERS_KEY, StudyTrial

SAMPLE_IMAGES, SAMPLE_POINTS = 64, 2500  # what the picture of a report shows
SAMPLES = "samples"  # the pictures' TensorBoard tag, and their folder (a population member's: samples/seed_<s>)
PICTURE_NAME = "g_steps_{:06d}.png"  # a picture's file in that folder

# Reported first, so that Ray's progress table (which shows the first numeric metrics of a result) shows them.
_LEADING = ("g_steps", "d_loss", "g_loss")


class GPUUnusable(RuntimeError):
    """Ray gave this trial a GPU that torch cannot use (``gan_core.gpu.cuda_problem`` says why)."""


def trial_device(cpu_fallback: bool = False) -> str:
    """'cuda' when Ray gave this trial a GPU, 'cpu' when it gave none.

    A GPU that torch cannot use (a driver too old for torch's CUDA build, a fake GPU in tests) fails the trial with
    ``GPUUnusable``, one line naming torch's build and the driver: a trial that holds a GPU and trains on one CPU core
    would cost the GPU's price for hours while looking healthy. ``cpu_fallback`` (``--allow-cpu-fallback``, for
    tests with fake GPUs) trains such a trial on the CPU instead, by the user's explicit choice."""
    if not ray.get_gpu_ids():
        return "cpu"
    from gan_core.gpu import cuda_problem

    problem = cuda_problem()
    if problem is None:
        return "cuda"
    if cpu_fallback:
        return "cpu"
    raise GPUUnusable(f"this trial was given a GPU, and {problem} (or --allow-cpu-fallback to train on the CPU)")


def where_am_i(device: str, precision: str | None = None) -> dict[str, str]:
    """The node, the device and, for a GAN trial, the precision a report came from (``compute_precision``: config
    key ``precision`` as the trainer resolved it, "auto" decided): lets a study show where and how its trials ran."""
    place = {"node_id": ray.get_runtime_context().get_node_id(), "device": device}
    return place if precision is None else {**place, "compute_precision": precision}


def ordered_metrics(metrics: Mapping[str, Any], primary: str | None) -> dict[str, Any]:
    """The primary metric first, then the step counter and losses, then the rest (for Ray's progress table)."""
    head = ([primary] if primary is not None else []) + [k for k in _LEADING if k != primary]
    out = {k: metrics[k] for k in head}
    out.update(metrics)
    return out


def train_gan(config: dict[str, Any], evaluator: Any = None, cpu_fallback: bool = False) -> None:
    """One GAN trial: report every metrics dict of ``Trainer.run`` with a checkpoint; resume from the latest. A
    population trial (several seeds, ``studies.members``) goes to ``train_population``.
    ``cpu_fallback``: see ``trial_device``."""
    trial = StudyTrial.from_tune(config)
    if trial.population:
        train_population(trial, evaluator, cpu_fallback)
        return
    cfg = GANConfig.from_flat(dict(trial.config))
    device = trial_device(cpu_fallback)
    trainer = Trainer(cfg, evaluator=evaluator, device=device)
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        restore(lambda folder: trainer.load(folder / STATE_FILE), checkpoint)
    primary = evaluator.primary_metric if evaluator is not None else None
    place = where_am_i(device, trainer.precision)
    with SampleWriter(cfg) as samples:
        for metrics in trainer.run():
            samples.write(trainer.sample, metrics["g_steps"], recalibrate=evaluator is None)
            with tempfile.TemporaryDirectory(prefix="gan-ckpt-") as d:
                trainer.save(Path(d) / STATE_FILE)
                tune.report({**ordered_metrics(metrics, primary), **place},
                            checkpoint=tune.Checkpoint.from_directory(d))


def train_population(trial: StudyTrial, evaluator: Any = None, cpu_fallback: bool = False) -> None:
    """A population trial: the seeds of ``trial`` trained together (``gan_core.population``), each
    member exactly as its solo trial would be. Each report holds every member's metrics under ``members``
    (``population_report``) and its checkpoint every member's state (``seed_<s>/state.pt``); a restarted trial
    loads the population from the latest checkpoint that loads, as a solo trial does."""
    cfg = GANConfig.from_flat(dict(trial.config))
    device = trial_device(cpu_fallback)
    population = Population(cfg, list(trial.seeds), evaluator=evaluator, device=device)
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        restore(population.load, checkpoint)
    primary = evaluator.primary_metric if evaluator is not None else None
    place = where_am_i(device, population.members[0].precision)
    with SampleWriter(cfg) as samples:
        for reports in population.run():
            for seed, metrics in reports.items():
                samples.write(population.member(seed).sample, metrics["g_steps"], recalibrate=evaluator is None,
                              run=member_folder(seed))
            with tempfile.TemporaryDirectory(prefix="gan-ckpt-") as d:
                population.save(d)
                tune.report({**population_report(reports, primary, population.g_steps), **place},
                            checkpoint=tune.Checkpoint.from_directory(d))


def population_report(reports: Mapping[int, Mapping[str, Any]], primary: str | None,
                      g_steps: int) -> dict[str, Any]:
    """What a population trial reports to Tune: every member's metrics under ``members`` (``seed_<s>`` -> its
    metrics, only the members that reported: a member frozen earlier reported its last), and for Tune's own
    bookkeeping and progress table the population's step, how many members reported, and the mean of their
    finite primary metric (NaN when none is finite). The analysis reads the members, not the mean."""
    out: dict[str, Any] = {}
    if primary is not None:
        values = [float(m[primary]) for m in reports.values()
                  if isinstance(m[primary], (int, float)) and math.isfinite(m[primary])]
        out[primary] = sum(values) / len(values) if values else math.nan
    out.update({"g_steps": g_steps, "members_reporting": len(reports),
                MEMBERS_KEY: {member_folder(seed): dict(m) for seed, m in reports.items()}})
    return out


class SampleWriter:
    """The trial's samples at every report: the picture of G's samples from the fixed evaluation noise
    (``gan_core.plots.sample_image``: an 8 x 8 grid of images, or the density of 2,500 points over the true modes;
    nothing for 1D points), step g_steps, the step of the scalars (``studies.tensorboard``); in TensorBoard, tag
    "samples", and as a PNG file ``samples/g_steps_<NNNNNN>.png`` (``picture_file``). A population member's go to
    its own run, ``seed_<s>/`` in the trial's folder, as its scalars do, and its PNGs to ``samples/seed_<s>/``.

    Both go into the trial's working directory, which Ray copies into the trial folder at each checkpoint
    (``SyncConfig(sync_artifacts=True)``, set by the runner), so that ``tensorboard --logdir <experiment>`` shows
    them on every storage. That directory is the trial's current directory (Ray changes to it for every trial,
    unless ``RAY_CHDIR_TO_TRIAL_DIR=0``); ``tune.get_context().get_trial_dir()`` names it only in a reused worker:
    in a new worker it names the driver's staging folder, which only the driver copies (on another node: never;
    on the driver's node: after the reports).

    Why the PNG too: tensorboardX writes its events from a queue, in a thread of its own, and its flush does not
    wait for that queue, so the copy made at a report may lack that report's picture (a later copy brings it); the
    PNG is written before the report, so the trial folder holds it when the driver gets the report (what
    ``--tracker mlflow`` logs, ``studies.mlflow_logger``), and it opens without TensorBoard. A picture costs one
    forward pass of G: the evaluation before it has just recalibrated G's BatchNorm."""

    def __init__(self, cfg: GANConfig):
        self.cfg = cfg
        self.n = SAMPLE_IMAGES if cfg.is_image else SAMPLE_POINTS
        self.enabled = cfg.is_image or cfg.data_dim == 2
        self.folder = Path.cwd()  # the trial's working directory (see above)
        self.writers: dict[str, Any] = {}  # run (folder in the trial's) -> its writer

    def write(self, sample: Callable[..., Any], g_steps: int, recalibrate: bool, run: str = "") -> None:
        """``sample(n, recalibrate=...)`` (a Trainer's or a population member's) drawn and written to ``run``."""
        if not self.enabled:
            return
        from torchvision.utils import save_image

        if run not in self.writers:
            from tensorboardX import SummaryWriter

            self.writers[run] = SummaryWriter(str(self.folder / run), filename_suffix=".samples")  # ("": the trial's)
        picture = sample_image(sample(self.n, recalibrate=recalibrate), self.cfg)
        self.writers[run].add_image(SAMPLES, picture, global_step=g_steps)
        self.writers[run].flush()
        path = self.folder / picture_file(f"{SAMPLES}/{run}" if run else SAMPLES, g_steps)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(picture, path)

    def __enter__(self) -> "SampleWriter":
        return self

    def __exit__(self, *exc) -> None:
        for writer in self.writers.values():
            writer.close()


def picture_file(tag: str, g_steps: int) -> str:
    """The PNG of a report's picture in the trial folder: ``samples/g_steps_000040.png`` (a population member's:
    ``samples/seed_<s>/g_steps_000040.png``)."""
    return f"{tag}/{PICTURE_NAME.format(g_steps)}"


_CHECKPOINT_DIR = re.compile(r"^checkpoint_(\d+)$")


def restore(load: Callable[[Path], None], checkpoint: tune.Checkpoint) -> None:
    """``load(folder)`` the folder of ``checkpoint`` (a Trainer's ``state.pt``, or a population's members); if it
    is unreadable, the newest older checkpoint of the trial that is readable (each skip said on stderr), or none:
    the trial then starts again from step 0 (``load`` must leave its target as it was when it raises
    ``UnreadableCheckpoint``, as ``Trainer.load`` and ``Population.load`` do).

    Why: Ray restores a trial from its latest checkpoint only, so a damaged one would be loaded again at every
    restart until max_failures ran out, and the study could never finish, although an older checkpoint (Ray keeps
    ``CHECKPOINTS_TO_KEEP``) holds a valid state. A readable state of another config or device is not skipped: no
    older checkpoint of the same trial would differ, and that error is the user's to see.
    """
    for candidate in [checkpoint, *_older_checkpoints(checkpoint)]:
        try:
            with candidate.as_directory() as d:
                load(Path(d))
            return
        except UnreadableCheckpoint as e:
            print(f"skipping a damaged checkpoint: {e}", file=sys.stderr, flush=True)
    print("no checkpoint of this trial loads: it starts again from step 0", file=sys.stderr, flush=True)


def _older_checkpoints(checkpoint: tune.Checkpoint) -> list[tune.Checkpoint]:
    """The trial's other ``checkpoint_NNNNNN`` folders older than ``checkpoint``, newest first."""
    parent, _, name = checkpoint.path.rstrip("/").rpartition("/")
    m = _CHECKPOINT_DIR.match(name)
    if m is None:
        return []
    found = checkpoint.filesystem.get_file_info(pafs.FileSelector(parent, allow_not_found=True))
    older = sorted(((int(g.group(1)), i.path) for i in found if i.type == pafs.FileType.Directory
                    and (g := _CHECKPOINT_DIR.match(i.base_name)) and int(g.group(1)) < int(m.group(1))),
                   reverse=True)
    return [tune.Checkpoint(path, filesystem=checkpoint.filesystem) for _, path in older]


# ------------------------------------------------------------------------------------------------ theory check
THEORY_KEYS = ("mu_g", "sigma_g", "steps", "seed")


def theory_config(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Strict check of a theory trial's config: exactly THEORY_KEYS, with valid values; ValueError otherwise."""
    unknown = sorted(set(flat) - set(THEORY_KEYS))
    if unknown:
        raise ValueError(f"unknown theory config key {unknown[0]!r}; allowed keys: {', '.join(THEORY_KEYS)}")
    missing = [k for k in THEORY_KEYS if k not in flat]
    if missing:
        raise ValueError(f"theory config lacks key {missing[0]!r}; required keys: {', '.join(THEORY_KEYS)}")
    mu, sigma, steps, seed = (flat[k] for k in THEORY_KEYS)
    if isinstance(mu, bool) or not isinstance(mu, (int, float)) or not math.isfinite(mu):
        raise ValueError(f"theory config key 'mu_g' = {mu!r} is not allowed; allowed: a finite number")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"theory config key 'sigma_g' = {sigma!r} is not allowed; allowed: a finite number > 0")
    for key, v, low in (("steps", steps, 1), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ValueError(f"theory config key {key!r} = {v!r} is not allowed; allowed: an integer >= {low}")
    return {"mu_g": float(mu), "sigma_g": float(sigma), "steps": int(steps), "seed": int(seed)}


def check_theory(config: dict[str, Any], cpu_fallback: bool = False) -> None:
    """One theory trial: train D to optimality against a fixed p_g and report how close it is to D*."""
    from gan_core.metrics.theory import check_optimal_discriminator

    kwargs = theory_config(dict(StudyTrial.from_tune(config).config))
    result = check_optimal_discriminator(**kwargs)
    tune.report({**result, **where_am_i("cpu")})

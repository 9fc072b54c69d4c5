"""The study in TensorBoard as its users expect it: ``tensorboard --logdir <experiment>`` shows every trial as a run,
its scalars and its sample pictures on one step axis (generator steps, ``g_steps``), the primary metric and the
losses first, and the study's factors and seed in the HParams tab.

What is written, and where (the layout TensorBoard's HParams plugin documents: the experiment in the root run, one
session per run):
- ``<experiment>/events.out.tfevents.study.hparams`` (``write_hparams_config``, by the runner before the trials
  start): the HParams experiment, i.e. the hyperparameters with their domains (``study_hparams``: the variant,
  every key a variant changes or the search chooses, the seed) and the metrics (the study's quality metrics, under
  their scalar tags);
- each trial's folder (a population trial: ``seed_<s>/`` in it for each member, a run of its own): the scalars of
  every report at step ``g_steps`` (``StudyTensorBoard``, a Tune logger callback on the driver; Ray copies its
  folder to the storage path with the experiment state), the session's hyperparameter values when it starts and its
  status when it ends; and the sample pictures, at the same steps (``studies.trainable.SampleWriter``, in the
  trial).

Tags are grouped and numbered so that TensorBoard, which sorts groups by name, shows the answer first:
``1_quality/<primary metric>``, ``2_losses/...``, ``3_metrics/<the other quality metrics>``, then the
discriminator's outputs and the gradients, stability, cost, other numbers, and Ray's own counters last under
``9_ray/``; Ray's bookkeeping (done, should_checkpoint, timestamps, ...) is not plotted.

Why not Ray's ``TBXLoggerCallback``: it plots against Ray's iteration count, puts every key under ``ray/tune/``
(bookkeeping included, alphabetically), and records as HParams only the values Ray's grid chose (the variant, not
what the variant changes, nor a population member's seed). The runner turns Ray's default one off
(``ray_tensorboard_off``) and passes Ray's CSV and JSON loggers itself.
"""
from __future__ import annotations

import contextlib
import math
import os
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from ray.tune.logger import LoggerCallback
from ray.tune.search.sample import Categorical, Domain, Float, Integer

from studies.trial import MEMBERS_KEY as MEMBERS, StudyTrial

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

HPARAMS_FILE = "events.out.tfevents.study.hparams"  # in the experiment folder: the root run of TensorBoard
STEP = "g_steps"        # the step axis of every scalar and picture of a GAN trial

PRIMARY_GROUP = "1_quality"
GROUPS = {  # group -> the trainer's keys in it (the quality metrics are the evaluator's: see ``tag``)
    "2_losses": ("d_loss", "g_loss", "d_loss_real", "d_loss_fake", "value"),
    "4_discriminator": ("d_real", "d_fake"),
    "5_gradients": ("grad_norm_d", "grad_norm_g"),
    "6_stability": ("steps_to_90pct", "oscillation", "final_best_gap"),
    "7_cost": ("d_steps", "train_time_s", "eval_time_s", "flops"),
}
OTHER_QUALITY_GROUP, OTHER_GROUP, RAY_GROUP = "3_metrics", "8_other", "9_ray"
RAY_SHOWN = ("time_total_s", "training_iteration")  # Ray's counters worth a curve, last
RAY_HIDDEN = frozenset({  # Ray's bookkeeping and the report's non-metrics: not plotted
    STEP, MEMBERS, "done", "should_checkpoint", "timestamp", "time_this_iter_s", "time_since_restore",
    "iterations_since_restore", "pid", "trial_id", "date", "hostname", "node_ip", "experiment_tag",
    "checkpoint_dir_name", "config", "members_reporting", "node_id", "device", "status", "stability",
    "stability_reason"})
_GROUP_OF = {key: group for group, keys in GROUPS.items() for key in keys}


def tag(key: str, primary: str, quality: Sequence[str]) -> str | None:
    """The TensorBoard tag of a reported key, or None for a key that is not plotted."""
    if key == primary:
        return f"{PRIMARY_GROUP}/{key}"
    if key in RAY_HIDDEN:
        return None
    if key in quality:
        return f"{OTHER_QUALITY_GROUP}/{key}"
    if key in _GROUP_OF:
        return f"{_GROUP_OF[key]}/{key}"
    if key in RAY_SHOWN:
        return f"{RAY_GROUP}/{key}"
    return f"{OTHER_GROUP}/{key}"


def scalars(result: Mapping[str, Any], primary: str, quality: Sequence[str]) -> dict[str, float]:
    """tag -> value of every finite number of a report (booleans are not numbers here)."""
    out = {}
    for key, value in result.items():
        name = tag(key, primary, quality)
        if name is not None and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and math.isfinite(value):
            out[name] = float(value)
    return out


# ------------------------------------------------------------------------------------------------------ HParams
@dataclass(frozen=True)
class HParam:
    """One hyperparameter of the HParams tab: its name (the config key), its values (a discrete domain) or its
    interval (a searched number)."""

    name: str
    values: tuple[Any, ...] = ()
    interval: tuple[float, float] | None = None


def _scalar(value: Any) -> Any:
    return value if isinstance(value, (str, bool, int, float)) else str(value)


def study_hparams(base: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]], seeds: Sequence[int],
                  searched: Mapping[str, Domain], factors: Sequence[str] | None) -> list[HParam]:
    """What the study varies, in its order: the variant (when there are several), each factor and each key a
    variant changes (its values over the variants), each searched key (its interval or categories), the seed.
    (TensorBoard's HParams table sorts the columns by name whatever the order written.)"""
    out: list[HParam] = []
    if len(variants) > 1 or "variant" in (factors or ()):
        out.append(HParam("variant", tuple(variants)))
    changed = [k for k in (factors or ()) if k not in ("variant", "seed")]
    changed += [k for ch in variants.values() for k in ch if k not in changed]
    for key in changed:
        if key in searched:
            continue
        values = [_scalar(ch.get(key, base.get(key))) for ch in variants.values()]
        out.append(HParam(key, tuple(dict.fromkeys(v for v in values if v is not None))))
    for key, domain in searched.items():
        if isinstance(domain, Categorical):
            out.append(HParam(key, tuple(_scalar(c) for c in domain.categories)))
        elif isinstance(domain, (Float, Integer)):
            out.append(HParam(key, interval=(float(domain.lower), float(domain.upper))))
    out.append(HParam("seed", tuple(seeds) if seeds else ((base["seed"],) if "seed" in base else ())))
    return out


def _value(v: Any) -> Any:
    """A google.protobuf Value of a hyperparameter's value."""
    from google.protobuf.struct_pb2 import Value

    if isinstance(v, bool):
        return Value(bool_value=v)
    if isinstance(v, (int, float)):
        return Value(number_value=float(v))
    return Value(string_value=str(v))


def _hparams_summary(tag_name: str, **data: Any) -> Any:
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata

    content = HParamsPluginData(version=0, **data).SerializeToString()
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="hparams", content=content))
    return Summary(value=[Summary.Value(tag=tag_name, metadata=meta)])


def experiment_summary(hparams: Sequence[HParam], metric_tags: Sequence[str]) -> Any:
    """The HParams plugin's experiment: each hyperparameter with its type and domain, each metric by its tag."""
    from google.protobuf.struct_pb2 import ListValue
    from tensorboardX.proto.api_pb2 import DataType, Experiment, HParamInfo, Interval, MetricInfo, MetricName

    infos = []
    for hp in hparams:
        kinds = {type(v) for v in hp.values}
        kind = ("DATA_TYPE_FLOAT64" if hp.interval is not None or kinds <= {int, float} and kinds else
                "DATA_TYPE_BOOL" if kinds == {bool} else "DATA_TYPE_STRING")
        info = HParamInfo(name=hp.name, type=DataType.Value(kind))
        if hp.interval is not None:
            info.domain_interval.CopyFrom(Interval(min_value=hp.interval[0], max_value=hp.interval[1]))
        elif hp.values:
            values = hp.values if kind != "DATA_TYPE_STRING" else tuple(str(v) for v in hp.values)
            info.domain_discrete.CopyFrom(ListValue(values=[_value(v) for v in values]))
        infos.append(info)
    metrics = [MetricInfo(name=MetricName(tag=t), display_name=t.split("/", 1)[-1]) for t in metric_tags]
    exp = Experiment(hparam_infos=infos, metric_infos=metrics, time_created_secs=time.time())
    return _hparams_summary("_hparams_/experiment", experiment=exp)


def _record(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the data, its masked CRC (what TensorBoard reads)."""
    from tensorboardX.record_writer import masked_crc32c

    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


def event_file(summaries: Sequence[Any]) -> bytes:
    """The bytes of an event file holding ``summaries`` (after the file-version event every event file starts with)."""
    from tensorboardX.proto.event_pb2 import Event

    now = time.time()
    events = [Event(wall_time=now, file_version="brain.Event:2")]
    events += [Event(wall_time=now, step=0, summary=s) for s in summaries]
    return b"".join(_record(e.SerializeToString()) for e in events)


def metric_tags(primary: str, quality: Sequence[str]) -> list[str]:
    """The HParams metrics: the primary metric's tag first, then the other quality metrics'."""
    return [tag(primary, primary, quality)] + [tag(m, primary, quality) for m in quality if m != primary]


# ------------------------------------------------------------------------------------------------ the callback
def member_runs(config: Mapping[str, Any]) -> dict[str, int]:
    """Run (folder relative to the trial's) -> its seed: one per member of a population trial, else the trial's."""
    trial = StudyTrial.from_tune(config)
    if trial.population:
        from gan_core.population import member_folder

        return {member_folder(s): s for s in trial.seeds}
    return {"": trial.seeds[0]}


class StudyTensorBoard(LoggerCallback):
    """Writes each trial's reports to TensorBoard: scalars at step ``g_steps`` under ordered tags (``tag``), the
    session's hyperparameters (``hparams``, their values from the trial's config) at its start and its status at its
    end. A population trial writes one run per member (``seed_<s>/``), with that member's seed."""

    def __init__(self, primary: str, quality: Sequence[str], hparams: Sequence[str]):
        self.primary = primary
        self.quality = tuple(quality)
        self.hparams = tuple(hparams)
        self._writers: dict[Any, dict[str, Any]] = {}

    # Tune pickles its callbacks with the experiment (tuner.pkl): open writers stay out of it.
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_writers": {}}

    def _open(self, trial: "Trial") -> dict[str, Any]:
        from tensorboardX import SummaryWriter

        self._close(trial)
        trial.init_local_path()
        writers = {}
        for run, seed in member_runs(trial.config).items():
            writer = SummaryWriter(os.path.join(trial.local_path, run), flush_secs=30)
            values = {k: (seed if k == "seed" else trial.config[k]) for k in self.hparams if k in trial.config}
            self._write_session_start(writer, values)
            writers[run] = writer
        self._writers[trial] = writers
        return writers

    @staticmethod
    def _write_session_start(writer: Any, values: Mapping[str, Any]) -> None:
        from tensorboardX.proto.plugin_hparams_pb2 import SessionStartInfo

        info = SessionStartInfo(start_time_secs=time.time())
        for key, v in values.items():
            if v is not None:
                info.hparams[key].CopyFrom(_value(_scalar(v)))
        writer.file_writer.add_summary(_hparams_summary("_hparams_/session_start_info", session_start_info=info))

    def _close(self, trial: "Trial", status: str | None = None) -> None:
        from tensorboardX.proto.api_pb2 import Status
        from tensorboardX.proto.plugin_hparams_pb2 import SessionEndInfo

        for writer in self._writers.pop(trial, {}).values():
            if status is not None:
                info = SessionEndInfo(status=Status.Value(status), end_time_secs=time.time())
                writer.file_writer.add_summary(_hparams_summary("_hparams_/session_end_info", session_end_info=info))
            writer.close()

    def log_trial_start(self, trial: "Trial") -> None:
        self._open(trial)

    def log_trial_result(self, iteration: int, trial: "Trial", result: dict) -> None:
        writers = self._writers.get(trial) or self._open(trial)
        if isinstance(result.get(MEMBERS), dict):
            reports = {run: result[MEMBERS][run] for run in writers if run in result[MEMBERS]}
        else:
            reports = {"": result}
        for run, report in reports.items():
            step = int(report.get(STEP, result.get(STEP, result["training_iteration"])))
            values = scalars(report, self.primary, self.quality)
            for key in RAY_SHOWN:  # Ray's counters are the trial's: each member's run gets them too
                if key in result and key not in report:
                    values.update(scalars({key: result[key]}, self.primary, self.quality))
            for name, value in values.items():
                writers[run].add_scalar(name, value, global_step=step)
            writers[run].flush()

    def log_trial_end(self, trial: "Trial", failed: bool = False) -> None:
        self._close(trial, "STATUS_FAILURE" if failed else "STATUS_SUCCESS")

    def on_experiment_end(self, trials: list["Trial"], **info: Any) -> None:
        for trial in list(self._writers):
            self._close(trial)


@contextlib.contextmanager
def ray_tensorboard_off(ours: bool) -> Iterator[None]:
    """While Tune runs: when the study logs with ``StudyTensorBoard`` (``ours``), Tune adds no logger of its own
    (``TUNE_DISABLE_AUTO_CALLBACK_LOGGERS``: it would add its TBXLoggerCallback, and print a ``tensorboard`` command
    for its local staging copy); a study started before keeps Tune's default loggers."""
    name = "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"
    before = os.environ.get(name)
    if ours:
        os.environ[name] = "1"
    else:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before

"""studies.tensorboard: tags in order, HParams from the study's design, a trial's runs on the g_steps axis."""
from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from studies import k_sweep, lr_search
from studies import tensorboard as tb
from studies.tensorboard import HParam
from tests.conftest import read_events

RING8_QUALITY = ("modes_captured", "high_quality_frac", "reverse_kl", "top_share", "diversity")
# one report of a ring8 trial, as Tune hands it to a logger callback (Ray's keys included)
REPORT = {
    "reverse_kl": 0.5, "g_steps": 20, "d_loss": 1.25, "g_loss": 0.75, "d_steps": 40, "status": "running",
    "d_loss_real": 0.5, "d_loss_fake": 0.75, "value": -1.25, "d_real": 0.6, "d_fake": 0.4, "grad_norm_d": 2.0,
    "grad_norm_g": 3.0, "modes_captured": 6, "high_quality_frac": 0.875, "top_share": 0.25, "diversity": 1.5,
    "stability": "stable", "stability_reason": "", "steps_to_90pct": 10.0, "oscillation": 0.125,
    "final_best_gap": 0.0, "train_time_s": 1.5, "eval_time_s": 0.25, "flops": 1000, "node_id": "abc",
    "device": "cpu", "done": False, "should_checkpoint": True, "training_iteration": 1, "time_total_s": 2.0,
    "time_this_iter_s": 2.0, "time_since_restore": 2.0, "iterations_since_restore": 1, "timestamp": 1700000000,
    "pid": 42, "trial_id": "t0", "date": "2026-01-01", "hostname": "h", "node_ip": "1.2.3.4",
    "experiment_tag": "0", "checkpoint_dir_name": "checkpoint_000000", "config": {"k": 1},
}
TAGS = {
    "1_quality/reverse_kl": 0.5,
    "2_losses/d_loss": 1.25, "2_losses/d_loss_fake": 0.75, "2_losses/d_loss_real": 0.5, "2_losses/g_loss": 0.75,
    "2_losses/value": -1.25,
    "3_metrics/diversity": 1.5, "3_metrics/high_quality_frac": 0.875, "3_metrics/modes_captured": 6.0,
    "3_metrics/top_share": 0.25,
    "4_discriminator/d_fake": 0.4, "4_discriminator/d_real": 0.6,
    "5_gradients/grad_norm_d": 2.0, "5_gradients/grad_norm_g": 3.0,
    "6_stability/final_best_gap": 0.0, "6_stability/oscillation": 0.125, "6_stability/steps_to_90pct": 10.0,
    "7_cost/d_steps": 40.0, "7_cost/eval_time_s": 0.25, "7_cost/flops": 1000.0, "7_cost/train_time_s": 1.5,
    "9_ray/time_total_s": 2.0, "9_ray/training_iteration": 1.0,
}


def test_the_primary_metric_and_the_losses_come_first_and_rays_bookkeeping_is_not_plotted():
    got = tb.scalars(REPORT, "reverse_kl", RING8_QUALITY)
    assert got == pytest.approx(TAGS, rel=1e-7)
    assert sorted(got)[:6] == ["1_quality/reverse_kl", "2_losses/d_loss", "2_losses/d_loss_fake",
                               "2_losses/d_loss_real", "2_losses/g_loss", "2_losses/value"]
    assert sorted(got)[-2:] == ["9_ray/time_total_s", "9_ray/training_iteration"]
    assert tb.tag("anything_new", "reverse_kl", RING8_QUALITY) == "8_other/anything_new"
    # NaN (a diverged report) and booleans are not plotted
    assert tb.scalars({"reverse_kl": math.nan, "d_loss": math.inf, "done": True, "g_loss": 1}, "reverse_kl",
                      RING8_QUALITY) == {"2_losses/g_loss": 1.0}


def test_hparams_are_what_the_study_varies_and_the_seed():
    spec = k_sweep.build_spec(k_sweep.build_parser().parse_args([]))
    assert tb.study_hparams(spec.base, spec.variants, spec.seeds, spec.searched, spec.factors) == [
        HParam("variant", tuple(spec.variants)),
        HParam("k", (1, 2, 3, 5)),
        HParam("g_loss", ("non_saturating", "minimax")),
        HParam("seed", (0, 1, 2)),
    ]
    spec = lr_search.build_spec(lr_search.build_parser().parse_args(["--smoke-test"]))
    assert tb.study_hparams(spec.base, spec.variants, spec.seeds, spec.searched, spec.factors) == [
        HParam("lr_d", interval=(1e-5, 1e-2)), HParam("lr_g", interval=(1e-5, 1e-2)),
        HParam("beta1", interval=(0.0, 0.9)), HParam("seed", (spec.base["seed"],)),
    ]
    # a variant study: the variant, and each key a variant changes with its values over the variants
    variants = {"baseline": {}, "bn_off": {"batchnorm_d": False}, "linear": {"g_output": "linear"}}
    base = {"batchnorm_d": True, "g_output": "tanh", "seed": 0}
    assert tb.study_hparams(base, variants, (0, 1), {}, ["variant"]) == [
        HParam("variant", ("baseline", "bn_off", "linear")), HParam("batchnorm_d", (True, False)),
        HParam("g_output", ("tanh", "linear")), HParam("seed", (0, 1)),
    ]


def _plugin_data(event):
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    (value,) = event.summary.value
    assert value.metadata.plugin_data.plugin_name == "hparams"
    return value.tag, HParamsPluginData.FromString(value.metadata.plugin_data.content)


def test_the_experiment_file_declares_the_hparams_with_their_domains_and_the_metrics(tmp_path):
    from google.protobuf.json_format import MessageToDict

    hparams = [HParam("variant", ("a", "b")), HParam("k", (1, 5)), HParam("bn", (True, False)),
               HParam("lr_d", interval=(1e-5, 1e-2))]
    path = tmp_path / tb.HPARAMS_FILE
    path.write_bytes(tb.event_file([tb.experiment_summary(hparams, tb.metric_tags("fd", ("fd", "cis")))]))
    first, second = read_events([path])
    assert first.file_version == "brain.Event:2"
    name, data = _plugin_data(second)
    assert name == "_hparams_/experiment"
    exp = MessageToDict(data.experiment)
    assert exp["hparamInfos"] == [
        {"name": "variant", "type": "DATA_TYPE_STRING", "domainDiscrete": ["a", "b"]},
        {"name": "k", "type": "DATA_TYPE_FLOAT64", "domainDiscrete": [1.0, 5.0]},
        {"name": "bn", "type": "DATA_TYPE_BOOL", "domainDiscrete": [True, False]},
        {"name": "lr_d", "type": "DATA_TYPE_FLOAT64", "domainInterval": {"minValue": 1e-5, "maxValue": 1e-2}},
    ]
    assert exp["metricInfos"] == [{"name": {"tag": "1_quality/fd"}, "displayName": "fd"},
                                  {"name": {"tag": "3_metrics/cis"}, "displayName": "cis"}]


class FakeTrial:
    """What the callback uses of a Tune Trial: its config and its local folder."""

    def __init__(self, path: Path, config: dict):
        self.local_path, self.config = str(path), config

    def init_local_path(self):
        Path(self.local_path).mkdir(parents=True, exist_ok=True)


def _report(g_steps, fd, **more):
    return {"fd": fd, "g_steps": g_steps, "d_loss": 1.0, "done": False, "training_iteration": g_steps // 10,
            "time_total_s": 0.5, **more}


def _record(path):
    """The scalars {tag: [(step, value)]} and the HParams session (values, status) of one run's folder."""
    from google.protobuf.json_format import MessageToDict

    scalars, start, status = {}, None, None
    for e in read_events(sorted(path.glob("events.out.tfevents.*"))):
        for v in e.summary.value:
            if v.WhichOneof("value") == "simple_value":
                scalars.setdefault(v.tag, []).append((e.step, v.simple_value))
            elif v.metadata.plugin_data.plugin_name == "hparams":
                _, data = _plugin_data(e)
                if data.HasField("session_start_info"):
                    start = MessageToDict(data.session_start_info)["hparams"]
                if data.HasField("session_end_info"):
                    status = MessageToDict(data.session_end_info)["status"]
    return scalars, start, status


def test_a_trial_is_a_run_on_the_g_steps_axis_with_its_session(tmp_path):
    board = tb.StudyTensorBoard("fd", ("fd", "cis"), ["variant", "k", "seed"])
    trial = FakeTrial(tmp_path / "t0", {"variant": "k5", "k": 5, "seed": 3, "lr_d": 0.001})
    board.log_trial_start(trial)
    board.log_trial_result(1, trial, _report(10, 40.0, cis=2.0))
    board.log_trial_result(2, trial, _report(20, 30.0, cis=math.nan))
    board.log_trial_end(trial)
    scalars, start, status = _record(tmp_path / "t0")
    assert scalars == {"1_quality/fd": [(10, 40.0), (20, 30.0)], "2_losses/d_loss": [(10, 1.0), (20, 1.0)],
                       "3_metrics/cis": [(10, 2.0)], "9_ray/time_total_s": [(10, 0.5), (20, 0.5)],
                       "9_ray/training_iteration": [(10, 1.0), (20, 2.0)]}
    assert start == {"variant": "k5", "k": 5.0, "seed": 3.0}
    assert status == "STATUS_SUCCESS"


def test_a_population_trial_is_one_run_per_member_with_its_seed(tmp_path):
    board = tb.StudyTensorBoard("fd", ("fd",), ["variant", "seed"])
    trial = FakeTrial(tmp_path / "pop", {"variant": "base", "members": [0, 1], "seed": 0})
    board.log_trial_start(trial)
    board.log_trial_result(1, trial, {"fd": 35.0, "g_steps": 10, "members_reporting": 2, "training_iteration": 1,
                                      "members": {"seed_0": {"fd": 30.0, "g_steps": 10, "d_loss": 1.0},
                                                  "seed_1": {"fd": 40.0, "g_steps": 10, "d_loss": 2.0}}})
    board.log_trial_end(trial, failed=True)
    assert sorted(p.name for p in (tmp_path / "pop").iterdir()) == ["seed_0", "seed_1"]  # no run of the trial
    assert _record(tmp_path / "pop" / "seed_0") == (
        {"1_quality/fd": [(10, 30.0)], "2_losses/d_loss": [(10, 1.0)], "9_ray/training_iteration": [(10, 1.0)]},
        {"variant": "base", "seed": 0.0}, "STATUS_FAILURE")
    assert _record(tmp_path / "pop" / "seed_1") == (
        {"1_quality/fd": [(10, 40.0)], "2_losses/d_loss": [(10, 2.0)], "9_ray/training_iteration": [(10, 1.0)]},
        {"variant": "base", "seed": 1.0}, "STATUS_FAILURE")


def test_the_callback_pickles_without_its_open_writers(tmp_path):
    import pickle

    board = tb.StudyTensorBoard("fd", ("fd",), ["seed"])
    trial = FakeTrial(tmp_path / "t", {"seed": 0, "variant": "a"})
    board.log_trial_start(trial)
    copy = pickle.loads(pickle.dumps(board))  # Tune pickles its callbacks into tuner.pkl
    assert (copy.primary, copy.quality, copy.hparams, copy._writers) == ("fd", ("fd",), ("seed",), {})
    board.log_trial_end(trial)


def test_rays_own_tensorboard_logger_is_off_only_while_the_study_runs(monkeypatch):
    name = "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"
    monkeypatch.delenv(name, raising=False)
    with tb.ray_tensorboard_off(True):
        assert os.environ[name] == "1"
    assert name not in os.environ
    monkeypatch.setenv(name, "1")
    with tb.ray_tensorboard_off(False):  # a study started before: Tune's default loggers
        assert name not in os.environ
    assert os.environ[name] == "1"

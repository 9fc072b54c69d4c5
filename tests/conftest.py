"""Shared fixtures: ONE Ray instance for the whole test run, a two-node cluster with a fake GPU.

Why a ``ray.cluster_utils.Cluster`` and not ``ray.init()``: the studies must show that trials spread over
nodes and that fractional GPU requests pack trials onto one GPU, and one session-wide instance is all the time
budget allows. The head node has 2 CPUs; the second node declares 4 CPUs and 1 GPU (torch sees no CUDA here, so
the trainable must fall back to the CPU although Ray assigned it a GPU).

Token authentication is on, as on a real cluster: the token is a random one in ``RAY_AUTH_TOKEN`` (set before
Ray is imported, so every Ray process and subprocess of this test run uses it and no token file is written).
"""
from __future__ import annotations

import math
import os
import secrets

if "RAY_AUTH_MODE" not in os.environ:
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))

import pytest  # noqa: E402

# pytest-xdist (the README's test command runs two workers, --dist loadgroup): a test file runs whole in one worker,
# so that its module fixtures (a smoke study, a twin cluster) are set up once; the files that start Ray heads of
# their own, a cluster twin in network namespaces or a node-loss cluster run one after another in one worker, so
# that two of those clusters never share the cores (their timeouts assume one at a time), and first, so that the
# longest group does not start last. Each worker starts its own session cluster below (a Ray instance per worker).
SERIAL_GROUP = "clusters"
SERIAL_FILES = ("test_cluster_twin.py", "test_faults.py", "test_faults_study.py", "test_cluster_job.py",
                "test_cluster_autoscaling.py")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the marks into its groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        group = SERIAL_GROUP if item.path.name in SERIAL_FILES else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
    order = {name: i for i, name in enumerate(SERIAL_FILES)}
    items.sort(key=lambda item: order.get(item.path.name, len(order)))  # stable: each file's own order is kept


HEAD_CPUS = 2
GPU_NODE_CPUS = 4
GPU_NODE_RESOURCE = "fake_gpu_node"  # a custom resource naming the GPU node, to find its node id


@pytest.fixture
def tmpfs(tmp_path):
    """A small RAM filesystem of its own (a real full or read-only disk); needs root, skipped elsewhere."""
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    got = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if got.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {got.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


@pytest.fixture(scope="session")
def ray_cluster():
    """The session's Ray cluster, connected in this process; yields a dict with its address and node ids."""
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": HEAD_CPUS})
    gpu_node = cluster.add_node(num_cpus=GPU_NODE_CPUS, num_gpus=1, resources={GPU_NODE_RESOURCE: 1})
    ray.init(address=cluster.address, log_to_driver=False)
    cluster.wait_for_nodes()
    info = {
        "address": cluster.address,
        "head_node_id": cluster.head_node.node_id,
        "gpu_node_id": gpu_node.node_id,
    }
    yield info
    ray.shutdown()
    cluster.shutdown()


# Keys of a result that Ray adds itself; everything else in result.json is what the trainable reported.
RAY_RESULT_KEYS = frozenset({
    "timestamp", "checkpoint_dir_name", "should_checkpoint", "done", "training_iteration", "trial_id", "date",
    "time_this_iter_s", "time_total_s", "pid", "hostname", "node_ip", "config", "time_since_restore",
    "iterations_since_restore", "experiment_tag",
})


BOOKKEEPING = frozenset({  # keys that say when, where and how long, not what was computed
    "timestamp", "date", "time_this_iter_s", "time_total_s", "time_since_restore", "pid", "hostname", "node_ip",
    "node_id", "trial_id", "experiment_tag", "checkpoint_dir_name", "train_time_s", "eval_time_s"})


def canonical_rows(rows: list[dict]) -> list[dict]:
    """A trial's reports without bookkeeping keys; NaN as a string, so that two NaN compare equal."""
    return [{k: ("NaN" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()
             if k not in BOOKKEEPING} for row in rows]


def report_attempts(rows):
    """A trial's result rows split where Ray (re)started it (iterations_since_restore is 1 at every start)."""
    out = []
    for row in rows:
        if row["iterations_since_restore"] == 1:
            out.append([])
        out[-1].append(row)
    return out


class TrialRecord:
    """One trial of a finished experiment as Ray's ExperimentAnalysis sees it, plus its result.json rows."""

    def __init__(self, trial):
        import json
        from pathlib import Path

        self.trial_id = trial.trial_id
        self.status = trial.status
        self.num_failures = trial.num_failures
        self.config = dict(trial.config)
        self.path = Path(trial.path)
        results = self.path / "result.json"  # absent for a trial that a stopped study never started
        self.rows = [json.loads(line) for line in results.read_text().splitlines() if line] if results.exists() else []

    def attempts(self):
        """The reports split where Ray (re)started the trial (iterations_since_restore is 1 at every start)."""
        return report_attempts(self.rows)

    def reported(self, key):
        """The values of one reported key, report by report."""
        return [row[key] for row in self.rows]

    def tensorboard_events(self, run="", suffix=""):
        """Every Event of the trial's TensorBoard files in ``run`` (a folder in the trial's; "" the trial's own) whose
        names end with ``suffix``, file by file in name order (TFRecord framing: length, its CRC, the Event, its
        CRC)."""
        return read_events(sorted((self.path / run).glob(f"events.out.tfevents.*{suffix}")))

    def tensorboard_images(self, run=""):
        """[(step, tag, height, width)] of every image in the sample file(s) (``*.samples``) of ``run``."""
        return [(e.step, v.tag, v.image.height, v.image.width)
                for e in self.tensorboard_events(run, ".samples") for v in e.summary.value]

    def tensorboard_scalars(self, run=""):
        """{tag: [(step, value), ...]} of every scalar in the TensorBoard files of ``run``."""
        out = {}
        for e in self.tensorboard_events(run):
            for v in e.summary.value:
                if v.WhichOneof("value") == "simple_value":
                    out.setdefault(v.tag, []).append((e.step, v.simple_value))
        return out

    def tensorboard_session(self, run=""):
        """(hyperparameter values, end status) of ``run``'s HParams session: its session start and end info."""
        from google.protobuf.json_format import MessageToDict
        from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

        start, status = None, None
        for e in self.tensorboard_events(run):
            for v in e.summary.value:
                if v.metadata.plugin_data.plugin_name == "hparams":
                    data = HParamsPluginData.FromString(v.metadata.plugin_data.content)
                    if data.HasField("session_start_info"):
                        start = MessageToDict(data.session_start_info)["hparams"]
                    if data.HasField("session_end_info"):
                        status = MessageToDict(data.session_end_info)["status"]
        return start, status

    def user_keys(self):
        """The keys the trainable reported (the same in every report, else the test fails)."""
        keys = {frozenset(set(row) - RAY_RESULT_KEYS) for row in self.rows}
        assert len(keys) == 1, keys
        return set(next(iter(keys)))


def read_events(paths):
    """Every Event of TensorBoard event files, file by file, record by record."""
    import struct

    from tensorboardX.proto import event_pb2

    out = []
    for path in paths:
        data, i = path.read_bytes(), 0
        while i < len(data):
            (n,) = struct.unpack("<Q", data[i:i + 8])
            out.append(event_pb2.Event.FromString(data[i + 12:i + 12 + n]))
            i += 12 + n + 4
    return out


def read_experiment(path):
    """Every trial of an experiment directory, read with Ray's own ExperimentAnalysis, ordered by trial id."""
    from ray.tune import ExperimentAnalysis

    analysis = ExperimentAnalysis(str(path))
    return sorted((TrialRecord(t) for t in analysis.trials), key=lambda r: r.trial_id)


@pytest.fixture(scope="session")
def experiment_reader():
    return read_experiment


TRAINER_KEYS = frozenset({"g_steps", "d_steps", "status", "d_loss", "d_loss_real", "d_loss_fake", "g_loss", "value",
                          "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "train_time_s", "eval_time_s", "flops"})
PLACE_KEYS = frozenset({"node_id", "device", "compute_precision"})  # where and how a GAN trial ran (trainable)
# the run's stability so far, added by the trainer to every report when it has an evaluator
STABILITY_REPORT_KEYS = frozenset({"stability", "stability_reason", "steps_to_90pct", "oscillation", "final_best_gap"})


def gan_metric_keys(flat_config):
    """The exact keys a GAN trial reports: the trainer's, its evaluator's (asked of the real evaluator), its
    stability and where it ran."""
    from gan_core.config import GANConfig
    from gan_core.metrics import build_evaluator
    from gan_core.trainer import Trainer

    cfg = GANConfig.from_flat(flat_config)
    evaluator = build_evaluator(cfg, device="cpu")
    trainer = Trainer(cfg, evaluator=None, device="cpu")
    reported = evaluator.evaluate(trainer.G_view, trainer.eval_noise(evaluator.n_samples))
    return set(TRAINER_KEYS | PLACE_KEYS | STABILITY_REPORT_KEYS | set(reported))


@pytest.fixture(scope="session")
def metric_keys():
    return gan_metric_keys


def run_study_main(module, argv):
    """Run a study's ``main(argv)`` in-process; returns (exit code, {label: [paths]}) for the "Results:",
    "Report:", "Table:" and "TensorBoard:" lines it printed."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = module.main(argv)
    printed = {}
    for line in buf.getvalue().splitlines():
        for label in ("Results:", "Report:", "Table:", "TensorBoard:"):
            if line.startswith(label):
                printed.setdefault(label.rstrip(":"), []).append(line[len(label):].strip())
    return code, printed


@pytest.fixture(scope="session")
def study_main():
    return run_study_main


def _trained_checkpoint(tmp_path_factory, flat: dict, name: str):
    """A real trainer checkpoint: ``flat`` trained to its end on the CPU, saved as ``<tmp>/<name>.pt``."""
    from gan_core.config import GANConfig
    from gan_core.trainer import Trainer

    trainer = Trainer(GANConfig.from_flat({**flat, "device": "cpu"}))
    for _ in trainer.run():
        pass
    path = tmp_path_factory.mktemp("ckpt") / f"{name}.pt"
    trainer.save(path)
    return path


@pytest.fixture(scope="session")
def ring8_checkpoint(tmp_path_factory):
    """A real trainer checkpoint: ring8, MLP, 20 generator steps."""
    return _trained_checkpoint(tmp_path_factory, {"dataset": "ring8", "steps": 20, "eval_every": 10,
                                                  "mlp_hidden": 16}, "ring8")


@pytest.fixture(scope="session")
def dcgan_checkpoint(tmp_path_factory):
    """A real trainer checkpoint: mnist5k, 32 px DCGAN with ngf = ndf = 8, nz = 16, 2 generator steps."""
    return _trained_checkpoint(tmp_path_factory, {"dataset": "mnist5k", "ngf": 8, "ndf": 8, "nz": 16, "steps": 2,
                                                  "eval_every": 1, "batch_size": 8}, "dcgan")

"""The function trainable: strict configs, where it runs, and a killed worker continuing from its checkpoint."""
from __future__ import annotations

import os
import signal

import pytest
import ray
from ray import tune

from studies import k_sweep
from studies.runner import run_study
from studies.trainable import GPUUnusable, ordered_metrics, trial_device


def test_ordered_metrics_puts_the_primary_metric_first():
    m = {"g_steps": 10, "d_steps": 10, "status": "running", "d_loss": 1.0, "g_loss": 2.0, "fd": 3.0, "x": 4}
    out = ordered_metrics(m, "fd")
    assert out == m
    assert list(out) == ["fd", "g_steps", "d_loss", "g_loss", "d_steps", "status", "x"]
    assert list(ordered_metrics(m, None))[:3] == ["g_steps", "d_loss", "g_loss"]


def test_a_gpu_torch_cannot_use_fails_the_trial_in_one_line_unless_the_cpu_is_allowed(ray_cluster):
    """The session cluster's GPU is fake: Ray hands it out, torch cannot use it. A trial on it fails with the reason
    (never trains on the CPU unasked); --allow-cpu-fallback (cpu_fallback) trains it on the CPU by choice."""
    from gan_core.gpu import cuda_problem

    @ray.remote(num_gpus=0.25, num_cpus=0, max_retries=0)
    def probe(cpu_fallback):
        try:
            return ray.get_gpu_ids(), trial_device(cpu_fallback), ray.get_runtime_context().get_node_id()
        except GPUUnusable as e:
            return ray.get_gpu_ids(), str(e), ray.get_runtime_context().get_node_id()

    @ray.remote(num_gpus=0, num_cpus=0)
    def probe_no_gpu():
        return ray.get_gpu_ids(), trial_device()

    assert ray.get(probe.remote(True)) == ([0], "cpu", ray_cluster["gpu_node_id"])
    assert ray.get(probe.remote(False)) == (
        [0], f"this trial was given a GPU, and {cuda_problem()} (or --allow-cpu-fallback to train on the CPU)",
        ray_cluster["gpu_node_id"])
    assert "\n" not in cuda_problem()
    assert ray.get(probe_no_gpu.remote()) == ([], "cpu")


class KillAtFirstCheckpoint(tune.Callback):
    """SIGKILL the trial's worker process (its pid is in every result) once Tune holds its first checkpoint.

    ``on_checkpoint`` and not ``on_trial_result``: Tune registers a function trainable's checkpoint in a second
    step after the result; a worker killed in between has no checkpoint yet and rightly restarts from scratch.
    """

    def __init__(self):
        self.killed = None

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        if self.killed is None:
            result = trial.last_result
            self.killed = (result["pid"], result["g_steps"], result["checkpoint_dir_name"])
            os.kill(result["pid"], signal.SIGKILL)


def test_killed_worker_restarts_from_its_checkpoint(ray_cluster, tmp_path, experiment_reader):
    killer = KillAtFirstCheckpoint()
    argv = ["--smoke-test", "--k", "1", "--g-loss", "non_saturating", "--steps", "600", "--eval-every", "100",
            "--max-failures", "1", "--gpus-per-trial", "0", "--storage-path", str(tmp_path), "--name", "killed"]
    args = k_sweep.build_parser().parse_args(argv)
    run = run_study(k_sweep.build_spec(args), args, callbacks=[killer], command=argv)
    assert run.exit_code == 0
    assert killer.killed[1:] == (100, "checkpoint_000000")

    (trial,) = experiment_reader(run.location.experiment_path)
    assert (trial.status, trial.num_failures) == ("TERMINATED", 1)
    rows = [(r["training_iteration"], r["iterations_since_restore"], r["g_steps"], r["pid"]) for r in trial.rows]
    restarts = [i for i, row in enumerate(rows) if row[1] == 1]
    assert restarts[0] == 0 and len(restarts) == 2  # the first start and one restart
    r = restarts[1]
    iteration, _, g_steps, pid = rows[r]
    assert pid != killer.killed[0]  # a new worker process
    # it continued from the checkpoint of the report before it (iteration - 1), not from step 0
    assert iteration >= 2
    (before,) = [row for row in rows[:r] if row[0] == iteration - 1]
    assert g_steps == before[2] + 100
    assert g_steps == 100 * iteration
    # and ran to the end, each step counted once after the restart
    assert [row[2] for row in rows[r:]] == list(range(g_steps, 601, 100))
    assert trial.reported("status")[-1] == "ok"


def test_a_diverged_trial_is_a_result_not_a_failure(ray_cluster, tmp_path, experiment_reader):
    """Absurd learning rates blow the losses up within a few steps: the trial reports status "diverged" once and
    ends normally (no error, no restart), at the step the trainer itself stops at."""
    from gan_core.config import GANConfig
    from gan_core.trainer import Trainer

    overrides = {"lr_d": 1e6, "lr_g": 1e6, "beta1": 0.0}
    argv = ["--smoke-test", "--k", "1", "--g-loss", "non_saturating", "--gpus-per-trial", "0",
            "--storage-path", str(tmp_path), "--name", "diverged",
            *[a for k, v in overrides.items() for a in ("--set", f"{k}={v}")]]
    args = k_sweep.build_parser().parse_args(argv)
    spec = k_sweep.build_spec(args)
    run = run_study(spec, args, command=argv)
    assert run.exit_code == 0

    flat = {**spec.base, **spec.variants["k1_non_saturating"], "seed": 0}
    (direct,) = list(Trainer(GANConfig.from_flat(flat), device="cpu").run())  # one dict: the diverged one
    assert direct["status"] == "diverged"
    (trial,) = experiment_reader(run.location.experiment_path)
    assert (trial.status, trial.num_failures) == ("TERMINATED", 0)
    assert trial.reported("status") == ["diverged"]
    assert trial.reported("g_steps") == [direct["g_steps"]]
    assert trial.config["lr_d"] == 1e6


# ------------------------------------------------------------------------------------------- damaged checkpoints
def _trainer(steps_done: int):
    from gan_core.config import GANConfig
    from gan_core.trainer import Trainer

    trainer = Trainer(GANConfig.from_flat({"dataset": "ring8", "steps": 40, "eval_every": 10, "mlp_hidden": 8}),
                      device="cpu")
    for _ in range(steps_done):
        trainer.iteration()
    return trainer


def _checkpoints(tmp_path, steps: list[int]) -> list[tune.Checkpoint]:
    """checkpoint_000000.. of one trial, holding the states after ``steps`` iterations."""
    out = []
    for i, n in enumerate(steps):
        folder = tmp_path / f"checkpoint_{i:06d}"
        _trainer(n).save(folder / "state.pt")
        out.append(tune.Checkpoint.from_directory(str(folder)))
    return out


def _loader(trainer):
    return lambda folder: trainer.load(folder / "state.pt")


def test_restore_loads_the_latest_checkpoint(tmp_path, capsys):
    from studies.trainable import restore

    ckpts = _checkpoints(tmp_path, [3, 5])
    trainer = _trainer(0)
    restore(_loader(trainer), ckpts[-1])
    assert trainer.g_steps == 5
    assert capsys.readouterr().err == ""


def test_restore_skips_damaged_checkpoints_for_the_newest_that_loads(tmp_path, capsys):
    from studies.trainable import restore

    ckpts = _checkpoints(tmp_path, [2, 3, 5])
    (tmp_path / "checkpoint_000002" / "state.pt").write_bytes(b"junk\n")
    (tmp_path / "checkpoint_000001" / "state.pt").write_bytes(b"")
    trainer = _trainer(0)
    restore(_loader(trainer), ckpts[-1])
    assert trainer.g_steps == 2  # checkpoint_000000
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" is unreadable")[0] for line in err] == [
        f"skipping a damaged checkpoint: checkpoint '{tmp_path / 'checkpoint_000002' / 'state.pt'}'",
        f"skipping a damaged checkpoint: checkpoint '{tmp_path / 'checkpoint_000001' / 'state.pt'}'"]


def test_restore_with_no_loadable_checkpoint_starts_from_step_0(tmp_path, capsys):
    from studies.trainable import restore

    ckpts = _checkpoints(tmp_path, [2])
    (tmp_path / "checkpoint_000000" / "state.pt").write_bytes(b"junk\n")
    trainer = _trainer(0)
    restore(_loader(trainer), ckpts[-1])
    assert trainer.g_steps == 0
    assert capsys.readouterr().err.splitlines()[-1] == "no checkpoint of this trial loads: it starts again from step 0"


def test_restore_does_not_skip_a_readable_checkpoint_of_another_config(tmp_path):
    """Another config is no damage: an older checkpoint of the same trial would not differ, so it is an error."""
    from gan_core.checkpoint import CheckpointError
    from gan_core.config import GANConfig
    from gan_core.trainer import Trainer
    from studies.trainable import restore

    ckpts = _checkpoints(tmp_path, [2, 3])
    other = Trainer(GANConfig.from_flat({"dataset": "ring8", "steps": 40, "eval_every": 10, "mlp_hidden": 16}),
                    device="cpu")
    with pytest.raises(CheckpointError, match="made with another configuration: 'mlp_hidden' is 8 there and 16"):
        restore(_loader(other), ckpts[-1])


def test_a_population_checkpoint_with_a_damaged_member_falls_back_to_an_older_one(tmp_path, capsys):
    """One member's file damaged: the whole population loads the newest older checkpoint, every member from it."""
    from gan_core.population import Population
    from studies.trainable import restore

    cfg = _trainer(0).cfg
    ckpts = []
    for i, n in enumerate([2, 5]):
        population = Population(cfg, [0, 1])
        for _ in range(n):
            population.iteration()
        population.save(tmp_path / f"checkpoint_{i:06d}")
        ckpts.append(tune.Checkpoint.from_directory(str(tmp_path / f"checkpoint_{i:06d}")))
    (tmp_path / "checkpoint_000001" / "seed_1" / "state.pt").write_bytes(b"junk\n")
    population = Population(cfg, [0, 1])
    restore(population.load, ckpts[-1])
    assert (population.g_steps, population.member(0).g_steps, population.member(1).g_steps) == (2, 2, 2)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.split(" is unreadable")[0] == \
        f"skipping a damaged checkpoint: checkpoint '{tmp_path / 'checkpoint_000001' / 'seed_1' / 'state.pt'}'"


# ----------------------------------------------------------------------------------------------- populations
def test_a_population_trial_reports_each_member_and_restarts_from_its_checkpoint(ray_cluster, tmp_path,
                                                                                   experiment_reader, metric_keys):
    """Three seeds in one trial, its worker killed at the first checkpoint: every report holds each member's
    metrics (the keys a solo trial reports), the restarted population continues from the checkpoint, and the
    analysis reads three results whose checkpoints are plain Trainer checkpoints, equal to an uninterrupted
    population's (and so, by tests/gan_core/test_population.py, to the solo runs)."""
    import torch

    from analysis.load import read_study
    from gan_core.checkpoint import load_state
    from gan_core.config import GANConfig
    from gan_core.population import Population

    killer = KillAtFirstCheckpoint()
    argv = ["--smoke-test", "--k", "2", "--g-loss", "non_saturating", "--steps", "300", "--eval-every", "100",
            "--seeds", "3", "--members-per-trial", "3", "--max-failures", "1", "--gpus-per-trial", "0",
            "--storage-path", str(tmp_path), "--name", "pop"]
    args = k_sweep.build_parser().parse_args(argv)
    spec = k_sweep.build_spec(args)
    run = run_study(spec, args, callbacks=[killer], command=argv)
    assert run.exit_code == 0
    assert killer.killed[1:] == (100, "checkpoint_000000")

    (trial,) = experiment_reader(run.location.experiment_path)
    assert (trial.status, trial.num_failures) == ("TERMINATED", 1)
    assert (trial.config["members"], trial.config["seed"]) == ([0, 1, 2], 0)
    assert trial.path.name.startswith("k2_non_saturating_seeds0-2_")
    starts = [i for i, r in enumerate(trial.rows) if r["iterations_since_restore"] == 1]
    assert starts[0] == 0 and len(starts) == 2  # the first start and one restart
    iteration, g_steps = trial.rows[starts[1]]["training_iteration"], trial.rows[starts[1]]["g_steps"]
    (before,) = [r for r in trial.rows[:starts[1]] if r["training_iteration"] == iteration - 1]
    assert g_steps == before["g_steps"] + 100  # from the checkpoint of the report before, not from step 0
    assert [r["g_steps"] for r in trial.rows[starts[1]:]] == list(range(g_steps, 301, 100))
    flat = {k: v for k, v in trial.config.items() if k not in ("variant", "members")}
    keys = metric_keys(flat)
    assert trial.user_keys() == {run.metric, "g_steps", "members_reporting", "members", "node_id", "device",
                                 "compute_precision"}
    for row in trial.rows:
        assert sorted(row["members"]) == ["seed_0", "seed_1", "seed_2"]
        assert row["members_reporting"] == 3
        for name, m in row["members"].items():
            assert set(m) == keys - {"node_id", "device", "compute_precision"}
            assert (m["g_steps"], m["d_steps"]) == (row["g_steps"], 2 * row["g_steps"])
    # each member a TensorBoard run of its own (seed_<s>/): its samples and scalars at its g_steps, its seed
    assert trial.tensorboard_images() == [] and trial.tensorboard_scalars() == {}
    for s in range(3):
        member = f"seed_{s}"
        assert [t[:2] for t in trial.tensorboard_images(member)][-1] == (300, "samples")
        primary = [(r["g_steps"], r["members"][member][run.metric]) for r in trial.rows]
        assert trial.tensorboard_scalars(member)[f"1_quality/{run.metric}"] == \
            [(g, pytest.approx(v, rel=1e-6)) for g, v in primary]
        assert trial.tensorboard_session(member) == ({"k": 2.0, "g_loss": "non_saturating", "seed": float(s)},
                                                     "STATUS_SUCCESS")

    data = read_study(run.location.experiment_path)
    t = data.trials
    assert t["seed"].tolist() == [0, 1, 2]
    assert t["status"].tolist() == ["ok"] * 3
    assert t["g_steps"].tolist() == [300] * 3
    last = trial.rows[-1]["checkpoint_dir_name"]
    assert t["checkpoint"].tolist() == [f"{last}/seed_{s}" for s in range(3)]

    cfg = GANConfig.from_flat(flat)
    uninterrupted = Population(cfg, [0, 1, 2], device="cpu")
    for _ in uninterrupted.run():
        pass
    uninterrupted.sync_members()
    for seed in range(3):
        state = load_state(trial.path / last / f"seed_{seed}" / "state.pt")
        assert state["config"]["seed"] == seed
        want = uninterrupted.member(seed).G.state_dict()
        for name, tensor in state["generator"].items():
            if tensor.is_floating_point() and "running" not in name:  # weights: BatchNorm's statistics are the
                assert torch.allclose(tensor, want[name], rtol=0, atol=1e-6), name  # evaluator's recalibration

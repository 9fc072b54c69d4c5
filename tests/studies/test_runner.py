"""The runner: the search space, resources over two nodes and a fractional GPU, storage, and resume after the
driver is killed."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from ray import tune
from ray.tune.search.variant_generator import generate_variants

from studies import arch_ablation, k_sweep, space
from studies.experiment_dir import trial_dirname
from studies.runner import run_study
from studies.trial import StudyTrial

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------------------- space
def test_param_space_resolves_exactly_to_the_typed_trials():
    """What Ray generates from the space is what was validated before Ray started, trial for trial, and reads back
    as the same typed trials."""
    spec = arch_ablation.build_spec(arch_ablation.build_parser().parse_args(["--seeds", "2"]))
    resolved = [cfg for _, cfg in generate_variants(spec.param_space())]
    key = lambda c: (c["variant"], c["seed"])  # noqa: E731
    assert sorted(resolved, key=key) == sorted((t.tune_config() for t in spec.trials()), key=key)
    assert len(resolved) == 18
    assert sorted(map(StudyTrial.from_tune, resolved), key=lambda t: (t.variant, t.seeds)) == \
        sorted(spec.design, key=lambda t: (t.variant, t.seeds))


def test_param_space_shows_only_what_varies():
    spec = arch_ablation.build_spec(arch_ablation.build_parser().parse_args([]))
    ps = spec.param_space()
    varying = sorted(k for k, v in ps.items() if isinstance(v, (dict, tune.search.sample.Domain)))
    assert varying == sorted(["variant", "seed", "strided_conv", "batchnorm_g", "batchnorm_d", "fc_hidden",
                              "g_activation", "g_output", "d_activation"])
    assert sorted(ps["variant"]["grid_search"]) == sorted(arch_ablation.variants())
    assert ps["seed"] == {"grid_search": list(range(arch_ablation.PRESETS["default"]["seeds"]))}


def test_a_population_space_covers_every_variant_and_seed_once():
    """With members: a grid over chunks of seeds, each trial's seed its first member's; the (variant, seed) pairs
    are exactly the solo trials'."""
    spec = arch_ablation.build_spec(arch_ablation.build_parser().parse_args(["--seeds", "5"]))
    resolved = [cfg for _, cfg in generate_variants(spec.param_space(members=3))]
    assert len(resolved) == spec.n_trials(3) == 18
    assert sorted(map(tuple, {tuple(c["members"]) for c in resolved})) == [(0, 1, 2), (3, 4)]
    assert all(c["seed"] == c["members"][0] for c in resolved)
    members = sorted((c["variant"], s) for c in resolved for s in c["members"])
    assert members == sorted((t.variant, t.seeds[0]) for t in spec.design)
    key = lambda c: (c["variant"], c["seed"])  # noqa: E731
    assert sorted(resolved, key=key) == sorted((t.tune_config() for t in spec.trials(3)), key=key)
    assert spec.n_trials(1) == 45 and "members" not in spec.param_space(members=1)


def test_searched_domains_are_validated_at_their_bounds():
    base = {"lr_d": 1e-3, "beta1": 0.5}
    searched = {"lr_d": tune.loguniform(1e-5, 1e-2), "beta1": tune.uniform(0.0, 0.9)}
    configs = [t.tune_config() for t in space.design_trials({**base, "seed": 4}, {"tpe": {}}, (), searched)]
    assert configs == [{"lr_d": 1e-3, "beta1": 0.5, "seed": 4, "variant": "tpe"},
                       {"lr_d": 1e-5, "beta1": 0.5, "seed": 4, "variant": "tpe"},
                       {"lr_d": 1e-2, "beta1": 0.5, "seed": 4, "variant": "tpe"},
                       {"lr_d": 1e-3, "beta1": 0.0, "seed": 4, "variant": "tpe"},
                       {"lr_d": 1e-3, "beta1": 0.9, "seed": 4, "variant": "tpe"}]


def test_validate_trials_names_the_bad_trial():
    def validate(flat):
        if flat["k"] < 1:
            raise ValueError("k too small")

    trials = [StudyTrial("a", (0,), {"k": 1, "seed": 0}), StudyTrial("b", (3,), {"k": 0, "seed": 3})]
    with pytest.raises(ValueError) as e:
        space.validate_trials(trials, validate)
    assert str(e.value) == "invalid trial config (variant='b', seed=3): k too small"
    assert space.validate_trials(trials[:1], validate) == 1


def test_a_variant_may_not_change_the_seed():
    with pytest.raises(ValueError, match="may not change 'seed'"):
        space.variant_table({"seed": 0}, {"a": {"seed": 1}})


def test_trial_dirname():
    trial = SimpleNamespace(config={"variant": "all_off", "seed": 2}, trial_id="ab12_00003")
    assert trial_dirname(trial) == "all_off_seed2_ab12_00003"
    trial = SimpleNamespace(config={"variant": "a/b c", "seed": 0}, trial_id="x")
    assert trial_dirname(trial) == "a-b-c_seed0_x"
    trial = SimpleNamespace(config={"variant": "gan", "seed": 3, "members": [3, 4, 5]}, trial_id="ab12_00001")
    assert trial_dirname(trial) == "gan_seeds3-5_ab12_00001"


def test_existing_study_is_refused_without_resume(tmp_path, capsys):
    (tmp_path / "k_sweep_smoke").mkdir()
    (tmp_path / "k_sweep_smoke" / "experiment_state-2026-01-01_00-00-00.json").write_text("{}")
    with pytest.raises(SystemExit) as e:
        k_sweep.main(["--smoke-test", "--storage-path", str(tmp_path)])
    assert e.value.code == 2
    assert capsys.readouterr().err == (
        f"k_sweep: error: a study already exists at '{tmp_path / 'k_sweep_smoke'}': pass --resume to continue it, "
        f"or another --name\n")


# --------------------------------------------------------------------------------------- resources, two nodes
class RunningCount(tune.Callback):
    """Largest number of trials RUNNING at once, seen at each result (in the driver)."""

    def __init__(self):
        self.max_running = 0

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.max_running = max(self.max_running, sum(t.status == "RUNNING" for t in trials))


def _k_sweep_run(tmp_path, name, extra, callbacks=()):
    argv = ["--smoke-test", "--k", "1", "--g-loss", "non_saturating", "--storage-path", str(tmp_path),
            "--name", name, *extra]
    args = k_sweep.build_parser().parse_args(argv)
    run = run_study(k_sweep.build_spec(args), args, callbacks=callbacks, command=argv)
    return run, run.location.experiment_path


def test_fractional_gpus_pack_four_trials_on_one_gpu(ray_cluster, tmp_path, experiment_reader):
    counter = RunningCount()
    run, path = _k_sweep_run(tmp_path, "packed", ["--seeds", "4", "--gpus-per-trial", "0.25", "--steps", "300",
                                                     "--eval-every", "100", "--members-per-trial", "1",
                                                     "--allow-cpu-fallback"], [counter])
    assert run.exit_code == 0
    trials = experiment_reader(path)
    assert [t.status for t in trials] == ["TERMINATED"] * 4
    # only the GPU node has a GPU: all four trials ran there, all at once (4 x 0.25 = its one GPU)
    assert {n for t in trials for n in t.reported("node_id")} == {ray_cluster["gpu_node_id"]}
    assert counter.max_running == 4
    assert {d for t in trials for d in t.reported("device")} == {"cpu"}  # a fake GPU: the CPU, as asked


def test_with_a_gpu_auto_trains_every_seed_of_a_variant_in_one_trial(ray_cluster, tmp_path, experiment_reader):
    run, path = _k_sweep_run(tmp_path, "gpu_auto", ["--seeds", "4", "--allow-cpu-fallback"])  # auto: 0.25 GPU
    assert run.exit_code == 0
    (trial,) = experiment_reader(path)
    assert (trial.status, trial.config["members"]) == ("TERMINATED", [0, 1, 2, 3])
    assert set(trial.reported("node_id")) == {ray_cluster["gpu_node_id"]}
    assert [sorted(m) for m in trial.reported("members")] == [[f"seed_{s}" for s in range(4)]] * 2
    assert json.loads((Path(path) / "study.json").read_text())["members_per_trial"] == 4


def test_trials_spread_over_both_nodes(ray_cluster, tmp_path, experiment_reader):
    # 3 trials x 2 CPUs: the head (2 CPUs) takes one, the GPU node (4 CPUs) two
    run, path = _k_sweep_run(tmp_path, "spread", ["--seeds", "3", "--cpus-per-trial", "2", "--gpus-per-trial", "0",
                                                     "--steps", "40", "--eval-every", "20"])
    assert run.exit_code == 0
    trials = experiment_reader(path)
    assert [t.status for t in trials] == ["TERMINATED"] * 3
    nodes = Counter(t.reported("node_id")[0] for t in trials)
    assert nodes == Counter({ray_cluster["head_node_id"]: 1, ray_cluster["gpu_node_id"]: 2})
    assert all(set(t.reported("node_id")) == {t.reported("node_id")[0]} for t in trials)
    assert [t.config["threads"] for t in trials] == [2, 2, 2]  # torch threads follow --cpus-per-trial


# ------------------------------------------------------------------------------------- driver killed, resume
def _statuses(path: Path) -> dict[str, str] | None:
    """{trial_id: status} from Ray's latest experiment snapshot; None while there is none (or it is mid-write)."""
    from ray.tune import ExperimentAnalysis

    if not any(path.glob("experiment_state-*.json")):
        return None
    try:
        return {t.trial_id: t.status for t in ExperimentAnalysis(str(path)).trials}
    except Exception:  # noqa: BLE001 -- a snapshot being replaced; read it again
        return None


def _result_files(path: Path, trial_ids) -> dict[str, bytes]:
    return {tid: next(path.glob(f"*_{tid}")).joinpath("result.json").read_bytes() for tid in trial_ids}


def _wait_gone(pgid: int, timeout: float) -> None:
    """Let Ray's processes of the killed driver's session end; kill the stragglers (Ray's node agents outlive
    their raylet for a while) so that nothing this test started stays behind."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _nan_as_none(values: list) -> list:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def _unbroken_rows(params: dict) -> list[dict]:
    """The reports of an unbroken in-process run of one trial's config (the same evaluator the study builds)."""
    from gan_core.config import GANConfig
    from gan_core.metrics import build_evaluator
    from gan_core.trainer import Trainer

    cfg = GANConfig.from_flat({k: v for k, v in params.items() if k != "variant"})
    return list(Trainer(cfg, evaluator=build_evaluator(cfg, device="cpu"), device="cpu").run())


def test_resume_after_the_driver_is_killed(tmp_path, experiment_reader, ray_cluster, capsys):
    """SIGKILL the study driver (with its own local Ray) once some trials finished. A resume that would change the
    design (another dataset, fewer evaluation samples) is refused in one line and changes nothing; --resume with no
    other argument (the stored command decides) completes the study, runs no finished trial again, and every trial's
    reports equal an unbroken run's, row for row (issue 27, finding 1)."""
    path = tmp_path / "killed"
    where = ["--storage-path", str(tmp_path), "--name", "killed"]
    argv = [sys.executable, "studies/k_sweep.py", *where,
            "--k", "1,2", "--g-loss", "non_saturating", "--seeds", "2", "--steps", "600", "--eval-every", "100"]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a local Ray of its own
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        finished: set[str] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            statuses = _statuses(path)
            if statuses is not None and len(statuses) == 4:
                finished = {tid for tid, s in statuses.items() if s == "TERMINATED"}
                if 1 <= len(finished) <= 3:
                    break
            time.sleep(0.2)
        assert proc.poll() is None, "the study ended before it could be interrupted"
        before = _result_files(path, finished)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        _wait_gone(proc.pid, timeout=5)
    assert 1 <= len(finished) <= 3

    snapshot = {p: p.read_bytes() for p in path.rglob("*") if p.is_file()}
    for change, option in ((["--dataset", "grid25"], "--dataset grid25"),
                           (["--set", "eval_samples=20"], "--set eval_samples=20")):
        capsys.readouterr()
        with pytest.raises(SystemExit) as refused:  # (in this process: the refusal comes before Ray is joined)
            k_sweep.main(argv[2:] + ["--resume", *change])
        err = capsys.readouterr().err
        assert refused.value.code == 2
        assert err.count("\n") == 1 and err.startswith(f"k_sweep: error: --resume: {option} differs from the "
                                                       f"study's own "), err
        assert {p: p.read_bytes() for p in path.rglob("*") if p.is_file()} == snapshot  # nothing changed

    resumed = subprocess.run([sys.executable, "studies/k_sweep.py", *where, "--resume"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    trials = experiment_reader(path)
    assert len(trials) == 4
    assert [t.status for t in trials] == ["TERMINATED"] * 4
    assert all(t.reported("g_steps")[-1] == 600 and t.reported("status")[-1] == "ok" for t in trials)
    # the trials that had finished were not run again: their results are byte for byte what they were
    assert _result_files(path, finished) == before
    assert json.loads((path / "study.json").read_text())["command"] == argv[1:]
    # every trial, resumed or not, reported exactly what an unbroken run reports (CPU, one thread: bit for bit)
    for trial in trials:
        unbroken = _unbroken_rows(trial.config)
        assert trial.reported("g_steps") == [r["g_steps"] for r in unbroken]
        for key in sorted(set(unbroken[0]) - {"train_time_s", "eval_time_s"}):
            assert _nan_as_none(trial.reported(key)) == _nan_as_none([r[key] for r in unbroken]), (trial.trial_id,
                                                                                                  key)

"""Faults and what they must not cost (issue 7, parts 2 to 4).

- a node removed from a ray.cluster_utils.Cluster mid-study: the study finishes, and no finished report is lost or
  counted twice (a trial killed with its worker: tests/studies/test_trainable.py; a killed driver resumed with
  --resume: tests/studies/test_runner.py);
- a storage path that fills up or turns read-only mid-study is reported in one line (exit 1), and --resume
  finishes the study once it takes data again (these need root, to mount a small tmpfs; skipped elsewhere);
- trials that go to NaN complete as results, the report marks them, and no best-trial selection picks them;
- the same study run twice with the same seeds gives identical per-trial metrics.
"""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from ray import tune

from gan_core.config import GANConfig
from studies import k_sweep
from studies.runner import StudySpec, resolve_base, run_study
from tests.conftest import report_attempts
from tests.mounts import remount
from tests.processes import finish, start


# ------------------------------------------------------------------------------------------------- node removed
def _run_helper(argv: list[str], ray_tmp: str, timeout: float) -> subprocess.CompletedProcess:
    """Run a helper script in its own session (a fresh Ray of its own, under ``ray_tmp``)."""
    return finish(start(argv, ray_tmp), timeout)


@pytest.fixture(scope="module")
def node_loss(tmp_path_factory):
    from tests.fault_node_loss import EVAL_EVERY, SEEDS, STEPS, TRIALS_TO_LOSE

    storage = tmp_path_factory.mktemp("node_loss")
    ray_tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths must stay under 108 bytes
    try:
        proc = _run_helper(["tests/fault_node_loss.py", str(storage)], ray_tmp, timeout=420)
        assert proc.returncode == 0, proc.stderr[-4000:]
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        got["ray_session_dirs"] = sorted(p.name for p in (Path(ray_tmp) / "ray").glob("session_2*"))
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    got["expected"] = {"steps": STEPS, "eval_every": EVAL_EVERY, "seeds": SEEDS, "lost": TRIALS_TO_LOSE}
    return got


def test_a_removed_node_does_not_lose_the_study(node_loss):
    exp = node_loss["expected"]
    steps = list(range(exp["eval_every"], exp["steps"] + 1, exp["eval_every"]))
    head, worker = node_loss["head_node_id"], node_loss["worker_node_id"]
    assert node_loss["exit_code"] == 0
    assert node_loss["alive_nodes"] == [head]  # the worker node really was gone
    assert len(node_loss["ray_session_dirs"]) == 1  # (what tests/test_bad_input.py looks for when Ray starts)
    lost = node_loss["removed"]
    assert len(lost) == exp["lost"]
    trials = node_loss["trials"]
    assert len(trials) == exp["seeds"]  # no trial lost, none added
    for t in trials:
        rows = t["rows"]
        assert t["status"] == "TERMINATED"
        assert rows[-1]["status"] == "ok" and rows[-1]["g_steps"] == exp["steps"]
        attempts = report_attempts(rows)
        if t["trial_id"] not in lost:  # ran on the head, untouched
            assert t["num_failures"] == 0 and len(attempts) == 1
            assert [r["g_steps"] for r in rows] == steps
            assert {r["node_id"] for r in rows} == {head}
            continue
        # lost with its node once, then restarted on the head from a checkpoint it had registered
        assert t["num_failures"] == 1 and len(attempts) == 2
        first, second = attempts
        assert {r["node_id"] for r in first} == {worker} and {r["node_id"] for r in second} == {head}
        restart = second[0]["g_steps"]
        before = [r for r in first if r["g_steps"] == restart - exp["eval_every"]]
        assert len(before) == 1 and before[0]["checkpoint_dir_name"] is not None
        assert restart - exp["eval_every"] >= lost[t["trial_id"]]  # not older than the checkpoint seen at removal
        assert second[0]["training_iteration"] == before[0]["training_iteration"] + 1
        # the second attempt runs each remaining step once; only reports made after that checkpoint and before the
        # node died are made again, and the later report of a step is the one training continued from
        assert [r["g_steps"] for r in second] == steps[steps.index(restart):]
        counts = Counter(r["g_steps"] for r in rows)
        assert sorted(counts) == steps
        assert sorted(s for s, n in counts.items() if n > 1) == [r["g_steps"] for r in first
                                                                  if r["g_steps"] >= restart]
    # the project's analysis counts every evaluation once
    assert node_loss["analysis"] == {t["trial_id"]: {"status": "ok", "g_steps": exp["steps"], "n_evals": len(steps)}
                                     for t in trials}
    assert len(node_loss["report"]) == 1 and Path(node_loss["report"][0], "report.md").is_file()


# ---------------------------------------------------------------------------------------- storage fills up
STORAGE_ARGV = ["--k", "1", "--g-loss", "non_saturating", "--seeds", "2", "--steps", "200", "--eval-every", "25",
                "--gpus-per-trial", "0", "--max-failures", "1", "--name", "storage"]
STORAGE_STEPS = list(range(25, 201, 25))


def _main_exit(argv: list[str], capsys, callbacks=()) -> tuple[int, str]:
    """k_sweep's main path in-process (on the session's cluster): exit code and the last line on stderr."""
    from studies import cli

    args = k_sweep.build_parser().parse_args(argv)
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        raise SystemExit(cli.run_main("k_sweep", lambda: run_study(k_sweep.build_spec(args), args,
                                                                   callbacks=callbacks, command=argv).exit_code))
    err = capsys.readouterr().err.strip().splitlines()
    return e.value.code, err[-1] if err else ""


def _check_resumed(path: Path, experiment_reader) -> None:
    """Both trials finished, and each evaluation counts once: a step reported twice (after a restart from an older
    checkpoint) was recomputed bit for bit, so the analysis' one row per step is the same whichever it keeps."""
    from analysis.load import read_study

    trials = experiment_reader(path)
    assert [t.status for t in trials] == ["TERMINATED"] * 2
    for t in trials:
        assert t.reported("status")[-1] == "ok"
        by_step: dict[int, list] = {}
        for row in _canonical(t.rows):
            row.pop("training_iteration"), row.pop("iterations_since_restore"), row.pop("done", None)
            by_step.setdefault(row["g_steps"], []).append(row)
        assert sorted(by_step) == STORAGE_STEPS
        assert all(all(r == rows[0] for r in rows) for rows in by_step.values())
    study = read_study(str(path))
    assert sorted(zip(study.trials["status"], study.trials["g_steps"], study.trials["n_evals"])) == \
        [("ok", 200, 8)] * 2


def _checkpoint_bytes() -> int:
    """The size of one checkpoint of these trials (networks and both Adam states)."""
    from gan_core.trainer import Trainer

    spec = k_sweep.build_spec(k_sweep.build_parser().parse_args(STORAGE_ARGV))
    trainer = Trainer(GANConfig.from_flat({**spec.base, "seed": 0, "steps": 1, "eval_every": 1}), device="cpu")
    list(trainer.run())
    with tempfile.TemporaryDirectory() as d:
        trainer.save(Path(d) / "state.pt")
        return (Path(d) / "state.pt").stat().st_size


def test_a_storage_path_running_full_stops_the_study_in_time_and_resume_finishes_it(ray_cluster, tmpfs, capsys,
                                                                                     experiment_reader):
    """Room for the reserve of two running trials plus three more checkpoints: the guard stops the study after a
    few checkpoints, before the disk is full, with one clear line and exit 1; Ray's state stays whole; with
    room made, --resume finishes it."""
    from studies.storage import STORAGE_RESERVE_EXTRA

    room = STORAGE_RESERVE_EXTRA + 6 * _checkpoint_bytes()
    (tmpfs / "filler").write_bytes(b"\0" * (shutil.disk_usage(tmpfs).free - room))
    argv = [*STORAGE_ARGV, "--storage-path", str(tmpfs)]
    code, last = _main_exit(argv, capsys)
    assert code == 1
    assert re.fullmatch(rf"k_sweep: error: the storage path '{re.escape(str(tmpfs))}' is nearly full: [0-9,]+ bytes "
                        r"free, less than the [0-9,]+ that the running trials' next checkpoints and the study's state "
                        r"need; the study stopped, keeping every trial's last saved checkpoint: make room there \(or "
                        r"fix it\), then continue with --resume", last), last
    path = tmpfs / "storage"
    (state,) = path.glob("experiment_state-*.json")
    json.loads(state.read_text())  # whole: --resume can read it
    # Stopped mid-way: the guard acts on a checkpoint, so some trial reported, and none finished. A trial that Ray
    # started late may not have reported at all yet (seen on a loaded CI machine): it is unfinished too.
    reported = [t.reported("g_steps") for t in experiment_reader(path)]
    assert len(reported) == 2 and any(reported)
    assert [steps[-1] < 200 for steps in reported if steps] == [True] * sum(map(bool, reported))

    (tmpfs / "filler").unlink()
    code, _ = _main_exit([*argv, "--resume"], capsys)
    assert code == 0
    _check_resumed(path, experiment_reader)


class RemountReadOnly(tune.Callback):
    """Makes the storage read-only once two checkpoints are registered (once: Ray pickles the callback into the
    experiment, and the resumed study must not do it again)."""

    def __init__(self, mnt: Path, done_marker: Path):
        self.mnt, self.done_marker, self.seen = mnt, done_marker, 0

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        self.seen += 1
        if self.seen == 2 and not self.done_marker.exists():
            self.done_marker.write_text("done")
            remount(self.mnt, "ro")


def test_a_storage_path_turning_read_only_is_reported_and_resume_finishes_it(ray_cluster, tmpfs, tmp_path, capsys,
                                                                              experiment_reader):
    argv = [*STORAGE_ARGV, "--storage-path", str(tmpfs)]
    code, last = _main_exit(argv, capsys, callbacks=[RemountReadOnly(tmpfs, tmp_path / "remounted")])
    assert (tmp_path / "remounted").exists()
    assert code == 1
    assert last == (f"k_sweep: error: cannot write to the storage path '{tmpfs}': Read-only file system; the study "
                    f"stopped, keeping every trial's last saved checkpoint: make room there (or fix it), then "
                    f"continue with --resume")

    remount(tmpfs, "rw")
    code, _ = _main_exit([*argv, "--resume"], capsys)
    assert code == 0
    _check_resumed(tmpfs / "storage", experiment_reader)


# ------------------------------------------------------------------------------- divergence and reproducibility
# Listed first on purpose: on a tie (reverse_kl of a diverged ring8 generator is log 8, as is that of a healthy one
# after 40 steps) a selection that does not skip diverged trials takes the first trial, a diverged one.
ABSURD = {"lr_d": 1e6, "lr_g": 1e6, "beta1": 0.0}
VARIANTS = {"absurd_lr": ABSURD, "sane": {}}
SEEDS = (0, 1)
BOOKKEEPING = frozenset({  # keys that say when, where and how long, not what was computed
    "timestamp", "date", "time_this_iter_s", "time_total_s", "time_since_restore", "pid", "hostname", "node_ip",
    "node_id", "trial_id", "experiment_tag", "checkpoint_dir_name", "train_time_s", "eval_time_s"})


def mixed_spec() -> StudySpec:
    evaluator_config, base = resolve_base({"dataset": "ring8", "steps": 40, "eval_every": 20, "threads": 1})
    return StudySpec(study="divergence", base=base, variants=VARIANTS, seeds=SEEDS, baseline_variant="sane",
                     factors=["variant"], evaluator_config=evaluator_config)


def run_mixed(storage: Path, name: str):
    argv = ["--storage-path", str(storage), "--name", name, "--gpus-per-trial", "0"]
    args = k_sweep.build_parser().parse_args(argv)
    return run_study(mixed_spec(), args, command=argv)


@pytest.fixture(scope="module")
def mixed(ray_cluster, tmp_path_factory):
    """The same study (2 variants x 2 seeds, half of it with absurd learning rates) run twice."""
    storage = tmp_path_factory.mktemp("mixed")
    return run_mixed(storage, "first"), run_mixed(storage, "second")


def _direct(variant: str, seed: int) -> list[dict]:
    """What the trainer itself yields for one trial of the study, outside Ray (with the study's evaluator)."""
    from gan_core.metrics import build_evaluator
    from gan_core.trainer import Trainer

    spec = mixed_spec()
    cfg = GANConfig.from_flat({**spec.base, **VARIANTS[variant], "seed": seed})
    return list(Trainer(cfg, evaluator=build_evaluator(cfg), device="cpu").run())


def test_diverging_trials_complete_are_marked_and_never_chosen(mixed, experiment_reader):
    run, _ = mixed
    assert run.exit_code == 0 and run.n_errors == 0
    trials = {(t.config["variant"], t.config["seed"]): t for t in experiment_reader(run.location.experiment_path)}
    assert sorted(trials) == sorted((v, s) for v in VARIANTS for s in SEEDS)
    for (variant, seed), t in trials.items():
        direct = _direct(variant, seed)
        assert (t.status, t.num_failures) == ("TERMINATED", 0)  # a result, not a failure
        assert t.reported("status") == [d["status"] for d in direct]
        assert t.reported("g_steps") == [d["g_steps"] for d in direct]
        if variant == "absurd_lr":
            assert direct[-1]["status"] == "diverged"
            # the trainer, and so the study, reports every quality metric as NaN
            for k in ("reverse_kl", "modes_captured", "high_quality_frac", "diversity"):
                assert math.isnan(t.reported(k)[-1]) and math.isnan(direct[-1][k])
        else:
            assert [d["status"] for d in direct][-1] == "ok"
            assert t.reported("reverse_kl") == [d["reverse_kl"] for d in direct]

    sane_final = {s: trials[("sane", s)].reported("reverse_kl")[-1] for s in SEEDS}
    # Ray's own best-trial selection
    best = run.result_grid.get_best_result(metric="reverse_kl", mode="min")
    assert best.config["variant"] == "sane"
    assert best.metrics["reverse_kl"] == min(sane_final.values())

    # the report marks them ...
    report = Path(run.report_paths[0])
    table = pd.read_csv(report / "trials.csv")
    marked = {(r.variant, r.seed): (r.status, r.stability) for r in table.itertuples()}
    assert {k: v for k, v in marked.items() if k[0] == "absurd_lr"} == {
        ("absurd_lr", s): ("diverged", "diverged") for s in SEEDS}
    assert {k: v[0] for k, v in marked.items() if k[0] == "sane"} == {("sane", s): "ok" for s in SEEDS}
    assert all(v[1] != "diverged" for k, v in marked.items() if k[0] == "sane")
    md = (report / "report.md").read_text()
    counts = table["stability"].value_counts()
    statuses = ", ".join(f"{counts[st]} {st}" for st in ("stable", "diverged", "collapsed", "d_dominates") if st in counts)
    assert counts["diverged"] == 2
    assert f"\n4 trials: 2 diverged, 2 ok (trainer status).\nStability status of the 4 finished: {statuses} " in md
    assert re.search(r"\n- \*\*absurd_lr\*\* \(lr_d=1e\+06, lr_g=1e\+06, beta1=0\): no finite reverse_kl; stable in 0 of "
                     r"2 finished seeds \(0% \[0%, 66%\]\): 2 of 2 seeds diverged; compute per run: [0-9.]+ [GTPM]?FLOP "
                     r"\(gan_core's cost model\), [^\n]+ \(measured\)\.\n", md)
    summary = pd.read_csv(report / "summary.csv").set_index("configuration")
    assert (summary.loc["absurd_lr", "reverse_kl_n"], summary.loc["sane", "reverse_kl_n"]) == (0, 2)
    # ... and its best trial (latent-space figures) is a trial that did not diverge
    (line,) = [ln for ln in md.splitlines() if "Latent interpolation, best trial (" in ln]
    assert "best trial (sane, seed " in line


def _canonical(rows: list[dict]) -> list[dict]:
    """The reports without bookkeeping keys; NaN as a string, so that two NaN compare equal."""
    return [{k: ("NaN" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()
             if k not in BOOKKEEPING} for row in rows]


def test_the_same_study_twice_gives_identical_metrics(mixed, experiment_reader):
    import torch

    from gan_core.checkpoint import load_state

    first, second = ({(t.config["variant"], t.config["seed"]): t
                      for t in experiment_reader(run.location.experiment_path)} for run in mixed)
    assert sorted(first) == sorted(second) == sorted((v, s) for v in VARIANTS for s in SEEDS)
    for key, a in first.items():
        b = second[key]
        assert a.trial_id != b.trial_id  # two runs, not one read twice
        assert _canonical(a.rows) == _canonical(b.rows)
        # and the final states: both networks bit for bit
        sa, sb = (load_state(t.path / t.rows[-1]["checkpoint_dir_name"]) for t in (a, b))
        for net in ("generator", "discriminator"):
            assert sa[net].keys() == sb[net].keys()
            for k in sa[net]:  # bit for bit, NaN where the other has NaN (a diverged run's weights)
                torch.testing.assert_close(sa[net][k], sb[net][k], rtol=0, atol=0, equal_nan=True)
    # the comparison sees every reported metric, not only the ones named here
    keys = set(_canonical(first[("sane", 0)].rows)[-1])
    assert {"reverse_kl", "modes_captured", "high_quality_frac", "diversity", "d_loss", "g_loss", "value",
            "grad_norm_d", "grad_norm_g", "d_real", "d_fake", "g_steps", "d_steps", "status"} <= keys

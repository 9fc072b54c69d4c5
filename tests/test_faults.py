"""Faults and what they must not cost (issue 7, parts 2 to 4).

- a node removed from a ray.cluster_utils.Cluster mid-study: the study finishes, and no finished report is lost or
  counted twice (a trial killed with its worker: tests/studies/test_trainable.py; a killed driver resumed with
  --resume: tests/studies/test_runner.py);
- a storage path that fills up or turns read-only mid-study is reported in one line (exit 1), and --resume
  finishes the study once it takes data again (these need root, to mount a small tmpfs; skipped elsewhere);
(trials that go to NaN, and the same study run twice: tests/test_faults_divergence.py, which needs no cluster of
its own and so runs beside the cluster-starting files)
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from ray import tune

from gan_core.config import GANConfig
from studies import k_sweep
from studies.runner import run_study
from tests.conftest import canonical_rows, report_attempts
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
        for row in canonical_rows(t.rows):
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

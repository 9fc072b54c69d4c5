"""Faults of a whole study, with real drivers in their own processes (issue 10): two drivers of one study, Ctrl+C,
a damaged checkpoint, and a results folder damaged by hand.

Each driver here is ``python studies/k_sweep.py`` in a session of its own, with a local Ray of its own, as a user
runs it; a timeout kills its whole process group, so nothing a test started outlives it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from tests.processes import finish, start

# One trial, long enough to be interrupted after its fourth checkpoint: 40 reports, one checkpoint each.
LONG = ["--k", "1", "--g-loss", "non_saturating", "--seeds", "1", "--steps", "1000", "--eval-every", "25",
        "--gpus-per-trial", "0"]


def _driver(argv: list[str], ray_tmp: str) -> subprocess.Popen:
    return start(["studies/k_sweep.py", *argv], ray_tmp)


def _finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str, str]:
    done = finish(proc, timeout)
    return done.returncode, done.stdout, done.stderr


def _wait_for(predicate, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"the study ended before {what}: {proc.stderr.read()[-3000:]}")
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail(f"no {what} in {timeout} s")


@pytest.fixture()
def ray_tmp():
    path = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths must stay under 108 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------------------------- two drivers, one study
@pytest.fixture(scope="module")
def two_drivers(tmp_path_factory):
    """The same smoke study started twice, a second apart, as in finding 1: before the fix both passed the
    "already exists" check and wrote one folder. Whichever takes the lock first runs; returns (storage, the
    finished driver's (code, out, err, pid), the refused one's)."""
    storage = tmp_path_factory.mktemp("same")
    ray_tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    argv = ["--smoke-test", "--storage-path", str(storage), "--name", "same"]
    procs = []
    try:
        procs.append(_driver(argv, ray_tmp))
        time.sleep(1.0)
        procs.append(_driver(argv, ray_tmp))
        results = [(*_finish(p, 300), p.pid) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)
    refused = [r for r in results if r[0] == 2]
    ran = [r for r in results if r[0] != 2]
    assert len(refused) == len(ran) == 1, [r[:1] + (r[2][-500:],) for r in results]
    return storage, ran[0], refused[0]


def test_a_second_driver_of_the_same_study_is_refused_and_the_first_finishes_alone(two_drivers):
    storage, (code1, out1, _, pid1), (_, out2, err2, _) = two_drivers
    assert out2 == ""
    assert err2.splitlines() == [
        f"k_sweep: error: another driver (host {os.uname().nodename}, pid {pid1}) is running the study "
        f"'{storage / 'same'}' now (it holds '{storage / 'same' / '.driver.lock'}'); allowed: one driver per study: "
        f"wait for it to end, or pass another --name"]
    assert code1 == 0, out1[-2000:]
    exp = storage / "same"
    assert len([d for d in exp.iterdir() if d.is_dir() and (d / "params.json").exists()]) == 8
    assert len(list(exp.glob("experiment_state-*.json"))) == 1
    assert sorted(p.name for p in storage.iterdir()) == ["same"]  # the lock file went with its driver
    assert "\nTrials: 8 (8 ok)\n" in out1


def test_a_results_folder_damaged_by_hand_names_what_it_misses(two_drivers, tmp_path):
    """Finding 3, on a real study's folder: a trial folder removed, another's result.json cut short. Both are
    named in the report and left out of its statistics; neither is "stopped"."""
    from analysis.load import read_study
    from analysis.report import write_report

    exp = tmp_path / "same"
    shutil.copytree(two_drivers[0] / "same", exp)
    shutil.rmtree(exp / "report")
    folders = sorted(d for d in exp.iterdir() if d.is_dir())
    removed, cut = folders[0], folders[1]
    shutil.rmtree(removed)
    lines = (cut / "result.json").read_text().splitlines(keepends=True)
    assert len(lines) == 2  # the smoke preset reports twice
    (cut / "result.json").write_text(lines[0])

    study = read_study(str(exp))
    status = dict(zip(study.trials["trial_dir"], study.trials["status"]))
    assert status == {**{d.name: "ok" for d in folders[2:]}, removed.name: "missing", cut.name: "incomplete"}
    assert study.notes == [
        f"trial {cut.name}: its result.json ends at report 1, before the 2 Ray received: incomplete, not in the "
        f"statistics",
        f"trial {removed.name}: listed in Ray's experiment state (TERMINATED) but its folder is missing: not in the "
        f"statistics"]
    md = (write_report(str(exp)) / "report.md").read_text()
    assert ("- 2 of 8 trials are not in the statistics: 1 incomplete (its result.json ends before its run's last "
            "report), 1 missing (its folder is gone, though Ray's state lists it) (see Trials and Notes).") in md
    assert f"- trial {removed.name}: listed in Ray's experiment state" in md


# ------------------------------------------------------------------------------- Ctrl+C, damaged checkpoints
@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A one-trial study interrupted once it saved its fourth checkpoint (finding 7), by SIGHUP: what a dropped SSH
    session of `ray submit` sends, and what the driver treats as Ctrl+C (SIGINT; the same handling for SIGTERM and
    SIGHUP is tests/studies/test_cli.py); without it the driver exited 129 with Ray's agents orphaned."""
    storage = tmp_path_factory.mktemp("ctrl_c")
    ray_tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    argv = [*LONG, "--storage-path", str(storage), "--name", "c"]
    proc = _driver(argv, ray_tmp)
    try:
        _wait_for(lambda: any(storage.glob("c/*/checkpoint_000003")), proc, 180, "fourth checkpoint")
        proc.send_signal(signal.SIGHUP)
        result = _finish(proc, 120)
        left = _left_behind(ray_tmp)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)
    return storage, argv, (*result, left)


def test_ctrl_c_or_a_dropped_terminal_exits_130_and_says_how_to_continue(interrupted):
    storage, argv, (code, out, _, left) = interrupted
    assert code == 130
    assert left == []  # nothing of its local Ray outlives it
    assert "\nTrials: 1 (1 unfinished)\n" in out
    assert out.strip().splitlines()[-1] == (
        f"Interrupted: 1 of 1 trial(s) unfinished; continue with: python studies/k_sweep.py "
        f"{' '.join(argv)} --resume")
    (trial,) = [d for d in (storage / "c").iterdir() if d.is_dir() and d.name.startswith("k1_")]
    last = json.loads((trial / "result.json").read_text().splitlines()[-1])
    assert last["g_steps"] < 1000  # it did stop early


def test_a_damaged_checkpoint_is_skipped_and_the_study_finishes(interrupted, ray_tmp):
    """Finding 2: every checkpoint but the oldest one kept is overwritten with junk, Ray's latest included. The
    resumed trial says so for each one it tries, continues from the oldest, and finishes; the report is written."""
    storage, argv, _ = interrupted
    (trial,) = [d for d in (storage / "c").iterdir() if d.is_dir() and d.name.startswith("k1_")]
    kept = sorted(trial.glob("checkpoint_*"))
    assert len(kept) >= 2
    for folder in kept[1:]:
        (folder / "state.pt").write_bytes(b"junk\n")
    oldest = json.loads((trial / "result.json").read_text().splitlines()[int(kept[0].name[-6:])])
    assert oldest["checkpoint_dir_name"] == kept[0].name

    code, out, err = _finish(_driver([*argv, "--resume", "--worker-logs"], ray_tmp), 300)
    assert code == 0, err[-3000:]
    skipped = re.findall(r"skipping a damaged checkpoint: checkpoint '([^']+)' is unreadable \(truncated, or not a "
                         r"gan-study checkpoint\): KeyError: \d+", out + err)
    assert skipped and set(skipped) <= {str(f / "state.pt") for f in kept[1:]}
    rows = [json.loads(line) for line in (trial / "result.json").read_text().splitlines()]
    steps = [r["g_steps"] for r in rows]
    restart = next(i for i in range(1, len(steps)) if steps[i] <= steps[i - 1])
    assert steps[restart] == oldest["g_steps"] + 25  # continued from the oldest checkpoint, not from step 0
    assert (steps[-1], rows[-1]["status"]) == (1000, "ok")
    assert (storage / "c" / "report" / "report.md").is_file()
    assert "\nTrials: 1 (1 ok)\n" in out


# ----------------------------------------------------------------------- Ray's own failures, a dropped terminal
def _session_pids(ray_tmp: str, binary: str) -> list[int]:
    """Processes of the driver's local Ray (its session lives under ``ray_tmp``) whose program ends with ``binary``
    (every one of them when ``binary`` is "")."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            args = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\0")
        except (OSError, ValueError):
            continue
        if pid.isdigit() and any(ray_tmp in a for a in args) and args[0].endswith(binary):
            found.append(int(pid))
    return found


def _left_behind(ray_tmp: str) -> list[int]:
    deadline = time.monotonic() + 15
    while (left := _session_pids(ray_tmp, "")) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


@pytest.mark.parametrize("what, binary", [("raylet", "raylet/raylet"), ("GCS", "gcs/gcs_server")])
def test_ray_dying_under_the_study_ends_it_in_its_own_line(what, binary, tmp_path, ray_tmp):
    """Issue 27, finding 6: Ray's raylet or GCS killed mid-study ended the driver from C++ with exit 1 and nothing
    of the study's (or, for the GCS, only after 60 s). Now: one line naming what died and the --resume command, at
    once, exit 1, nothing of the local Ray left running."""
    argv = [*LONG, "--storage-path", str(tmp_path), "--name", "r"]
    proc = _driver(argv, ray_tmp)
    try:
        _wait_for(lambda: any(tmp_path.glob("r/*/checkpoint_000001")), proc, 180, "second checkpoint")
        (pid,) = _session_pids(ray_tmp, binary)
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        code, _, err = _finish(proc, 60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert code == 1, err[-3000:]
    assert time.monotonic() - killed < 15
    assert err.splitlines()[-1] == (f"k_sweep: error: Ray's {what} on this machine (pid {pid}) died under the study; "
                                    f"what its trials saved stays: continue with: python studies/k_sweep.py "
                                    f"{' '.join(argv)} --resume")
    assert _left_behind(ray_tmp) == []
    # (what Ray saved is a study's state like any interrupted one's: --resume continues it, as the tests above show)

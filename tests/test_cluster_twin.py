"""The twin of cluster.yaml, brought up on this machine (issue 21, item 6): the same file_mounts, setup and start
commands as cluster.yaml (generated from it: tests/twin/config.py), run by Ray's ``local`` provider on two nodes
that are sshd on loopback addresses in namespaces of their own (tests/twin/nodes.py).

``ray up -y`` the twin, wait for its worker, run a smoke study on it with ``ray job submit``, kill the worker's
raylet once a trial has reported a checkpoint, and check that the study finishes with nothing lost or counted
twice; then ``ray down -y`` and nothing left running. Needs root, ``ip``, ``unshare``, sshd, ssh and rsync (.ci/run
installs them); skipped elsewhere.

Further checks on the same running twin: add test functions that take the module's ``twin`` fixture (bring-up and
tear-down happen once per module). A path every node and this machine see: ``twin.shared``. A path only the head
(and the study's driver, which runs there) sees: ``/tmp/<name>`` (every node has its own /tmp; this machine sees
the head's at ``twin.host_path("head", "/tmp/<name>")``). Submit with ``twin.client(twin.job_argv([...]), timeout)``.
Keep a test's study small: the module's time budget is about 5 minutes on 2 cores.

After the module: the account (times per phase, what was killed, what each trial did) is printed (``-s``) and
written to $GAN_STUDY_TWIN_ACCOUNT where set; $GAN_STUDY_TWIN_KEEP=<folder> keeps a copy of the results, the twin's
logs (sshd, ``ray up``, the job) and every node's Ray logs.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from datetime import datetime
from importlib import metadata
from pathlib import Path

import pytest

from tests.twin import nodes
from tests.conftest import report_attempts

NAME = "twin"
# 12 reports per trial, each with a checkpoint: a few seconds, so that the trials running at the kill are mid-way
STEPS, EVAL_EVERY = 240, 20
VARIANTS = sorted(f"k{k}_{g}" for k in (1, 2, 3, 5) for g in ("non_saturating", "minimax"))  # the smoke preset's
WORKER_IP = nodes.NODE_IPS["worker"]

# A job that waits up to 20 s for the worker and prints every alive node's address and CPUs (one JSON line).
WAIT_FOR_WORKER = """import json, sys, time, ray
ray.init(address='auto', log_to_driver=False)
end = time.monotonic() + 20
while len([n for n in ray.nodes() if n['Alive']]) < 2 and time.monotonic() < end:
    time.sleep(1)
alive = {n['NodeManagerAddress']: n['Resources'].get('CPU', 0) for n in ray.nodes() if n['Alive']}
print('ALIVE', json.dumps(alive, sort_keys=True))
sys.exit(0 if len(alive) == 2 else 3)
"""


def _machine_gan_study() -> str | None:
    """How this machine's own gan-study is installed (its direct_url.json: an editable install's project folder)."""
    try:
        return metadata.distribution("gan-study").read_text("direct_url.json") or ""
    except metadata.PackageNotFoundError:
        return None


def _wait_for_worker(twin: nodes.Twin, timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        got = twin.client(twin.job_argv(["python", "-c", WAIT_FOR_WORKER]), timeout=120)
        found = re.search(r"^ALIVE (\{.*\})$", got.stdout, re.M)
        if got.returncode == 0 and found:
            return json.loads(found.group(1))
        if time.monotonic() > deadline:
            pytest.fail(f"the twin's worker did not join in {timeout} s; the last probe said:\n{got.stdout[-3000:]}\n"
                        f"{twin.monitor_log()}")
        time.sleep(2)


@pytest.fixture(scope="module")
def twin():
    """The twin, up (head and worker joined), for every test of this module; down and gone afterwards."""
    missing = nodes.missing_requirements()
    if missing and os.environ.get("GAN_STUDY_REQUIRE_TWIN") == "1":  # CI: the twin must run, never skip
        pytest.fail(f"the cluster twin needs {', '.join(missing)} (GAN_STUDY_REQUIRE_TWIN=1)")
    if missing:
        pytest.skip(f"the cluster twin needs {', '.join(missing)}")
    machine_before = _machine_gan_study()
    start = time.monotonic()
    tw = None
    try:
        tw = nodes.create()
        t = time.monotonic()
        up = tw.ray("up", "-y", str(tw.config_path), timeout=420)
        tw.times["ray up"] = time.monotonic() - t
        (tw.base / "logs" / "ray-up.log").write_text(up.stdout)
        assert up.returncode == 0, f"ray up failed:\n{up.stdout[-6000:]}"
        t = time.monotonic()
        tw.alive = _wait_for_worker(tw, timeout=300)
        tw.times["worker joined"] = time.monotonic() - t
        yield tw
    finally:
        if tw is not None:
            _tear_down(tw, machine_before, start)


def _tear_down(tw: nodes.Twin, machine_before: str | None, start: float) -> None:
    """``ray down -y``, then every node, namespace and file of the twin gone; the account printed (and written to
    $GAN_STUDY_TWIN_ACCOUNT, where set); nothing may be left running."""
    account: dict = {}
    down = None
    t = time.monotonic()
    try:
        down = tw.ray("down", "-y", str(tw.config_path), timeout=180)
        (tw.base / "logs" / "ray-down.log").write_text(down.stdout)
    finally:
        tw.times["ray down"] = time.monotonic() - t
        t = time.monotonic()
        account.update(nodes.destroy(tw, keep=os.environ.get("GAN_STUDY_TWIN_KEEP")))
        tw.times["cleanup"] = time.monotonic() - t
    tw.times["whole module"] = time.monotonic() - start
    account["ray down exit"] = down.returncode if down else None
    account["machine's gan-study unchanged"] = _machine_gan_study() == machine_before
    account = {"times (s)": {k: round(v, 1) for k, v in tw.times.items()}, **account, **tw.account}
    text = nodes.dumps(account)
    print(f"\ncluster twin account:\n{text}")
    if os.environ.get("GAN_STUDY_TWIN_ACCOUNT"):
        Path(os.environ["GAN_STUDY_TWIN_ACCOUNT"]).write_text(text)
    assert down is not None and down.returncode == 0, f"ray down failed:\n{down.stdout[-3000:] if down else ''}"
    assert account["left on nodes"] == {name: [] for name in tw.nodes}, account
    assert not account["network namespace left"] and not account["base folder left"], account
    assert account["processes mentioning the base folder"] == [], account
    assert account["machine's gan-study unchanged"], (machine_before, _machine_gan_study())


def test_the_head_runs_no_trials_and_the_worker_has_cpus(twin):
    """cluster.yaml's head resources {"CPU": 0} reached the head; the worker detected its CPUs."""
    assert twin.alive[nodes.NODE_IPS["head"]] == 0
    assert twin.alive[WORKER_IP] >= 1


def test_every_node_installed_the_project_into_its_own_environment(twin):
    """The setup's ``pip install -e ~/gan-study[cluster]`` went into the node's own copy of the prepared environment
    and points at the node's own copy of the project; the prepared environment and the machine stay as they were."""
    def editable_finders(venv: Path) -> list[Path]:
        return sorted(venv.glob("lib/python3*/site-packages/__editable___gan_study_*_finder.py"))

    assert editable_finders(twin.base / "env" / "venv") == []
    project = f"{twin.user_home.rstrip('/')}/gan-study"
    for name in twin.nodes:
        finders = editable_finders(twin.base / "private" / name / "venv")
        assert len(finders) == 1, name
        assert f"'studies': '{project}/studies'" in finders[0].read_text()
        assert (twin.host_path(name, "~/gan-study/studies/k_sweep.py")).is_file()
        assert not (twin.host_path(name, "~/gan-study/.git")).exists()  # rsync_exclude applied
        assert oct(twin.host_path(name, "~/.ray/auth_token").stat().st_mode & 0o777) == "0o600"
        bashrc = twin.host_path(name, "~/.bashrc").read_text().splitlines()
        assert bashrc == [f"source {twin.base}/env/venv/bin/activate", "export RAY_AUTH_MODE=token"]


@pytest.fixture(scope="module")
def killed_study(twin, experiment_reader):
    """A smoke study on the worker whose raylet is killed (SIGKILL) once a trial has reported a checkpoint."""
    exp = twin.shared / NAME
    argv = ["python", "-m", "studies.k_sweep", "--smoke-test", "--address", "auto", "--storage-path", str(twin.shared),
            "--name", NAME, "--steps", str(STEPS), "--eval-every", str(EVAL_EVERY)]  # --gpus-per-trial: the default
    log = twin.base / "logs" / "job.log"
    start = time.monotonic()
    with open(log, "w") as out:
        job = twin.client_popen(twin.job_argv(argv), output=out)
    try:
        deadline = start + 240
        # a report that the driver has recorded (result.json) with its checkpoint on disk
        while not any(t["g_steps"] and t["checkpoints"] for t in _reports(exp).values()):
            if job.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no trial reported a checkpoint (job exit {job.poll()}):\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        raylet = twin.raylet("worker")
        assert raylet is not None, [p.comm for p in twin.nodes["worker"].processes()]
        os.kill(raylet.pid, signal.SIGKILL)
        killed_at, killed_wall = time.monotonic() - start, time.time()
        at_kill = _reports(exp)
        try:
            job.wait(timeout=480)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the study did not end in 480 s after the kill:\n{log.read_text()[-4000:]}\n"
                        f"{twin.monitor_log()}")
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
    took = time.monotonic() - start
    twin.times["study"] = took
    try:
        trials = experiment_reader(exp)
    except Exception as e:  # no experiment state: the job's output says why
        pytest.fail(f"cannot read the study's results ({e}); the job (exit {job.returncode}) said:\n"
                    f"{log.read_text()[-4000:]}")
    twin.account["study"] = {
        "command": " ".join(argv), "seconds": round(took, 1), "raylet killed at (s)": round(killed_at, 1),
        "killed": f"raylet, pid {raylet.ns_pid} in the worker's namespace ({raylet.pid} on this machine), SIGKILL",
        "at the kill: g_steps reported per trial": {k: v["g_steps"][-1:] for k, v in sorted(at_kill.items())},
        "trials": {Path(t.path).name: {"status": t.status, "num_failures": t.num_failures,
                                       "g_steps of each start": [a[0]["g_steps"] for a in report_attempts(t.rows)],
                                       "reports": len(t.rows)} for t in trials},
        "worker node ids": sorted({r["node_id"][:8] for t in trials for r in t.rows}),
        "the autoscaler after the kill (s)": _recovery(twin, killed_wall),
        "exit": job.returncode,
    }
    return {"exit": job.returncode, "output": log.read_text(), "exp": exp, "trials": trials, "at_kill": at_kill}


def _recovery(twin: nodes.Twin, since: float) -> dict[str, float]:
    """When the head's autoscaler noticed the lost worker and when it had restarted its Ray (its log's times, in
    seconds after ``since``)."""
    events = {"restarting Ray to recover": "noticed", "127.0.0.2: Ray start commands succeeded": "worker's Ray up"}
    out = {}
    for path in twin.ray_logs("head").glob("monitor.*"):
        for line in path.read_text(errors="replace").splitlines():
            for text, name in events.items():
                stamp = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})", line)
                if text in line and stamp and name not in out:
                    at = datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp() - since
                    if at > 0:
                        out[name] = round(at, 1)
    return out


def _reports(exp: Path) -> dict[str, dict]:
    """What the study's trials have reported so far, read from the results directory: g_steps per report and the
    checkpoints on disk."""
    out = {}
    for trial in exp.glob("*/params.json"):
        results = trial.parent / "result.json"
        rows = []
        for line in results.read_text().splitlines() if results.is_file() else []:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:  # the line being written now
                break
        out[trial.parent.name] = {"g_steps": [r["g_steps"] for r in rows],
                                  "checkpoints": sorted(p.name for p in trial.parent.glob("checkpoint_*"))}
    return out


def test_the_study_finishes_and_says_so(killed_study):
    out = killed_study["output"]
    assert killed_study["exit"] == 0, out[-4000:]
    assert f"\nTrials: {len(VARIANTS)} ({len(VARIANTS)} ok)\n" in out, out[-4000:]
    assert re.search(r"Job 'raysubmit_\w+' succeeded", out), out[-2000:]
    assert (killed_study["exp"] / "report" / "report.md").is_file()


def test_the_kill_came_mid_study(killed_study):
    """At the kill some trial had a checkpoint and the study had trials left to run."""
    at_kill = killed_study["at_kill"]
    assert any(t["g_steps"] for t in at_kill.values())
    finished = [name for name, t in at_kill.items() if t["g_steps"][-1:] == [STEPS]]
    assert len(finished) < len(VARIANTS), at_kill


def test_every_trial_finished_once_with_no_report_lost_or_counted_twice(killed_study):
    trials = killed_study["trials"]
    exp = killed_study["exp"]
    assert sorted(t.config["variant"] for t in trials) == VARIANTS
    assert len([d for d in exp.iterdir() if (d / "params.json").is_file()]) == len(VARIANTS)
    every_report = list(range(EVAL_EVERY, STEPS + 1, EVAL_EVERY))
    for t in trials:
        assert t.status == "TERMINATED", t.path
        assert t.reported("g_steps") == every_report, t.path  # increasing, none twice, none missing
        assert t.reported("training_iteration") == list(range(1, len(every_report) + 1)), t.path
        assert t.rows[-1]["status"] == "ok", t.path
        assert {r["node_ip"] for r in t.rows} == {WORKER_IP}, t.path  # every trial ran on the worker


def test_trials_on_the_killed_worker_resumed_from_their_checkpoints(killed_study):
    trials = killed_study["trials"]
    restarted = [t for t in trials if t.num_failures > 0]
    assert restarted, "no trial was restarted by the kill"
    resumed = [t for t in restarted if any(a[0]["g_steps"] > EVAL_EVERY for a in report_attempts(t.rows)[1:])]
    assert resumed, [(t.path.name, [a[0]["g_steps"] for a in report_attempts(t.rows)]) for t in restarted]
    for t in restarted:  # a restarted trial that had reported resumed after its last report, not from step 0
        attempts = report_attempts(t.rows)
        for before, after in zip(attempts, attempts[1:]):
            assert after[0]["g_steps"] == before[-1]["g_steps"] + EVAL_EVERY, t.path
    # the worker's Ray was restarted (by the autoscaler, after its heartbeat timeout): a new node id after the kill
    assert len({r["node_id"] for t in trials for r in t.rows}) >= 2


def test_the_default_gpu_share_fits_the_twin(killed_study):
    """--gpus-per-trial left to its default on a cluster without GPUs: 0, and the line says why (the local
    provider's node type states no resources, the alive worker has no GPU)."""
    assert re.search(r"\nStudy k_sweep: 8 trials, 1 CPU \+ 0 GPU each \(auto: no node has GPUs and node type "
                     r"\S+ does not say \(pass --gpus-per-trial to use them\)\)", killed_study["output"]), \
        [line for line in killed_study["output"].splitlines() if "Study k_sweep" in line]


def test_a_storage_path_only_the_head_sees_is_refused_before_any_trial(twin, killed_study):
    """Issue 21, finding 3: the default ./results on a multi-node cluster failed every trial after minutes. The
    pre-flight probe, on the worker where trials run, cannot see the head's /tmp: one line, before any trial, nothing
    written there."""
    private = "/tmp/head-only-results"
    argv = ["python", "-m", "studies.k_sweep", "--smoke-test", "--address", "auto", "--storage-path", private,
            "--name", "local"]
    started = time.monotonic()
    done = twin.client(twin.job_argv(argv), 300)
    assert done.returncode != 0, done.stdout[-3000:]
    assert (f"k_sweep: error: --storage-path '{private}' is on this machine only: the trials run on other nodes (a "
            f"probe on node 127.0.0.2 cannot see it); allowed: a URI every node reaches, such as s3://bucket/prefix, "
            f"or a shared mount at the same path on every node\n") in done.stdout, done.stdout[-3000:]
    assert "Study k_sweep:" not in done.stdout
    assert time.monotonic() - started < 120
    head_side = twin.host_path("head", private)
    assert not head_side.exists() or list(head_side.rglob("*")) == []


def test_ray_dashboard_tunnels_to_the_heads_dashboard(twin, killed_study):
    """docs/CLUSTER.md's `ray dashboard cluster.yaml`: an SSH tunnel from the client to the head's dashboard, which
    listens on the head's localhost only; through it, with the token, the client lists the study's job. (Another
    local port than 8265: the client shares the head's loopback here.)"""
    tunnel = twin.client_popen([*nodes.RAY_CLI, "dashboard", "-p", "8366", str(twin.config_path)],
                               output=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while (got := twin.client([*nodes.RAY_CLI, "job", "list", "--address", "http://127.0.0.1:8366"],
                                  60)).returncode != 0:
            if tunnel.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no dashboard through the tunnel (tunnel exit {tunnel.poll()}):\n{got.stdout[-2000:]}")
            time.sleep(1)
    finally:
        os.killpg(tunnel.pid, signal.SIGKILL)
        tunnel.wait()
    assert "SUCCEEDED" in got.stdout and "studies.k_sweep" in got.stdout, got.stdout[-2000:]

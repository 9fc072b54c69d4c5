"""The cluster commands of docs/CLUSTER.md after its install (issue 10, finding 8): ``ray job submit`` of a smoke
study to a real Ray head that this test starts, with token authentication on, as cluster.yaml starts its head."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _free_ports(n: int) -> list[int]:
    """n distinct free ports: the sockets stay bound until all are chosen, so the OS cannot hand one out twice."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_the_cluster_extra_brings_what_the_cluster_section_uses():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["optional-dependencies"]["cluster"] == ["ray[default,tune]>=2.50,<3", "boto3>=1.26"]
    # the tests use it too (this file, and boto3 for cluster.yaml)
    assert set(project["optional-dependencies"]["cluster"]) <= set(project["optional-dependencies"]["dev"])


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    """``ray start --head --block`` with token auth (a token of its own, in RAY_AUTH_TOKEN) and the dashboard on
    127.0.0.1, in a session of its own; killed with its process group at the end."""
    token = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN_PATH")}
    env.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token})
    temp = tempfile.mkdtemp(prefix="rh", dir="/tmp")  # short: Ray's socket paths must stay under 108 bytes
    # every port this head would take by default too: the session's test cluster already holds the defaults
    # (a second job agent on 52365 cannot start, and the head then answers "No available agent to submit job")
    names = ("dashboard-agent-listen-port", "dashboard-agent-grpc-port", "metrics-export-port",
             "runtime-env-agent-port", "ray-client-server-port", "node-manager-port", "object-manager-port")
    port, dashboard, *more = _free_ports(2 + len(names))
    others = [f"--{name}={p}" for name, p in zip(names, more)]
    proc = subprocess.Popen(["ray", "start", "--head", f"--port={port}", "--dashboard-host=127.0.0.1",
                             f"--dashboard-port={dashboard}", *others, "--num-cpus=2", f"--temp-dir={temp}",
                             "--block"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    address = f"http://127.0.0.1:{dashboard}"
    try:
        # ready when a job runs: the dashboard answers before the node's job agent does ("No available agent")
        deadline = time.monotonic() + 180
        while (probe := subprocess.run(["ray", "job", "submit", "--address", address, "--", "true"], env=env,
                                       capture_output=True, text=True, timeout=120)).returncode != 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                head_err = proc.stderr.read()[-2000:] if proc.poll() is not None else "(still running)"
                pytest.fail(f"the Ray head did not come up: exit {proc.poll()}: {head_err}; the last probe said: "
                            f"{(probe.stdout + probe.stderr)[-2000:]}")
            time.sleep(1)
        yield address, env
    finally:  # a test head: killed at once, its whole process group (a graceful stop takes half a minute)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        shutil.rmtree(temp, ignore_errors=True)


def test_the_head_refuses_a_client_without_its_token(head):
    address, env = head
    wrong = {**env, "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    got = subprocess.run(["ray", "job", "list", "--address", address], env=wrong, capture_output=True, text=True,
                         timeout=60)
    assert got.returncode != 0
    assert "Invalid authentication token" in got.stdout + got.stderr


def test_ray_job_submit_runs_a_smoke_study_on_the_head(head, tmp_path):
    address, env = head
    got = subprocess.run(["ray", "job", "submit", "--address", address, "--", "python", "-m", "studies.k_sweep",
                          "--smoke-test", "--address", "auto", "--storage-path", str(tmp_path), "--name", "job"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert got.returncode == 0, (got.stdout + got.stderr)[-3000:]
    assert "\nTrials: 8 (8 ok)\n" in got.stdout
    assert re.search(r"Job 'raysubmit_\w+' succeeded", got.stdout + got.stderr)
    exp = tmp_path / "job"
    assert len([d for d in exp.iterdir() if (d / "params.json").is_file()]) == 8
    assert (exp / "report" / "report.md").is_file()

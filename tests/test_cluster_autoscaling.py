"""A study on an autoscaling cluster that starts with no worker (issue 21, findings 1, 2 and 4), with Ray's own
autoscaler: a head with 0 CPUs and the ``fake_multinode`` provider, whose worker node type declares 2 CPUs and
1 GPU (a fake one: Ray hands it out, torch cannot use it), started here as cluster.yaml's head is started
(``ray start --head --autoscaling-config=...``), in a process group of its own.

What it shows, each with the study's real command (``python -m studies.k_sweep --address <head>``):
- the default GPU share comes from the node type, although no GPU node is alive when the study connects (it was 0);
- a trial that holds a GPU torch cannot use is refused before any trial starts, in one line naming torch's build
  and the driver (it trained on the CPU, silently); ``--allow-cpu-fallback`` runs the study on the CPU, by choice,
  on a worker the autoscaler starts for it;
- a GPU request that no node type can satisfy is refused in one line at once (it waited for ever);
- a request that no node comes up for ends after ``--start-timeout`` with what is missing (it waited for ever).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.processes import REPO, finish
from tests.test_cluster_job import _free_ports

WORKER = {"resources": {"CPU": 2, "GPU": 1}, "node_config": {}, "min_workers": 0, "max_workers": 1}
# A node type whose resources say nothing: the autoscaler never starts it for a trial (nothing fits), so a study
# that joins this cluster waits for a node that never comes (what a quota of 0 instances looks like).
SILENT = {"resources": {}, "node_config": {}, "min_workers": 0, "max_workers": 1}


def _node_ip() -> str:
    out = subprocess.run([sys.executable, "-c", "import ray._private.services as s; print(s.get_node_ip_address())"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def autoscaling_head():
    """(GCS address, env) of a head whose autoscaler can start one GPU worker."""
    yield from _head({"gpu_worker": WORKER})


@pytest.fixture
def silent_head():
    """(GCS address, env) of a head whose only worker type states no resources: no node ever comes."""
    yield from _head({"silent": SILENT})


def _head(worker_types: dict):
    """(GCS address, env) of a head started with an autoscaling config of its own; everything it started (the
    monitor's fake worker nodes too) is killed at the end."""
    port, dashboard, *more = _free_ports(9)
    ip = _node_ip()
    temp = tempfile.mkdtemp(prefix="ra", dir="/tmp")  # short: Ray's socket paths must stay under 108 bytes
    config = {"cluster_name": "fake", "max_workers": 2, "upscaling_speed": 1.0, "idle_timeout_minutes": 5,
              "provider": {"type": "fake_multinode", "gcs_address": f"{ip}:{port}",
                           # its nodes are processes started by the monitor itself: no SSH updater to run on them
                           "disable_node_updaters": True, "disable_launch_config_check": True},
              "auth": {"ssh_user": "ray"},
              "available_node_types": {"ray.head.default": {"resources": {"CPU": 0}, "node_config": {},
                                                            "max_workers": 0},
                                       **worker_types},
              "head_node_type": "ray.head.default", "file_mounts": {}, "cluster_synced_files": [],
              "file_mounts_sync_continuously": False, "rsync_exclude": [], "rsync_filter": [],
              "initialization_commands": [], "setup_commands": [], "head_setup_commands": [],
              "worker_setup_commands": [], "head_start_ray_commands": [], "worker_start_ray_commands": []}
    path = os.path.join(temp, "autoscaling.json")
    Path(path).write_text(json.dumps(config))
    names = ("dashboard-agent-listen-port", "dashboard-agent-grpc-port", "metrics-export-port",
             "runtime-env-agent-port", "ray-client-server-port", "node-manager-port", "object-manager-port")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    head_env = {**env, "RAY_FAKE_CLUSTER": "1", "AUTOSCALER_UPDATE_INTERVAL_S": "1"}
    proc = subprocess.Popen(["ray", "start", "--head", f"--port={port}", f"--autoscaling-config={path}",
                             "--num-cpus=0", "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}",
                             *[f"--{n}={p}" for n, p in zip(names, more)], f"--temp-dir={temp}", "--block"],
                            env=head_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while subprocess.run(["ray", "status", f"--address={ip}:{port}"], env=env, capture_output=True,
                             timeout=60).returncode != 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the autoscaling head did not come up: {proc.poll()}")
            time.sleep(1)
        yield f"{ip}:{port}", env
    finally:  # a test cluster: killed at once (a graceful stop takes half a minute), its leftovers by name
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        _kill_leftovers(temp)
        shutil.rmtree(temp, ignore_errors=True)


def _kill_leftovers(temp: str) -> None:
    """The fake worker nodes' processes name the head's session folder: end any that outlived the head."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if temp in cmdline:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


def _the_line(stderr: str) -> str:
    """The study's one line: stderr's last; the lines before it may only be Ray's own INFO lines about joining
    the cluster (docs/RELIABILITY.md's "not promised": a quiet stderr)."""
    *before, last = stderr.splitlines()
    assert all("\tINFO worker.py:" in line for line in before), stderr[-3000:]
    return last


def _study(address, env, tmp_path, name, *extra, timeout=120):
    proc = subprocess.Popen([sys.executable, "-m", "studies.k_sweep", "--smoke-test", "--k", "1", "--g-loss",
                             "non_saturating", "--address", address, "--storage-path", str(tmp_path), "--name", name,
                             *extra],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    return finish(proc, timeout)


def test_node_types_are_read_from_the_heads_autoscaling_config(autoscaling_head):
    """What the driver learns of a cluster with no worker alive: the node types its monitor was started with, read
    where the driver runs on the head's machine, and by a task pinned to the head where it does not."""
    address, env = autoscaling_head
    code = ("import ray; from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy as On\n"
            "from studies import autoscaler; from studies.capacity import cluster_offers\n"
            "ray.init(address=%r, log_to_driver=False)\n"
            "print([(o.what, o.cpus, o.gpus, o.alive) for o in cluster_offers() if not o.alive])\n"
            "head = [n['NodeID'] for n in ray.nodes() if 'node:__internal_head__' in n['Resources']][0]\n"
            "reader = ray.remote(num_cpus=0)(autoscaler._monitor_config).options(scheduling_strategy=On(head, "
            "soft=False))\n"
            "seen, config = ray.get(reader.remote(ray.get_runtime_context().gcs_address))\n"
            "print(seen, autoscaler.node_types_of(config))\n" % address)
    got = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr[-2000:]
    assert got.stdout.strip().splitlines()[-2:] == [
        "[('node type gpu_worker', 2.0, 1.0, False)]",
        "True [NodeOffer(what='node type gpu_worker', cpus=2.0, gpus=1.0, alive=False, ip=None)]"]


def test_a_gpu_torch_cannot_use_is_refused_before_any_trial(autoscaling_head, tmp_path):
    address, env = autoscaling_head
    done = _study(address, env, tmp_path, "gpu")
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Study k_sweep" not in done.stdout  # refused before the study started
    line = _the_line(done.stderr)
    from gan_core.gpu import cuda_problem

    assert line.startswith("k_sweep: error: a trial asks for 0.25 GPU, and on node ")
    assert line.endswith(f" {cuda_problem()} (or --allow-cpu-fallback to train such trials on the CPU)")
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_by_default_trials_get_a_gpu_share_and_run_on_a_started_worker(autoscaling_head, tmp_path):
    """--allow-cpu-fallback: the fake GPU cannot train, so the CPU does, as asked; the trials still ask for (and
    hold) 0.25 GPU each, on the worker the autoscaler started for them."""
    address, env = autoscaling_head
    done = _study(address, env, tmp_path, "auto", "--allow-cpu-fallback")
    assert done.returncode == 0, done.stderr[-3000:]
    # (the probe of an earlier test may have left the worker it started alive: then that node is named)
    assert re.search(r"\nStudy k_sweep: 1 trials, 1 CPU \+ 0\.25 GPU each \(auto: node (type gpu_worker|[0-9.]+) "
                     r"\(2 CPU, 1 GPU\) has GPUs\)", done.stdout), done.stdout
    assert "\nTrials: 1 (1 ok)\n" in done.stdout
    (trial,) = [d for d in (tmp_path / "auto").iterdir() if (d / "result.json").is_file()]
    rows = [json.loads(line) for line in (trial / "result.json").read_text().splitlines()]
    head = subprocess.run(["ray", "status", f"--address={address}"], env=env, capture_output=True, text=True)
    assert {r["device"] for r in rows} == {"cpu"} and len({r["node_id"] for r in rows}) == 1
    assert "gpu_worker" in head.stdout  # the node it ran on was started by the autoscaler


def test_a_gpu_request_no_node_type_can_satisfy_is_refused_at_once(autoscaling_head, tmp_path):
    address, env = autoscaling_head
    started = time.monotonic()
    done = _study(address, env, tmp_path, "two", "--gpus-per-trial", "2")
    assert done.returncode == 2, done.stderr[-3000:]
    # (the node named: the worker an earlier test's study started, if it is still alive, else its node type)
    assert re.fullmatch(r"k_sweep: error: --gpus-per-trial 2 asks for more GPUs than any trial can get: the "
                        r"cluster's largest node or node type, node (type gpu_worker|[0-9.]+), has 1; allowed: "
                        r"--gpus-per-trial <= 1", _the_line(done.stderr)), done.stderr[-3000:]
    assert time.monotonic() - started < 120
    assert list(tmp_path.iterdir()) == []


def test_waiting_for_a_node_that_never_comes_ends_with_what_is_missing(silent_head, tmp_path):
    """The only worker type's resources are unknown (as the local provider's are), so nothing is refused up front,
    and the autoscaler never starts it for a trial: the study stops after --start-timeout, in one line, exit 1."""
    address, env = silent_head
    done = _study(address, env, tmp_path, "wait", "--start-timeout", "8")
    assert done.returncode == 1, done.stderr[-3000:]
    line = _the_line(done.stderr)
    assert line.startswith("k_sweep: error: no node that can run a trial (1 CPU + 0 GPU) came up within "
                           "--start-timeout 8 s")
    assert line.endswith("nothing was started: run the same command again")
    assert list(tmp_path.iterdir()) == []

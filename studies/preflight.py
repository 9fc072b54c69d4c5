"""Before the first trial: one probe task, with a trial's resources, on a node where trials will run.

Why: on a multi-node cluster two things fail only where the trials run, late and in other words:
- a local ``--storage-path`` that the worker nodes cannot see: every trial failed with "Unable to set up cluster
  storage", and the study exited 1 after 3 minutes and 24 attempts (the head of cluster.yaml has no CPU for trials,
  so no trial can ever see the head's disk);
- a GPU that torch cannot use (a driver too old for torch's CUDA build): each trial would fail on it, one by one.
And a request that no node can take *yet* (an autoscaler that cannot launch one: a quota of 0 GPU instances, no
capacity in the zone, a node whose setup fails) left the trials PENDING with no end and no message.

So the driver asks first, when there is something to ask: it writes a marker file into the experiment directory and
runs ``_probe`` with one trial's CPUs and GPUs. The probe lands where a trial would (the autoscaler starts a node for
it as it would for a trial), says whether it sees the marker, and what ``gan_core.gpu.cuda_problem`` says of its GPU.
While it waits, the study prints what the autoscaler is doing every ``PROGRESS_EVERY_S``; after ``--start-timeout``
it stops in one line naming the resource it waited for and what the autoscaler said. Nothing of the study has been
written then (the marker is removed), so the same command runs it once the cluster can.

When there is nothing to ask, nothing runs: a local Ray (one machine: its disk is the trials' disk), a storage URI
(``s3://``: every node reaches it), no GPU requested or ``--allow-cpu-fallback``.
"""
from __future__ import annotations

import os
import secrets
import time
from typing import Any, Iterable

import ray

from studies.capacity import NodeOffer
from studies.cli import StudyClusterError, StudyInputError
from studies.experiment_dir import ExperimentDir

PROGRESS_EVERY_S = 60.0
_POLL_S = 1.0


class ClusterCannotStart(StudyClusterError):
    """No node that can run a trial came up within ``--start-timeout``: exit 1 (the input may be right, the cluster
    could not provide), with the line saying what was missing."""


def trials_leave_this_machine(cpus: float, gpus: float, offers: Iterable[NodeOffer]) -> bool:
    """True when a trial may run on another machine than the driver's: an alive node at another address that can
    hold one, or any node type the autoscaler would start."""
    here = _driver_ip()
    for offer in offers:
        if offer.fits(cpus, gpus) is False:
            continue
        if not offer.alive or offer.ip != here:
            return True
    return False


def preflight(loc: ExperimentDir, cpus: float, gpus: float, offers: list[NodeOffer], allow_cpu_fallback: bool,
              start_timeout: float) -> None:
    """Probe a node where trials will run (see the module docstring); StudyInputError (exit 2) for a storage path
    it cannot see or a GPU torch cannot use there, ``ClusterCannotStart`` (exit 1) when no such node came up."""
    check_storage = loc.is_local and trials_leave_this_machine(cpus, gpus, offers)
    check_gpu = gpus > 0 and not allow_cpu_fallback
    if not (check_storage or check_gpu):
        return
    nonce = secrets.token_hex(8)
    marker = os.path.join(loc.experiment_path, f".probe-{nonce}") if check_storage else None
    if marker is not None:
        os.makedirs(loc.experiment_path, exist_ok=True)
        with open(marker, "w") as f:
            f.write(nonce)
    probe = ray.remote(_probe).options(num_cpus=cpus, num_gpus=gpus, max_retries=0)
    ref = probe.remote(marker, nonce, check_gpu)
    try:
        found = _wait(ref, cpus, gpus, start_timeout)
    finally:
        if marker is not None:
            try:
                os.unlink(marker)
            except OSError:
                pass
    if check_storage and not found["storage_seen"]:
        raise StudyInputError(
            f"--storage-path {loc.storage_path!r} is on this machine only: the trials run on other nodes (a probe on "
            f"{found['node']} cannot see it); allowed: a URI every node reaches, such as s3://bucket/prefix, or a "
            f"shared mount at the same path on every node")
    if check_gpu and found["gpu_problem"] is not None:
        raise StudyInputError(f"a trial asks for {gpus:g} GPU, and on {found['node']} {found['gpu_problem']} (or "
                              f"--allow-cpu-fallback to train such trials on the CPU)")


def _wait(ref: Any, cpus: float, gpus: float, start_timeout: float) -> dict[str, Any]:
    """The probe's answer, printing what the autoscaler does while it waits; ``ClusterCannotStart`` at the end."""
    from studies.autoscaler import autoscaler_status

    start = time.monotonic()
    next_note = start + PROGRESS_EVERY_S
    while True:
        done, _ = ray.wait([ref], timeout=_POLL_S)
        if done:
            return ray.get(ref)
        now = time.monotonic()
        if now - start > start_timeout:
            ray.cancel(ref, force=True)
            said = autoscaler_status()
            raise ClusterCannotStart(
                f"no node that can run a trial ({cpus:g} CPU + {gpus:g} GPU) came up within --start-timeout "
                f"{start_timeout:g} s{'; the autoscaler: ' + said if said else ''}; allowed: a cluster that can "
                f"start such a node (its node types, your cloud quota for them, `ray status` on the head), or fewer "
                f"resources per trial; nothing was started: run the same command again")
        if now >= next_note:
            said = autoscaler_status()
            print(f"Waiting for a node with {cpus:g} CPU + {gpus:g} GPU ({now - start:.0f} s of --start-timeout "
                  f"{start_timeout:g} s){': ' + said if said else ''}", flush=True)
            next_note = now + PROGRESS_EVERY_S


def _probe(marker: str | None, nonce: str, check_gpu: bool) -> dict[str, Any]:
    """On the node: whether it sees the driver's marker file, and why torch cannot use its GPU (None if it can)."""
    node = ray.util.get_node_ip_address()
    seen = True
    if marker is not None:
        try:
            with open(marker) as f:
                seen = f.read() == nonce
        except OSError:
            seen = False
    problem = None
    if check_gpu:
        from gan_core.gpu import cuda_problem

        problem = cuda_problem()
    return {"node": f"node {node}", "storage_seen": seen, "gpu_problem": problem}


def _driver_ip() -> str | None:
    me = ray.get_runtime_context().get_node_id()
    return next((n["NodeManagerAddress"] for n in ray.nodes() if n["NodeID"] == me), None)

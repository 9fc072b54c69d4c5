"""Requests the machine can never meet, refused before a trial starts: per-trial resources no node has, and trial
configs larger than the memory a trial gets; and the GPU share a trial gets by default.

Why: Ray queues a trial that asks for 64 CPUs on a 2-core machine for ever, with nothing said (a local Ray does not
autoscale), and a config sized like a memory bomb is retried until its failures run out, when it has not already
brought the OOM killer. Both are knowable before the study starts, so both are one line and exit 2, and nothing is
left behind that would block the corrected command.

What a trial can get: on the local machine (no ``--address``) its CPUs and GPUs; in a Ray instance this process is
already connected to (tests, notebooks), the largest alive node. A cluster joined by address may autoscale, so
its nodes say nothing of what it can grow to: the resource check is left to Ray there. Memory is checked against
the memory available on the driver's machine, shared by the trials that run side by side on it
(``gan_core.memory``); on a cluster whose workers are larger than the driver, run the driver there.
"""
from __future__ import annotations

import argparse
import os
from typing import Any, Iterable, Mapping

import ray

from studies.cli import StudyInputError
from studies.connect import resolve_address

GPU_FRACTION_DEFAULT = 0.25  # a trial's GPU share where the cluster has GPUs: small GANs share one


def largest_node(address: str | None) -> tuple[float, float, str] | None:
    """(CPUs, GPUs, what it is) that one trial can get at most; None when a joined cluster may grow."""
    if ray.is_initialized():
        alive = [n["Resources"] for n in ray.nodes() if n["Alive"]]
        cpus = max((float(r["CPU"]) if "CPU" in r else 0.0 for r in alive), default=0.0)
        gpus = max((float(r["GPU"]) if "GPU" in r else 0.0 for r in alive), default=0.0)
        return cpus, gpus, "the largest node of the connected Ray cluster"
    if resolve_address(address) is not None:
        return None
    import torch

    return float(len(os.sched_getaffinity(0))), float(torch.cuda.device_count()), "this machine"


def default_gpus_per_trial() -> float:
    """0.25 when the cluster has GPUs now, else 0."""
    has_gpu = ray.cluster_resources().get("GPU", 0) > 0  # a resource count (0 when absent), not a config value
    return GPU_FRACTION_DEFAULT if has_gpu else 0.0


def check_resources(args: argparse.Namespace) -> int:
    """StudyInputError when a trial asks for more CPUs or GPUs than any node has; returns how many trials fit side
    by side on the largest node by their CPUs (1 when unknown)."""
    node = largest_node(args.address)
    if node is None:
        return 1
    cpus, gpus, what = node
    if args.cpus_per_trial > cpus:
        raise StudyInputError(f"--cpus-per-trial {args.cpus_per_trial} asks for more CPUs than any trial can get: "
                              f"{what} has {cpus:g}; allowed: --cpus-per-trial <= {cpus:g}")
    if args.gpus_per_trial is not None and args.gpus_per_trial > gpus:
        raise StudyInputError(f"--gpus-per-trial {args.gpus_per_trial:g} asks for more GPUs than any trial can get: "
                              f"{what} has {gpus:g}; allowed: --gpus-per-trial <= {gpus:g}")
    return max(1, int(cpus // args.cpus_per_trial))


def check_memory(configs: Iterable[Mapping[str, Any]], study_keys: Iterable[str], side_by_side: int,
                 members: int = 1) -> None:
    """StudyInputError naming the first trial config that needs more memory than its share of this machine's
    available memory (the seeds of a variant share one estimate); a population trial of ``members`` seeds holds
    that many runs, so each run gets that much less."""
    from gan_core.config import GANConfig
    from gan_core.memory import available_bytes, check_fits

    share = available_bytes() // side_by_side // members
    where = f"each of {side_by_side} trials side by side gets of this machine's available memory" \
        if side_by_side > 1 else "this machine has available"
    if members > 1:
        where = (f"each run gets of this machine's available memory ({side_by_side} trial(s) side by side, each a "
                 f"population of {members} seeds)")
    study_keys = tuple(study_keys)
    seen = set()
    for cfg in configs:
        flat = {k: v for k, v in cfg.items() if k not in study_keys}
        key = tuple(sorted((k, repr(v)) for k, v in flat.items() if k != "seed"))
        if key in seen:
            continue
        seen.add(key)
        try:
            check_fits(GANConfig.from_flat(flat), share, where=where)
        except ValueError as e:
            label = ", ".join(f"{k}={cfg[k]!r}" for k in study_keys if k in cfg)
            raise StudyInputError(f"invalid trial config ({label}): {e}") from None

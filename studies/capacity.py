"""What the trials can get, and requests that can never be met, refused before a trial starts.

Why: Ray queues a trial that asks for 64 CPUs on a 2-core machine for ever, with nothing said, and a config sized
like a memory bomb is retried until its failures run out, when it has not already brought the OOM killer. Both are
knowable before the study starts, so both are one line and exit 2, and nothing is left behind that would block the
corrected command.

What the trials can get (``NodeOffer``): on the local machine (no ``--address``, checked before Ray starts) its CPUs
and GPUs; on a Ray cluster, its alive nodes *and* the node types its autoscaler can start (``autoscaler_node_types``:
the cluster config the autoscaler reported to Ray's GCS, else the autoscaling config file of the head's monitor).
The node types matter because an autoscaling cluster such as cluster.yaml's starts with no worker at all: judged
by its alive nodes, every trial would ask for 0 GPUs and run on the CPU of a GPU worker (it did, on a twin of
cluster.yaml), and a GPU request would look impossible. Node types whose resources the config does not state (the
``local`` provider's) are "unknown": nothing is refused on their account, and the pre-flight probe
(``studies.preflight``) and the watchdog (``studies.watchdog``) bound the wait instead.

``--gpus-per-trial auto`` (the default) is 0.25 when some alive node or node type has GPUs, else 0. Memory is checked
against the memory available on the driver's machine, shared by the trials that run side by side on it
(``gan_core.memory``); on a cluster whose workers are larger than the driver, run the driver there.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Iterable

import ray

from studies.cli import GPUS_AUTO, StudyInputError
from studies.connect import resolve_address
from studies.trial import StudyTrial

GPU_FRACTION_DEFAULT = 0.25  # a trial's GPU share where the cluster has GPUs: small GANs share one
MAX_TRIALS = 20_000  # Ray Tune's driver holds every trial in memory and in each experiment snapshot: far beyond any
#                      study's design (the largest preset has 90 trials), and a typo such as --seeds 1000000 is caught


@dataclass(frozen=True)
class NodeOffer:
    """One alive node, or one node type the autoscaler can start; ``cpus``/``gpus`` None when not stated."""

    what: str               # "this machine", "node 10.0.0.5", "node type gpu_worker"
    cpus: float | None
    gpus: float | None
    alive: bool
    ip: str | None = None   # an alive node's IP address

    def fits(self, cpus: float, gpus: float) -> bool | None:
        """Whether one trial of ``cpus`` + ``gpus`` fits on such a node; None when its resources are unknown."""
        if self.cpus is None or (gpus > 0 and self.gpus is None):
            return None
        return self.cpus >= cpus and (self.gpus or 0.0) >= gpus

    def describe(self) -> str:
        cpus = "? CPU" if self.cpus is None else f"{self.cpus:g} CPU"
        gpus = "? GPU" if self.gpus is None else f"{self.gpus:g} GPU"
        return f"{self.what} ({cpus}, {gpus})"


def this_machine() -> NodeOffer:
    import torch

    return NodeOffer("this machine", float(len(os.sched_getaffinity(0))), float(torch.cuda.device_count()), True)


def cluster_offers(node_types: bool = True) -> list[NodeOffer]:
    """The connected Ray cluster's alive nodes and (``node_types``) the node types its autoscaler can start."""
    offers = [NodeOffer(f"node {n['NodeManagerAddress']}", float(n["Resources"]["CPU"]) if "CPU" in n["Resources"]
                        else 0.0, float(n["Resources"]["GPU"]) if "GPU" in n["Resources"] else 0.0, True,
                        n["NodeManagerAddress"])
              for n in ray.nodes() if n["Alive"]]
    if not node_types:
        return offers
    from studies.autoscaler import autoscaler_node_types

    return offers + autoscaler_node_types()


def resolve_gpus(requested: float | str, offers: Iterable[NodeOffer]) -> tuple[float, str]:
    """(GPUs per trial, why): ``requested`` as given, or for ``auto`` 0.25 where some node or node type has GPUs."""
    offers = list(offers)
    if requested != GPUS_AUTO:
        return float(requested), "--gpus-per-trial"
    with_gpus = [o for o in offers if o.gpus]
    if with_gpus:
        return GPU_FRACTION_DEFAULT, f"auto: {with_gpus[0].describe()} has GPUs"
    unknown = [o for o in offers if o.gpus is None]
    if unknown:
        return 0.0, f"auto: no node has GPUs and {unknown[0].what} does not say (pass --gpus-per-trial to use them)"
    if all(o.alive for o in offers):
        return 0.0, "auto: no node has a GPU"
    return 0.0, "auto: no node has a GPU, nor can the cluster's autoscaler start one that has"


def check_fits(cpus: float, gpus: float, offers: Iterable[NodeOffer]) -> None:
    """StudyInputError when no alive node and no node type can ever run one trial of ``cpus`` + ``gpus``: one line
    naming the option, what the largest node (type) has, and what is allowed."""
    offers = list(offers)
    if not offers or any(o.fits(cpus, gpus) is not False for o in offers):
        return
    where = "this machine" if [o.what for o in offers] == ["this machine"] else None
    most_cpus = max(offers, key=lambda o: o.cpus or 0.0)
    most_gpus = max(offers, key=lambda o: o.gpus or 0.0)
    if cpus > (most_cpus.cpus or 0.0):
        has = where or f"the cluster's largest node or node type, {most_cpus.what},"
        raise StudyInputError(f"--cpus-per-trial {cpus:g} asks for more CPUs than any trial can get: {has} has "
                              f"{most_cpus.cpus or 0.0:g}; allowed: --cpus-per-trial <= {most_cpus.cpus or 0.0:g}")
    if gpus > (most_gpus.gpus or 0.0):
        if not most_gpus.gpus:
            listed = "this machine" if where else ", ".join(o.describe() for o in offers)
            raise StudyInputError(f"--gpus-per-trial {gpus:g} asks for a GPU, and no node can have one: {listed}; "
                                  f"allowed: --gpus-per-trial 0 (or auto), or a cluster with a GPU node type")
        has = where or f"the cluster's largest node or node type, {most_gpus.what},"
        raise StudyInputError(f"--gpus-per-trial {gpus:g} asks for more GPUs than any trial can get: {has} has "
                              f"{most_gpus.gpus:g}; allowed: --gpus-per-trial <= {most_gpus.gpus:g}")
    raise StudyInputError(f"no node can run a trial that asks for {cpus:g} CPU + {gpus:g} GPU: the cluster offers "
                          f"{', '.join(o.describe() for o in offers)}; allowed: a request one of them can hold")


def check_resources(args: argparse.Namespace) -> int:
    """Before Ray starts, on the local machine only (no address, Ray not already connected): StudyInputError when a
    trial asks for more CPUs or GPUs than the machine has; returns how many trials fit side by side on the largest
    node by their CPUs (1 when the cluster is not known yet: it is checked once joined, ``check_cluster``)."""
    if ray.is_initialized():
        offers = cluster_offers(node_types=False)
    elif resolve_address(args.address) is None:
        offers = [this_machine()]
    else:
        return 1
    gpus, _ = resolve_gpus(args.gpus_per_trial, offers)
    check_fits(args.cpus_per_trial, gpus, offers)
    return max(1, int(max(o.cpus or 0.0 for o in offers) // args.cpus_per_trial))


def check_cluster(args: argparse.Namespace, node_types: bool = True) -> tuple[float, str, list[NodeOffer]]:
    """Once connected: (GPUs per trial, why, what the cluster offers), refusing a trial no node can ever run."""
    offers = cluster_offers(node_types)
    gpus, why = resolve_gpus(args.gpus_per_trial, offers)
    check_fits(args.cpus_per_trial, gpus, offers)
    return gpus, why, offers


def check_trial_count(n: int) -> None:
    if n > MAX_TRIALS:
        raise StudyInputError(f"the study would start {n:,} trials; allowed: at most {MAX_TRIALS:,} (fewer --seeds, "
                              f"variants or samples)")


def check_memory(trials: Iterable[StudyTrial], side_by_side: int) -> None:
    """StudyInputError naming the first trial that needs more memory than its share of this machine's available
    memory (the seeds of a variant share one estimate); a population trial holds one run per seed, so each of its
    runs gets that much less."""
    from gan_core.config import GANConfig
    from gan_core.memory import available_bytes, check_fits as fits_memory

    available = available_bytes()
    seen = set()
    for trial in trials:
        members = len(trial.seeds)
        key = (members, tuple(sorted((k, repr(v)) for k, v in trial.config.items() if k != "seed")))
        if key in seen:
            continue
        seen.add(key)
        where = f"each of {side_by_side} trials side by side gets of this machine's available memory" \
            if side_by_side > 1 else "this machine has available"
        if members > 1:
            where = (f"each run gets of this machine's available memory ({side_by_side} trial(s) side by side, "
                     f"each a population of {members} seeds)")
        try:
            fits_memory(GANConfig.from_flat(dict(trial.config)), available // side_by_side // members, where=where)
        except ValueError as e:
            raise StudyInputError(f"invalid trial config ({trial.label()}): {e}") from None

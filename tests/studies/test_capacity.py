"""Requests the machine can never meet: resources no node has, configs larger than a trial's share of memory."""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from studies.autoscaler import node_types_of
from studies.trial import StudyTrial
from studies.capacity import (GPU_FRACTION_DEFAULT, NodeOffer, check_fits, check_memory, check_resources,
                              resolve_gpus, this_machine)
from studies.cli import StudyInputError


def _args(cpus=1, gpus="auto", address=None):
    return SimpleNamespace(cpus_per_trial=cpus, gpus_per_trial=gpus, address=address)


def test_this_machine_is_what_a_local_study_can_get(monkeypatch):
    import ray

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    assert this_machine() == NodeOffer("this machine", float(len(os.sched_getaffinity(0))), 0.0, True)
    assert check_resources(_args()) == len(os.sched_getaffinity(0))
    assert check_resources(_args(address="10.0.0.1:6379")) == 1  # a cluster is checked once joined


def test_resources_larger_than_the_largest_node_are_refused(ray_cluster):
    # the session's cluster: a head of 2 CPUs and a node of 4 CPUs with 1 (fake) GPU
    assert check_resources(_args(cpus=4)) == 1
    assert check_resources(_args(cpus=1, gpus=0.25)) == 4  # trials side by side on the largest node
    with pytest.raises(StudyInputError) as e:
        check_resources(_args(cpus=5))
    assert str(e.value).startswith("--cpus-per-trial 5 asks for more CPUs than any trial can get: the cluster's "
                                   "largest node or node type, node ")
    assert str(e.value).endswith(", has 4; allowed: --cpus-per-trial <= 4")
    with pytest.raises(StudyInputError) as e:
        check_resources(_args(gpus=2))
    assert str(e.value).endswith(", has 1; allowed: --gpus-per-trial <= 1")


# An autoscaling cluster like cluster.yaml's, as `ray up` leaves it on the head (node types bootstrapped from the
# instance types): a CPU head that runs no trials, GPU workers that start from zero.
BOOTSTRAPPED = {"max_workers": 8, "head_node_type": "head", "available_node_types": {
    "head": {"resources": {"CPU": 0}, "node_config": {}},
    "gpu_worker": {"min_workers": 0, "max_workers": 8, "resources": {"CPU": 4, "GPU": 1, "memory": 1e10},
                   "node_config": {}}}}
HEAD_ALIVE = NodeOffer("node 10.0.0.1", 0.0, 0.0, True, "10.0.0.1")


def test_an_autoscaling_cluster_with_no_worker_yet_gets_gpu_trials_by_default():
    """Finding 1 of issue 21: judged by the nodes alive at connect time, this cluster has no GPU, and every trial
    asked for 0 GPUs and ran on the CPU of a GPU worker. Its node types say what it can have."""
    offers = [HEAD_ALIVE, *node_types_of(BOOTSTRAPPED)]
    assert offers[1:] == [NodeOffer("node type gpu_worker", 4.0, 1.0, False)]
    assert resolve_gpus("auto", offers) == (GPU_FRACTION_DEFAULT,
                                            "auto: node type gpu_worker (4 CPU, 1 GPU) has GPUs")
    assert resolve_gpus("auto", [HEAD_ALIVE]) == (0.0, "auto: no node has a GPU")
    cpu_type = NodeOffer("node type cpu_worker", 8.0, 0.0, False)
    assert resolve_gpus("auto", [HEAD_ALIVE, cpu_type]) == (0.0, "auto: no node has a GPU, nor can the cluster's "
                                                                 "autoscaler start one that has")
    assert resolve_gpus(0.5, offers) == (0.5, "--gpus-per-trial")
    check_fits(1, 0.25, offers)  # the head cannot run it; a worker the autoscaler starts can
    check_fits(4, 1, offers)


def test_a_gpu_request_no_node_type_can_satisfy_is_refused():
    cpu_only = {**BOOTSTRAPPED, "available_node_types": {
        "head": BOOTSTRAPPED["available_node_types"]["head"],
        "cpu_worker": {"min_workers": 0, "max_workers": 4, "resources": {"CPU": 8}, "node_config": {}}}}
    offers = [HEAD_ALIVE, *node_types_of(cpu_only)]
    with pytest.raises(StudyInputError) as e:
        check_fits(1, 0.25, offers)
    assert str(e.value) == ("--gpus-per-trial 0.25 asks for a GPU, and no node can have one: node 10.0.0.1 (0 CPU, "
                            "0 GPU), node type cpu_worker (8 CPU, 0 GPU); allowed: --gpus-per-trial 0 (or auto), or "
                            "a cluster with a GPU node type")
    with pytest.raises(StudyInputError, match=r"^--gpus-per-trial 2 asks for more GPUs than any trial can get: the "
                                              r"cluster's largest node or node type, node type gpu_worker, has 1; "
                                              r"allowed: --gpus-per-trial <= 1$"):
        check_fits(1, 2, [HEAD_ALIVE, *node_types_of(BOOTSTRAPPED)])


def test_node_types_that_may_not_start_or_say_nothing():
    """A type with max_workers 0 never starts, nor does the head's type unless it says how many workers it may
    start (the local provider's); the local provider's type states no resources (unknown: nothing is refused on its
    account, the pre-flight probe and the watchdog bound the wait)."""
    local = {"max_workers": 1, "head_node_type": "local.cluster.node", "available_node_types": {
        "local.cluster.node": {"resources": {}, "node_config": {}, "max_workers": 1},
        "spare": {"resources": {"CPU": 2}, "node_config": {}, "max_workers": 0}}}
    # the local provider's one type is the head's and the workers' (up to max_workers of them); spare may not start
    unknown = node_types_of(local)
    assert unknown == [NodeOffer("node type local.cluster.node", None, None, False)]
    assert unknown[0].fits(64, 8) is None
    check_fits(64, 8, [HEAD_ALIVE, *unknown])
    assert resolve_gpus("auto", [HEAD_ALIVE, *unknown])[0] == 0.0


def test_memory_is_checked_per_configuration_and_names_the_trial(monkeypatch):
    import gan_core.memory

    monkeypatch.setattr(gan_core.memory, "available_bytes", lambda device="cpu": 2 * 2**30)
    small = StudyTrial("small", (0,), {"dataset": "ring8", "seed": 0})
    check_memory([small, StudyTrial("small", (1,), {"dataset": "ring8", "seed": 1})], side_by_side=2)
    bomb = StudyTrial("bomb", (0,), {"dataset": "ring8", "nz": 100_000_000, "seed": 0})
    with pytest.raises(StudyInputError) as e:
        check_memory([small, bomb], side_by_side=2)
    assert str(e.value).startswith("invalid trial config (variant='bomb', seed=0): config needs about 1.37 TB of "
                                   "memory")
    assert str(e.value).endswith("more than the 1 GB each of 2 trials side by side gets of this machine's available "
                                 "memory; allowed: a config that fits, e.g. a smaller nz or eval_samples")


def test_a_population_trial_holds_its_members_runs(monkeypatch):
    """A config that fits once may not fit as many times as a population trial holds it."""
    import gan_core.memory
    from gan_core.config import GANConfig

    small = StudyTrial("small", (0,), {"dataset": "ring8", "seed": 0})
    need = gan_core.memory.estimate(GANConfig.from_flat({"dataset": "ring8"})).total
    monkeypatch.setattr(gan_core.memory, "available_bytes", lambda device="cpu": 3 * need)  # 1.5 runs a trial
    last_chunk = StudyTrial("small", (2,), {"dataset": "ring8", "seed": 2}, population=True)
    check_memory([small, last_chunk], side_by_side=2)
    with pytest.raises(StudyInputError) as e:
        check_memory([small, last_chunk, StudyTrial("small", (0, 1), {"dataset": "ring8", "seed": 0},
                                                    population=True)], side_by_side=2)
    assert str(e.value).startswith("invalid trial config (variant='small', seeds=[0, 1]): config needs about ")
    assert str(e.value).endswith(f"more than the {gan_core.memory.size_text(3 * need // 4)} each run gets of this "
                                 f"machine's available memory (2 trial(s) side by side, each a population of 2 "
                                 f"seeds); allowed: a config that fits, e.g. a smaller nz, ngf, ndf, mlp_hidden or "
                                 f"batch_size")

"""Requests the machine can never meet: resources no node has, configs larger than a trial's share of memory."""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from studies.capacity import check_memory, check_resources, largest_node
from studies.cli import StudyInputError


def _args(cpus=1, gpus=None, address=None):
    return SimpleNamespace(cpus_per_trial=cpus, gpus_per_trial=gpus, address=address)


def test_the_largest_node_of_the_local_machine_is_the_machine(monkeypatch):
    import ray

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    cpus, gpus, what = largest_node(None)
    assert (cpus, what) == (float(len(os.sched_getaffinity(0))), "this machine")
    assert largest_node("10.0.0.1:6379") is None  # a cluster joined by address may autoscale: Ray's to say


def test_resources_larger_than_the_largest_node_are_refused(ray_cluster):
    # the session's cluster: a head of 2 CPUs and a node of 4 CPUs with 1 (fake) GPU
    assert check_resources(_args(cpus=4)) == 1
    assert check_resources(_args(cpus=1, gpus=0.25)) == 4  # trials side by side on the largest node
    with pytest.raises(StudyInputError) as e:
        check_resources(_args(cpus=5))
    assert str(e.value) == ("--cpus-per-trial 5 asks for more CPUs than any trial can get: the largest node of the "
                            "connected Ray cluster has 4; allowed: --cpus-per-trial <= 4")
    with pytest.raises(StudyInputError) as e:
        check_resources(_args(gpus=2))
    assert str(e.value) == ("--gpus-per-trial 2 asks for more GPUs than any trial can get: the largest node of the "
                            "connected Ray cluster has 1; allowed: --gpus-per-trial <= 1")


def test_memory_is_checked_per_configuration_and_names_the_trial(monkeypatch):
    import gan_core.memory

    monkeypatch.setattr(gan_core.memory, "available_bytes", lambda device="cpu": 2 * 2**30)
    small = {"dataset": "ring8", "variant": "small", "seed": 0}
    check_memory([small, {**small, "seed": 1}], ("variant",), side_by_side=2)
    bomb = {"dataset": "ring8", "nz": 100_000_000, "variant": "bomb", "seed": 0}
    with pytest.raises(StudyInputError) as e:
        check_memory([small, bomb], ("variant",), side_by_side=2)
    assert str(e.value).startswith("invalid trial config (variant='bomb'): config needs about 238 GB of memory")
    assert str(e.value).endswith("more than the 1 GB each of 2 trials side by side gets of this machine's available "
                                 "memory; allowed: a config that fits, e.g. a smaller nz, ngf, ndf, mlp_hidden or "
                                 "batch_size")


def test_a_population_trial_holds_its_members_runs(monkeypatch):
    """A config that fits once may not fit as many times as a population trial holds it."""
    import gan_core.memory
    from gan_core.config import GANConfig

    small = {"dataset": "ring8", "variant": "small", "seed": 0}
    need = gan_core.memory.estimate(GANConfig.from_flat({"dataset": "ring8"})).total
    monkeypatch.setattr(gan_core.memory, "available_bytes", lambda device="cpu": 3 * need)  # 1.5 runs a trial
    check_memory([small], ("variant",), side_by_side=2)
    with pytest.raises(StudyInputError) as e:
        check_memory([small], ("variant",), side_by_side=2, members=2)
    assert str(e.value).endswith(f"more than the {gan_core.memory.size_text(3 * need // 4)} each run gets of this "
                                 f"machine's available memory (2 trial(s) side by side, each a population of 2 "
                                 f"seeds); allowed: a config that fits, e.g. a smaller nz, ngf, ndf, mlp_hidden or "
                                 f"batch_size")

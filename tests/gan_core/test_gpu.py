"""Whether torch can use a GPU, and the one line that says why not (issue 21, finding 2)."""
from __future__ import annotations

import torch

from gan_core.gpu import CudaFacts, cuda_facts, cuda_problem


def _facts(**changes) -> CudaFacts:
    base = dict(torch_version="2.14.1+cu130", built_cuda="13.0", available=False, devices=(), driver="535.183.01",
                driver_cuda="12.2")
    return CudaFacts(**{**base, **changes})


def test_a_driver_too_old_for_torchs_cuda_build_is_named_with_both_versions():
    assert cuda_problem(_facts()) == (
        "torch 2.14.1+cu130 is built for CUDA 13.0, but the NVIDIA driver 535.183.01 supports CUDA up to 12.2; "
        "allowed: a newer driver (a newer GPU node image) or a torch build for CUDA 12.2 or older")


def test_no_driver_a_cpu_build_and_an_unexplained_failure():
    assert cuda_problem(_facts(driver=None, driver_cuda=None)) == (
        "torch 2.14.1+cu130 needs an NVIDIA driver for CUDA 13.0, and this machine has none (no nvidia-smi, no "
        "/proc/driver/nvidia/version); allowed: a GPU node image with an NVIDIA driver that supports CUDA 13.0")
    assert cuda_problem(_facts(torch_version="2.14.1+cpu", built_cuda=None)).startswith(
        "torch 2.14.1+cpu is a CPU-only build and cannot use a GPU (torch 2.14.1+cpu (CPU-only build); NVIDIA driver "
        "535.183.01 (supports CUDA up to 12.2); no GPU usable by torch); allowed: a CUDA build of torch")
    assert cuda_problem(_facts(driver="580.1", driver_cuda="13.0")) == (
        "torch 2.14.1+cu130 (CUDA 13.0 build) cannot use a GPU although NVIDIA driver 580.1 (CUDA up to 13.0) is "
        "installed: torch.cuda.is_available() is False (check CUDA_VISIBLE_DEVICES and nvidia-smi on this node)")
    assert cuda_problem(_facts(driver="580.1", driver_cuda="13.1", available=True, devices=("NVIDIA A10G",))) is None


def test_this_machine_is_described_in_one_line():
    facts = cuda_facts()
    assert facts.torch_version == torch.__version__ and facts.built_cuda == torch.version.cuda
    assert "\n" not in facts.describe()
    problem = cuda_problem(facts)
    assert (problem is None) == torch.cuda.is_available()

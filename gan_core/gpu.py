"""Whether torch can use this machine's NVIDIA GPU, and if not, why, in one line.

Why: a GPU that the scheduler hands out but torch cannot use is the costliest silent failure of a cluster. torch's
wheels are built for one CUDA version (``torch.version.cuda``) and need an NVIDIA driver that supports it; on a node
whose driver is older, ``torch.cuda.is_available()`` is simply False, and code that falls back to the CPU then trains
for hours on one core of a GPU machine. So every place that expects a GPU (a node's setup on the cluster,
``python -m studies.node_check``; a trial that Ray gave a GPU, ``studies.trainable``; the study's pre-flight probe,
``studies.preflight``) asks ``cuda_problem()`` and fails with its line instead.

The driver's version is read from ``nvidia-smi`` (it ships with the driver), so the line can say what the driver
offers even when torch cannot talk to it; ``/proc/driver/nvidia/version`` is the fallback where nvidia-smi is absent.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

import torch

NVIDIA_SMI_TIMEOUT_S = 20


@dataclass(frozen=True)
class CudaFacts:
    """What torch was built for and what the machine offers."""

    torch_version: str
    built_cuda: str | None        # torch.version.cuda: None for a CPU-only build of torch
    available: bool               # torch.cuda.is_available()
    devices: tuple[str, ...]      # names of the GPUs torch sees
    driver: str | None            # the NVIDIA driver's version, None when no driver is installed
    driver_cuda: str | None       # the newest CUDA version that driver supports (nvidia-smi's "CUDA Version")

    def describe(self) -> str:
        """One line: torch's build and what the machine offers, e.g. for a node's setup log."""
        build = f"torch {self.torch_version} (CUDA {self.built_cuda} build)" if self.built_cuda else \
            f"torch {self.torch_version} (CPU-only build)"
        driver = f"NVIDIA driver {self.driver} (supports CUDA up to {self.driver_cuda or 'unknown'})" \
            if self.driver else "no NVIDIA driver"
        gpus = f"{len(self.devices)} GPU(s): {', '.join(self.devices)}" if self.devices else "no GPU usable by torch"
        return f"{build}; {driver}; {gpus}"


def cuda_facts() -> CudaFacts:
    available = torch.cuda.is_available()
    devices = tuple(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())) if available else ()
    driver, driver_cuda = _driver()
    return CudaFacts(torch.__version__, torch.version.cuda, available, devices, driver, driver_cuda)


def cuda_problem(facts: CudaFacts | None = None) -> str | None:
    """Why torch cannot use a GPU here, in one line naming torch's build, the CUDA version it needs and what the
    driver offers, with what would fix it; None when torch can use one."""
    facts = facts if facts is not None else cuda_facts()
    if facts.available and facts.devices:
        return None
    if facts.built_cuda is None:
        return (f"torch {facts.torch_version} is a CPU-only build and cannot use a GPU ({facts.describe()}); "
                f"allowed: a CUDA build of torch on a node with an NVIDIA driver for it")
    if facts.driver is None:
        return (f"torch {facts.torch_version} needs an NVIDIA driver for CUDA {facts.built_cuda}, and this machine "
                f"has none (no nvidia-smi, no /proc/driver/nvidia/version); allowed: a GPU node image with an "
                f"NVIDIA driver that supports CUDA {facts.built_cuda}")
    if facts.driver_cuda is not None and _older(facts.driver_cuda, facts.built_cuda):
        return (f"torch {facts.torch_version} is built for CUDA {facts.built_cuda}, but the NVIDIA driver "
                f"{facts.driver} supports CUDA up to {facts.driver_cuda}; allowed: a newer driver (a newer GPU "
                f"node image) or a torch build for CUDA {facts.driver_cuda} or older")
    return (f"torch {facts.torch_version} (CUDA {facts.built_cuda} build) cannot use a GPU although NVIDIA driver "
            f"{facts.driver} (CUDA up to {facts.driver_cuda or 'unknown'}) is installed: "
            f"torch.cuda.is_available() is False (check CUDA_VISIBLE_DEVICES and nvidia-smi on this node)")


def _older(a: str, b: str) -> bool:
    """True when CUDA version ``a`` is older than ``b`` ("12.2" < "13.0")."""
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", v)[:2])
    return key(a) < key(b)


def _driver() -> tuple[str | None, str | None]:
    """(driver version, newest CUDA version it supports) from nvidia-smi, else the kernel module's version file."""
    smi = shutil.which("nvidia-smi")
    if smi is not None:
        try:
            out = subprocess.run([smi], capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        version = re.search(r"Driver Version:\s*([\d.]+)", out)
        cuda = re.search(r"CUDA Version:\s*([\d.]+)", out)
        if version:
            return version.group(1), cuda.group(1) if cuda else None
    try:
        with open("/proc/driver/nvidia/version") as f:
            found = re.search(r"Kernel Module\s+([\d.]+)", f.read())
        return (found.group(1) if found else "unknown"), None
    except OSError:
        return None, None

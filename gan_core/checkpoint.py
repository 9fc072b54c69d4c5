"""Saving and loading the complete training state, safely.

A checkpoint is one file, ``state.pt``, holding only tensors, numbers, strings and dicts of them, so it loads
with ``torch.load(weights_only=True)``: loading a checkpoint never runs code from the file, which matters because
results directories travel between machines and users.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from gan_core.runtime import stream_device

FORMAT = "gan-study-trainer/1"
STATE_FILE = "state.pt"
# Config keys that may differ between a checkpoint and the run that resumes it: where and how fast it runs.
RESUMABLE_DIFFERENCES = ("threads", "device", "data_root", "precision")  # (the precision computed in: checked apart)


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, of another format or of another configuration."""


class UnreadableCheckpoint(CheckpointError):
    """A checkpoint file that is missing or cannot be read as a gan-study state (truncated, overwritten, another
    format): a damaged file, unlike a readable state of another configuration or device, which no older
    checkpoint of the same run would mend."""


def save_state(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write ``state`` atomically: a crash mid-write leaves the previous file, never a truncated one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, **state}, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_state(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by ``save_state`` onto the CPU; CheckpointError with one clear line otherwise."""
    path = Path(path)
    if path.is_dir():
        path = path / STATE_FILE
    if not path.is_file():
        raise UnreadableCheckpoint(f"checkpoint {str(path)!r} does not exist; expected a {STATE_FILE} written by "
                                   f"gan-study")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 -- torch's unpickler meets junk with any error (KeyError on b"junk\n")
        first = type(e).__name__ + (f": {str(e).strip().splitlines()[0]}" if str(e).strip() else "")
        raise UnreadableCheckpoint(f"checkpoint {str(path)!r} is unreadable (truncated, or not a gan-study "
                              f"checkpoint): {first}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:  # a file's content, not a config
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise UnreadableCheckpoint(f"checkpoint {str(path)!r} has format {found!r}; allowed: {FORMAT!r}")
    return state


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Rebuild the trained generator of a checkpoint, in eval mode: ``(generator, cfg)``.

    For reports and notebooks: sample grids, interpolations and z arithmetic need G only. Images come in the
    evaluation frame, [-1, 1] at 32 px (``gan_core.data.evaluation_view``), whatever the model's own pixels.
    """
    from gan_core.config import GANConfig
    from gan_core.data import evaluation_view
    from gan_core.models import build_generator

    state = load_state(path)
    cfg = GANConfig.from_flat(state["config"])
    generator = build_generator(cfg)
    generator.load_state_dict(state["generator"])
    return evaluation_view(generator, cfg).to(device).eval(), cfg


def check_resumable(state: dict[str, Any], mine: dict[str, Any], here: str, precision: str) -> None:
    """CheckpointError unless a run with the flat config ``mine`` on device type ``here``, computing in
    ``precision``, can continue ``state``: the same config but for ``RESUMABLE_DIFFERENCES``, random streams of the
    same device type (a saved ``torch.Generator`` state continues only on its own kind of device), and the same
    precision (``precision`` auto decides per device: a run must not change precision halfway)."""
    saved = state["config"]
    differing = sorted(k for k in set(saved) | set(mine)
                       if k not in RESUMABLE_DIFFERENCES and saved.get(k, "<missing>") != mine.get(k, "<missing>"))
    if differing:
        key = differing[0]
        raise CheckpointError(f"checkpoint was made with another configuration: {key!r} is "
                              f"{saved.get(key, '<missing>')!r} there and {mine.get(key, '<missing>')!r} here "
                              f"({len(differing)} key(s) differ); allowed: the same config "
                              f"(only {', '.join(RESUMABLE_DIFFERENCES)} may change)")
    saved_on = stream_device(state["rng"]["data"])
    if saved_on != here:
        raise CheckpointError(f"checkpoint was saved by a run on {saved_on} and this run is on {here}: its random "
                              f"streams are {saved_on} generator states, which a {here} run cannot continue; "
                              f"allowed: resume on {saved_on} (config key 'device')")
    if "precision" not in state:
        raise CheckpointError("checkpoint records no precision (saved by an earlier gan-study); allowed: a "
                              "checkpoint of this version (start the run again)")
    if state["precision"] != precision:
        raise CheckpointError(f"checkpoint was computed in {state['precision']} and this run would compute in "
                              f"{precision} (precision {mine['precision']!r} on this device): a run does not change "
                              f"precision halfway; allowed: --set precision={state['precision']}")

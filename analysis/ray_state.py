"""Ray's experiment state, read as JSON only: each trial's id, status, folder, config and last report.

Why: Ray's own status of a trial (running, pending, errored, terminated) and how many reports it received are not in
the trial folders; the newest ``experiment_state-*.json`` has them. Its pickled parts are never opened.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pyarrow import fs as pafs

from analysis.fsio import Location

__all__ = ["RAY_RUNNING", "RayTrial", "read_ray_trials", "newest_state", "trial_id_from_name", "has_state"]

_TRIAL_ID = re.compile(r"_([0-9a-f]{5}_\d{5})(?:_|$)")
RAY_RUNNING = ("RUNNING", "PENDING", "PAUSED")


@dataclass(frozen=True)
class RayTrial:
    """What Ray's experiment state says of one trial (its JSON parts only)."""

    trial_id: str
    status: str
    folder: str               # the trial folder's name (relative_logdir; "" while Ray has named none)
    config: dict[str, Any]
    last_iteration: int       # training_iteration of the last report Ray received (0: none)


def read_ray_trials(loc: Location, entries: list[pafs.FileInfo], notes: list[str]) -> list[RayTrial]:
    """Every trial of the newest experiment_state-*.json, as Ray last saw it."""
    state = newest_state(entries)
    if state is None:
        return []
    try:
        d = json.loads(loc.join(state).read_text())
        out = []
        for item in d["trial_data"]:
            trial = json.loads(item[0])
            runtime = json.loads(item[1]) if len(item) > 1 else {}
            last = runtime.get("last_result") or {}  # Ray's own record: absent until a trial reports
            config = trial.get("config")
            folder = trial["relative_logdir"]  # null for a trial Ray has not yet scheduled
            out.append(RayTrial(str(trial["trial_id"]), str(trial["status"]), folder if isinstance(folder, str) else "",
                                config if isinstance(config, dict) else {},
                                int(last.get("training_iteration") or 0)))
        return out
    except (json.JSONDecodeError, TypeError, AttributeError, IndexError, KeyError, ValueError):
        notes.append(f"{state} could not be read: Ray's trial status is unknown")
        return []


def newest_state(entries: list[pafs.FileInfo]) -> str | None:
    """The name of the newest experiment_state-*.json among a directory's entries (Ray dates them), or None."""
    states = sorted(e.base_name for e in entries if e.base_name.startswith("experiment_state-")
                    and e.base_name.endswith(".json"))
    return states[-1] if states else None


def trial_id_from_name(name: str) -> str:
    m = _TRIAL_ID.search(name)
    return m.group(1) if m else name


def has_state(loc: Location) -> bool:
    return any(c.base_name.startswith("experiment_state-") for c in loc.children())

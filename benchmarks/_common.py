"""What every benchmark script shares: the repository on sys.path, a local Ray, and the median/min/max summary."""
from __future__ import annotations

import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def spread(values: list[float], digits: int = 3) -> dict[str, float]:
    """Median, min and max: the figure and its spread over repeated runs."""
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits), "runs": len(values)}


def fmt(s: dict[str, float]) -> str:
    return f"{s['median']:.3f} [{s['min']:.3f}, {s['max']:.3f}] over {s['runs']} runs"


def start_local_ray(num_cpus: int | None = None, num_gpus: int | None = None) -> None:
    """A fresh local Ray (never a stale cluster named in /tmp/ray), quiet."""
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=num_cpus, num_gpus=num_gpus, log_to_driver=False,
                 include_dashboard=False)

"""benchmarks/packing.py keeps working: aggregate steps/s of concurrent trials against one trial, as Ray tasks."""
import math
import os

from tests.benchmarks._load import run_quick


def test_quick_mode_reports_a_packing_ratio(ray_cluster):
    code, lines, summary = run_quick("packing")
    assert code == 0
    assert (summary["device"], summary["trials"], summary["steps"], summary["ngf"]) == ("cpu", os.cpu_count(), 4, 8)
    assert summary["ratio"]["runs"] == 1
    assert math.isfinite(summary["ratio"]["median"]) and summary["ratio"]["median"] > 0

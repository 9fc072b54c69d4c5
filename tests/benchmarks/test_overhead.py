"""benchmarks/overhead.py keeps working: a real k_sweep study's wall time against its ideal."""
import math

import pytest

from tests.benchmarks._load import run_quick


def test_quick_mode_reports_the_study_overhead(ray_cluster):
    code, lines, summary = run_quick("overhead")
    assert code == 0
    assert (summary["trials"], summary["steps"], len(summary["runs"])) == (2, 20, 1)
    run = summary["runs"][0]
    assert math.isfinite(run["wall_s"]) and math.isfinite(run["ideal_s"]) and run["ideal_s"] > 0
    # the ratio is of the unrounded times; the printed times are rounded to 10 ms
    assert summary["ratio"]["median"] == pytest.approx(run["wall_s"] / run["ideal_s"], rel=0.01)

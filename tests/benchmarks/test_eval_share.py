"""benchmarks/eval_share.py keeps working: evaluation time as a share of a trial's time."""
import math

from tests.benchmarks._load import run_quick


def test_quick_mode_reports_a_share():
    code, lines, rows = run_quick("eval_share")
    assert code == 0
    (row,) = rows
    assert (row["eval_every"], row["ngf"], row["eval_samples"]) == (5, 8, 100)
    share = row["share"]
    assert share["runs"] == 1 and share["min"] == share["median"] == share["max"]
    assert math.isfinite(share["median"]) and 0 < share["median"] < 1

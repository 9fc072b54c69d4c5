"""benchmarks/population.py keeps working: a population's member-steps/s against its members trained one by one."""
import math

from tests.benchmarks._load import run_quick


def test_quick_mode_reports_a_ratio_per_row():
    code, lines, summary = run_quick("population")
    assert code == 0
    assert summary["device"] == "cpu"
    assert [(r["row"], r["n"], r["solo"], r["ratio"]["rounds"]) for r in summary["rows"]] == [
        ("ring8 MLP", 2, "one after another", 1), ("mnist5k DCGAN", 2, "one after another", 1)]
    for r in summary["rows"]:
        assert math.isfinite(r["ratio"]["median"]) and r["ratio"]["median"] > 0
        assert r["ratio"]["median"] == r["population_member_steps_per_s"] / r["solo_member_steps_per_s"]

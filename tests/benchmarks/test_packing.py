"""benchmarks/packing.py keeps working: aggregate steps/s of concurrent trials against one trial, as Ray tasks."""
import math
import os

import pytest

from tests.benchmarks._load import run_main, run_quick


def test_quick_mode_reports_a_packing_ratio(ray_cluster):
    code, lines, summary = run_quick("packing")
    assert code == 0
    assert (summary["device"], summary["trials"], summary["steps"], summary["ngf"]) == ("cpu", os.cpu_count(), 4, 8)
    assert summary["ratio"]["runs"] == 1
    assert math.isfinite(summary["ratio"]["median"]) and summary["ratio"]["median"] > 0


def test_two_precisions_add_bf16_time_ratios_alone_and_packed(ray_cluster):
    code, lines, summary = run_quick("packing", ["--precisions", "fp32,bf16"])
    assert code == 0
    assert summary["precisions"] == ["fp32", "bf16"]
    assert summary["ratio"] == summary["ratio_fp32"]
    for key in ("ratio_bf16", "bf16_time_one", "bf16_time_many"):
        assert summary[key]["runs"] == 1
        assert math.isfinite(summary[key]["median"]) and summary[key]["median"] > 0
    assert sum(line.startswith("packing cpu: bf16 time / fp32 time") for line in lines) == 2


def test_an_unknown_precision_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit) as stop:
        run_main("packing", ["--precisions", "fp16"])
    assert stop.value.code == 2
    assert "--precisions 'fp16': a comma-separated list of distinct fp32, bf16" in capsys.readouterr().err

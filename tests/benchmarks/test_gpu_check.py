"""benchmarks/gpu_check.py, the GPU checks in one command: on a machine without a GPU it says so in one line and
exits 2 before it imports anything heavy; its test path (--tiny-cpu-test) runs every section's measuring code on
the CPU at tiny sizes and reports every row, with finite positive ratios, as a markdown table and as JSON."""
import json
import math
import os
import subprocess
import sys

from tests.benchmarks._load import BENCHMARKS, run_main

ROOT = BENCHMARKS.parent
SCRIPT = str(BENCHMARKS / "gpu_check.py")
N = (1, 8, 32, 128)
ROWS = ([("trainer", "DCGAN laptop preset", None), ("trainer", "ring8 MLP", None),
         ("precision", "DCGAN laptop preset", None), ("precision", "DCGAN width 64", None),
         ("fractional", "DCGAN laptop preset", 2)]
        + [("populations", "ring8 MLP", n) for n in N] + [("populations", "DCGAN laptop preset", n) for n in N])
ROW_KEYS = {"section", "row", "n", "figure", "ratio", "rounds", "value", "reference", "unit", "reference_is",
            "checks", "setup", "config", "note"}


def _no_gpu_env():
    """This machine's environment; where torch sees a GPU, one that hides it (the check is for a machine without)."""
    import torch

    env = dict(os.environ)
    if torch.cuda.is_available():
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def test_without_a_gpu_it_exits_2_with_one_line_before_anything_else():
    got = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, cwd=ROOT, env=_no_gpu_env(),
                         timeout=120)
    assert got.returncode == 2
    assert got.stdout == ""
    lines = got.stderr.splitlines()
    assert len(lines) == 1, got.stderr
    line = lines[0]
    assert line.startswith("gpu_check: error: no CUDA GPU visible to torch (torch ")
    assert "torch.cuda.is_available() is False" in line
    assert "; allowed: run it on " in line and "--tiny-cpu-test" in line
    # and it got there without importing Ray, gan_core or building anything
    probe = ("import os, runpy, sys\nsys.argv = [sys.argv[1]]\nsys.path.insert(0, os.path.dirname(sys.argv[0]))\n"
             "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\nexcept SystemExit as e:\n"
             "    print(e.code, sorted(m for m in ('ray', 'gan_core') if m in sys.modules))")
    got = subprocess.run([sys.executable, "-c", probe, SCRIPT], capture_output=True, text=True, cwd=ROOT,
                         env=_no_gpu_env(), timeout=120)
    assert got.stdout.split("\n")[0] == "2 []", got.stdout + got.stderr


def _check_summary(summary, rows, printed, rounds=2):
    assert summary["test_path"] is True and summary["figures_mean_nothing"] is True
    assert summary["device"] == "cpu" and summary["rounds"] == rounds
    assert {"gpu", "torch", "torch.version.cuda", "cudnn", "bf16 supported", "fractional trials run as"} \
        <= set(summary["facts"])
    assert [(r["section"], r["row"], r["n"]) for r in summary["rows"]] == rows
    for r in summary["rows"]:
        assert set(r) == ROW_KEYS
        ratio = r["ratio"]
        assert set(ratio) == {"median", "min", "max", "runs"} and ratio["runs"] == r["rounds"] == rounds
        for x in (ratio["median"], ratio["min"], ratio["max"], r["value"], r["reference"]):
            assert math.isfinite(x) and x > 0, r
        assert ratio["min"] <= ratio["median"] <= ratio["max"]
        assert all(r["checks"].values()), r
        # the table on stdout has the row, with its ratio
        assert any(line.startswith(f"| {r['section']} | {r['row']} | {r['setup']} | {r['n'] or ''} |")
                   and f"**{ratio['median']:.3f}**" in line for line in printed.splitlines()), r
    assert "TEST PATH (--tiny-cpu-test)" in printed and "these figures mean nothing" in printed


def test_tiny_cpu_test_path_measures_every_row(tmp_path):
    path = tmp_path / "gpu_check.json"
    code, printed = run_main("gpu_check", ["--tiny-cpu-test", "--workers", "processes", "--json", str(path)])
    assert code == 0, printed
    summary = json.loads(path.read_text())
    assert [(s["section"], s["status"]) for s in summary["sections"]] == [
        ("trainer", "done"), ("precision", "done"), ("fractional", "done"), ("populations", "done")]
    assert summary["facts"]["fractional trials run as"] == "processes"
    _check_summary(summary, ROWS, printed)
    assert [r["checks"] for r in summary["rows"][:2]] == [{"weights on cpu": True, "weights finite": True,
                                                           "losses finite": True, "steps counted": True}] * 2


def test_tiny_cpu_test_path_with_ray_tasks_asking_for_gpu_fractions(ray_cluster, tmp_path):
    """The fractional trials as Ray tasks on the test cluster, whose fake GPU they share at 1/2 each."""
    path = tmp_path / "gpu_check.json"
    code, printed = run_main("gpu_check", ["--tiny-cpu-test", "--workers", "ray", "--sections", "fractional",
                                           "--rounds", "1", "--json", str(path)])
    assert code == 0, printed
    summary = json.loads(path.read_text())
    assert summary["facts"]["fractional trials run as"] == "ray"
    _check_summary(summary, [("fractional", "DCGAN laptop preset", 2)], printed, rounds=1)


def test_a_spent_budget_skips_sections_with_a_line(tmp_path):
    path = tmp_path / "gpu_check.json"
    code, printed = run_main("gpu_check", ["--tiny-cpu-test", "--sections", "trainer,precision", "--budget-s",
                                           "0.05", "--json", str(path)])
    assert code == 0
    summary = json.loads(path.read_text())
    status = dict((s["section"], s["status"]) for s in summary["sections"])
    assert status["trainer"] in ("cut short", "skipped") and status["precision"] == "skipped"
    assert "precision: SKIPPED: the time budget of 0.05 s (--budget-s) is spent" in printed
    # the first round of a row has no pace to go by, so it may run; no row gets the 2 rounds it asked for
    assert all(r["rounds"] < 2 for r in summary["rows"])
    assert all(r["ratio"] is None and r["note"] == "not measured: the time budget"
               for r in summary["rows"] if r["rounds"] == 0)
    assert "stopping early" in printed or status["trainer"] == "skipped"

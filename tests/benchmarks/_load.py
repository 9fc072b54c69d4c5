"""Import a benchmark script by path (benchmarks/ is a folder of scripts, not a package) and run its quick mode."""
import contextlib
import importlib.util
import io
import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_quick(script: str, extra=()):
    """Run ``benchmarks/<script>.py --quick`` in-process; (exit code, printed lines, the last line as JSON)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"benchmark_{script}", BENCHMARKS / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = module.main(["--quick", *extra])
    lines = out.getvalue().strip().splitlines()
    return code, lines, json.loads(lines[-1])

"""Import a benchmark script by path (benchmarks/ is a folder of scripts, not a package) and run its quick mode."""
import contextlib
import importlib.util
import io
import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_script(script: str):
    """``benchmarks/<script>.py`` as a module (not run as __main__), benchmarks/ on sys.path for its imports."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"benchmark_{script}", BENCHMARKS / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_main(script: str, argv):
    """``benchmarks/<script>.py``'s main(argv) in-process; (exit code, what it printed on stdout)."""
    module = load_script(script)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = module.main(list(argv))
    return code, out.getvalue()


def run_quick(script: str, extra=()):
    """Run ``benchmarks/<script>.py --quick`` in-process; (exit code, printed lines, the last line as JSON)."""
    code, printed = run_main(script, ["--quick", *extra])
    lines = printed.strip().splitlines()
    return code, lines, json.loads(lines[-1])

"""analysis imports no torch, by construction: every import statement of the package (at the top of a module or
inside a function) names only torch-free modules, each of which imports no torch when imported alone in a fresh
process; and where torch cannot be imported the report is still written, without the checkpoint figures."""
from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import analysis

ROOT = Path(analysis.__file__).resolve().parents[1]
# What of gan_core analysis may import: pure Python (dataclasses, math, numpy), each checked below. Not the package
# gan_core.metrics itself: its names import their modules on first use, and most of those are torch.
TORCH_FREE_GAN_CORE = ("gan_core", "gan_core.config", "gan_core.metrics.modes", "gan_core.metrics.stability")
ANALYSIS_MODULES = sorted(f"analysis.{m.name}" for m in pkgutil.iter_modules(analysis.__path__))


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``path`` names, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(["analysis"] * bool(node.level) + [node.module or ""]).strip(".")
            out |= {base, *(f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}"))}
    return out


# Python as where torch is not installed: the path finder finds no torch (or torchvision) anywhere.
HIDE_TORCH = """import importlib.machinery, sys
class NoTorch(importlib.machinery.PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        hidden = name.partition(".")[0] in ("torch", "torchvision")
        return None if hidden else super().find_spec(name, path, target)
sys.meta_path = [NoTorch if f is importlib.machinery.PathFinder else f for f in sys.meta_path]
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_analysis_imports_only_torch_free_modules_of_gan_core():
    for path in sorted((ROOT / "analysis").glob("*.py")):
        for module in _imported_modules(path):
            top = module.split(".")[0]
            assert top not in ("torch", "torchvision", "studies", "ray"), f"{path.name} imports {module}"
            assert top != "gan_core" or module in TORCH_FREE_GAN_CORE, \
                f"{path.name} imports {module}, which is not one of gan_core's torch-free modules"


def test_every_analysis_module_and_what_it_uses_of_gan_core_imports_no_torch_in_a_fresh_process():
    modules = [*TORCH_FREE_GAN_CORE, "gan_core.metrics", *ANALYSIS_MODULES]
    assert "analysis.figures" in modules and "analysis.report" in modules
    done = _run("import importlib, sys\n"
                f"for name in {modules!r}:\n"
                "    importlib.import_module(name)\n"
                "    assert 'torch' not in sys.modules, f'importing {name} imported torch'\n"
                "print('ok', len(sys.modules))")
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr


def test_without_torch_the_report_is_written_and_says_in_one_line_what_it_skipped(synth, tmp_path):
    ckpt = tmp_path / "state.pt"
    ckpt.write_bytes(b"never read: torch cannot be imported")
    trials = synth.ablation_trials({"baseline": 0.0, "other": 5.0}, seeds=2, checkpoint=ckpt, metrics=("fd",))
    exp = synth.write("no_torch", trials, synth.ablation_study)
    done = _run(f"{HIDE_TORCH}from analysis.report import write_report\nprint(write_report({str(exp)!r}))\n"
                "try:\n    import torch\nexcept ImportError:\n    print('torch cannot be imported')")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("torch cannot be imported\n")
    out = exp / "report"
    md = (out / "report.md").read_text()
    assert md.count("Sample figures skipped: torch is not installed (python -m gan_core.render draws them).") == 1
    plots = sorted(p.name for p in (out / "plots").iterdir())
    assert "stability.png" in plots and "curves_fd.png" in plots
    assert not [p for p in plots if p.startswith(("samples_", "interpolation", "arithmetic"))]

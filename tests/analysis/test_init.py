"""The analysis package reads results without torch: a report of any study runs where no torch is installed, except
for the sample grids, which rebuild generators from checkpoints."""
from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["analysis", "analysis.report", "analysis.results", "analysis.published"])
def test_importing_the_reading_and_reporting_modules_imports_no_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules, 'ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]

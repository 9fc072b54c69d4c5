"""``python -m studies.node_check``: a cluster node's own check in its setup (issue 21, item 2)."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from gan_core.gpu import cuda_facts, cuda_problem


@pytest.mark.skipif(torch.cuda.is_available(), reason="torch can use a GPU here: the node check passes")
def test_the_node_check_fails_a_gpu_workers_setup_in_one_line():
    """cluster.yaml's GPU workers run it in their setup: exit 1 and the reason, so the node never takes a trial."""
    ok = subprocess.run([sys.executable, "-m", "studies.node_check"], capture_output=True, text=True)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout == f"gan-study node check: {cuda_facts().describe()}\n"
    gpu = subprocess.run([sys.executable, "-m", "studies.node_check", "--require-gpu"], capture_output=True,
                         text=True)
    assert gpu.returncode == 1
    assert gpu.stderr == f"gan-study node check: error: {cuda_problem()}\n"

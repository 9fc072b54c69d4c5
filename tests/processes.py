"""Real processes for the fault tests: a Python script in a session of its own, with a local Ray of its own, and
its end within a time limit; on a timeout its whole process group is killed, so nothing a test started outlives
it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def start(argv: list[str], ray_tmp: str) -> subprocess.Popen:
    """``python *argv`` in the repository, its own session, a Ray of its own under ``ray_tmp``."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["RAY_TMPDIR"] = ray_tmp
    return subprocess.Popen([sys.executable, *argv], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float) -> subprocess.CompletedProcess:
    """Wait for ``proc``; a test failure (its process group killed) if it runs past ``timeout`` seconds."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{proc.args[1]} did not finish in {timeout} s: {err[-3000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

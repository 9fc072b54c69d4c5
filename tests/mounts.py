"""Helpers for the tests that need a real small or read-only filesystem (the ``tmpfs`` fixture in conftest.py)."""
from __future__ import annotations

import subprocess
from pathlib import Path


def remount(mnt: Path, options: str) -> None:
    """Remount a tmpfs with other options: "ro" (read-only) or "rw"."""
    subprocess.run(["mount", "-o", f"remount,{options}", str(mnt)], check=True)

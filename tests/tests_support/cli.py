"""The graphsvc command run as a user runs it: ``python -m graphsvc`` in a process of its own,
with only the settings given (none inherited from the test's environment)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests_support import PKG_PARENT


def full_env(env: dict[str, str]) -> dict[str, str]:
    """The test's environment without any GRAPHSVC_* setting, plus ``env``, running the graphsvc
    being tested."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    out.update(env)
    out["PYTHONPATH"] = PKG_PARENT
    return out


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``graphsvc ARGS`` in ``cwd`` with the settings ``env``; its exit code is the caller's to
    check."""
    return subprocess.run([sys.executable, "-m", "graphsvc", *args], env=full_env(env), cwd=cwd,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
                          check=False)


def run_bytes(args: list[str], env: dict[str, str], cwd: Path,
              stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """``run`` with ``stdin`` as the command's standard input, and its output as bytes."""
    return subprocess.run([sys.executable, "-m", "graphsvc", *args], env=full_env(env), cwd=cwd,
                          capture_output=True, input=stdin, timeout=600, check=False)

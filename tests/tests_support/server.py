"""A real ``graphsvc serve`` in its own process, and keys made with ``graphsvc keys create``."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests_support.cli import full_env, run


def make_key(env: dict[str, str], cwd: Path, *args: str) -> str:
    """A new key, made with ``graphsvc keys create ARGS``; the key itself."""
    r = run(["keys", "create", *args], env, cwd)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("gs_") and len(key) == 35, r.stdout
    return key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(args: list[str], env: dict[str, str], cwd: Path,
            timeout: float = 180) -> Iterator[tuple[str, Path]]:
    """Run ``graphsvc serve`` until it answers /health (200 or 503); yield its URL and log."""
    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "graphsvc", "serve", "--port", str(port),
                                 *args], env=full_env(env), cwd=cwd, stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"graphsvc serve exited with {proc.returncode}:\n{log.read_text()}")
            try:
                httpx.get(f"{base}/health", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"graphsvc serve did not answer in {timeout}s:\n{log.read_text()}")
                time.sleep(0.2)
        yield base, log
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

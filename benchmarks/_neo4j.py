"""The benchmarks' Neo4j: the one in GRAPHSVC_NEO4J_URI, or one started with scripts/dev-neo4j."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

DEV_NEO4J = Path(__file__).resolve().parents[1] / "scripts" / "dev-neo4j"


def neo4j_env(wanted: bool = True) -> tuple[dict[str, str], bool]:
    """(environment with GRAPHSVC_NEO4J_*, whether a server was started for this run)."""
    env = dict(os.environ)
    if not wanted or env.get("GRAPHSVC_NEO4J_URI"):
        return env, False
    env.setdefault("GRAPHSVC_NEO4J_STATE", "/tmp/graphsvc-bench-neo4j")
    out = subprocess.run([str(DEV_NEO4J), "start"], env=env, capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        if line.startswith("GRAPHSVC_NEO4J_") and "=" in line:
            k, v = line.split("=", 1)
            env[k] = v.strip("'\"")
    return env, True


def stop(env: dict[str, str]) -> None:
    # best effort: the benchmark's own result stands whether or not the server stops cleanly
    subprocess.run([str(DEV_NEO4J), "stop"], env=env, capture_output=True, check=False)

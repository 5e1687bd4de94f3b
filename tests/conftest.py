"""Shared fixtures: every store test runs against both stores, the Neo4j half on a real server.

Neo4j comes from ``GRAPHSVC_NEO4J_URI`` when set (``eval "$(scripts/dev-neo4j start)"``);
otherwise the session starts one with ``scripts/dev-neo4j start`` and stops it at the end.
If Neo4j cannot be had, the Neo4j tests fail: they never skip.

``GRAPHSVC_TEST_STORES=embedded`` (what ``scripts/test --fast`` sets) leaves out every test that
needs Neo4j instead: the Neo4j half of the store tests and the tests comparing the two stores are
deselected when collected, and a test that asks for Neo4j only while it runs is skipped by the
``neo4j_env`` fixture.
Tests under ``tests/system/`` (real servers, browsers, compose, load) carry the ``system``
marker; tests elsewhere that start a real server, drive chromium or run the fuzz run carry it
explicitly; ``-m "not system"`` leaves them out.

Helpers that are not fixtures are in ``tests_support`` (ROOT, running the command, a real server,
the in-process API, generated data); no test module imports another.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests_support import ROOT
from tests_support.browser import chromium

from graphsvc.importer import import_path
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore

SHARED = ROOT.parent / "shared"
TINY = SHARED / "examples" / "tiny-county"
if not TINY.is_dir():  # CI lays shared/ beside the clone
    TINY = Path(os.environ.get("GRAPHSVC_SHARED", "/work/shared")) / "examples" / "tiny-county"
STORES = [s for s in os.environ.get("GRAPHSVC_TEST_STORES", "embedded,neo4j").split(",") if s]
SYSTEM_DIR = Path(__file__).resolve().parent / "system"
_NEO4J_FIXTURES = {"neo4j_env", "neo4j_shared"}


def _needs_neo4j(item: pytest.Item) -> bool:
    if item.get_closest_marker("neo4j") is not None:
        return True
    if _NEO4J_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "neo4j" in callspec.params.values()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SYSTEM_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.system)
    if "neo4j" in STORES:
        return
    left_out = [i for i in items if _needs_neo4j(i)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [i for i in items if not _needs_neo4j(i)]


@pytest.fixture(scope="session")
def tiny_dir() -> Path:
    assert TINY.is_dir(), f"the tiny-county fixture is missing at {TINY}"
    return TINY


@pytest.fixture
def tiny(store: Store, tiny_dir: Path) -> Store:
    """The tiny county imported into an empty store of each kind."""
    assert import_path(store, tiny_dir).ok
    return store


@pytest.fixture
def tiny_copy(tmp_path: Path, tiny_dir: Path) -> Path:
    """A writable copy of the tiny-county bundle, to break in tests."""
    dst = tmp_path / "tiny"
    shutil.copytree(tiny_dir, dst)
    for f in dst.iterdir():
        f.chmod(0o644)
    return dst


@pytest.fixture(scope="session")
def neo4j_env() -> Iterator[dict[str, str]]:
    """URI, user and password of a real Neo4j server."""
    if "neo4j" not in STORES:
        # the catch-all behind the deselection at collection: a test that asks for Neo4j only
        # while it runs (make_store("neo4j"), request.getfixturevalue("neo4j_shared")) is skipped
        pytest.skip(f"GRAPHSVC_TEST_STORES={','.join(STORES)} leaves Neo4j out")
    if os.environ.get("GRAPHSVC_NEO4J_URI"):
        yield {k: os.environ[k] for k in ("GRAPHSVC_NEO4J_URI", "GRAPHSVC_NEO4J_USER",
                                           "GRAPHSVC_NEO4J_PASSWORD") if k in os.environ}
        return
    state = Path(os.environ.get("TMPDIR", "/tmp")) / f"graphsvc-test-neo4j-{os.getpid()}"
    env = {**os.environ, "GRAPHSVC_NEO4J_STATE": str(state)}
    script = ROOT / "scripts" / "dev-neo4j"
    proc = subprocess.run([str(script), "start"], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=900, check=False)
    if proc.returncode != 0:
        pytest.fail(f"Neo4j could not be started by scripts/dev-neo4j:\n{proc.stderr[-3000:]}")
    found: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("GRAPHSVC_NEO4J_") and "=" in line:
            k, v = line.split("=", 1)
            found[k] = v.strip().strip("'\"")
    try:
        yield found
    finally:
        # best effort: a server that does not stop cleanly must not fail the session
        subprocess.run([str(script), "stop"], env=env, capture_output=True, timeout=120,
                       check=False)
        shutil.rmtree(state, ignore_errors=True)


def _neo4j_store(env: dict[str, str]) -> Store:
    from graphsvc.stores.neo4j import Neo4jStore

    return Neo4jStore(env["GRAPHSVC_NEO4J_URI"], env.get("GRAPHSVC_NEO4J_USER", "neo4j"),
                      env.get("GRAPHSVC_NEO4J_PASSWORD"), batch_size=500)



@pytest.fixture(scope="session")
def neo4j_shared(neo4j_env: dict[str, str]) -> Iterator[Store]:
    try:
        store = _neo4j_store(neo4j_env)
    except Exception as exc:  # noqa: BLE001 - the reason goes into the failure
        pytest.fail(f"cannot connect to Neo4j at {neo4j_env.get('GRAPHSVC_NEO4J_URI')}: {exc}")
    yield store
    store.close()


def _clear_auto(store: Store) -> None:
    from tests_support import clear

    clear(store)


@pytest.fixture(params=["embedded", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind."""
    if request.param == "embedded":
        s = EmbeddedStore(tmp_path / "data")
        yield s
        s.close()
        return
    s = request.getfixturevalue("neo4j_shared")
    _clear_auto(s)
    yield s


@pytest.fixture
def make_store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory for a second empty store of a given kind (cross-store tests)."""
    made: list[Store] = []

    def make(kind: str) -> Store:
        if kind == "embedded":
            s: Store = EmbeddedStore(tmp_path / f"data{len(made)}")
            made.append(s)
            return s
        s = request.getfixturevalue("neo4j_shared")
        _clear_auto(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture(params=["embedded", "neo4j"])
def cli_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The settings of a ``graphsvc`` command on each store (the Neo4j one emptied first)."""
    if request.param == "embedded":
        return {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    _clear_auto(request.getfixturevalue("neo4j_shared"))
    return dict(request.getfixturevalue("neo4j_env"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, shared by the tests of a module."""
    with chromium() as b:
        yield b

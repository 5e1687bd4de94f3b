"""The test suite keeps its own layout: folders that mirror the package, helpers in
``tests_support`` (no test module imports another), the ``system`` marker on every test that
starts a real server or drives a browser, and ``GRAPHSVC_TEST_STORES=embedded`` leaving out
every test that needs Neo4j, even one that asks for it only while it runs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from tests_support import PKG_PARENT, ROOT

TESTS = ROOT / "tests"
SYSTEM = TESTS / "system"
MODULES = sorted(TESTS.rglob("test_*.py"))
# what only a test with the system marker may use: a real server, a browser, the fuzz run
SYSTEM_ONLY = {"serving", "sync_playwright", "chromium", "uvicorn", "FUZZ_SERVER"}


def identifiers(func: ast.FunctionDef) -> set[str]:
    """The names, attributes and imported modules a function's code uses (not its text)."""
    found: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update([(node.module or "").split(".")[0], *(a.name for a in node.names)])
    return found


def test_the_suite_is_where_this_test_looks() -> None:
    assert (ROOT / "pyproject.toml").is_file() and (ROOT / "scripts" / "dev-neo4j").is_file()
    assert (ROOT / "benchmarks" / "load_test.py").is_file()
    assert len(MODULES) > 30 and Path(__file__).resolve() in MODULES


def test_no_test_module_imports_another_and_no_path_tricks() -> None:
    found = []
    for path in MODULES + sorted((TESTS / "tests_support").glob("*.py")) + [TESTS / "conftest.py"]:
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.relative_to(TESTS)}: imports {n}" for n in names
                      if n.split(".")[0].startswith("test_")]
            if (isinstance(node, ast.Attribute) and node.attr == "path"
                    and isinstance(node.value, ast.Name) and node.value.id == "sys"):
                found.append(f"{path.relative_to(TESTS)}: uses sys.path")
    assert not found, found


def test_no_init_file_outside_tests_support() -> None:
    """With an ``__init__.py`` in tests/ or a test folder, pytest would put the repository on
    sys.path and the tests would import the source folder instead of the installed graphsvc."""
    inits = [p.relative_to(TESTS) for p in TESTS.rglob("__init__.py")]
    assert inits == [Path("tests_support/__init__.py")], inits


def test_real_servers_and_browsers_only_in_system_tests() -> None:
    """``-m "not system"`` (``scripts/test --fast``) must leave out every test that starts a
    real server, drives chromium or runs the fuzz run, wherever the test lives."""
    unmarked = []
    for path in MODULES:
        if SYSTEM in path.parents:
            continue  # tests/conftest.py marks these
        text = path.read_text(encoding="utf-8")
        for node in ast.parse(text).body:
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            uses = sorted(SYSTEM_ONLY & identifiers(node))
            if any(a.arg == "browser" for a in node.args.args):
                uses.append("the browser fixture")
            marked = any("mark.system" in ast.unparse(d) for d in node.decorator_list)
            if uses and not marked:
                unmarked.append(f"{path.relative_to(TESTS)}::{node.name} uses {uses}")
    assert not unmarked, unmarked


def test_embedded_only_leaves_out_every_neo4j_test(tmp_path: Path) -> None:
    """With ``GRAPHSVC_TEST_STORES=embedded`` and no Neo4j anywhere, a test that names a Neo4j
    fixture or takes the Neo4j store is deselected, and one that asks for Neo4j only while it
    runs is skipped with the reason (never a started or a missing Neo4j)."""
    (tmp_path / "test_probe.py").write_text(
        "def test_asks_while_running(make_store):\n"
        "    make_store('neo4j')\n"
        "    raise AssertionError('Neo4j was handed out')\n\n"
        "def test_names_the_fixture(neo4j_shared):\n"
        "    raise AssertionError('not deselected')\n\n"
        "def test_each_store(store):\n"
        "    assert store.kind == 'embedded'\n", encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    # an address where no Neo4j answers: were the skip gone, the probe would fail fast here
    # rather than start a Neo4j of its own
    env.update(GRAPHSVC_TEST_STORES="embedded", GRAPHSVC_NEO4J_URI="bolt://127.0.0.1:9",
               PYTHONPATH=os.pathsep.join([str(TESTS), PKG_PARENT]))
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider",
                        "-p", "no:xdist", "-q", "-rs", "test_probe.py"], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300, check=False)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "1 passed, 1 skipped, 2 deselected" in out, out
    assert "GRAPHSVC_TEST_STORES=embedded leaves Neo4j out" in out, out

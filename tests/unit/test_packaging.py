"""graphsvc installs as users get it: a plain wheel carries every Cypher file."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests_support import ROOT

from graphsvc.cypher import cypher_dir, queries
from graphsvc.stores.neo4j import Neo4jStore


def test_wheel_holds_the_cypher_files(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True,
                       check=False)
    if r.returncode != 0 and "No module named" in r.stderr:  # hatchling not installed here
        r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(tmp_path), str(ROOT)], capture_output=True, text=True,
                           check=False)
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("graphsvc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    source = {f"graphsvc/cypher/{p.relative_to(ROOT / 'cypher').as_posix()}"
              for p in (ROOT / "cypher").rglob("*.cypher")}
    assert source and source <= names
    assert "graphsvc/cli/__init__.py" in names and "visual/__init__.py" in names


def test_every_statement_the_store_runs_exists() -> None:
    q = queries()
    q.require(Neo4jStore.REQUIRED)
    assert (cypher_dir() / "schema.cypher").is_file()
    for name in q.names():
        assert q.text(name, q._params[name])  # non-empty, parameters readable

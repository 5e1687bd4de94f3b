"""Faults, nothing lost: the store dies in the middle of things, and nothing half-done remains.

* Neo4j killed (SIGKILL) while ``graphsvc import`` writes a generated county: the command fails
  with a clear message, the restarted database holds exactly what it held before, and the
  same import then succeeds.
* A running ``graphsvc serve`` while Neo4j is stopped: ``/health`` answers 503 with the
  reason, reads and writes 503 (never 500), and once Neo4j is back on its port the same
  server process answers again; a write refused while it was down left nothing behind.
* The embedded store's import killed with ``kill -9`` while it writes: the store, opened
  afresh, equals the export from before; the import then succeeds.

These tests start a Neo4j of their own (``scripts/dev-neo4j`` with its own state folder),
since they kill it: never the server the other tests share.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests_support import PKG_PARENT, ROOT

DEV_NEO4J = ROOT / "scripts" / "dev-neo4j"
AS_OF = "2026-06-30"


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    env["PYTHONPATH"] = PKG_PARENT
    env.update(extra)
    return env


def cli(args: list[str], env: dict[str, str], cwd: Path,
        timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphsvc", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)


def ok(r: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    return r


def export(env: dict[str, str], cwd: Path, name: str) -> dict[str, bytes]:
    """The whole store as ``graphsvc export`` writes it: file name -> bytes."""
    dst = cwd / name
    ok(cli(["export", str(dst)], env, cwd))
    return {f.name: f.read_bytes() for f in sorted(dst.iterdir())}


def rows(files: dict[str, bytes], name: str) -> int:
    return len(files[name].decode("utf-8-sig").splitlines()) - 1


def started_cli(args: list[str], env: dict[str, str], cwd: Path,
                log: Path) -> subprocess.Popen[str]:
    fh = log.open("w")
    try:
        return subprocess.Popen([sys.executable, "-m", "graphsvc", *args], env=env, cwd=cwd,
                                stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                text=True)
    finally:
        fh.close()


def stop_process(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(30)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated bundles, big enough that an import is still writing when it is killed."""
    root = tmp_path_factory.mktemp("fault-bundles")
    out = {}
    for counties in (1, 3):
        path = root / f"c{counties}"
        ok(cli(["generate", str(path), "--counties", str(counties), "--seed", "1"],
               base_env(), root))
        out[f"c{counties}"] = path
    return out


# -- a Neo4j of this module's own -----------------------------------------------------------------


@dataclass
class OwnNeo4j:
    """A Neo4j started for these tests only: they kill it and bring it back on its data."""

    state: Path
    env: dict[str, str]  # GRAPHSVC_NEO4J_URI, _USER, _PASSWORD

    def script(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(DEV_NEO4J), command], env=self.script_env(),
                              capture_output=True, text=True, timeout=900,
                              stdin=subprocess.DEVNULL, check=False)

    def script_env(self) -> dict[str, str]:
        return base_env(GRAPHSVC_NEO4J_STATE=str(self.state), GRAPHSVC_NEO4J_HEAP="2g",
                        GRAPHSVC_NEO4J_PAGECACHE="256m")

    def kill(self) -> None:
        """SIGKILL the server, as a crash would (its data stays)."""
        r = self.script("kill")
        assert r.returncode == 0, r.stderr

    def terminate(self) -> None:
        """Stop the server the orderly way (SIGTERM), keeping its data."""
        pid = int((self.state / "pid").read_text())
        assert "graphsvc.Launcher" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(
            errors="replace")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 120
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not Path(f"/proc/{pid}").exists(), "Neo4j did not stop on SIGTERM"

    def restart(self) -> None:
        """Start it again on the same data, port and password."""
        r = self.script("restart")
        assert r.returncode == 0, f"dev-neo4j restart failed:\n{r.stderr[-4000:]}"
        assert parse_env(r.stdout) == self.env

    def driver(self):  # type: ignore[no-untyped-def]
        import neo4j

        return neo4j.GraphDatabase.driver(self.env["GRAPHSVC_NEO4J_URI"], auth=(
            self.env["GRAPHSVC_NEO4J_USER"], self.env["GRAPHSVC_NEO4J_PASSWORD"]))

    def clear(self) -> None:
        with self.driver() as d, d.session() as s:
            s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def parse_env(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        if line.startswith("GRAPHSVC_NEO4J_") and "=" in line:
            k, v = line.split("=", 1)
            found[k] = v.strip().strip("'\"")
    return found


@pytest.fixture(scope="module")
def own_neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnNeo4j]:
    state = tmp_path_factory.mktemp("own-neo4j")
    server = OwnNeo4j(state, {})
    try:
        r = server.script("start")
        if r.returncode != 0:
            pytest.fail(f"Neo4j could not be started by scripts/dev-neo4j:\n{r.stderr[-3000:]}")
        server.env = parse_env(r.stdout)
        yield server
    finally:
        server.script("stop")
        shutil.rmtree(state, ignore_errors=True)


def wait_for_writing(server: OwnNeo4j, proc: subprocess.Popen[str], locks: int = 20_000,
                     timeout: float = 600) -> int:
    """Wait until the import's transaction holds ``locks`` locks (it has written that many
    records and not committed): the moment to pull the plug. Returns the lock count."""
    deadline = time.monotonic() + timeout
    with server.driver() as d:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the import ended before it was seen writing"
            recs, _, _ = d.execute_query(
                "SHOW TRANSACTIONS YIELD currentQuery, status, activeLockCount "
                "WHERE NOT currentQuery STARTS WITH 'SHOW TRANSACTIONS' "
                "RETURN max(activeLockCount) AS locks, collect(status) AS statuses")
            held = recs[0]["locks"] or 0
            if held >= locks and "Running" in recs[0]["statuses"]:
                return int(held)
            time.sleep(0.1)
    raise AssertionError("the import was never seen writing")


# -- Neo4j dies in the middle of an import -------------------------------------------------------


@pytest.mark.neo4j  # a Neo4j of its own: GRAPHSVC_TEST_STORES=embedded leaves it out
def test_neo4j_killed_mid_import_leaves_nothing(own_neo4j: OwnNeo4j, bundles: dict[str, Path],
                                                tiny_dir: Path, tmp_path: Path) -> None:
    env = base_env(GRAPHSVC_DATA_DIR=str(tmp_path / "data"), **own_neo4j.env)
    own_neo4j.clear()
    ok(cli(["import", str(tiny_dir)], env, tmp_path))
    before = export(env, tmp_path, "before")
    log = tmp_path / "import.log"
    proc = started_cli(["import", str(bundles["c1"])], env, tmp_path, log)
    try:
        held = wait_for_writing(own_neo4j, proc)
        own_neo4j.kill()
        code = proc.wait(300)
    finally:
        stop_process(proc)
    said = log.read_text("utf-8", errors="replace")
    assert held >= 20_000
    assert code == 3, said  # 3: the store cannot be used (1 is for a bundle with errors)
    assert "Traceback" not in said
    # the last thing said names the problem, what was written and what to do; the driver's
    # own log (its retries, logger "neo4j") is not shown: the command says it once, clearly
    uri = own_neo4j.env["GRAPHSVC_NEO4J_URI"]
    at = ("\n" + said).rindex("\nerror: ")  # the start of the line of our message
    last = said[at:]
    assert last.startswith(f"error: Neo4j at {uri} cannot be reached "
                           "while writing the import"), said
    assert f"Nothing of {bundles['c1']} was written" in " ".join(last.split()), said
    assert "Run the same import again once Neo4j is back" in " ".join(last.split()), said
    assert said.count("error: ") == 1, said
    for noise in ("will be retried", "Transaction failed", "Unable to retrieve routing",
                  "Failed to read from defunct connection", "Failed to write data to connection"):
        assert noise not in said[:at], f"driver noise: {noise!r}\n{said}"

    own_neo4j.restart()
    assert export(env, tmp_path, "after-crash") == before  # nothing of the import, all of before

    ok(cli(["import", str(bundles["c1"])], env, tmp_path))
    after = export(env, tmp_path, "after-import")
    generated = {f.name: f.read_bytes() for f in bundles["c1"].iterdir()}
    for name in ("people.csv", "households.csv", "villages.csv", "liaisons.csv"):
        assert rows(after, name) == rows(before, name) + rows(generated, name), name


# -- the service while Neo4j is down --------------------------------------------------------------


@pytest.mark.neo4j  # a Neo4j of its own: GRAPHSVC_TEST_STORES=embedded leaves it out
def test_service_answers_503_while_neo4j_is_down_and_recovers(
        own_neo4j: OwnNeo4j, tiny_dir: Path, tmp_path: Path) -> None:
    lt = load_test_module()
    env = base_env(GRAPHSVC_DATA_DIR=str(tmp_path / "data"), **own_neo4j.env)
    own_neo4j.clear()
    ok(cli(["import", str(tiny_dir)], env, tmp_path))
    key = lt.make_key(env, cwd=tmp_path)
    h = {"Authorization": f"Bearer {key}"}
    contact = {"person_id": "M03", "household_id": "H007", "date": "2026-06-29",
               "channel": "phone", "request": "written while Neo4j was down"}
    reads = ["/api/v1/households", "/api/v1/households/H007", "/api/v1/summary",
             "/api/v1/audit/delegates", "/api/v1/audit/members", "/api/v1/people/M01/impact"]
    with lt.serving(env, tmp_path / "serve.log", cwd=tmp_path) as server, \
            httpx.Client(base_url=server.url, headers=h, timeout=120) as c:
        assert c.get("/health").json()["store"] == "neo4j"
        seen = {u: c.get(u, params={"as_of": AS_OF}).json() for u in reads}
        own_neo4j.terminate()

        r = c.get("/health")
        assert r.status_code == 503, r.text
        assert r.json()["status"] == "unavailable" and r.json()["store"] == "neo4j"
        assert own_neo4j.env["GRAPHSVC_NEO4J_URI"] in r.json()["detail"]
        for url in reads:
            r = c.get(url, params={"as_of": AS_OF})
            assert r.status_code == 503, (url, r.status_code, r.text)
            assert "cannot be reached" in r.json()["detail"], (url, r.text)
        for method, url, body in (
                ("POST", "/api/v1/contacts", contact),
                ("PATCH", "/api/v1/people/M03", {"phone": "13900009999"}),
                ("PATCH", "/api/v1/households/H007", {"size": 7}),
                ("POST", "/api/v1/liaisons", {"kind": "member-household", "from_id": "M03",
                                              "to_id": "H001", "since": "2026-06-01"})):
            r = c.request(method, url, json=body)
            assert r.status_code == 503, (method, url, r.status_code, r.text)
            assert "cannot be reached" in r.json()["detail"], (url, r.text)

        own_neo4j.restart()  # the same port: the same server process must find it again
        deadline = time.monotonic() + 120
        while (r := c.get("/health")).status_code != 200:
            assert r.status_code == 503, r.text
            assert time.monotonic() < deadline, f"the service did not recover: {r.text}"
            time.sleep(0.5)
        assert r.json()["status"] == "ok" and r.json()["store"] == "neo4j"
        for url in reads:  # the same answers as before the outage: nothing was written meanwhile
            r = c.get(url, params={"as_of": AS_OF})
            assert r.status_code == 200, (url, r.text)
            assert r.json() == seen[url], url
        r = c.post("/api/v1/contacts", json=contact)
        assert r.status_code == 201, r.text
        after = c.get("/api/v1/summary", params={"as_of": AS_OF}).json()
        assert after["contacts"] == seen["/api/v1/summary"]["contacts"] + 1
    assert "Traceback" not in server.log_text(), server.log_text()[-5000:]


# -- the embedded store killed in the middle of an import -----------------------------------------


def test_embedded_import_killed_leaves_the_store_as_before(bundles: dict[str, Path],
                                                          tiny_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = base_env(GRAPHSVC_DATA_DIR=str(data))
    ok(cli(["import", str(tiny_dir)], env, tmp_path))
    before = export(env, tmp_path, "before")
    wal = data / "graphsvc.sqlite3-wal"
    proc = started_cli(["import", str(bundles["c3"])], env, tmp_path, tmp_path / "import.log")
    try:
        # the write transaction spills its pages into the write-ahead log long before its
        # commit (which appends the commit frame at the end): kill it once 2 MB are there
        deadline = time.monotonic() + 600
        while not (wal.exists() and wal.stat().st_size > 2_000_000):
            assert proc.poll() is None, "the import ended before it was seen writing; use a " \
                "bigger bundle\n" + (tmp_path / "import.log").read_text()
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(60) == -signal.SIGKILL
    finally:
        stop_process(proc)
    assert wal.stat().st_size > 2_000_000  # the half-written transaction is on disk

    db = sqlite3.connect(data / "graphsvc.sqlite3")  # a fresh open recovers
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    assert export(env, tmp_path, "after-kill") == before

    ok(cli(["import", str(bundles["c3"])], env, tmp_path))
    after = export(env, tmp_path, "after-import")
    generated = {f.name: f.read_bytes() for f in bundles["c3"].iterdir()}
    for name in ("people.csv", "households.csv", "villages.csv", "liaisons.csv"):
        assert rows(after, name) == rows(before, name) + rows(generated, name), name


def load_test_module():  # type: ignore[no-untyped-def]
    """benchmarks/load_test.py: its way of running ``graphsvc serve`` and making keys."""
    import importlib.util

    name = "graphsvc_load_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "load_test.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod

"""The load run in its short form (``benchmarks/load_test.py``: 10 clients for 8 s against the
tiny county) on both stores: no error, and every acknowledged write is in the store. The long
form (50 clients, 60 s, 10 counties) is the script run by hand; timings are never asserted."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests_support import PKG_PARENT, ROOT

LOAD = ROOT / "benchmarks" / "load_test.py"


def load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("graphsvc_load_test", LOAD)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(params=["embedded", "neo4j"])
def load_env(request: pytest.FixtureRequest) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    env["PYTHONPATH"] = PKG_PARENT
    if request.param == "neo4j":
        from tests_support import clear

        clear(request.getfixturevalue("neo4j_shared"))
        env.update(request.getfixturevalue("neo4j_env"))
    return env


def test_short_load_run(load_env: dict[str, str], tiny_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "load.json"
    r = subprocess.run(
        [sys.executable, str(LOAD), "--bundle", str(tiny_dir), "--clients", "10",
         "--duration", "8", "--data-dir", str(tmp_path / "data"), "--json", str(report)],
        env=load_env, cwd=tmp_path, capture_output=True, text=True, timeout=900,
        stdin=subprocess.DEVNULL, check=False)
    assert report.is_file(), (f"no report; exit {r.returncode}\n{r.stdout[-3000:]}\n"
                              f"{r.stderr[-5000:]}")
    rep = json.loads(report.read_text("utf-8"))
    assert rep["store"] == ("neo4j" if "GRAPHSVC_NEO4J_URI" in load_env else "embedded")
    assert rep["errors"] == 0, rep["error_samples"]
    assert rep["consistent"], rep["problems"]
    assert r.returncode == 0, r.stdout[-3000:]
    # every kind of request was made (at least in the warm-up), and writes acknowledged
    kinds = {"households.list", "households.get", "audit", "summary", "contacts.create",
             "people.patch", "households.patch", "liaisons.create"}
    assert set(rep["warmup_requests"]) == kinds
    assert rep["requests"] > 0 and set(rep["kinds"]) <= kinds
    acked = rep["acknowledged"]
    assert acked["contacts"] > 0 and acked["liaisons"] > 0
    assert acked["people_changed"] + acked["households_changed"] > 0
    # counts add up in the store itself, read after the server stopped
    before, after = rep["store_check"]["before"], rep["store_check"]["after"]
    assert after["contacts"] == before["contacts"] + acked["contacts"]
    assert after["liaisons"] == before["liaisons"] + acked["new_liaisons"]
    assert (after["people"], after["households"]) == (before["people"], before["households"])
    assert (rep["http_check"]["contacts_after"]
            == rep["http_check"]["contacts_before"] + acked["contacts"])
    assert "OK" in r.stdout.splitlines()[-1]


def test_two_workers_compute_the_county_once(load_env: dict[str, str], tiny_dir: Path,
                                              tmp_path: Path) -> None:
    """``graphsvc serve --workers 2`` under load: writes by either worker are followed by the
    other from the store's change log, and the county's results are computed in full once per
    kind and date across both processes (the other loads what the first published)."""
    report = tmp_path / "load.json"
    r = subprocess.run(
        [sys.executable, str(LOAD), "--bundle", str(tiny_dir), "--clients", "10",
         "--duration", "8", "--workers", "2", "--data-dir", str(tmp_path / "data"),
         "--json", str(report)],
        env=load_env, cwd=tmp_path, capture_output=True, text=True, timeout=900,
        stdin=subprocess.DEVNULL, check=False)
    assert report.is_file(), \
        f"no report; exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    rep = json.loads(report.read_text("utf-8"))
    assert rep["errors"] == 0, rep["error_samples"]
    assert rep["consistent"], rep["problems"]
    assert rep["acknowledged"]["contacts"] > 0
    c = rep["computations"]
    assert c["total"] > 0 and set(c["per_kind_and_date"].values()) == {1}, c
    assert "OK" in r.stdout.splitlines()[-1]


def test_the_check_sees_a_lost_write() -> None:
    """The consistency check is not vacuous: a write acknowledged but missing, a count that does
    not add up and a change stored with another value are each reported."""
    lt = load_module()
    day = dt.date(2026, 11, 1)
    contact = {"person_id": "M01", "household_id": "H001", "date": day.isoformat(),
               "channel": "visit", "request": "load r1 0-1"}
    kept = {"person_id": "M01", "household_id": "H002", "date": day.isoformat(),
            "channel": "phone", "request": "load r1 0-2"}
    acks = lt.Acks(contacts=[contact, kept], households={"H003": {"phone": "158", "size": 2}},
                   liaisons={("M01", "H004"): {"kind": "member-household", "from_id": "M01",
                                               "to_id": "H004", "since": day.isoformat()}},
                   new_liaisons=1)
    records: dict[str, list[dict[str, Any]]] = {
        "contacts": [{**kept, "date": day, "resolved": False}],
        "liaisons": [{"kind": "member-household", "from_id": "M01", "to_id": "H004",
                      "since": day, "until": None}],
        "people": [{"id": "M01"}],
        "households": [{"id": f"H00{i}", "phone": "158", "size": 3 if i == 3 else 1}
                       for i in range(1, 5)],
    }
    before = {"contacts": 0, "liaisons": 0, "people": 1, "households": 4}
    problems = lt.check_store(records, before, acks, "r1")["problems"]
    assert any("holds 1 contacts; expected 2" in p for p in problems), problems
    assert any("acknowledged contact" in p and "H001" in p for p in problems), problems
    assert any("households H003" in p for p in problems), problems
    assert len(problems) == 3, problems
    # with everything in place, nothing is reported
    records["contacts"].append({**contact, "date": day, "resolved": False})
    records["households"][2]["size"] = 2
    assert lt.check_store(records, before, acks, "r1")["problems"] == []
    # a contact of the run in the store that was never acknowledged is reported too...
    phantom = {**contact, "request": "load r1 0-3"}
    records["contacts"].append({**phantom, "date": day, "resolved": False})
    before["contacts"] = 1  # (so that the count alone does not give it away)
    problems = lt.check_store(records, before, acks, "r1")["problems"]
    assert len(problems) == 1 and "not acknowledged" in problems[0], problems
    # ...unless it was sent and its answer never came (its outcome is unknown)
    acks.unknown.append(("contacts.create", "/api/v1/contacts", phantom))
    before["contacts"] = 0
    assert lt.check_store(records, before, acks, "r1")["problems"] == []

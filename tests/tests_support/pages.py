"""The diagram pages as the tests read them: the tiny county's expected drawings, the data a
page hands to vis-network, a county with script-like names, logging in through the form."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from graphsvc.keys import KeyStore, Role
from graphsvc.rules import RuleSettings
from tests_support import visual_login

DAY = dt.date(2026, 6, 30)
RULES = RuleSettings()

# (view, id) -> (nodes, edges) drawn for the tiny county on DAY
EXPECTED: dict[tuple[str, str | None], tuple[int, int]] = {
    ("chain", "C1"): (42, 41),  # C1, D1 (D3 inactive), 10 members, 30 households
    # C2 above; M11, M12, M13, M15 and their 12 households below; 4 open requests (each from
    # its household, to the member who holds it)
    ("delegate", "D2"): (22, 25),
    ("member", "M01"): (6, 5),  # C1 -> D1 -> M01 -> 3 households
    ("household", "H052"): (6, 5),  # M18 -> D4 -> C3 (inactive), village V4 <- U3
    ("household", "H059"): (4, 3),  # no member: a break node; village V4 <- U3
    ("pairings", None): (8, 3),
    ("pairings", "T2"): (4, 1),  # U2's pairing with V3 ended: V3 needs a unit, U2 idle
    ("township", "T1"): (5, 6),  # T1, V1, V2, U1, D1
    ("township", None): (4, 2),  # T1, T2, U1, U3
}

EVIL = "<script>alert(1)</script>"
EVIL_IMG = '<img src=x onerror="alert(2)">'


def data_of(page: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The node and edge data a page hands to vis-network."""
    nodes = re.search(r"nodes = new vis\.DataSet\((.*?)\);\n", page)
    edges = re.search(r"edges = new vis\.DataSet\((.*?)\);\n", page)
    assert nodes and edges
    return json.loads(nodes.group(1)), json.loads(edges.group(1))


def layers_of(page: str) -> dict[str, Any]:
    """The layers a page can switch on (``window.gsLayers``)."""
    found = re.search(r"window\.gsLayers = (.*?);</script>", page)
    assert found
    return json.loads(found.group(1))


def evil_copy(tiny_copy: Path) -> Path:
    """The tiny county with script-like names (as a spreadsheet might hold)."""
    for name, column, ids in [("people.csv", "name", {"C1", "D1", "M01"}),
                              ("households.csv", "head_name", {"H001"}),
                              ("villages.csv", "name", {"V1"}), ("townships.csv", "name", {"T1"}),
                              ("units.csv", "name", {"U1"})]:
        path = tiny_copy / name
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for r in rows:
            if r["id"] in ids:
                r[column] = EVIL if r["id"] != "H001" else EVIL_IMG
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return tiny_copy


def login(client: TestClient, keys: KeyStore, role: Role = Role.ADMIN, **kw: Any) -> str:
    """Log in to the diagram pages with a new key (of ``role``, ``kw`` as ``keys.create``
    takes them), checking the session cookie's flags; the key."""
    _, token = keys.create(role, **kw)
    r = visual_login(client, token)  # through the form, with its token
    assert r.status_code == 303 and r.headers["location"] == "/visual/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/visual" in cookie
    return token

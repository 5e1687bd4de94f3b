"""The access matrix: every endpoint × every role × inside / outside the key's township.

The keys: an admin (every township, personal data shown), an editor and a viewer
limited to township T1 without ``--pii``, an editor and a viewer for every township
without ``--pii``, and no key at all. Each endpoint of the app
(the JSON API, the CSV export, the documentation and the ``/visual`` diagram pages,
whose session cookie comes from ``/visual/login``) is asked about something inside T1
and something in T2 (or the whole county), and for each role the test asserts:

- the status: 200/201 where the role may, 403 for a write outside the key's role or
  townships (the same 403 as for an id that does not exist), 404 for a record of another
  township read by id (as if it did not exist), 401 without a key (the diagram pages send
  the browser to their login, 303);
- that the raw body names (by id or by name) no household, person, village or
  organisation of another township, nor a person of no township (county committee
  members and cadres stand outside every township too); ids are searched as whole
  words, in the body as sent, HTML-unescaped and with ``\\uXXXX`` escapes decoded,
  unless the request itself named them;
- for keys without ``--pii``, that no household's real name, phone or address, nor any
  person's phone (read from the tiny county's files, not from the service) appears
  anywhere in the body.

Keys limited to several townships (an editor and a viewer for T1 and T2) are asked the
same way about T2 and about a third township, T3, which the county is given for it
(``SEVERAL``): lists must name one of their townships, and nothing of T3 may show.

The cases are built against the app's own route list: an endpoint without a case in
the matrix fails ``test_every_endpoint_is_in_the_matrix``. The matrix runs on both
stores; after each write that was allowed the store is put back to the county (an
import with ``replace``), and a write that was refused must have changed nothing.

A leak found in code owned elsewhere is marked ``xfail(strict=True)`` with its reason
(``Case.leaks``), so that its fix fails the mark until the mark is removed.
"""

from __future__ import annotations

import csv
import functools
import html
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from tests_support import clear, form_token, visual_login

from graphsvc.api import create_app
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore

AS_OF = "2026-06-30"
HOME = "T1"  # the township of the limited keys
ROLES = ("admin", "editor", "viewer", "editor-all", "viewer-all", "none")  # "none": no key
SCOPED = {"editor", "viewer"}  # the keys limited to HOME ("-all": every township, no --pii)
PII_ROLES = {"admin"}  # admins always see personal data; the other keys have no --pii
HOMES = ("T1", "T2")  # the townships of the keys limited to several
SEVERAL_ROLES = ("editor-12", "viewer-12")

# -- the county as its files say (the oracle: not read through the service) --------------------


def _rows(bundle: Path, name: str) -> list[dict[str, str]]:
    with (bundle / f"{name}.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class County:
    """Which township every household, person, village and organisation belongs to, and the
    households' personal data."""

    township: dict[str, str | None]  # id -> township (None: the county level)
    name: dict[str, str]  # id -> name, of everything but households
    personal: frozenset[str]  # every household's head_name, phone and address; people's phones
    people: frozenset[str]  # ids of people

    @classmethod
    def read(cls, bundle: Path) -> County:
        town: dict[str, str | None] = {}
        name: dict[str, str] = {}
        for t in _rows(bundle, "townships"):
            town[t["id"]], name[t["id"]] = t["id"], t["name"]
        for v in _rows(bundle, "villages"):
            town[v["id"]], name[v["id"]] = v["township_id"] or None, v["name"]
        for o in _rows(bundle, "organizations"):
            town[o["id"]] = o["township_id"] or town.get(o["village_id"])
            name[o["id"]] = o["name"]
        personal: set[str] = set()
        for h in _rows(bundle, "households"):
            town[h["id"]] = town[h["village_id"]]
            personal |= {h[c] for c in ("head_name", "phone", "address") if h[c]}
        for p in _rows(bundle, "people"):  # DATA_FORMAT.md: township, else village, else org
            town[p["id"]] = (p["township_id"] or town.get(p["village_id"])
                             or town.get(p["organization_id"]))
            name[p["id"]] = p["name"]
            if p["phone"]:  # a person's phone is masked like a household's (issue 11)
                personal.add(p["phone"])
        people = frozenset(p["id"] for p in _rows(bundle, "people"))
        return cls(town, name, frozenset(personal), people)

    def _outside(self, townships: str | tuple[str, ...]) -> Iterator[str]:
        homes = (townships,) if isinstance(townships, str) else townships
        for i, t in self.township.items():
            if t not in homes and (t is not None or i in self.people):
                yield i

    def outside(self, townships: str | tuple[str, ...]) -> frozenset[str]:
        """Ids of households, people, villages and organisations of other townships, and of
        people of no township (county committee members, county cadres: the key's townships
        do not hold them either). A township's own id is no secret: errors name it."""
        return frozenset(i for i in self._outside(townships) if i != self.township[i])

    def outside_names(self, townships: str | tuple[str, ...]) -> frozenset[str]:
        """Names of the same, and of the other townships."""
        return frozenset(self.name[i] for i in self._outside(townships) if i in self.name)


# -- the cases --------------------------------------------------------------------------------

READ = {"admin": 200, "editor": 200, "viewer": 200, "none": 401}
READ_OUTSIDE = {"admin": 200, "editor": 403, "viewer": 403, "none": 401}  # a filter outside
HIDDEN = {"admin": 200, "editor": 404, "viewer": 404, "none": 401}  # a record outside, by id
PUBLIC = {"admin": 200, "editor": 200, "viewer": 200, "none": 200}
PAGE = {"admin": 200, "editor": 200, "viewer": 200, "none": 303}  # no session: to the login
PAGE_HIDDEN = {"admin": 200, "editor": 404, "viewer": 404, "none": 303}
ADMIN_ONLY = {"admin": 200, "editor": 403, "viewer": 403, "none": 401}


def write(ok: int) -> dict[str, int]:
    """A write inside the key's township: the viewer's role may not."""
    return {"admin": ok, "editor": ok, "viewer": 403, "none": 401}


def write_outside(ok: int) -> dict[str, int]:
    """A write that names (in its body) something outside the key's township."""
    return {"admin": ok, "editor": 403, "viewer": 403, "none": 401}


def write_hidden(ok: int) -> dict[str, int]:
    """A write to a record outside the key's township, by id: 403, as for an id that does
    not exist (``test_api.test_a_write_cannot_tell_a_record_outside_from_none``)."""
    return write_outside(ok)


def expected(case: Case, role: str) -> int:
    """The status ``role`` gets: the cases name admin, editor, viewer and none; a key for
    every township gets what the admin gets, within its role (no audit log; a viewer no
    write)."""
    if role in case.expect:
        return case.expect[role]
    admin = case.expect["admin"]
    if case.expect is ADMIN_ONLY:  # the audit log (READ_OUTSIDE has the same values)
        return 403
    if role == "viewer-all" and case.writes:
        return 403
    return admin


@dataclass(frozen=True)
class Case:
    """One request, and the status each role gets for it."""

    route: str  # "METHOD /path/{template}", as the app declares it
    scope: str  # in: inside T1; out: in T2; county: the whole county or no township;
    #             own: whatever the key reaches, no place named; -: not about a place
    expect: Mapping[str, int]
    url: str
    method: str = "GET"
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    form: Mapping[str, str] | None = None  # /visual/login: the key is filled in per role
    upload: tuple[str, bytes] | None = None
    static: bool = False  # the same text whatever the store holds (the OpenAPI examples)
    leaks: Mapping[str, str] = field(default_factory=dict)  # role -> known leak (xfail)

    @property
    def id(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.params.items() if k != "as_of")
        return f"{self.scope}:{self.method} {self.url}" + (f"?{query}" if query else "")

    @property
    def writes(self) -> bool:
        return self.method != "GET" and not self.url.startswith("/visual/log")

    def named(self) -> str:
        """Everything the request itself says (an id it names may come back in the answer)."""
        return " ".join([self.url, *self.params.values(), repr(self.json),
                         self.upload[1].decode() if self.upload else ""])


def _lists(path: str, route: str, *, village: bool = True) -> list[Case]:
    """A list narrowed by township (and village): the key's default, inside, outside."""
    p = {"as_of": AS_OF}
    cases = [Case(route, "in", READ, path, params=p),
             Case(route, "in", READ, path, params={**p, "township_id": HOME}),
             Case(route, "out", READ_OUTSIDE, path, params={**p, "township_id": "T2"})]
    if village:
        cases += [Case(route, "in", READ, path, params={**p, "village_id": "V1"}),
                  Case(route, "out", READ_OUTSIDE, path, params={**p, "village_id": "V4"})]
    return cases


API = "/api/v1"
CONTACTS_T1 = b"person_id,household_id,date\nM01,H001,2026-06-30\n"
CONTACTS_T2 = b"person_id,household_id,date\nM18,H059,2026-06-30\n"


def cases() -> list[Case]:
    """Every endpoint, inside and outside township T1."""
    a = {"as_of": AS_OF}
    c: list[Case] = [
        Case("GET /health", "-", PUBLIC, "/health"),
        Case("GET /ready", "-", PUBLIC, "/ready"),
        Case("GET /openapi.json", "-", PUBLIC, "/openapi.json", static=True),
        Case("GET /docs", "-", PUBLIC, "/docs", static=True),
        Case("GET /docs/oauth2-redirect", "-", PUBLIC, "/docs/oauth2-redirect", static=True),
        Case("GET /redoc", "-", PUBLIC, "/redoc", static=True),
        # -- reads
        *_lists(f"{API}/households", f"GET {API}/households"),
        *_lists(f"{API}/audit/delegates", f"GET {API}/audit/delegates"),
        *_lists(f"{API}/audit/members", f"GET {API}/audit/members"),
        *_lists(f"{API}/audit/committee-members", f"GET {API}/audit/committee-members"),
        *_lists(f"{API}/audit/pairings", f"GET {API}/audit/pairings", village=False),
        *_lists(f"{API}/summary", f"GET {API}/summary", village=False),
        *_lists(f"{API}/exports/households", f"GET {API}/exports/households"),
        Case(f"GET {API}/exports/households", "in", READ, f"{API}/exports/households",
             params={**a, "format": "csv"}),
        Case(f"GET {API}/exports/households", "out", READ_OUTSIDE, f"{API}/exports/households",
             params={**a, "format": "csv", "township_id": "T2"}),
        Case(f"GET {API}/households/{{household_id}}", "in", READ, f"{API}/households/H001",
             params=a),
        Case(f"GET {API}/households/{{household_id}}", "out", HIDDEN, f"{API}/households/H059",
             params=a),
        Case(f"GET {API}/people/{{person_id}}", "in", READ, f"{API}/people/D1"),
        *_lists(f"{API}/risks/people", f"GET {API}/risks/people", village=False),
        *_lists(f"{API}/trends", f"GET {API}/trends"),
        *_lists(f"{API}/requests/overdue", f"GET {API}/requests/overdue"),
        *_lists(f"{API}/requests/summary", f"GET {API}/requests/summary"),
        Case(f"GET {API}/requests/open", "in", READ, f"{API}/requests/open",
             params={**a, "person_id": "M01"}),
        Case(f"GET {API}/requests/open", "out", HIDDEN, f"{API}/requests/open",
             params={**a, "person_id": "M18"}),
        *_lists(f"{API}/repair-plans", f"GET {API}/repair-plans", village=False),
        Case(f"GET {API}/repair-plans", "in", READ, f"{API}/repair-plans",
             params={**a, "person_id": "M01"}),
        Case(f"GET {API}/repair-plans", "out", HIDDEN, f"{API}/repair-plans",
             params={**a, "person_id": "M18"}),
        Case(f"GET {API}/audit-log", "-", ADMIN_ONLY, f"{API}/audit-log"),
        Case(f"GET {API}/audit-log", "-", ADMIN_ONLY, f"{API}/audit-log",
             params={"record_id": "H059"}),
        Case(f"GET {API}/people/{{person_id}}", "out", HIDDEN, f"{API}/people/D2"),
        Case(f"GET {API}/people/{{person_id}}/impact", "in", READ, f"{API}/people/D1/impact",
             params=a),
        Case(f"GET {API}/people/{{person_id}}/impact", "out", HIDDEN, f"{API}/people/D2/impact",
             params=a),
        # -- writes of records
        Case(f"POST {API}/people", "in", write(201), f"{API}/people", "POST",
             json={"id": "N1", "name": "新人", "village_id": "V1"}),
        Case(f"POST {API}/people", "out", write_outside(201), f"{API}/people", "POST",
             json={"id": "N2", "name": "新人", "village_id": "V4"}),
        Case(f"PATCH {API}/people/{{person_id}}", "in", write(200), f"{API}/people/M01",
             "PATCH", json={"phone": "13900000099"}),
        Case(f"PATCH {API}/people/{{person_id}}", "out", write_hidden(200), f"{API}/people/M18",
             "PATCH", json={"phone": "13900000099"}),
        Case(f"POST {API}/people/{{person_id}}/deactivate", "in", write(200),
             f"{API}/people/M01/deactivate", "POST", json={"inactive_since": "2026-07-01"}),
        Case(f"POST {API}/people/{{person_id}}/deactivate", "out", write_hidden(200),
             f"{API}/people/M18/deactivate", "POST", json={"inactive_since": "2026-07-01"}),
        Case(f"POST {API}/households", "in", write(201), f"{API}/households", "POST",
             json={"id": "HN1", "head_name": "新户", "village_id": "V1"}),
        Case(f"POST {API}/households", "out", write_outside(201), f"{API}/households", "POST",
             json={"id": "HN2", "head_name": "新户", "village_id": "V4"}),
        Case(f"PATCH {API}/households/{{household_id}}", "in", write(200),
             f"{API}/households/H001", "PATCH", json={"size": 2}),
        Case(f"PATCH {API}/households/{{household_id}}", "out", write_hidden(200),
             f"{API}/households/H059", "PATCH", json={"size": 2}),
        Case(f"POST {API}/households/{{household_id}}/deactivate", "in", write(200),
             f"{API}/households/H001/deactivate", "POST", json={"inactive_since": "2026-07-01"}),
        Case(f"POST {API}/households/{{household_id}}/deactivate", "out", write_hidden(200),
             f"{API}/households/H059/deactivate", "POST", json={"inactive_since": "2026-07-01"}),
        # -- writes of links: the end below decides the township
        Case(f"POST {API}/liaisons", "in", write(201), f"{API}/liaisons", "POST",
             json={"kind": "member-household", "from_id": "M01", "to_id": "H060"}),
        Case(f"POST {API}/liaisons", "out", write_outside(201), f"{API}/liaisons", "POST",
             json={"kind": "member-household", "from_id": "M19", "to_id": "H059"}),
        Case(f"POST {API}/liaisons/end", "in", write(200), f"{API}/liaisons/end", "POST",
             json={"kind": "delegate-member", "from_id": "D1", "to_id": "M01"}),
        Case(f"POST {API}/liaisons/end", "out", write_outside(200), f"{API}/liaisons/end",
             "POST", json={"kind": "delegate-member", "from_id": "D2", "to_id": "M11"}),
        Case(f"POST {API}/pairings", "in", write(201), f"{API}/pairings", "POST",
             json={"unit_id": "U2", "village_id": "V1"}),
        Case(f"POST {API}/pairings", "out", write_outside(201), f"{API}/pairings", "POST",
             json={"unit_id": "U4", "village_id": "V4"}),
        Case(f"POST {API}/pairings/end", "in", write(200), f"{API}/pairings/end", "POST",
             json={"unit_id": "U1", "village_id": "V1"}),
        Case(f"POST {API}/pairings/end", "out", write_outside(200), f"{API}/pairings/end",
             "POST", json={"unit_id": "U3", "village_id": "V4"}),
        Case(f"POST {API}/supports", "in", write(201), f"{API}/supports", "POST",
             json={"person_id": "K1", "household_id": "H001"}),
        Case(f"POST {API}/supports", "out", write_outside(201), f"{API}/supports", "POST",
             json={"person_id": "K1", "household_id": "H058"}),
        Case(f"POST {API}/supports/end", "in", write(200), f"{API}/supports/end", "POST",
             json={"person_id": "K1", "household_id": "H002"}),
        Case(f"POST {API}/supports/end", "out", write_outside(200), f"{API}/supports/end",
             "POST", json={"person_id": "K1", "household_id": "H059"}),
        Case(f"POST {API}/contacts", "in", write(201), f"{API}/contacts", "POST",
             json={"person_id": "M01", "household_id": "H001", "date": AS_OF}),
        Case(f"POST {API}/contacts", "out", write_outside(201), f"{API}/contacts", "POST",
             json={"person_id": "M18", "household_id": "H059", "date": AS_OF}),
        Case(f"POST {API}/repair-plans/apply", "in", write(200), f"{API}/repair-plans/apply",
             "POST", json={"since": "2026-07-01", "items": [
                 {"kind": "member-household", "from_id": "M01", "to_id": "H060"}]}),
        Case(f"POST {API}/repair-plans/apply", "out", write_outside(200),
             f"{API}/repair-plans/apply", "POST", json={"since": "2026-07-01", "items": [
                 {"kind": "member-household", "from_id": "M19", "to_id": "H059"}]}),
        # a bundle can touch every township: only a key for all of them may upload one
        Case(f"POST {API}/imports", "in", write_outside(200), f"{API}/imports", "POST",
             upload=("contacts.csv", CONTACTS_T1)),
        Case(f"POST {API}/imports", "out", write_outside(200), f"{API}/imports", "POST",
             upload=("contacts.csv", CONTACTS_T2)),
        # -- the diagram pages (a session cookie, not a Bearer key)
        Case("GET /visual/login", "-", PUBLIC, "/visual/login"),
        Case("POST /visual/login", "-", {"admin": 303, "editor": 303, "viewer": 303,
                                         "none": 401}, "/visual/login", "POST", form={}),
        Case("POST /visual/logout", "-", {r: 303 for r in ROLES}, "/visual/logout", "POST"),
        Case("GET /visual/", "own", PAGE, "/visual/", params=a),  # the key's townships
        Case("GET /visual", "own", PAGE, "/visual", params=a),
        Case("GET /visual/{view}/{rid}", "in", PAGE, "/visual/household/H001", params=a),
        Case("GET /visual/{view}/{rid}", "out", PAGE_HIDDEN, "/visual/household/H059", params=a),
        Case("GET /visual/{view}/{rid}", "in", PAGE, "/visual/delegate/D1", params=a),
        Case("GET /visual/{view}/{rid}", "out", PAGE_HIDDEN, "/visual/delegate/D2", params=a),
        Case("GET /visual/{view}/{rid}", "county", PAGE_HIDDEN, "/visual/chain/C1", params=a),
        Case("GET /visual/{view}/{rid}", "in", PAGE, "/visual/township/T1", params=a),
        Case("GET /visual/{view}/{rid}", "out", PAGE_HIDDEN, "/visual/township/T2", params=a),
        Case("GET /visual/{view}/{rid}", "in", PAGE, "/visual/pairings/T1", params=a),
        Case("GET /visual/{view}/{rid}", "out", PAGE_HIDDEN, "/visual/pairings/T2", params=a),
        Case("GET /visual/trends", "own", PAGE, "/visual/trends"),
        Case("GET /visual/trends", "in", PAGE, "/visual/trends", params={"township_id": HOME}),
        Case("GET /visual/trends", "out", PAGE_HIDDEN, "/visual/trends",
             params={"township_id": "T2"}),
        Case("GET /visual/{view}", "county", PAGE_HIDDEN, "/visual/township", params=a),
        Case("GET /visual/{view}", "county", PAGE_HIDDEN, "/visual/pairings", params=a),
    ]
    return c


CASES = cases()


def _params() -> list[Any]:
    out = []
    for case in CASES:
        for role in ROLES:
            marks = []
            if role in case.leaks:
                marks.append(pytest.mark.xfail(strict=True, reason=case.leaks[role]))
            out.append(pytest.param(case, role, id=f"{case.id}-{role}", marks=marks))
    return out


# -- the app, its keys, and the search ---------------------------------------------------------


@dataclass
class Matrix:
    """The app on the county, one key (and diagram session) per role, and what may not leak."""

    client: TestClient
    store: Store
    bundle: Path
    keys: KeyStore
    tokens: dict[str, str]
    sessions: dict[str, str]
    county: County

    def send(self, case: Case, role: str) -> Any:
        headers: dict[str, str] = {}
        if case.url.startswith("/visual"):
            if role in self.sessions and not case.url.startswith("/visual/log"):
                headers["Cookie"] = f"gs_visual={self.sessions[role]}"
        elif role in self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        kw: dict[str, Any] = {"headers": headers, "params": dict(case.params),
                              "follow_redirects": False}
        if case.json is not None:
            kw["json"] = case.json
        if case.form is not None:
            kw["data"] = {**case.form, "key": self.tokens.get(role, "gs_" + "x" * 32)}
        if case.method == "POST" and case.url.startswith("/visual/log"):
            # the login and logout forms, sent as a browser sends them: with the page's token
            kw["data"] = {**kw.get("data", {}), "csrf": form_token(self.client)}
        if case.upload is not None:
            kw["files"] = {"file": (case.upload[0], case.upload[1], "text/csv")}
        try:
            return self.client.request(case.method, case.url, **kw)
        finally:
            self.client.cookies.clear()  # a login's cookie must not ride on the next request

    def reset(self) -> None:
        """Back to the county as the bundle holds it."""
        assert import_path(self.store, self.bundle, replace=True).ok


@functools.cache
def _any_of(values: frozenset[str], words: bool) -> re.Pattern[str]:
    """One pattern for all the values (one pass over a page of half a megabyte, not sixty)."""
    alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return re.compile(f"(?<![A-Za-z0-9_])(?:{alternatives})(?![A-Za-z0-9_])" if words
                      else f"(?:{alternatives})")


def readable(text: str) -> str:
    """The body as sent, HTML-unescaped, and with JSON's \\uXXXX escapes decoded."""
    unescaped = html.unescape(text)
    decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), unescaped)
    return f"{text}\n{unescaped}\n{decoded}"


def leaked_ids(text: str, ids: frozenset[str]) -> set[str]:
    """The ids found in the text as whole words (``D2`` is not found in ``D21`` or ``#D2E``)."""
    return set(_any_of(ids, True).findall(text))


def leaked_personal(text: str, personal: frozenset[str]) -> set[str]:
    """The names, phones and addresses found anywhere in the text."""
    return set(_any_of(personal, False).findall(text))


T3_ROWS = {  # a third township, for the keys limited to T1 and T2
    "townships": ["T3,青山乡"],
    "villages": ["V5,青山村,T3,true"],
    "organizations": ["O10,青山村党支部,branch,village,O1,T3,V5"],
    "people": ["D5,钱子墨,delegate,,,,O10,T3,,13700000001", "M21,孔令秋,,,,,,,V5,13700000002",
               "M22,邓雪梅,,,,,,,V5,13700000003"],
    "households": ["H061,曹雨晴,V5,,2,,,17700000001,青山村1号",
                   "H062,施云飞,V5,poor,3,,,17700000002,青山村2号"],
    "liaisons": ["committee_member-delegate,C1,D5,2020-01-01,",
                 "delegate-member,D5,M21,2020-01-01,", "delegate-member,D5,M22,2020-01-01,",
                 "member-household,M21,H061,2020-01-01,", "member-household,M22,H062,2020-01-01,"],
    "contacts": ["M21,H061,2026-06-02,visit,,"],
    "supports": ["K1,H062,2015-01-01"],
    "pairings": ["U3,V5,2020-01-01,"],
}


def _bundle(tiny_dir: Path, dst: Path) -> Path:
    """The tiny county, plus a support of a T2 household (so that ending one can be asked) and
    a third township T3 (``T3_ROWS``)."""
    shutil.copytree(tiny_dir, dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    with (dst / "supports.csv").open("a", encoding="utf-8", newline="") as f:
        f.write("K1,H059,2015-01-01\n")
    for name, lines in T3_ROWS.items():
        with (dst / f"{name}.csv").open("a", encoding="utf-8", newline="") as f:
            f.write("".join(f"{line}\n" for line in lines))
    return dst


@pytest.fixture(scope="module", params=["embedded", "neo4j"])
def matrix(request: pytest.FixtureRequest, tiny_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """The app on the county, on each store; one store for the whole module (reset after
    each write that went through)."""
    tmp = tmp_path_factory.mktemp(f"matrix-{request.param}")
    bundle = _bundle(tiny_dir, tmp / "bundle")
    store: Store
    if request.param == "embedded":
        store = EmbeddedStore(tmp / "data")
    else:
        store = request.getfixturevalue("neo4j_shared")
        clear(store)
    assert import_path(store, bundle).ok
    settings = Settings(data_dir=tmp / "api", neo4j_uri=None)
    keys = KeyStore(settings.data_dir)
    tokens = {"admin": keys.create(Role.ADMIN)[1],
              "editor": keys.create(Role.EDITOR, townships=[HOME])[1],
              "viewer": keys.create(Role.VIEWER, townships=[HOME])[1],
              "editor-all": keys.create(Role.EDITOR)[1],
              "viewer-all": keys.create(Role.VIEWER)[1],
              "editor-12": keys.create(Role.EDITOR, townships=HOMES)[1],
              "viewer-12": keys.create(Role.VIEWER, townships=HOMES)[1]}
    with TestClient(create_app(settings, store=store)) as client:
        sessions = {}
        for role, token in tokens.items():
            r = visual_login(client, token)  # through the form, with its token
            assert r.status_code == 303, r.text
            sessions[role] = r.cookies["gs_visual"]
        client.cookies.clear()  # every request sends its own session, or none
        yield Matrix(client, store, bundle, keys, tokens, sessions, County.read(bundle))
    if request.param == "embedded":
        store.close()


# -- the tests --------------------------------------------------------------------------------


def test_every_endpoint_is_in_the_matrix(tmp_path: Path) -> None:
    """Every route the app serves has at least one case, inside T1 and outside where the
    route can be asked about a place; a new endpoint fails here until it is added."""
    app = create_app(Settings(data_dir=tmp_path, neo4j_uri=None))
    routes = {f"{m} {r.path}" for r in iter_route_contexts(app.routes)
              for m in getattr(r.original_route, "methods", None) or () if m != "HEAD"}
    covered = {c.route for c in CASES}
    assert routes - covered == set(), "endpoints missing from the access matrix"
    assert covered - routes == set(), "cases for endpoints the app does not have"
    scoped = {c.route for c in CASES if c.scope in ("out", "county")}
    unscoped = {r for r in routes if all(c.scope in ("-", "own") for c in CASES if c.route == r)}
    assert routes - scoped == unscoped, "every endpoint about a place is asked outside T1 too"


def test_the_search_finds_what_is_there(matrix: Matrix) -> None:
    """The leak search is not blind: the admin's answers do carry T2 ids and real names."""
    outside = matrix.county.outside(HOME)
    assert {"H059", "D2", "M11", "V4", "O6", "C1", "K1"} <= outside
    assert not outside & {"H001", "D1", "M01", "V1", "O4", "T2", "O1", "U1"}
    assert {"李山淑", "15800000001", "双宝村1号"} <= matrix.county.personal
    assert {"林口镇", "小盘道村", "杨强春", "李军秀"} <= matrix.county.outside_names(HOME)
    assert not matrix.county.outside_names(HOME) & {"柳树镇", "双宝村", "陈金兰", "吴凤金"}
    several = matrix.county.outside(HOMES)
    assert {"H061", "M21", "D5", "V5", "O10", "C1", "K1"} <= several
    assert not several & {"H001", "H059", "M18", "D2", "V4", "O6", "T3"}
    assert {"青山乡", "青山村", "钱子墨"} <= matrix.county.outside_names(HOMES)
    admin = {"Authorization": f"Bearer {matrix.tokens['admin']}"}
    body = matrix.client.get(f"{API}/households", headers=admin,
                             params={"township_id": "T2", "as_of": AS_OF}).text
    assert "H059" in leaked_ids(readable(body), outside)
    body = matrix.client.get(f"{API}/households/H001", headers=admin).text
    assert leaked_personal(readable(body), matrix.county.personal) >= {"李山淑", "15800000001"}
    page = matrix.client.get("/visual/household/H052", params={"as_of": AS_OF},
                             headers={"Cookie": f"gs_visual={matrix.sessions['admin']}"}).text
    assert {"H052", "M18", "D4"} <= leaked_ids(readable(page), outside)


@pytest.mark.parametrize("case,role", _params())
def test_access(matrix: Matrix, case: Case, role: str) -> None:
    """The status this role gets, and nothing outside its reach in the body."""
    before = matrix.store.records() if case.writes else None
    r = matrix.send(case, role)
    try:
        want = expected(case, role)
        assert r.status_code == want, (r.status_code, r.text[:500])
        if case.writes and r.status_code >= 300:
            assert matrix.store.records() == before, "a refused write changed the store"
        if case.static:
            return  # the OpenAPI document's examples are fixed text (from the tiny county)
        text = readable(r.text)
        named = case.named()
        if role in SCOPED:
            ids = leaked_ids(text, matrix.county.outside(HOME)) - set(re.findall(r"\w+", named))
            assert not ids, f"ids of another township in the answer: {sorted(ids)}"
            names = leaked_personal(text, matrix.county.outside_names(HOME))
            assert not names, f"names of another township in the answer: {sorted(names)}"
        if role not in PII_ROLES:
            personal = {v for v in leaked_personal(text, matrix.county.personal)
                        if v not in named}
            assert not personal, f"unmasked personal data in the answer: {sorted(personal)}"
    finally:
        if case.writes and r.status_code < 300:
            matrix.reset()


# -- keys limited to several townships ---------------------------------------------------------

R12 = {"editor-12": 200, "viewer-12": 200}
NAME_ONE = {"editor-12": 422, "viewer-12": 422}  # several townships: a list must name one
R12_OUTSIDE = {"editor-12": 403, "viewer-12": 403}
HIDDEN12 = {"editor-12": 404, "viewer-12": 404}
PAGE12 = R12


def write12(ok: int) -> dict[str, int]:
    return {"editor-12": ok, "viewer-12": 403}


def _lists12(path: str, *, village: bool = True) -> list[Case]:
    """A list asked by a T1+T2 key: no township (it must name one), T2, T3, and villages."""
    p = {"as_of": AS_OF}
    route = f"GET {path}"
    cases = [Case(route, "own", NAME_ONE, path, params=p),
             Case(route, "in", R12, path, params={**p, "township_id": "T2"}),
             Case(route, "out", R12_OUTSIDE, path, params={**p, "township_id": "T3"})]
    if village:
        cases += [Case(route, "in", R12, path, params={**p, "village_id": "V3"}),
                  Case(route, "out", R12_OUTSIDE, path, params={**p, "village_id": "V5"})]
    return cases


def several_cases() -> list[Case]:
    """The endpoints about a place, asked by keys for T1 and T2: inside T2, and about T3."""
    a = {"as_of": AS_OF}
    return [
        *_lists12(f"{API}/households"), *_lists12(f"{API}/audit/delegates"),
        *_lists12(f"{API}/audit/members"), *_lists12(f"{API}/audit/committee-members"),
        *_lists12(f"{API}/audit/pairings", village=False),
        *_lists12(f"{API}/summary", village=False), *_lists12(f"{API}/exports/households"),
        *_lists12(f"{API}/risks/people", village=False), *_lists12(f"{API}/trends"),
        *_lists12(f"{API}/requests/overdue"), *_lists12(f"{API}/requests/summary"),
        *_lists12(f"{API}/repair-plans", village=False),
        Case(f"GET {API}/households/{{household_id}}", "in", R12, f"{API}/households/H059",
             params=a),
        Case(f"GET {API}/households/{{household_id}}", "out", HIDDEN12,
             f"{API}/households/H061", params=a),
        Case(f"GET {API}/people/{{person_id}}", "in", R12, f"{API}/people/M18"),
        Case(f"GET {API}/people/{{person_id}}", "out", HIDDEN12, f"{API}/people/M21"),
        Case(f"GET {API}/people/{{person_id}}/impact", "in", R12, f"{API}/people/D2/impact",
             params=a),
        Case(f"GET {API}/people/{{person_id}}/impact", "out", HIDDEN12,
             f"{API}/people/D5/impact", params=a),
        Case(f"GET {API}/requests/open", "in", R12, f"{API}/requests/open",
             params={**a, "person_id": "M18"}),
        Case(f"GET {API}/requests/open", "out", HIDDEN12, f"{API}/requests/open",
             params={**a, "person_id": "M21"}),
        # writes: T2 is theirs as much as T1; T3 and unknown ids are one 403
        Case(f"PATCH {API}/households/{{household_id}}", "in", write12(200),
             f"{API}/households/H059", "PATCH", json={"size": 2}),
        Case(f"PATCH {API}/households/{{household_id}}", "out", R12_OUTSIDE,
             f"{API}/households/H061", "PATCH", json={"size": 2}),
        Case(f"PATCH {API}/households/{{household_id}}", "out", R12_OUTSIDE,
             f"{API}/households/H999", "PATCH", json={"size": 2}),
        Case(f"POST {API}/people/{{person_id}}/deactivate", "in", write12(200),
             f"{API}/people/M18/deactivate", "POST", json={"inactive_since": "2026-07-01"}),
        Case(f"POST {API}/people/{{person_id}}/deactivate", "out", R12_OUTSIDE,
             f"{API}/people/M21/deactivate", "POST", json={"inactive_since": "2026-07-01"}),
        Case(f"POST {API}/households", "in", write12(201), f"{API}/households", "POST",
             json={"id": "HN2", "head_name": "新户", "village_id": "V4"}),
        Case(f"POST {API}/households", "out", R12_OUTSIDE, f"{API}/households", "POST",
             json={"id": "HN3", "head_name": "新户", "village_id": "V5"}),
        Case(f"POST {API}/contacts", "in", write12(201), f"{API}/contacts", "POST",
             json={"person_id": "M18", "household_id": "H059", "date": AS_OF}),
        Case(f"POST {API}/contacts", "out", R12_OUTSIDE, f"{API}/contacts", "POST",
             json={"person_id": "M21", "household_id": "H061", "date": AS_OF}),
        Case(f"POST {API}/liaisons", "in", write12(201), f"{API}/liaisons", "POST",
             json={"kind": "member-household", "from_id": "M18", "to_id": "H001"}),
        Case(f"POST {API}/liaisons", "out", R12_OUTSIDE, f"{API}/liaisons", "POST",
             json={"kind": "member-household", "from_id": "M21", "to_id": "H001"}),
        Case(f"POST {API}/liaisons/end", "out", R12_OUTSIDE, f"{API}/liaisons/end", "POST",
             json={"kind": "delegate-member", "from_id": "D5", "to_id": "M21"}),
        Case(f"POST {API}/pairings", "in", write12(201), f"{API}/pairings", "POST",
             json={"unit_id": "U4", "village_id": "V3"}),
        Case(f"POST {API}/pairings", "out", R12_OUTSIDE, f"{API}/pairings", "POST",
             json={"unit_id": "U4", "village_id": "V5"}),
        Case(f"POST {API}/supports/end", "in", write12(200), f"{API}/supports/end", "POST",
             json={"person_id": "K1", "household_id": "H059"}),
        Case(f"POST {API}/supports/end", "out", R12_OUTSIDE, f"{API}/supports/end", "POST",
             json={"person_id": "K1", "household_id": "H062"}),
        Case(f"POST {API}/repair-plans/apply", "out", R12_OUTSIDE,
             f"{API}/repair-plans/apply", "POST", json={"since": "2026-07-01", "items": [
                 {"kind": "member-household", "from_id": "M22", "to_id": "H061"}]}),
        Case(f"POST {API}/imports", "in", R12_OUTSIDE, f"{API}/imports", "POST",
             upload=("contacts.csv", CONTACTS_T2)),
        # the diagram pages
        Case("GET /visual/{view}/{rid}", "in", PAGE12, "/visual/household/H059", params=a),
        Case("GET /visual/{view}/{rid}", "out", HIDDEN12, "/visual/household/H061", params=a),
        Case("GET /visual/{view}/{rid}", "in", PAGE12, "/visual/township/T2", params=a),
        Case("GET /visual/{view}/{rid}", "out", HIDDEN12, "/visual/township/T3", params=a),
        Case("GET /visual/trends", "in", PAGE12, "/visual/trends", params={"township_id": "T2"}),
        Case("GET /visual/trends", "out", HIDDEN12, "/visual/trends",
             params={"township_id": "T3"}),
    ]


SEVERAL = several_cases()


@pytest.mark.parametrize("case,role", [
    pytest.param(c, r, id=f"{c.id}-{r}", marks=[pytest.mark.xfail(strict=True, reason=c.leaks[r])]
                 if r in c.leaks else []) for c in SEVERAL for r in SEVERAL_ROLES])
def test_access_of_keys_for_several_townships(matrix: Matrix, case: Case, role: str) -> None:
    """Keys for T1 and T2: what they get inside T2, and nothing of T3 (nor of the county's
    people) in any answer; personal data masked."""
    before = matrix.store.records() if case.writes else None
    r = matrix.send(case, role)
    try:
        assert r.status_code == case.expect[role], (r.status_code, r.text[:500])
        if case.writes and r.status_code >= 300:
            assert matrix.store.records() == before, "a refused write changed the store"
        text = readable(r.text)
        named = set(re.findall(r"\w+", case.named()))
        ids = leaked_ids(text, matrix.county.outside(HOMES)) - named
        assert not ids, f"ids of another township in the answer: {sorted(ids)}"
        names = leaked_personal(text, matrix.county.outside_names(HOMES))
        assert not names, f"names of another township in the answer: {sorted(names)}"
        personal = {v for v in leaked_personal(text, matrix.county.personal)
                    if v not in case.named()}
        assert not personal, f"unmasked personal data in the answer: {sorted(personal)}"
    finally:
        if case.writes and r.status_code < 300:
            matrix.reset()


# -- links that cross townships ---------------------------------------------------------------

CROSSING = [  # links from a T2 person down to T1: legal, and the chain a T1 key reads
    {"kind": "member-household", "from_id": "M18", "to_id": "H060"},  # a T2 member, T1 household
    {"kind": "delegate-member", "from_id": "D1", "to_id": "M19"},  # a T1 delegate, T2 member
    {"kind": "delegate-member", "from_id": "D2", "to_id": "M02"},  # a T2 delegate, T1 member
]
CROSSING_READS = [
    f"{API}/households",  # member_ids: M18 in H060's row
    f"{API}/households/H060",  # chains: M18 and his delegate D4
    f"{API}/exports/households",  # member_ids: M18 in H060's row
    f"{API}/exports/households?format=csv",
    f"{API}/audit/delegates",  # member_ids: M19 in D1's row
    f"{API}/audit/members",  # delegate_ids: D2 in M02's row
    f"{API}/households/H004",  # chains: M02's delegate D2
    f"{API}/audit/committee-members", f"{API}/summary", f"{API}/people/M02/impact",
    f"{API}/risks/people", f"{API}/repair-plans", f"{API}/requests/overdue",
    f"{API}/requests/summary", f"{API}/trends", "/visual/trends",
    "/visual/household/H060", "/visual/household/H004",
    "/visual/delegate/D1", "/visual/township/T1",
]


@pytest.mark.parametrize("url", CROSSING_READS)
def test_links_across_townships_name_no_one_outside(matrix: Matrix, url: str) -> None:
    """A T1 household served by a T2 member, a T1 delegate with a T2 member: what a T1 viewer
    reads names neither the T2 people nor anything else of T2."""
    admin = {"Authorization": f"Bearer {matrix.tokens['admin']}"}
    try:
        for link in CROSSING:
            r = matrix.client.post(f"{API}/liaisons", headers=admin,
                                   json={**link, "since": "2026-01-01"})
            assert r.status_code == 201, r.text
        if url.startswith("/visual"):
            headers = {"Cookie": f"gs_visual={matrix.sessions['viewer']}"}
        else:
            headers = {"Authorization": f"Bearer {matrix.tokens['viewer']}"}
        r = matrix.client.get(url, headers=headers, params={"as_of": AS_OF})
        assert r.status_code == 200, r.text[:500]
        text = readable(r.text)
        assert not leaked_ids(text, matrix.county.outside(HOME))
        assert not leaked_personal(text, matrix.county.outside_names(HOME))
        assert not leaked_personal(text, matrix.county.personal)
    finally:
        matrix.reset()


def test_a_pii_key_sees_its_households_unmasked_and_no_more(matrix: Matrix) -> None:
    """--pii shows a township's own households' names as stored; the scope stays the same."""
    _, token = matrix.keys.create(Role.VIEWER, townships=[HOME], pii=True)
    headers = {"Authorization": f"Bearer {token}"}
    body = matrix.client.get(f"{API}/households/H001", headers=headers,
                             params={"as_of": AS_OF}).json()
    assert (body["head_name"], body["phone"], body["address"]) == \
        ("李山淑", "15800000001", "双宝村1号")
    assert matrix.client.get(f"{API}/households/H059", headers=headers).status_code == 404
    r = matrix.client.get(f"{API}/households", headers=headers, params={"township_id": "T2"})
    assert r.status_code == 403

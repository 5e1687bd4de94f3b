"""Load test: many concurrent clerks and readers against a real ``graphsvc serve``.

N clients (default 50) run in one asyncio process for a duration (default 60 s), each sending
its next request as soon as the last one is answered. 80% are reads (household lists with
filters and pages, one household, the audits, the summary), 20% writes (record a contact,
change a person's or household's phone, add a member-household liaison). Afterwards it prints
throughput, p50/p95/p99 latency per kind and the error count (any answer but the expected
2xx, or an expected 409, is an error), then checks that nothing acknowledged was lost:

* every acknowledged contact, liaison and change is read back through the API;
* the summary's contact count grew by exactly the number of contacts acknowledged;
* with a store of its own (not ``--url``), the store itself is opened after the server stops:
  every acknowledged write is in it, and contacts and liaisons before plus the acknowledged new
  ones equal those after, while people and households stay as many as before.

Exit code 0 when there was no error and everything adds up, 1 otherwise.

Against a store of its own (it makes the key and starts the server on loopback):

    python benchmarks/load_test.py --counties 10                # embedded store, 10 counties
    eval "$(scripts/dev-neo4j start)"; python benchmarks/load_test.py --counties 10   # Neo4j
    python benchmarks/load_test.py --bundle ../shared/examples/tiny-county --clients 10 --duration 8

Against a running server (no other writers while it runs, or the counts will not add up):

    python benchmarks/load_test.py --url http://127.0.0.1:8000 --key gs_...

The store is Neo4j when ``GRAPHSVC_NEO4J_URI`` is set, else the embedded store in
``--data-dir`` (a new temporary folder by default); keys always live in the data dir.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT.parent / "shared" / "examples" / "tiny-county"

READS = {"households.list": 30, "households.get": 25, "audit": 15, "summary": 10}
WRITES = {"contacts.create": 10, "people.patch": 3, "households.patch": 3, "liaisons.create": 4}
EXPECTED = {"contacts.create": {201}, "liaisons.create": {200, 201}}  # others: 200
CONFLICT = 409  # an expected answer to a write that clashes (optimistic concurrency)
# household lists and audits of the whole county, or of one township (or village)
LIST_SHAPES = {"county": ("all", "status", "focus"),
               "local": ("township", "township+status", "township+focus", "village")}
AUDITS = {"county": ("delegates", "committee-members"),
          "local": ("delegates", "members", "pairings")}


# -- running graphsvc ----------------------------------------------------------------------------


def package_parent() -> str:
    """The folder holding the graphsvc package this process imports (the server uses the same)."""
    try:
        import graphsvc
    except ImportError:
        return str(ROOT)
    return str(Path(graphsvc.__file__).resolve().parents[1])


def graphsvc_env(extra: dict[str, str] | None = None, *,
                 inherit_store: bool = True) -> dict[str, str]:
    """The environment for graphsvc subprocesses: ours (without GRAPHSVC_* unless
    ``inherit_store``), plus ``extra``, with graphsvc importable as in this process."""
    env = {k: v for k, v in os.environ.items() if inherit_store or not k.startswith("GRAPHSVC_")}
    env.update(extra or {})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent(), env.get("PYTHONPATH")) if p)
    return env


def graphsvc(args: list[str], env: dict[str, str], *, cwd: Path | None = None,
             check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, "-m", "graphsvc", *args], env=env, cwd=cwd,
                       capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                       check=False)
    if check and r.returncode != 0:
        raise RuntimeError(f"graphsvc {' '.join(args)} exited with {r.returncode}:\n"
                           f"{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    return r


def make_key(env: dict[str, str], *, role: str = "admin", name: str = "load test",
             cwd: Path | None = None) -> str:
    r = graphsvc(["keys", "create", "--role", role, "--name", name], env, cwd=cwd)
    return r.stdout.strip().splitlines()[-1].strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    log: Path
    proc: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text("utf-8", errors="replace")


@contextmanager
def serving(env: dict[str, str], log: Path, *, workers: int = 1, timeout: float = 300,
            log_level: str = "warning", cwd: Path | None = None) -> Iterator[Server]:
    """Run ``graphsvc serve`` on a free loopback port until it answers /health (any status);
    stop it (SIGTERM, then SIGKILL) when done."""
    port = free_port()
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graphsvc", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--log-level", log_level],
            env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server(f"http://127.0.0.1:{port}", log, proc)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"graphsvc serve exited with {proc.returncode}:\n"
                                   f"{server.log_text()[-4000:]}")
            try:
                httpx.get(f"{server.url}/health", timeout=30)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"graphsvc serve did not answer in {timeout:.0f} s:\n"
                                       f"{server.log_text()[-4000:]}") from None
                time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


# -- what the clients work on --------------------------------------------------------------------


@dataclass
class Target:
    """Households (id, village, township, members) and people the clients read and change."""

    households: list[dict[str, Any]]
    townships: list[str]
    villages: list[str]
    members_by_village: dict[str, list[str]]
    total_households: int

    @property
    def members(self) -> list[str]:
        return sorted({m for ms in self.members_by_village.values() for m in ms})


async def discover(client: httpx.AsyncClient, as_of: str, sample: int,
                   rng: random.Random) -> Target:
    """Pages of the household list, at random offsets, until ``sample`` households are known."""
    first = await client.get("/api/v1/households", params={"as_of": as_of, "limit": 1000})
    first.raise_for_status()
    body = first.json()
    total = body["total"]
    items = {i["household_id"]: i for i in body["items"]}
    pages = list(range(1000, total, 1000))
    rng.shuffle(pages)
    for offset in pages:
        if len(items) >= sample:
            break
        r = await client.get("/api/v1/households",
                             params={"as_of": as_of, "limit": 1000, "offset": offset})
        r.raise_for_status()
        items.update((i["household_id"], i) for i in r.json()["items"])
    households = sorted(items.values(), key=lambda i: i["household_id"])[:max(sample, 1)]
    members: dict[str, set[str]] = defaultdict(set)
    for h in households:
        members[h["village_id"]].update(h.get("member_ids") or [])
    if not households or not any(members.values()):
        raise RuntimeError("the store holds no active household with a member: import a bundle")
    return Target(
        households=households,
        townships=sorted({h["township_id"] for h in households if h.get("township_id")}),
        villages=sorted({h["village_id"] for h in households}),
        members_by_village={v: sorted(ms) for v, ms in members.items() if ms},
        total_households=total,
    )


# -- the load ------------------------------------------------------------------------------------


@dataclass
class Acks:
    """What the server acknowledged: these must all be in the store afterwards."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> last fields set
    households: dict[str, dict[str, Any]] = field(default_factory=dict)
    liaisons: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (from, to)
    new_liaisons: int = 0
    # writes sent whose outcome is not known (no answer in time, or a 5xx): each may or may
    # not be in the store, so the checks allow either; the run has failed anyway (errors)
    unknown: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # kind, url, body

    def maybe(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [(url, body) for k, url, body in self.unknown if k == kind]


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0
    started: float = 0.0
    elapsed: float = 0.0

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())


class Client:
    """One simulated user: its own random stream, and its own share of what it may change
    (so that no two clients change the same record, and every last acknowledged value is
    known)."""

    def __init__(self, n: int, clients: int, target: Target, http: httpx.AsyncClient,
                 results: Results, acks: Acks, run: str, today: str, seed: int,
                 write_share: float = 0.2, county_share: float = 0.25) -> None:
        self.n, self.http, self.results, self.acks = n, http, results, acks
        self.t = target
        self.run, self.today = run, today
        self.rng = random.Random(seed * 1000 + n)
        self.my_households = target.households[n::clients]
        self.my_members = target.members[n::clients]
        self.seq = 0
        self.county_share = county_share if target.townships else 1.0
        self.kinds = list(READS) + list(WRITES)
        r, w = sum(READS.values()), sum(WRITES.values())
        self.weights = ([x / r * (1 - write_share) for x in READS.values()]
                        + [x / w * write_share for x in WRITES.values()])

    async def run_until(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            kind = self.rng.choices(self.kinds, self.weights)[0]
            await getattr(self, kind.replace(".", "_"))(kind)

    async def _call(self, kind: str, method: str, url: str, *, write: bool = False,
                    **kw: Any) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = await self.http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.results.latencies[kind].append(time.perf_counter() - t0)
            self.results.errors.append(f"{kind} {method} {url}: {type(exc).__name__}: {exc}")
            if write:
                self.acks.unknown.append((kind, url, kw.get("json") or {}))
            return None
        self.results.latencies[kind].append(time.perf_counter() - t0)
        self.results.statuses[(kind, r.status_code)] += 1
        if r.status_code in EXPECTED.get(kind, {200}):
            return r
        if write and r.status_code == CONFLICT:
            self.results.conflicts += 1
            return None
        self.results.errors.append(f"{kind} {method} {url} -> {r.status_code}: {r.text[:300]}")
        if write and r.status_code >= 500:
            self.acks.unknown.append((kind, url, kw.get("json") or {}))
        return None

    def _household(self) -> dict[str, Any]:
        return self.rng.choice(self.t.households)

    # reads
    # reads: each list, audit and summary is of the whole county with the chance
    # county_share, else of one township or village (as the keys of township clerks see them)
    def _county(self) -> bool:
        return self.rng.random() < self.county_share

    async def households_list(self, kind: str, shape: str | None = None) -> None:
        params: dict[str, Any] = {"as_of": self.today, "limit": self.rng.choice((20, 50, 100))}
        if shape is None:
            shape = self.rng.choice(LIST_SHAPES["county" if self._county() else "local"])
        if shape.startswith("township"):
            params["township_id"] = self.rng.choice(self.t.townships)
        if shape.endswith("status"):
            params["status"] = self.rng.choice(("covered", "stale", "uncovered"))
        if shape.endswith("focus"):
            params["focus_only"] = "true"
        if shape == "village":
            params["village_id"] = self._household()["village_id"]
        params["offset"] = params["limit"] * self.rng.choice((0, 0, 1, 2, 5))
        await self._call(kind, "GET", "/api/v1/households", params=params)

    async def households_get(self, kind: str) -> None:
        h = self._household()["household_id"]
        await self._call(kind, "GET", f"/api/v1/households/{h}", params={"as_of": self.today})

    async def audit(self, kind: str, which: tuple[str, str] | None = None) -> None:
        if which is None:
            scope = "county" if self._county() else "local"
            which = (scope, self.rng.choice(AUDITS[scope]))
        params = {"as_of": self.today}
        if which[0] == "local":
            params["township_id"] = self.rng.choice(self.t.townships)
        await self._call(kind, "GET", f"/api/v1/audit/{which[1]}", params=params)

    async def summary(self, kind: str, county: bool | None = None) -> None:
        params = {"as_of": self.today}
        if not (self._county() if county is None else county):
            params["township_id"] = self.rng.choice(self.t.townships)
        await self._call(kind, "GET", "/api/v1/summary", params=params)

    async def warm_up(self) -> None:
        """Every kind of request (every variant of the lists and audits) once, one at a time:
        the server's first answers (query plans compiled, caches filled) are not measured."""
        scopes = ["local"] + (["county"] if self.county_share > 0 else [])
        for scope in scopes:
            for shape in LIST_SHAPES[scope]:
                await self.households_list("households.list", shape)
            for audit in AUDITS[scope]:
                await self.audit("audit", (scope, audit))
            await self.summary("summary", scope == "county")
        for kind in ("households.get", *WRITES):
            await getattr(self, kind.replace(".", "_"))(kind)

    # writes
    async def contacts_create(self, kind: str) -> None:
        h = self._household()
        people = h.get("member_ids") or self.t.members_by_village.get(h["village_id"]) \
            or self.t.members
        self.seq += 1
        body = {"person_id": self.rng.choice(people), "household_id": h["household_id"],
                "date": self.today, "channel": self.rng.choice(("visit", "phone", "meeting")),
                "request": f"load {self.run} {self.n}-{self.seq}"}
        if await self._call(kind, "POST", "/api/v1/contacts", write=True, json=body):
            self.acks.contacts.append(body)

    async def people_patch(self, kind: str) -> None:
        if not self.my_members:
            return await self.contacts_create("contacts.create")
        pid = self.rng.choice(self.my_members)
        body = {"phone": f"139{self.rng.randrange(10**8):08d}"}
        if await self._call(kind, "PATCH", f"/api/v1/people/{pid}", write=True, json=body):
            self.acks.people[pid] = body

    async def households_patch(self, kind: str) -> None:
        if not self.my_households:
            return await self.contacts_create("contacts.create")
        hid = self.rng.choice(self.my_households)["household_id"]
        body = {"phone": f"158{self.rng.randrange(10**8):08d}", "size": self.rng.randint(1, 8)}
        if await self._call(kind, "PATCH", f"/api/v1/households/{hid}", write=True, json=body):
            self.acks.households[hid] = body

    async def liaisons_create(self, kind: str) -> None:
        # to one of this client's households, from a member of its village who does not yet
        # serve it (the same key is never sent by two clients at once)
        if not self.my_households:
            return await self.contacts_create("contacts.create")
        h = self.rng.choice(self.my_households)
        serving_it = set(h.get("member_ids") or [])
        candidates = [m for m in self.t.members_by_village.get(h["village_id"], [])
                      if m not in serving_it]
        if not candidates:
            return await self.contacts_create("contacts.create")
        m = self.rng.choice(candidates)
        # (until given, empty: a liaison of the two that ended before is taken up again)
        body = {"kind": "member-household", "from_id": m, "to_id": h["household_id"],
                "since": self.today, "until": None}
        r = await self._call(kind, "POST", "/api/v1/liaisons", write=True, json=body)
        if r is not None:
            key = (m, h["household_id"])
            if r.status_code == 201 and key not in self.acks.liaisons:
                self.acks.new_liaisons += 1
            elif r.status_code == 201:  # a second 201 for a key acknowledged already
                self.results.errors.append(f"liaison {key} created twice (201 after 201)")
            self.acks.liaisons[key] = body


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))]


async def progress(results: Results, duration: float, stop: asyncio.Event) -> None:
    tty = sys.stderr.isatty()
    every = 1.0 if tty else 5.0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass
        el = time.monotonic() - results.started
        n = results.count
        writes = sum(len(results.latencies[k]) for k in WRITES)
        line = (f"{min(el, duration):5.1f}/{duration:.0f} s  {n:7d} requests  "
                f"{n / max(el, 1e-9):7.1f}/s  writes {writes:6d}  errors {len(results.errors)}")
        if el > duration:
            line += f"  (time is up; waiting {el - duration:.0f} s for answers in flight)"
        print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
    if tty:
        print(file=sys.stderr)


async def load(url: str, key: str, *, clients: int, duration: float, seed: int, sample: int,
               timeout: float, as_of: str | None = None,
               warmup: bool = True, write_share: float = 0.2, county_share: float = 0.25,
               workers: int = 1) -> tuple[Results, Acks, Target, dict]:
    rng = random.Random(seed)
    today = as_of or dt.date.today().isoformat()
    run = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"},
                                 timeout=timeout, limits=limits) as http:
        target = await discover(http, today, sample, rng)
        before = (await http.get("/api/v1/summary",
                                 params={"as_of": today})).raise_for_status().json()
        results, acks, warm = Results(), Acks(), Results()
        users = [Client(i, clients, target, http, results, acks, run, today, seed, write_share,
                        county_share) for i in range(clients)]
        if warmup:
            # every worker process warmed, not only the one the first connection reaches: with
            # several, as many warm-up clients at once as 4 per worker, each on a connection
            # of its own (which process accepts a connection is the kernel's choice)
            t0 = time.monotonic()
            n = 1 if workers <= 1 else 4 * workers
            async with contextlib.AsyncExitStack() as stack:
                conns = [http] if n == 1 else [
                    await stack.enter_async_context(httpx.AsyncClient(
                        base_url=url, headers={"Authorization": f"Bearer {key}"},
                        timeout=timeout)) for _ in range(n)]
                firsts = []
                for i, conn in enumerate(conns):
                    first = Client(i, clients, target, conn, warm, acks, run, today,
                                   seed + 1 + i, write_share, county_share)
                    first.seq = 10**6 * (i + 1)  # its contacts' texts differ from the others'
                    firsts.append(first.warm_up())
                await asyncio.gather(*firsts)
            print(f"warmed up: {warm.count} requests in {time.monotonic() - t0:.1f} s",
                  file=sys.stderr)
            results.errors.extend(f"(warm-up) {e}" for e in warm.errors)
            results.conflicts += warm.conflicts
        stop = asyncio.Event()
        results.started = time.monotonic()
        deadline = results.started + duration
        ticker = asyncio.create_task(progress(results, duration, stop))
        try:
            await asyncio.gather(*(u.run_until(deadline) for u in users))
        finally:
            results.elapsed = time.monotonic() - results.started
            stop.set()
            await ticker
        checks = await check_http(http, today, before, acks)
    checks["run"] = run
    checks["warmup_requests"] = dict(Counter({k: len(v) for k, v in warm.latencies.items()}))
    return results, acks, target, checks


# -- nothing lost --------------------------------------------------------------------------------


async def check_http(http: httpx.AsyncClient, today: str, before: dict[str, Any],
                     acks: Acks) -> dict[str, Any]:
    """Read every acknowledged write back through the API; compare the summary's counts."""
    problems: list[str] = []
    sem = asyncio.Semaphore(16)

    async def get(url: str, **params: Any) -> dict[str, Any] | None:
        async with sem:
            for attempt in range(3):
                try:
                    r = await http.get(url, params={"as_of": today, **params})
                    break
                except httpx.HTTPError as exc:
                    if attempt == 2:
                        problems.append(f"reading back {url}: {type(exc).__name__}: {exc}")
                        return None
        if r.status_code != 200:
            problems.append(f"reading back {url}: {r.status_code} {r.text[:200]}")
            return None
        return r.json()

    after = await get("/api/v1/summary")
    if after is not None:
        want = before["contacts"] + len(acks.contacts)
        maybe = len(acks.maybe("contacts.create"))
        if not want <= after["contacts"] <= want + maybe:
            problems.append(f"the summary counts {after['contacts']} contacts; "
                            f"{before['contacts']} before + {len(acks.contacts)} acknowledged = "
                            f"{want}"
                            + (f" (+ up to {maybe} of unknown outcome)" if maybe else ""))
        for k in ("people", "households", "townships", "villages"):
            if after.get(k) != before.get(k):
                problems.append(f"summary {k}: {before.get(k)} before, {after.get(k)} after")

    by_household: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in acks.contacts:
        by_household[c["household_id"]].append(c)
    households = sorted(set(by_household) | set(acks.households) | {h for _, h in acks.liaisons})
    details = dict(zip(households, await asyncio.gather(
        *(get(f"/api/v1/households/{h}") for h in households))))
    contacts_checked = 0
    for h, mine in by_household.items():
        d = details.get(h)
        if d is None:
            continue
        shown = d.get("recent_contacts", [])
        recent = {c.get("request") for c in shown}
        if len(mine) > 10:  # only the 20 most recent are shown; the store check sees them all
            continue
        # 20 shown, none older than the contact: it may be one of those not shown (earlier
        # runs on the same store and day); the store check sees them all
        hidden_from = min((x["date"] for x in shown), default="") if len(shown) >= 20 else ""
        for c in mine:
            if c["request"] not in recent and hidden_from >= c["date"]:
                continue
            contacts_checked += 1
            if c["request"] not in recent:
                problems.append(f"acknowledged contact {c} is not among household {h}'s contacts")
    for h, fields in acks.households.items():
        d = details.get(h)
        if d is not None and not _holds(d, fields, _maybe_fields(acks, "households.patch", h)):
            problems.append(f"household {h}: acknowledged {fields}, reads "
                            f"{ {k: d.get(k) for k in fields} }")
    for m, h in acks.liaisons:
        d = details.get(h)
        if d is not None and m not in (d.get("member_ids") or []):
            problems.append(f"acknowledged liaison {m} -> {h} is not among its members "
                            f"{d.get('member_ids')}")
    people_ids = sorted(acks.people)
    people = dict(zip(people_ids, await asyncio.gather(
        *(get(f"/api/v1/people/{p}") for p in people_ids))))
    for p, fields in acks.people.items():
        rec = people.get(p)
        if rec is not None and not _holds(rec, fields, _maybe_fields(acks, "people.patch", p)):
            problems.append(f"person {p}: acknowledged {fields}, reads "
                            f"{ {k: rec.get(k) for k in fields} }")
    return {"problems": problems, "contacts_before": before["contacts"],
            "contacts_after": after and after["contacts"], "contacts_read_back": contacts_checked,
            "households_read_back": len(households), "people_read_back": len(acks.people)}


def _maybe_fields(acks: Acks, kind: str, rid: str) -> list[dict[str, Any]]:
    """The changes of unknown outcome sent for one record."""
    return [body for url, body in acks.maybe(kind) if url.rsplit("/", 1)[-1] == rid]


def _holds(rec: dict[str, Any], acked: dict[str, Any], maybe: list[dict[str, Any]]) -> bool:
    """The record holds the last acknowledged change (or one sent later, of unknown outcome)."""
    return any(all(rec.get(k) == v for k, v in f.items()) for f in (acked, *maybe))


def store_counts(records: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {name: len(rows) for name, rows in records.items()}


def open_store(env: dict[str, str], data_dir: Path):  # type: ignore[no-untyped-def]
    if env.get("GRAPHSVC_NEO4J_URI"):
        from graphsvc.stores.neo4j import Neo4jStore

        return Neo4jStore(env["GRAPHSVC_NEO4J_URI"], env.get("GRAPHSVC_NEO4J_USER"),
                          env.get("GRAPHSVC_NEO4J_PASSWORD"), env.get("GRAPHSVC_NEO4J_DATABASE"))
    from graphsvc.stores.embedded import EmbeddedStore

    return EmbeddedStore(data_dir)


def check_store(records: dict[str, list[dict[str, Any]]], before: dict[str, int], acks: Acks,
                run: str) -> dict[str, Any]:
    """Every acknowledged write is in the store's own records, and the counts add up."""
    problems: list[str] = []
    after = store_counts(records)
    for name, want, maybe in (
            ("contacts", before["contacts"] + len(acks.contacts),
             len(acks.maybe("contacts.create"))),
            ("liaisons", before["liaisons"] + acks.new_liaisons,
             len(acks.maybe("liaisons.create"))),
            ("people", before["people"], 0), ("households", before["households"], 0)):
        if not want <= after[name] <= want + maybe:
            problems.append(f"the store holds {after[name]} {name}; expected {want} "
                            f"({before[name]} before the run"
                            + (f"; or up to {maybe} more of unknown outcome)" if maybe else ")"))

    def ckey(c: dict[str, Any]) -> tuple[str, ...]:
        day = c["date"] if isinstance(c["date"], str) else c["date"].isoformat()
        return (c["person_id"], c["household_id"], day, c["channel"], c["request"])

    stored_contacts = {ckey(c) for c in records["contacts"]
                       if (c.get("request") or "").startswith(f"load {run} ")}
    for c in acks.contacts:
        if ckey(c) not in stored_contacts:
            problems.append(f"acknowledged contact {c} is not in the store")
    sent = {ckey(c) for c in acks.contacts} | {ckey(b) for _, b in acks.maybe("contacts.create")}
    if stored_contacts - sent:  # a contact of this run that was refused, or never sent
        problems.append(f"the store holds {len(stored_contacts - sent)} contacts of this run "
                        f"that were not acknowledged: {sorted(stored_contacts - sent)[:3]}")
    liaisons = {(r["from_id"], r["to_id"]): r for r in records["liaisons"]
                if r["kind"] == "member-household"}
    for key, body in acks.liaisons.items():
        r = liaisons.get(key)
        if r is None or r["since"].isoformat() != body["since"] or r["until"] is not None:
            problems.append(f"acknowledged liaison {body} is stored as {r}")
    for name, acked in (("people", acks.people), ("households", acks.households)):
        recs = {r["id"]: r for r in records[name]}
        for rid, fields in acked.items():
            rec = recs.get(rid)
            kind = "people.patch" if name == "people" else "households.patch"
            if rec is None or not _holds(rec, fields, _maybe_fields(acks, kind, rid)):
                problems.append(f"{name} {rid}: acknowledged {fields}, stored "
                                f"{ {k: (rec or {}).get(k) for k in fields} }")
    return {"problems": problems, "before": before, "after": after}


# -- the report ----------------------------------------------------------------------------------


def summarize(results: Results, acks: Acks, target: Target, checks: dict[str, Any],
              store_check: dict[str, Any] | None, meta: dict[str, Any]) -> dict[str, Any]:
    kinds = {}
    for kind in list(READS) + list(WRITES):
        lat = results.latencies.get(kind, [])
        if not lat:
            continue
        kinds[kind] = {"requests": len(lat), "per_s": len(lat) / results.elapsed,
                       "p50_ms": percentile(lat, 50) * 1000, "p95_ms": percentile(lat, 95) * 1000,
                       "p99_ms": percentile(lat, 99) * 1000, "max_ms": max(lat) * 1000}
    every = [x for v in results.latencies.values() for x in v]
    reads = [x for k in READS for x in results.latencies.get(k, [])]
    writes = [x for k in WRITES for x in results.latencies.get(k, [])]

    def agg(lat: list[float]) -> dict[str, float]:
        return {"requests": len(lat), "per_s": len(lat) / results.elapsed,
                "p50_ms": percentile(lat, 50) * 1000, "p95_ms": percentile(lat, 95) * 1000,
                "p99_ms": percentile(lat, 99) * 1000}

    problems = list(checks["problems"]) + list((store_check or {}).get("problems", []))
    return {
        **meta,
        "elapsed_s": results.elapsed,
        "requests": len(every),
        "throughput_per_s": len(every) / results.elapsed,
        "all": agg(every), "reads": agg(reads), "writes": agg(writes),
        "kinds": kinds,
        "warmup_requests": checks.get("warmup_requests", {}),
        "statuses": {f"{k} {s}": n for (k, s), n in sorted(results.statuses.items())},
        "errors": len(results.errors),
        "error_samples": results.errors[:20],
        "conflicts_409": results.conflicts,
        "writes_of_unknown_outcome": len(acks.unknown),
        "acknowledged": {"contacts": len(acks.contacts), "liaisons": len(acks.liaisons),
                         "new_liaisons": acks.new_liaisons, "people_changed": len(acks.people),
                         "households_changed": len(acks.households)},
        "households_in_store": target.total_households,
        "households_sampled": len(target.households),
        "http_check": checks,
        "store_check": store_check,
        "consistent": not problems,
        "problems": problems[:50],
        "ok": not results.errors and not problems,
    }


def full_computations(path: Path, since: int) -> dict[str, Any]:
    """The server's full county computations during the run, every worker's
    (``graphsvc.derived`` appends a line per computation to ``derived/computations.jsonl``)."""
    lines: list[dict[str, Any]] = []
    loads: list[dict[str, Any]] = []
    if path.is_file():
        with path.open("rb") as fh:
            fh.seek(since)
            every = [json.loads(x) for x in fh.read().decode("utf-8").splitlines() if x.strip()]
        lines = [x for x in every if x.get("event", "computed") == "computed"]
        loads = [x for x in every if x.get("event") == "loaded"]
    per: Counter[str] = Counter(f"{x['kind']}@{x['date']}" for x in lines)
    return {"total": len(lines), "per_kind_and_date": dict(sorted(per.items())),
            "dates": sorted({x["date"] for x in lines}),
            "processes": len({x["pid"] for x in lines}),
            "loads": len(loads), "load_seconds_max": max((x["seconds"] for x in loads), default=0),
            "seconds": {k: round(sum(x["seconds"] for x in lines
                                     if f"{x['kind']}@{x['date']}" == k), 1) for k in per}}


def print_report(rep: dict[str, Any]) -> None:
    p = print
    p(f"\nload: {rep['clients']} clients for {rep['elapsed_s']:.1f} s against {rep['target']}")
    p(f"  mix: {1 - rep['write_share']:.0%} reads ({rep['county_share']:.0%} of the lists, audits "
      f"and summaries county-wide), {rep['write_share']:.0%} writes")
    p(f"  {rep['requests']} requests, {rep['throughput_per_s']:.1f}/s "
      f"(reads {rep['reads']['per_s']:.1f}/s, writes {rep['writes']['per_s']:.1f}/s)")
    p(f"  {'kind':<18}{'requests':>9}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
      f"{'max ms':>9}")
    for kind, k in rep["kinds"].items():
        p(f"  {kind:<18}{k['requests']:>9}{k['per_s']:>8.1f}{k['p50_ms']:>9.0f}{k['p95_ms']:>9.0f}"
          f"{k['p99_ms']:>9.0f}{k['max_ms']:>9.0f}")
    for name in ("reads", "writes", "all"):
        k = rep[name]
        p(f"  {name:<18}{k['requests']:>9}{k['per_s']:>8.1f}{k['p50_ms']:>9.0f}{k['p95_ms']:>9.0f}"
          f"{k['p99_ms']:>9.0f}")
    p(f"  errors: {rep['errors']}   expected 409 conflicts: {rep['conflicts_409']}   "
      f"writes of unknown outcome (no answer in time, or 5xx): {rep['writes_of_unknown_outcome']}")
    for e in rep["error_samples"]:
        p(f"    {e}")
    a = rep["acknowledged"]
    p(f"  acknowledged writes: {a['contacts']} contacts, {a['liaisons']} liaisons "
      f"({a['new_liaisons']} new), {a['people_changed']} people and "
      f"{a['households_changed']} households changed")
    h = rep["http_check"]
    p(f"  read back through the API: summary contacts {h['contacts_before']} -> "
      f"{h['contacts_after']}, {h['contacts_read_back']} contacts, {h['households_read_back']} "
      f"households, {h['people_read_back']} people")
    if rep["store_check"]:
        s = rep["store_check"]
        p("  the store itself: " + ", ".join(f"{n} {s['before'][n]} -> {s['after'][n]}"
                                              for n in ("contacts", "liaisons", "people",
                                                        "households")))
    c = rep.get("computations")
    if c is not None:
        p(f"  full county computations (every worker): {c['total']} on {len(c['dates'])} "
          f"date(s), in {c['processes']} process(es): "
          + (", ".join(f"{k} x{n} ({c['seconds'][k]} s)"
                       for k, n in c["per_kind_and_date"].items()) or "none")
          + f"; loaded by other workers {c['loads']} time(s), at most {c['load_seconds_max']} s")
    held = "every acknowledged write is in the store; counts add up"
    p(f"  consistency: {held if rep['consistent'] else 'FAILED'}")
    for prob in rep["problems"]:
        p(f"    {prob}")
    p("OK" if rep["ok"] else "FAILED")


# -- the command ---------------------------------------------------------------------------------


def prepare_store(args: argparse.Namespace, env: dict[str, str], work: Path) -> str:
    """Generate and import the bundle asked for; returns a description of the target."""
    if args.bundle:
        bundle = Path(args.bundle)
        what = f"the bundle {bundle}"
    else:
        bundle = work / f"bundle-c{args.counties}-s{args.seed}"
        if not (bundle / "households.csv").is_file():
            t0 = time.monotonic()
            graphsvc(["generate", str(bundle), "--counties", str(args.counties),
                      "--seed", str(args.seed)], env)
            print(f"generated {args.counties} counties in {time.monotonic() - t0:.1f} s",
                  file=sys.stderr)
        what = f"{args.counties} generated count{'y' if args.counties == 1 else 'ies'}"
    if not args.no_import:
        t0 = time.monotonic()
        graphsvc(["import", str(bundle), *(["--replace"] if args.replace else [])], env)
        print(f"imported {bundle} in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return what


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients [50]")
    ap.add_argument("--duration", type=float, default=60, help="seconds of load [60]")
    ap.add_argument("--url", help="a running server (then --key); else one is started here")
    ap.add_argument("--key", help="an admin API key of the server at --url")
    ap.add_argument("--counties", type=int, default=10, help="generate and import N counties [10]")
    ap.add_argument("--bundle", help="import this bundle instead of generating one")
    ap.add_argument("--no-import", action="store_true", help="use the store as it is")
    ap.add_argument("--replace", action="store_true",
                    help="import with --replace: the store becomes exactly the bundle")
    ap.add_argument("--data-dir", help="the embedded store and the keys (default: a new temporary "
                    "folder, deleted afterwards)")
    ap.add_argument("--work-dir", help="where generated bundles are kept (default: the data dir)")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes [1]")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample", type=int, default=5000,
                    help="households the clients work on, read from the list first [5000]")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per request [120]")
    ap.add_argument("--write-share", type=float, default=0.2,
                    help="share of writes among the requests [0.2]")
    ap.add_argument("--county-share", type=float, default=0.25,
                    help="share of the lists, audits and summaries that cover the whole county "
                    "(the others cover one township or village) [0.25]")
    ap.add_argument("--no-warmup", action="store_true", help="measure from the first request "
                    "(by default every kind of request is sent once, unmeasured, first)")
    ap.add_argument("--json", help="also write the report as JSON to this file")
    args = ap.parse_args(argv)
    if bool(args.url) != bool(args.key):
        ap.error("--url and --key go together")

    meta: dict[str, Any] = {"clients": args.clients, "duration_s": args.duration,
                            "write_share": args.write_share, "county_share": args.county_share}
    if args.url:
        meta["target"] = args.url
        results, acks, target, checks = asyncio.run(load(
            args.url, args.key, clients=args.clients, duration=args.duration, seed=args.seed,
            sample=args.sample, timeout=args.timeout, warmup=not args.no_warmup,
            write_share=args.write_share,
            county_share=args.county_share))
        rep = summarize(results, acks, target, checks, None, meta)
    else:
        tmp = None
        if args.data_dir:
            data = Path(args.data_dir)
        else:
            tmp = Path(tempfile.mkdtemp(prefix="graphsvc-load-"))
            data = tmp / "data"
        data.mkdir(parents=True, exist_ok=True)
        work = Path(args.work_dir) if args.work_dir else data
        work.mkdir(parents=True, exist_ok=True)
        env = graphsvc_env({"GRAPHSVC_DATA_DIR": str(data)})
        kind = "neo4j" if env.get("GRAPHSVC_NEO4J_URI") else "embedded"
        try:
            what = prepare_store(args, env, work)
            meta.update(store=kind, target=f"{what} on the {kind} store"
                        + (f" ({env['GRAPHSVC_NEO4J_URI']})" if kind == "neo4j" else f" ({data})"))
            with open_store(env, data) as store:
                before = store_counts(store.records())
            key = make_key(env)
            computations = data / "derived" / "computations.jsonl"
            since = computations.stat().st_size if computations.is_file() else 0
            with serving(env, work / "serve.log", workers=args.workers) as server:
                results, acks, target, checks = asyncio.run(load(
                    server.url, key, clients=args.clients, duration=args.duration,
                    seed=args.seed, sample=args.sample, timeout=args.timeout,
                    warmup=not args.no_warmup, write_share=args.write_share,
                    county_share=args.county_share, workers=args.workers))
            log = server.log_text()
            if "Traceback" in log:
                checks["problems"].append(f"the server logged a traceback (see {server.log}):\n"
                                          + log[log.index("Traceback"):][:3000])
            with open_store(env, data) as store:
                store_check = check_store(store.records(), before, acks, checks["run"])
            rep = summarize(results, acks, target, checks, store_check, meta)
            rep["computations"] = full_computations(computations, since)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
    print_report(rep)
    if args.json:
        Path(args.json).write_text(json.dumps(rep, indent=1, default=str), encoding="utf-8")
    return 0 if rep["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

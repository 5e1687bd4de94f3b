"""Long stateful fuzzing: schemathesis against a real ``graphsvc serve``, on either store.

tests/test_fuzz.py fuzzes the app in-process, operation by operation, for a bounded number of
requests. This script is the long form the security review asks for (issue 11): for
``--minutes`` (default 20) schemathesis sends generated requests, valid and invalid, to a real
``graphsvc serve`` subprocess on a free loopback port, in every phase — the documented examples,
the boundary cases (coverage), fuzzing, and stateful sequences that follow the links between
operations (an id one answer returns is sent to the next operation, e.g. POST /households →
PATCH /households/{id} → POST /households/{id}/deactivate), repeating fuzzing and stateful
sequences until the time is spent.

It makes a temporary data dir, imports the county (``--bundle``, default the tiny county of
../shared/examples/tiny-county; a ``graphsvc generate`` county has 13,787 members, so each
request on it is slower and far fewer are sent in the same time) with ``--replace``, and makes
three keys: an admin, and an editor and a viewer limited to one township (``--township``, default
the bundle's first). Each request goes out with one of the three keys, drawn at random (admin 1/2,
editor 3/10, viewer 1/5), so a sequence can create a household with the admin key and read or
change it with a key limited to another township. Half of the generated POST /households and
POST /people get a fresh id (``-fN`` appended), so that creates succeed and the sequences from a
new record run.

Every answer is checked: no 5xx, a status code and a content type the OpenAPI document lists
for the operation, response headers and a body that match the document's schema for that
status. Afterwards it prints the requests sent per operation (by key and status class), the
stateful sequences run, and every failure grouped by check and operation with a curl line that
reproduces it (against a server on the same bundle; the key is left as $ADMIN_KEY, $EDITOR_KEY or
$VIEWER_KEY). A traceback in the server's log counts as a failure. A request that is not valid
HTTP (schemathesis may generate a header 'content-length: N') is answered by uvicorn itself, 400
'Invalid HTTP request received.' and the connection closed, as RFC 9112 requires, before any
graphsvc code runs: such answers are listed apart, not as failures. Exit code 0 only when there
was no failure. ``--verbose`` shows schemathesis' own progress and report too.

    python benchmarks/fuzz_server.py --minutes 2                      # embedded store
    eval "$(scripts/dev-neo4j start)"
    python benchmarks/fuzz_server.py --store neo4j --minutes 20      # GRAPHSVC_NEO4J_* from the env
    # schemathesis options after --
    python benchmarks/fuzz_server.py --minutes 3 -- --include-path-regex households

``--store neo4j`` REPLACES everything in the database GRAPHSVC_NEO4J_URI names by the bundle:
point it at a throw-away server (scripts/dev-neo4j; without GRAPHSVC_NEO4J_URI one is started,
as the other benchmarks do, and stopped afterwards). ``--seed`` replays a run's generation;
``--keep DIR`` keeps the data dir, the server's log and schemathesis' NDJSON report there.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
TINY = ROOT.parent / "shared" / "examples" / "tiny-county"

# the checks issue 11 names (response_headers_conformance: headers the document declares)
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance")
PHASES = "examples,coverage,fuzzing,stateful"
ROLES = {"admin": 0.5, "editor": 0.3, "viewer": 0.2}  # share of requests sent with each key
KEYS_ENV = "GRAPHSVC_FUZZ_KEYS"  # {role: key} for the auth hook below, in schemathesis' process
SEED_ENV = "GRAPHSVC_FUZZ_SEED"
CREATES = {"/api/v1/households", "/api/v1/people"}  # POST: a record with the body's id
# schemathesis repeats fuzzing (100 requests per operation) and stateful testing (100 sequences
# of up to 6 calls) in turns until the time is spent; with those defaults the sequences got about
# 3% of the requests. More and longer sequences per turn give the links a fair share.
STATEFUL_CONFIG = """\
[phases.stateful]
max-steps = 10

[phases.stateful.generation]
max-examples = 400
"""
UVICORN_NOT_HTTP = b"Invalid HTTP request received."  # uvicorn's 400 body for malformed HTTP


# -- the auth hook: schemathesis imports this module (SCHEMATHESIS_HOOKS) in its own process ------


def _register_keys(keys: dict[str, str], seed: int) -> None:
    """Send each generated request with one of the keys, drawn at random by ROLES' shares."""
    import schemathesis

    rng = random.Random(seed)
    roles = [r for r in ROLES if r in keys]
    weights = [ROLES[r] for r in roles]

    # refresh_interval=None: no caching, so every request draws its key anew
    @schemathesis.auth(refresh_interval=None)
    class RandomKey:
        def get(self, case: Any, ctx: Any) -> str:
            return keys[rng.choices(roles, weights)[0]]

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _register_fresh_ids(seed: int) -> None:
    """Give half of the generated POST /households and POST /people a new id.

    schemathesis draws ids from the document's examples and from earlier answers (H007, H100),
    so nearly every create after the first answered 409 (it exists already) and the sequences
    that start from a new record (create, read, change, deactivate) were hardly ever run."""
    import itertools

    import schemathesis

    rng = random.Random(seed + 1)
    serial = itertools.count(1)

    @schemathesis.hook
    def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
        body = case.body
        if (case.method.upper() == "POST" and case.path in CREATES and isinstance(body, dict)
                and isinstance(body.get("id"), str) and body["id"].strip()
                and body["id"].isprintable() and rng.random() < 0.5):
            case.body = {**body, "id": f"{body['id']}-f{next(serial)}"}


if __name__ != "__main__" and os.environ.get(KEYS_ENV):
    _register_keys(json.loads(os.environ[KEYS_ENV]), int(os.environ.get(SEED_ENV) or 0))
    _register_fresh_ids(int(os.environ.get(SEED_ENV) or 0))


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Failure:
    """One kind of failure: a check that failed on an operation, how often, one example."""

    check: str
    operation: str
    count: int = 0
    title: str = ""
    message: str = ""
    status: int | None = None
    curl: str = ""
    phases: set[str] = field(default_factory=set)


@dataclass
class Summary:
    """What the NDJSON report of one schemathesis run says."""

    requests: Counter[str] = field(default_factory=Counter)  # per operation
    by_role: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_status: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    phases: Counter[str] = field(default_factory=Counter)  # requests per phase
    sequences: int = 0  # stateful scenarios that sent at least one request
    links_followed: int = 0  # requests whose input came from an earlier answer (a link)
    links: set[str] = field(default_factory=set)  # the distinct links followed
    failures: dict[tuple[str, str], Failure] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # schemathesis' own errors (timeouts, ...)
    # requests uvicorn refused as malformed HTTP before graphsvc saw them (per operation)
    not_http: Counter[str] = field(default_factory=Counter)
    not_http_curl: str = ""
    operations: list[str] = field(default_factory=list)  # every operation in the document

    @property
    def failed(self) -> int:
        return sum(f.count for f in self.failures.values())


def _decode(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, dict) and "$base64" in body:
        return base64.b64decode(body["$base64"])
    return str(body).encode()


def curl_line(request: dict[str, Any], roles_by_key: dict[str, str]) -> str:
    """A curl command that sends the recorded request again, the key left as $ROLE_KEY."""
    parts = ["curl", "-sS", "-i", "-X", request["method"], shlex.quote(request["uri"])]
    body = _decode(request.get("body"))
    for name, values in (request.get("headers") or {}).items():
        if name.lower() in {"user-agent", "accept-encoding", "accept", "connection",
                            "x-schemathesis-testcaseid"}:
            continue
        for value in values if isinstance(values, list) else [values]:
            if name.lower() == "content-length" and value == str(len(body or b"")):
                continue  # curl sends the true length itself; a generated wrong one stays
            if name.lower() == "authorization" and value.removeprefix("Bearer ") in roles_by_key:
                role = roles_by_key[value.removeprefix("Bearer ")]
                parts += ["-H", f'"Authorization: Bearer ${role.upper()}_KEY"']
            elif value == "":
                parts += ["-H", shlex.quote(f"{name};")]  # 'Name;' is curl's empty header
            else:
                parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body is None:
        return " ".join(parts)
    try:
        text = body.decode("utf-8")
        if "\x00" not in text:
            return " ".join([*parts, "--data-binary", shlex.quote(text)])
    except UnicodeDecodeError:
        pass
    # bytes that are not text: printf writes them, curl reads them from stdin
    escaped = "".join(f"\\x{b:02x}" for b in body)
    return f"printf '%b' '{escaped}' | " + " ".join([*parts, "--data-binary", "@-"])


def _not_http(response: dict[str, Any]) -> bool:
    """uvicorn's own answer to a request that is not valid HTTP (the app never saw it)."""
    return (response["status_code"] == 400
            and _decode(response.get("content")) == UVICORN_NOT_HTTP
            and any(v.startswith("text/plain")
                    for v in response["headers"].get("content-type", [])))


def read_report(path: Path, roles_by_key: dict[str, str]) -> Summary:
    """Tally schemathesis' NDJSON event stream: requests, sequences, failures, errors."""
    s = Summary()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            event = json.loads(line)
            kind, data = next(iter(event.items()))
            if kind == "NonFatalError":
                value = data.get("value") or {}
                s.errors.append(f"{data.get('label')}: {value.get('title') or ''} "
                                f"{value.get('message') or ''}".strip())
            elif kind == "FatalError":
                s.errors.append(f"fatal: {json.dumps(data, ensure_ascii=False)[:500]}")
            if kind != "ScenarioFinished" or "cases" not in data.get("recorder", {}):
                continue
            phase = data.get("phase") or "?"
            rec = data["recorder"]
            sent = 0
            for case_id, interaction in (rec.get("interactions") or {}).items():
                node = rec["cases"].get(case_id)
                if node is None or interaction.get("response") is None:
                    continue
                case = node["value"]
                op = f"{case['method'].upper()} {case['path']}"
                sent += 1
                s.requests[op] += 1
                s.phases[phase] += 1
                key = (interaction["request"].get("headers") or {}).get("Authorization") or [""]
                s.by_role[op][roles_by_key.get(key[0].removeprefix("Bearer "), "no key")] += 1
                s.by_status[op][f"{interaction['response']['status_code'] // 100}xx"] += 1
                if _not_http(interaction["response"]):
                    # e.g. a generated 'content-length: N': RFC 9112 says answer 400 and close
                    s.not_http[op] += 1
                    s.not_http_curl = s.not_http_curl or curl_line(interaction["request"],
                                                                    roles_by_key)
                    continue
                if node.get("transition"):
                    s.links_followed += 1
                    s.links.add(node["transition"]["id"])
                for check in (rec.get("checks") or {}).get(case_id, []):
                    if check.get("status") != "failure":
                        continue
                    f = s.failures.setdefault((check["name"], op), Failure(check["name"], op))
                    f.count += 1
                    f.phases.add(phase)
                    if not f.curl:
                        info = (check.get("failure_info") or {}).get("failure") or {}
                        f.title = str(info.get("title") or "")
                        f.message = str(info.get("message") or "")
                        f.status = interaction["response"]["status_code"]
                        f.curl = curl_line(interaction["request"], roles_by_key)
            if phase == "stateful" and sent:
                s.sequences += 1
    return s


def first_township(bundle: Path) -> str:
    """The first township's id in the bundle's townships.csv (T1 in the tiny county)."""
    try:
        with (bundle / "townships.csv").open(encoding="utf-8-sig", newline="") as fh:
            return next(csv.DictReader(fh))["id"]
    except (OSError, StopIteration, KeyError):
        raise SystemExit(f"cannot read a township id from {bundle / 'townships.csv'}: "
                         "give one with --township") from None


def print_summary(s: Summary, *, store: str, minutes: float, elapsed: float, exit_code: int,
                  server_problem: str | None) -> None:
    total = sum(s.requests.values())
    covered = [op for op in s.operations if s.requests[op]]
    print(f"\n== fuzzing graphsvc serve on the {store} store: {elapsed / 60:.1f} min "
          f"(asked {minutes:g}) ==")
    print(f"requests sent: {total:,} ({', '.join(f'{p} {n:,}' for p, n in s.phases.items())})")
    print(f"operations covered: {len(covered)} of {len(s.operations)}")
    missing = [op for op in s.operations if not s.requests[op]]
    if missing:
        print("  never sent: " + ", ".join(missing))
    print(f"stateful sequences run: {s.sequences:,}; requests that followed a link: "
          f"{s.links_followed:,} over {len(s.links)} distinct links")
    # the coverage phase also sends methods the document does not list (PUT, TRACE, ...): one row
    documented = set(s.operations)
    rows: dict[str, tuple[Counter[str], Counter[str], Counter[str]]] = {}
    for op in sorted(s.requests, key=lambda o: (o.split(" ", 1)[1], o)):
        name = op if op in documented else "(methods the document does not list)"
        n, r, st = rows.setdefault(name, (Counter(), Counter(), Counter()))
        n["requests"] += s.requests[op]
        r.update(s.by_role[op])
        st.update(s.by_status[op])
    width = max((len(op) for op in rows), default=10)
    print(f"\n{'operation':<{width}}  {'requests':>8}  {'admin':>6} {'editor':>6} {'viewer':>6}"
          f"  {'2xx':>6} {'4xx':>6} {'5xx':>4}")
    for op, (n, r, st) in rows.items():
        print(f"{op:<{width}}  {n['requests']:>8,}  {r['admin']:>6,} {r['editor']:>6,} "
              f"{r['viewer']:>6,}  {st['2xx']:>6,} {st['4xx']:>6,} {st['5xx']:>4,}")
    print(f"\nfailures: {s.failed:,} in {len(s.failures)} kind(s)")
    for f in sorted(s.failures.values(), key=lambda f: (f.check, f.operation)):
        print(f"\n- {f.check} on {f.operation}: {f.count}x (phases {', '.join(sorted(f.phases))}); "
              f"e.g. status {f.status}: {f.title}")
        if f.message:
            print("    " + f.message.strip().replace("\n", "\n    ")[:1500])
        print(f"    {f.curl}")
    if s.not_http:
        print(f"\nrefused by uvicorn as malformed HTTP before reaching graphsvc (400 'Invalid HTTP "
              f"request received.', connection closed; not counted as failures): "
              f"{sum(s.not_http.values()):,} requests, e.g.\n    {s.not_http_curl}")
    if s.errors:
        print(f"\nschemathesis errors: {len(s.errors)}")
        for e, n in Counter(s.errors).most_common(20):
            print(f"- {n}x {e[:500]}")
    if server_problem:
        print(f"\nthe server: {server_problem}")
    print(f"\nschemathesis exit code {exit_code}")


def run(args: argparse.Namespace, extra: list[str]) -> int:
    # reused from the load test: the graphsvc subprocess environment, commands and server
    from load_test import graphsvc, graphsvc_env, make_key, serving

    bundle = Path(args.bundle).resolve()
    township = args.township or first_township(bundle)
    tmp = (Path(args.keep).resolve() if args.keep
           else Path(tempfile.mkdtemp(prefix="graphsvc-fuzz-")))
    tmp.mkdir(parents=True, exist_ok=True)
    data = tmp / "data"
    neo4j_started = False
    # a quarter of the generated requests carry a missing or mangled key, all from 127.0.0.1:
    # with the throttle's default (10 a minute) nearly every request would be answered 429
    env = graphsvc_env({"GRAPHSVC_DATA_DIR": str(data),
                        "GRAPHSVC_AUTH_FAILURE_LIMIT": str(10**9)}, inherit_store=False)
    if args.store == "neo4j":
        from _neo4j import neo4j_env

        neo, neo4j_started = neo4j_env()
        env.update({k: v for k, v in neo.items() if k.startswith("GRAPHSVC_NEO4J_")})
    try:
        print(f"importing {bundle} into the {args.store} store (--replace) ...", flush=True)
        graphsvc(["import", str(bundle), "--replace"], env)
        keys = {"admin": make_key(env, name="fuzz admin")}
        for role in ("editor", "viewer"):
            r = graphsvc(["keys", "create", "--role", role, "--township-id", township,
                          "--name", f"fuzz {role} {township}"], env)
            keys[role] = r.stdout.strip().splitlines()[-1].strip()
        roles_by_key = {k: r for r, k in keys.items()}
        report = tmp / "schemathesis.ndjson"
        with serving(env, tmp / "serve.log") as server:
            seconds = max(1, round(args.minutes * 60))
            config = tmp / "schemathesis.toml"
            config.write_text(STATEFUL_CONFIG, encoding="utf-8")
            cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
                   f"{server.url}/openapi.json",
                   "--phases", PHASES, "--max-time", str(seconds), "--checks", ",".join(CHECKS),
                   "--workers", str(args.workers), "--request-timeout", str(args.request_timeout),
                   "--seed", str(args.seed), "--report", "ndjson", "--report-ndjson-path",
                   str(report), "--output-sanitize", "false", "--continue-on-failure", *extra]
            st_env = {**os.environ, "SCHEMATHESIS_HOOKS": Path(__file__).stem,
                      "PYTHONPATH": os.pathsep.join(p for p in (str(BENCHMARKS),
                                                               os.environ.get("PYTHONPATH")) if p),
                      KEYS_ENV: json.dumps(keys), SEED_ENV: str(args.seed)}
            print(f"schemathesis for {args.minutes:g} min against {server.url} (seed {args.seed}; "
                  f"keys: admin, editor and viewer of {township}) ...", flush=True)
            started = time.monotonic()
            # schemathesis' own progress goes to our stdout; the summary below reads its report
            # cwd: schemathesis keeps a cache (.schemathesis/) there; each run starts afresh
            code = subprocess.run(cmd, env=st_env, cwd=tmp, stdin=subprocess.DEVNULL, check=False,
                                  stdout=None if args.verbose else subprocess.DEVNULL).returncode
            elapsed = time.monotonic() - started
            import httpx

            document = httpx.get(f"{server.url}/openapi.json", timeout=60).json()
            alive = server.proc.poll() is None
        log = server.log_text()
        problem = None
        if not alive:
            problem = f"graphsvc serve exited during the run:\n{log[-3000:]}"
        elif "Traceback" in log:
            problem = (f"the server logged a traceback (see {server.log}):\n"
                       + log[log.index("Traceback"):][:3000])
        summary = read_report(report, roles_by_key) if report.exists() else Summary(
            errors=["schemathesis wrote no report"])
        summary.operations = [f"{m.upper()} {p}" for p, ops in document["paths"].items()
                              for m in ops if m in {"get", "post", "patch", "put", "delete"}]
        print_summary(summary, store=args.store, minutes=args.minutes, elapsed=elapsed,
                      exit_code=code, server_problem=problem)
        # schemathesis exits 1 on the malformed-HTTP answers too, which are not graphsvc's
        clean = code == 0 or (code == 1 and bool(summary.not_http))
        return 0 if clean and not summary.failures and not summary.errors and not problem else 1
    finally:
        if neo4j_started:
            from _neo4j import stop

            stop(env)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:  # what follows goes to `schemathesis run` as it is
        argv, extra = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--store", choices=("embedded", "neo4j"), default="embedded",
                    help="embedded (a temporary data dir) or neo4j (GRAPHSVC_NEO4J_URI, whose "
                         "database is replaced by the bundle) [embedded]")
    ap.add_argument("--minutes", type=float, default=20, help="how long schemathesis runs [20]")
    ap.add_argument("--bundle", default=str(TINY), help="the county to import [the tiny county]")
    ap.add_argument("--township", help="the township of the editor and viewer keys "
                                       "[the bundle's first]")
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100_000,
                    help="schemathesis' seed and the keys' draw (printed; give it to replay)")
    ap.add_argument("--workers", type=int, default=1, help="schemathesis' concurrent workers [1]")
    ap.add_argument("--request-timeout", type=float, default=60,
                    help="seconds a request may take before it counts as failed [60]")
    ap.add_argument("--keep", help="keep the data dir, the server's log and the report here")
    ap.add_argument("--verbose", action="store_true", help="show schemathesis' own output too")
    return run(ap.parse_args(argv), extra)


if __name__ == "__main__":
    sys.exit(main())

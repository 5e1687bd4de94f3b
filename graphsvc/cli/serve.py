"""``graphsvc serve``, ``graphsvc keys`` and ``graphsvc audit-log``: the commands of the HTTP
API."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from graphsvc.auditlog import entries, instant
from graphsvc.cli.common import err, fail, failed, key_store, opened_store, plain
from graphsvc.config import Settings, get_settings
from graphsvc.errors import GraphsvcError, NotFound
from graphsvc.importer import import_path
from graphsvc.keys import Role
from graphsvc.model import Kind

keys_app = typer.Typer(
    name="keys",
    help=("API keys for the HTTP API, kept in GRAPHSVC_DATA_DIR/keys.sqlite3 (only a keyed hash "
          "of each key is stored). Roles: admin (everything), editor (read and change data in "
          "its townships), viewer (read in its townships)."),
    no_args_is_help=True,
)

DEMO_KEY_FILE = "demo-key"


def _when(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") if stamp else "-"


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option("--role", help="admin, editor or viewer")],
    township_id: Annotated[list[str] | None, typer.Option(
        "--township-id", help="limit the key to this township (repeat for several; default: all)")
    ] = None,
    pii: Annotated[bool, typer.Option(
        "--pii", help="the key sees households' names, phone numbers and addresses unmasked")
    ] = False,
    name: Annotated[str | None, typer.Option(
        "--name", help="who or what the key is for, to recognise it in 'keys list'")] = None,
) -> None:
    """Make an API key. The key is printed once, as the last line; only its hash is kept."""
    if township_id and role is not Role.ADMIN:  # (an admin key with townships is refused below)
        _check_townships(township_id)
    try:
        record, token = key_store().create(role, townships=township_id or (), pii=pii, name=name)
    except GraphsvcError as exc:
        raise failed(exc) from None
    towns = ", ".join(record.townships) or "all"
    plain.print(f"made key {record.id} ({record.name}): role {record.role.value}, "
                f"townships {towns}, "
                f"unmasked personal data {'yes' if record.pii or role is Role.ADMIN else 'no'}")
    plain.print("The key is shown only now; keep it safe (send it as 'Authorization: Bearer KEY'):")
    sys.stdout.write(token + "\n")


def _check_townships(wanted: list[str]) -> None:
    """Refuse (exit code 1, no key made) townships the store does not hold: a key limited to
    them would see nothing. The message lists the townships there are."""
    names = {t.strip() for t in wanted if t.strip()}
    with opened_store() as store:
        found = store.fetch_entities(names)
        unknown = sorted(t for t in names if t not in found or found[t][0] is not Kind.TOWNSHIP)
        if not unknown:
            return
        towns = store.pairing_network(dt.date.today())["townships"]
    listed = ", ".join(f"{t['id']} ({t['name']})" if t.get("name") else t["id"]
                       for t in towns[:30])
    there = (f"the townships are: {listed}" + (f" and {len(towns) - 30} more" if len(towns) > 30
                                                 else "")
             if towns else "the store holds no township yet: import the county first "
                           "('graphsvc import BUNDLE')")
    raise fail(f"--township-id: there is no township {', '.join(repr(t) for t in unknown)} in "
               f"the store, so a key limited to it would see nothing; {there}. "
               "No key was made.", 1)


@keys_app.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Every key (never the key itself): id, name, role, townships, when made, used, revoked."""
    try:
        keys = key_store().all_keys()
    except GraphsvcError as exc:
        raise failed(exc) from None
    if as_json:
        sys.stdout.write(json.dumps([k.as_dict() for k in keys], ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
        return
    table = Table("id", "name", "role", "townships", "pii", "created", "last used", "revoked",
                  title=f"{len(keys)} API key(s)")
    for k in keys:
        table.add_row(k.id, k.name, k.role.value, ", ".join(k.townships) or "all",
                      "yes" if k.pii else "no", _when(k.created_at), _when(k.last_used_at),
                      _when(k.revoked_at))
    plain.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id, as 'keys list' shows it")]
                ) -> None:
    """Stop a key working at once (its record stays, marked revoked)."""
    try:
        record = key_store().revoke(key_id)
    except NotFound as exc:
        raise fail(str(exc), 1) from None
    except GraphsvcError as exc:
        raise failed(exc) from None
    plain.print(f"key {record.id} ({record.name}) is revoked since {record.revoked_at}")


def _demo(settings: Settings) -> str:
    """Load the sample county into an empty embedded store; return an admin key for it."""
    from graphsvc.generate import generate_bundle
    from graphsvc.stores.embedded import EmbeddedStore

    store = EmbeddedStore(settings.data_dir)
    try:
        if any(store.records().values()):
            err.print(f"The store in {escape(str(settings.data_dir))} holds data already; "
                      "serving it as it is.")
        else:
            with tempfile.TemporaryDirectory() as tmp, err.status(
                    "generating and importing the sample county (generated names only) ..."):
                generate_bundle(Path(tmp) / "county", counties=1, seed=1)
                report = import_path(store, Path(tmp) / "county",
                                     max_unpacked_bytes=settings.max_unpacked_bytes)
            if not report.ok:
                raise fail("the sample county did not import: "
                           + "; ".join(str(p) for p in report.errors[:5]))
            err.print(f"Loaded the sample county into {escape(str(settings.data_dir))}.")
    finally:
        store.close()
    keys = key_store(settings)
    saved = settings.data_dir / DEMO_KEY_FILE
    if saved.is_file():
        token = saved.read_text(encoding="ascii").strip()
        if keys.authenticate(token) is not None:
            return token
    _, token = keys.create(Role.ADMIN, name="demo")
    fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(token + "\n")
    return token


def serve(
    host: Annotated[str, typer.Option(help="the address to listen on (0.0.0.0: every interface)")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="the TCP port")] = 8000,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="worker processes, each with its own connection to the store "
                            "[default: GRAPHSVC_WORKERS, 1]", show_default=False)] = None,
    demo: Annotated[bool, typer.Option("--demo", help="load the sample county into an empty "
                                       "embedded store and make an admin key for it")] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level")] = "info",
) -> None:
    """Run the HTTP API (OpenAPI at /openapi.json, interactive docs at /docs)."""
    import uvicorn

    from graphsvc.logs import server_log_config

    settings = get_settings()
    token: str | None = None
    if demo:
        if settings.neo4j_uri:
            raise fail("--demo loads the sample county into the embedded store, but "
                       "GRAPHSVC_NEO4J_URI is set; unset it (and set GRAPHSVC_DATA_DIR) for a "
                       "demo, or import a bundle into Neo4j with 'graphsvc import'")
        try:
            token = _demo(settings)
        except GraphsvcError as exc:
            raise failed(exc) from None
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
    store = f"Neo4j at {settings.neo4j_uri}" if settings.neo4j_uri else \
        f"the embedded store in {settings.data_dir}"
    plain.print(f"graphsvc serves {store}")
    plain.print(f"  API docs:  {base}/docs")
    plain.print(f"  diagrams:  {base}/visual/   (log in there with an API key)")
    if token:
        plain.print(f"  API key:   {token}   (admin; kept in {settings.data_dir / DEMO_KEY_FILE})")
        plain.print(f'  try:       curl -H "Authorization: Bearer {token}" {base}/api/v1/summary')
    else:
        try:
            no_keys = not any(k.active for k in key_store(settings).all_keys())
        except GraphsvcError:
            no_keys = False
        if no_keys:
            plain.print("  no API key yet: make one with 'graphsvc keys create --role admin'")
    sys.stdout.flush()
    uvicorn.run("graphsvc.api.app:create_app", factory=True, host=host, port=port,
                workers=workers or settings.workers, log_level=log_level,
                log_config=server_log_config(settings.log_format))


def audit_log(
    since: Annotated[str | None, typer.Option(
        help="from this date (YYYY-MM-DD) or instant on")] = None,
    until: Annotated[str | None, typer.Option(help="before this date or instant")] = None,
    key_id: Annotated[str | None, typer.Option("--key-id", help="by this API key")] = None,
    record_id: Annotated[str | None, typer.Option("--record-id", help="touching this id")] = None,
    action: Annotated[str | None, typer.Option(
        help="import, replace, write (a change through the API) or read_pii")] = None,
    limit: Annotated[int, typer.Option(min=0, help="at most this many entries")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="skip this many first")] = 0,
    as_json: Annotated[bool, typer.Option(
        "--json", help="print the JSON body of GET /api/v1/audit-log")] = False,
) -> None:
    """The audit log, newest first: every write (who, which key, when, old and new values) and
    every read of households' unmasked personal data through the API."""
    if action not in (None, "import", "replace", "write", "read_pii"):
        raise fail(f"--action: '{action}' is not one of import, replace, write, read_pii")
    try:
        lo, hi = instant(since), instant(until)
    except ValueError as exc:
        raise fail(f"--since/--until: {exc}") from None
    try:
        with opened_store() as store:
            body = entries(store, key_store(), since=lo, until=hi, key_id=key_id,
                           record_id=record_id, action=action, limit=limit, offset=offset)
    except GraphsvcError as exc:
        raise failed(exc) from None
    if as_json:
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("when (UTC)", "action", "who", "records", "changes",
                  title=f"{body['total']} audit log entr{'y' if body['total'] == 1 else 'ies'}"
                        + (f", showing {len(body['items'])}"
                           if len(body["items"]) < body["total"] else ""))
    for e in body["items"]:
        key = ", " + e["key_id"] if e.get("key_id") else ""
        who = f"{e.get('key_name') or ''} ({e.get('via')}{key})"
        if e["action"] == "read_pii":
            what = f"{e.get('what')}: {', '.join(e.get('subjects', []))}"
        else:
            shown = [_change_line(c) for c in e.get("changes", [])[:5]]
            more = len(e.get("changes", [])) - len(shown)
            what = "\n".join(shown + ([f"… {more} more"] if more > 0 else [])) or ", ".join(
                f"{k} {v}" for k, v in e.get("files", {}).items())
        table.add_row(e["at"][:19].replace("T", " "), e["action"], who,
                      str(e.get("records", "")), what)
    plain.print(table)


def _change_line(c: dict[str, Any]) -> str:
    """One change of an audit log entry (a JSON object of the log's body), on one line."""
    ident = c.get("id") or "/".join(map(str, c.get("key") or [])) or ""
    if c.get("op") == "update":
        old: dict[str, Any] = c.get("old") or {}
        new: dict[str, Any] = c.get("new") or {}
        cols = ", ".join(f"{k}: {old.get(k)!r} → {new.get(k)!r}" for k in new)
        return f"{c.get('file')} {ident}: {cols}"
    return f"{c.get('file')} {c.get('op')} {ident}"

"""Import and export bundles: read, validate against the store, then write all or nothing."""

from __future__ import annotations

import gc
import io
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from graphsvc.auditlog import Actor, build_entry
from graphsvc.bundle import zh
from graphsvc.bundle.reader import (
    Tables,
    parse_csv,
    read_blocks,
    read_bundle,
    read_xlsx,
    read_zip,
)
from graphsvc.bundle.report import Report
from graphsvc.bundle.validate import validate
from graphsvc.bundle.writer import write_bundle
from graphsvc.stores.base import Progress, Store

DEFAULT_MAX_UNPACKED = 1 << 30


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: reading and checking a bundle makes millions of
    small objects and no cycles, and the collector's passes over them double the time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


AFTER_WRITE: list[Callable[[Store], None]] = []
"""Called with the store after every committed import in this process (the diagram pages'
cache warmer listens here)."""


def import_tables(store: Store, tables: Tables, report: Report, *, dry_run: bool = False,
                  replace: bool = False, progress: Progress | None = None,
                  actor: Actor | None = None, expect: Mapping[str, str] | None = None) -> Report:
    """Validate ``tables`` and, unless there is an error or ``dry_run``, write them, with an
    entry in the audit log naming ``actor`` (default: this operating system user, via the
    CLI). ``expect``: see ``Store.write``."""
    report.dry_run, report.replace = dry_run, replace
    with paused_gc():
        # validate even when some file could not be read, so that every problem is listed at once
        bundle = validate(tables, store, report, replace=replace)
        if not report.ok or dry_run:
            return report
        who = actor or Actor.cli()
        # the entry is made inside the write, under its lock: its old values are the replaced ones
        store.write(bundle, replace=replace, progress=progress, expect=expect,
                    audit=lambda: build_entry(store, bundle, who, replace=replace))
        for hook in AFTER_WRITE:  # the write is committed: a failing listener must not undo it
            try:
                hook(store)
            except Exception:  # noqa: BLE001, S112
                continue
    report.written = True
    return report


def import_path(store: Store, path: str | Path, *, dry_run: bool = False, replace: bool = False,
                progress: Progress | None = None,
                max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED) -> Report:
    """Import the bundle at ``path`` (folder, .zip, .xlsx or a single bundle .csv)."""
    report = Report()
    with paused_gc():
        tables = read_bundle(path, report, max_unpacked_bytes=max_unpacked_bytes)
    return import_tables(store, tables, report, dry_run=dry_run, replace=replace, progress=progress)


def import_upload(store: Store, filename: str, data: bytes | IO[bytes], *, actor: Actor,
                  dry_run: bool = False, replace: bool = False,
                  max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED) -> Report:
    """Import an uploaded bundle file (.zip, .xlsx, or one bundle .csv): its bytes, or a file
    open for reading (read as it is parsed, never whole into memory). ``actor``: the API key
    that sent it, named in the audit log (an upload is never the server's own user)."""
    report = Report()
    fh = io.BytesIO(data) if isinstance(data, bytes) else data
    suffix = Path(filename or "").suffix.lower()
    tables: Tables = {}
    if suffix == ".zip":
        tables = read_zip(fh, report, max_unpacked_bytes=max_unpacked_bytes)
    elif suffix in (".xlsx", ".xlsm"):
        tables = read_xlsx(fh, report, label=filename, max_unpacked_bytes=max_unpacked_bytes)
    elif suffix == ".csv" and (name := zh.spec_name(Path(filename).stem)) is not None:
        table = parse_csv(name, Path(filename).name, read_blocks(fh), report)  # 人员.csv as people
        tables = {table.name: table} if table else {}
    else:
        report.error(filename or "the upload", None, None,
                     "upload a .zip of the bundle folder, an .xlsx workbook, "
                     "or one bundle .csv file")
    return import_tables(store, tables, report, dry_run=dry_run, replace=replace, actor=actor)


def export_path(store: Store, path: str | Path, headers: str = "en") -> dict[str, int]:
    """Write the whole store as a bundle (folder, or .zip / .xlsx by the name's ending), with
    English (``en``, the spec's) or Chinese (``zh``: ``docs/chinese-spreadsheets.md``) file
    names, headers and values. Returns the row count per file name written."""
    return write_bundle(store.records(), path, headers=headers)  # type: ignore[arg-type]

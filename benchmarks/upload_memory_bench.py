"""Memory a hostile upload costs a real server: a real ``graphsvc serve`` per case.

Each case starts ``graphsvc serve`` (embedded store in a temporary folder holding the tiny
county, an admin key made with ``graphsvc keys create``), reads the server process's resident
memory once it has answered a first request (VmRSS in /proc/PID/status), resets its peak
(``/proc/PID/clear_refs``; when that is not allowed, the peak since start is used, which is
never lower), uploads one file to ``POST /api/v1/imports`` and reads the peak (VmHWM). It
prints per case the extra peak memory, the answer's status and size, and the time taken:

* ``baseline``: the tiny county as a .zip (valid, imported again: nothing changes);
* ``header``: a .zip of contacts.csv whose header has 1,000,000 columns (7.9 MB of text);
* ``bomb``: a 0.9 MB .zip holding 900 MiB of NUL bytes;
* ``bomb-mixed``: a 7 MB .zip holding 500 MiB of NULs with a little noise, so that it packs
  under 100 times (``reader.MAX_RATIO``): refused as it inflates, not from its directory;
* ``bad-rows``: a .zip of contacts.csv with 300,000 rows, each with a date that is not a date
  (2026-13-000001, 2026-13-000002, ...).

The done-when figure of issue 11: ``header`` and ``bomb`` (and ``bomb-mixed``) each under
300 MB of extra memory.
Exit code 1 when one of them is over it (or answers 5xx).

    python benchmarks/upload_memory_bench.py
    python benchmarks/upload_memory_bench.py --cases header,bomb --bad-rows 30000

The server runs the graphsvc this process imports; to measure another checkout (the code
before a change), put it first: ``PYTHONPATH=/path/to/checkout python benchmarks/...``.
Linux only (/proc).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from load_test import TINY, graphsvc, graphsvc_env, make_key, serving

MB = 1_000_000
LIMIT_MB = 300  # the done-when bound for the header and the bomb


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5: reset the peak resident size
        return True
    except OSError:
        return False


def _zip(members: dict[str, Callable[[zipfile.ZipFile, str], None]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, write in members.items():
            write(zf, name)
    return buf.getvalue()


def _text(data: bytes) -> Callable[[zipfile.ZipFile, str], None]:
    return lambda zf, name: zf.writestr(name, data)


def _repeated(pattern: bytes, size: int) -> Callable[[zipfile.ZipFile, str], None]:
    def write(zf: zipfile.ZipFile, name: str) -> None:
        block = pattern * ((1 << 20) // len(pattern))
        with zf.open(name, "w", force_zip64=True) as dst:
            left = size
            while left > 0:
                dst.write(block[:left])
                left -= len(block)
    return write


def payloads(bad_rows: int) -> dict[str, bytes]:
    tiny = {f.name: _text(f.read_bytes()) for f in sorted(TINY.glob("*.csv"))}
    head = ",".join(["person_id", "household_id", "date"]
                    + [f"x{i:06d}" for i in range(1_000_000)]).encode()
    # rows that differ (the same row 300,000 times would be refused for packing too well)
    rows = b"person_id,household_id,date\n" + b"".join(
        b"M01,H059,2026-13-%06d\n" % i for i in range(bad_rows))
    return {
        "baseline": _zip(tiny),  # type: ignore[arg-type]
        "header": _zip({"contacts.csv": _text(head + b"\nM01,H059,2026-06-29\n")}),
        "bomb": _zip({"contacts.csv": _repeated(b"\0", 900 << 20)}),
        "bad-rows": _zip({"contacts.csv": _text(rows)}),
        # random bytes among the NULs keep it under 100 times its packed size: refused as
        # it inflates (the first block holds a NUL), not from the archive's directory
        "bomb-mixed": _zip({"contacts.csv": _repeated(os.urandom(4096) + b"\0" * (300 << 10),
                                                      500 << 20)}),
    }


def measure(name: str, data: bytes, work: Path) -> dict[str, object]:
    """One case on a server of its own."""
    data_dir = work / name
    env = graphsvc_env({"GRAPHSVC_DATA_DIR": str(data_dir)}, inherit_store=False)
    graphsvc(["import", str(TINY)], env, cwd=work)
    key = make_key(env, name="upload memory bench", cwd=work)
    h = {"Authorization": f"Bearer {key}"}
    with serving(env, work / f"{name}.log", cwd=work) as server:
        pid = server.proc.pid
        httpx.get(f"{server.url}/api/v1/summary", headers=h, timeout=60).raise_for_status()
        before = _status(pid)["VmRSS"]
        reset = _reset_peak(pid)
        t0 = time.perf_counter()
        r = httpx.post(f"{server.url}/api/v1/imports", headers=h, timeout=1800,
                       files={"file": (f"{name}.zip", data)})
        took = time.perf_counter() - t0
        peak = _status(pid)["VmHWM"]
    body = r.content
    first = ""
    if r.headers.get("content-type", "").startswith("application/json") and len(body) < 50 * MB:
        j = r.json()
        errors = j.get("errors") or []
        first = errors[0]["message"] if errors else str(j.get("detail", ""))[:120]
    return {"case": name, "upload": len(data), "status": r.status_code, "answer": len(body),
            "before": before, "extra": peak - before, "seconds": took, "reset": reset,
            "first": first[:110]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default="baseline,header,bomb,bomb-mixed,bad-rows",
                    help="comma-separated: baseline, header, bomb, bomb-mixed, bad-rows")
    ap.add_argument("--bad-rows", type=int, default=300_000, help="rows of the bad-rows case")
    args = ap.parse_args()
    if not Path("/proc/self/status").exists():
        print("this benchmark reads /proc: Linux only", file=sys.stderr)
        return 2
    import graphsvc

    print(f"graphsvc from {Path(graphsvc.__file__).resolve().parent}")
    all_payloads = payloads(args.bad_rows)
    results = []
    with tempfile.TemporaryDirectory(prefix="upload-bench-") as tmp:
        for name in args.cases.split(","):
            res = measure(name, all_payloads[name], Path(tmp))
            results.append(res)
            print(f"{name:9} upload {res['upload'] / MB:7.2f} MB  status {res['status']}  "
                  f"answer {res['answer'] / MB:8.3f} MB  server {res['before'] / MB:5.0f} MB "  # type: ignore[operator]
                  f"+ peak {res['extra'] / MB:7.1f} MB  {res['seconds']:6.1f} s"  # type: ignore[operator]
                  + ("" if res["reset"] else "  (peak since start)")
                  + f"\n          {res['first']}", flush=True)
    bad = [r for r in results if r["case"] in ("header", "bomb", "bomb-mixed")
           and (r["extra"] > LIMIT_MB * MB or r["status"] >= 500)]  # type: ignore[operator]
    for r in bad:
        print(f"OVER: {r['case']} took {r['extra'] / MB:.0f} MB more at its peak (bound "  # type: ignore[operator]
              f"{LIMIT_MB} MB), answered {r['status']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

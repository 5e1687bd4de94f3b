"""The graphsvc command, run as a user runs it: a real process, real files, both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests_support import PKG_PARENT
from tests_support.cli import run

from graphsvc.config import Settings
from graphsvc.stores import open_store


def test_import_summary_export(cli_env: dict[str, str], tiny_dir: Path, tmp_path: Path) -> None:
    r = run(["import", str(tiny_dir)], cli_env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "households.csv" in r.stdout and "60" in r.stdout
    r = run(["summary", "--as-of", "2026-06-30", "--format", "json"], cli_env, tmp_path)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["as_of"] == "2026-06-30" and body["households"] == 59 and body["people"] == 25
    r = run(["summary", "--as-of", "2026-06-30"], cli_env, tmp_path)
    assert "Party members 党员" in r.stdout and "25" in r.stdout
    r = run(["summary", "--as-of", "2026-06-30", "--format", "csv"], cli_env, tmp_path)
    assert "organizations.committee,4" in r.stdout.splitlines()
    r = run(["export", str(tmp_path / "out")], cli_env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "contacts.csv").read_text(encoding="utf-8").count("\n") == 48


def test_bad_bundle_exit_1_and_nothing_written(cli_env: dict[str, str], tiny_copy: Path,
                                               tmp_path: Path) -> None:
    f = tiny_copy / "liaisons.csv"
    f.write_text(f.read_text(encoding="utf-8").replace("delegate-member,D1,M01",
                                                       "delegate-member,M02,M01"),
                 encoding="utf-8")
    r = run(["import", str(tiny_copy)], cli_env, tmp_path)
    assert r.returncode == 1
    assert "liaisons.csv, row 6, column from_id" in r.stderr
    assert "nothing was written" in r.stderr
    r = run(["summary", "--format", "json"], cli_env, tmp_path)
    assert json.loads(r.stdout)["townships"] == 0
    r = run(["import", str(tiny_copy), "--report", str(tmp_path / "rep.json")], cli_env, tmp_path)
    rep = json.loads((tmp_path / "rep.json").read_text(encoding="utf-8"))
    assert rep["ok"] is False and rep["errors"][0]["row"] == 6


def test_dry_run(cli_env: dict[str, str], tiny_dir: Path, tmp_path: Path) -> None:
    r = run(["import", "--dry-run", str(tiny_dir)], cli_env, tmp_path)
    assert r.returncode == 0 and "nothing written" in r.stdout
    r = run(["summary", "--format", "json"], cli_env, tmp_path)
    assert json.loads(r.stdout)["households"] == 0


def test_generate_then_import(tmp_path: Path) -> None:
    """The demo's path: a generated county imports cleanly and counts like the source."""
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    r = run(["generate", str(tmp_path / "county"), "--seed", "7"], env, tmp_path)
    assert r.returncode == 0, r.stderr
    r = run(["import", str(tmp_path / "county")], env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr
    r = run(["summary", "--as-of", "2026-06-30", "--format", "json"], env, tmp_path)
    body = json.loads(r.stdout)
    assert body["people"] == 13787 and body["townships"] == 12 and body["villages"] == 200
    assert body["organizations"]["committee"] == 33
    assert body["organizations"]["branch"] + body["organizations"]["general_branch"] == 611
    assert body["paired_units"] == 63 and body["paired_villages"] == 59


def test_store_down_is_a_clear_error(tmp_path: Path, tiny_dir: Path) -> None:
    env = {"GRAPHSVC_NEO4J_URI": "bolt://127.0.0.1:9", "GRAPHSVC_NEO4J_PASSWORD": "x"}
    r = run(["import", str(tiny_dir)], env, tmp_path)
    assert r.returncode == 3  # the store cannot be reached
    assert "cannot be reached" in r.stderr and "127.0.0.1:9" in r.stderr
    assert "Traceback" not in r.stderr


def test_version_and_the_exit_codes_are_told(tmp_path: Path, tiny_copy: Path) -> None:
    import graphsvc

    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    r = run(["--version"], env, tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"graphsvc {graphsvc.__version__}"
    r = run(["--help"], env, tmp_path)
    assert "Exit codes: 0 done; 1" in " ".join(r.stdout.split())
    assert "3 the store cannot be reached or failed" in " ".join(r.stdout.split())
    assert run(["summary", "--format", "json"], env, tmp_path).returncode == 0  # 0: done
    (tiny_copy / "townships.csv").write_text("id,name\nT1,甲\nT1,乙\n", encoding="utf-8")
    assert run(["import", str(tiny_copy)], env, tmp_path).returncode == 1  # data refused
    assert run(["summary", "--as-of", "soon"], env, tmp_path).returncode == 2  # usage
    (tmp_path / "data" / "graphsvc.sqlite3").unlink()
    (tmp_path / "data" / "graphsvc.sqlite3").mkdir()  # a folder where the database should be
    r = run(["summary"], env, tmp_path)
    assert r.returncode == 3 and "graphsvc.sqlite3" in r.stderr, r.stderr  # store unusable


def test_bad_date_option(tmp_path: Path) -> None:
    r = run(["summary", "--as-of", "30/06/2026"], {"GRAPHSVC_DATA_DIR": str(tmp_path)}, tmp_path)
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr


def test_help_is_enough() -> None:
    r = subprocess.run([sys.executable, "-m", "graphsvc", "import", "--help"], capture_output=True,
                       text=True, env={**os.environ, "COLUMNS": "120", "PYTHONPATH": PKG_PARENT},
                       check=False)
    assert r.returncode == 0
    for word in ("--dry-run", "--replace", "--report", "all of it or nothing", ".xlsx"):
        assert word in r.stdout


@pytest.fixture
def tiny_cli(cli_env: dict[str, str], tiny_dir: Path, tmp_path: Path) -> dict[str, str]:
    r = run(["import", str(tiny_dir)], cli_env, tmp_path)
    assert r.returncode == 0, r.stderr
    return cli_env


def _json(args: list[str], env: dict[str, str], cwd: Path) -> dict:
    r = run([*args, "--as-of", "2026-06-30", "--format", "json"], env, cwd)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_audits_match_expected(tiny_cli: dict[str, str], tiny_dir: Path, tmp_path: Path) -> None:
    exp = json.loads((tiny_dir / "expected.json").read_text(encoding="utf-8"))
    body = _json(["audit", "households"], tiny_cli, tmp_path)
    assert body["total"] == len(exp["households"])
    assert [{k: r[k] for k in exp["households"][0]} for r in body["items"]] == exp["households"]
    for cmd, key in (("delegates", "delegates"), ("members", "members"),
                     ("committee-members", "committee_members")):
        body = _json(["audit", cmd], tiny_cli, tmp_path)
        assert [{k: r[k] for k in exp[key][0]} for r in body["items"]] == exp[key], cmd
    body = _json(["audit", "pairings"], tiny_cli, tmp_path)
    assert {k: body[k] for k in exp["pairing"]} == exp["pairing"]
    for person in ("C1", "D2", "M12"):
        body = _json(["audit", "impact", person], tiny_cli, tmp_path)
        assert body["person_id"] == person and body["items"] == exp["impact"][person]


def test_audit_filters_table_and_csv(tiny_cli: dict[str, str], tmp_path: Path) -> None:
    body = _json(["audit", "households", "--status", "uncovered", "--reason", "no_delegate",
                  "--township-id", "T1"], tiny_cli, tmp_path)
    assert [r["household_id"] for r in body["items"]] == ["H045", "H047", "H049",
                                                          "H046", "H048", "H050"]
    r = run(["audit", "delegates", "--as-of", "2026-06-30"], tiny_cli, tmp_path)
    assert "陈金兰" in r.stdout and "too_few_members" in r.stdout
    r = run(["audit", "members", "--as-of", "2026-06-30", "--problem", "no_delegate",
             "--format", "csv"],
            tiny_cli, tmp_path)
    lines = r.stdout.splitlines()
    assert lines[0] == "\ufeffmember_id,name,township_id,household_count,delegate_ids,problems"
    assert [line.split(",")[0] for line in lines[1:]] == ["M16", "M17", "M19"]
    r = run(["audit", "households", "--status", "lost"], tiny_cli, tmp_path)
    assert r.returncode == 2 and "lost" in r.stderr
    r = run(["audit", "impact", "NOBODY"], tiny_cli, tmp_path)
    assert r.returncode == 1 and "NOBODY" in r.stderr


def test_summary_counts_statuses(tiny_cli: dict[str, str], tmp_path: Path) -> None:
    body = _json(["summary"], tiny_cli, tmp_path)
    assert body["households_by_status"] == {"covered": 39, "stale": 3, "uncovered": 17}
    assert body["uncovered_by_reason"] == {"no_member": 3, "member_inactive": 3, "no_delegate": 8,
                                           "no_committee_member": 3}
    t2 = _json(["summary", "--township-id", "T2"], tiny_cli, tmp_path)
    assert t2["townships"] == 1 and t2["villages"] == 2 and t2["township_id"] == "T2"


def test_an_import_that_loses_neo4j_says_what_was_written_and_what_to_do() -> None:
    """The sentence after the store's own: nothing written (one transaction), run the same
    import again once Neo4j is back; and where the commit's answer was lost, that it may or
    may not have been written, and that importing again is harmless."""
    from neo4j.exceptions import IncompleteCommit

    from graphsvc.cli.data import _unavailable_message
    from graphsvc.errors import StoreUnavailable

    lost = StoreUnavailable("Neo4j at bolt://x:1 cannot be reached while writing the import: gone")
    said = _unavailable_message(lost, Path("county"), "neo4j", dry_run=False)
    assert said.startswith(str(lost))
    assert "Nothing of county was written" in said
    assert "Run the same import again once Neo4j is back" in said
    assert "Nothing was written (--dry-run)" in _unavailable_message(lost, Path("c"), "neo4j", True)
    try:
        try:
            raise IncompleteCommit("the connection went away during commit")
        except IncompleteCommit as cause:
            raise StoreUnavailable("Neo4j at bolt://x:1 cannot be reached") from cause
    except StoreUnavailable as exc:
        said = _unavailable_message(exc, Path("county"), "neo4j", dry_run=False)
    assert "may or may not have been written" in said and "changes nothing" in said


def test_refresh_is_noticed_by_every_process(cli_env: dict[str, str], tiny_dir: Path,
                                             tmp_path: Path) -> None:
    """After a hand edit, `graphsvc refresh` moves the data version on with a change no process
    can mend from: whatever any process kept is computed afresh."""
    assert run(["import", str(tiny_dir)], cli_env, tmp_path).returncode == 0
    settings = Settings(data_dir=Path(cli_env.get("GRAPHSVC_DATA_DIR", tmp_path / "none")),
                        neo4j_uri=cli_env.get("GRAPHSVC_NEO4J_URI"),
                        neo4j_password=cli_env.get("GRAPHSVC_NEO4J_PASSWORD"))
    with open_store(settings) as store:
        before = store.data_version()
        assert store.changes(before) is not None  # nothing written since: an empty change
    r = run(["refresh"], cli_env, tmp_path)
    assert r.returncode == 0, r.stderr
    with open_store(settings) as store:
        after = store.data_version()
        assert after != before and after in r.stdout
        assert store.changes(before) is None  # "everything": kept results cannot be mended
        assert store.changes(after) is not None


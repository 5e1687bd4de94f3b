"""The coverage-over-time page: the body of ``GET /api/v1/trends`` drawn as inline SVG.

No script and nothing from the network: two stacked-area charts (all households, focus
households) of the shares covered, stale and uncovered by reason per step, a legend, and
the same figures as a table. Every text that comes from the data (township names, ids,
dates) is HTML-escaped; hovering a step shows its figures (an SVG ``<title>``).
"""

from __future__ import annotations

from typing import Any

from graphsvc.model import FOCUS_CATEGORIES, REASONS, Category, TrendStep, UncoveredReason, label_of
from visual.render import Link, esc, served_link
from visual.views import (
    COVERED,
    COVERED_ZH,
    REASON_COLOR,
    STALE,
    STALE_ZH,
    UNCOVERED_ZH,
    reason_zh,
)

# bottom to top: covered, stale, then the uncovered reasons
SERIES = [("covered", COVERED, COVERED_ZH), ("stale", STALE, STALE_ZH)] + [
    (r, REASON_COLOR[r], reason_zh(r)) for r in REASONS]

# a line ending in "\" goes on in the next (kept within 100 columns; the CSS is the same)
CSS = """
body{margin:0 auto;max-width:1100px;padding:12px 18px;\
font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;\
color:#222;background:#fafafa}
h1{font-size:22px}h2{font-size:17px;margin-top:26px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:right}th{background:#eef2f7}\
td.day{text-align:left}
a{color:#1a4f9c}.muted{color:#666;font-size:13px}
.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
svg.chart{background:#fff;border:1px solid #ddd}
svg.chart text{font-size:11px;fill:#444}
svg.chart rect.step{fill:transparent}svg.chart rect.step:hover{fill:rgba(0,0,0,.08)}
form.period{background:#fff;border:1px solid #ddd;padding:8px 12px;font-size:14px}
form.period input,form.period select{margin:0 10px 0 4px}
"""

W, H = 1000, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 44


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _x(i: int, n: int) -> float:
    span = W - LEFT - RIGHT
    return LEFT + (span / 2 if n == 1 else span * i / (n - 1))


def _y(share: float) -> float:
    return TOP + (H - TOP - BOTTOM) * (1 - share)


def _tip(day: str, block: dict[str, Any]) -> str:
    lines = [f"{day} · 在册 {block['households']} 户"]
    for key, _, label in SERIES:
        n = block[key] if key in ("covered", "stale") else block["uncovered_by_reason"][key]
        lines.append(f"{label}：{n}（{_pct(block['shares'][key])}）")
    return "\n".join(lines)


def chart(steps: list[dict[str, Any]], which: str, label: str) -> str:
    """One stacked-area SVG of the shares of ``which`` (``all`` or ``focus``) per step."""
    n = len(steps)
    parts = [(f'<svg class="chart" data-chart="{esc(which)}" role="img" '
              f'aria-label="{esc(label)}" viewBox="0 0 {W} {H}" width="100%">')]
    for share in (0, 0.25, 0.5, 0.75, 1):  # grid and y axis
        y = _y(share)
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#e0e0e0"/><text x="{LEFT - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{int(share * 100)}%</text>')
    drawn = [i for i, s in enumerate(steps) if s[which]["households"]]
    below = {i: 0.0 for i in drawn}
    for key, color, name in SERIES:
        tops = {i: below[i] + (steps[i][which]["shares"][key] or 0.0) for i in drawn}
        if drawn:
            if len(drawn) == 1:  # one date: a bar, not a line
                i = drawn[0]
                x0, x1 = _x(i, n) - 8, _x(i, n) + 8
                pts = [(x0, tops[i]), (x1, tops[i]), (x1, below[i]), (x0, below[i])]
            else:
                pts = ([(_x(i, n), tops[i]) for i in drawn]
                       + [(_x(i, n), below[i]) for i in reversed(drawn)])
            coords = " ".join(f"{x:.1f},{_y(s):.1f}" for x, s in pts)
            parts.append(f'<polygon class="series" data-series="{esc(key)}" points="{coords}" '
                         f'fill="{color}" fill-opacity="0.85" stroke="{color}">'
                         f"<title>{esc(name)}</title></polygon>")
        below = tops
    every = max(1, -(-n // 12))  # at most about 12 date labels
    for i, s in enumerate(steps):
        x = _x(i, n)
        if (i % every == 0 and n - 1 - i >= every / 2) or i == n - 1:
            anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
            parts.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="{anchor}">'
                         f"{esc(s['as_of'])}</text>")
        half = (W - LEFT - RIGHT) / max(1, n - 1) / 2 if n > 1 else 20
        parts.append(f'<rect class="step" x="{x - half:.1f}" y="{TOP}" width="{2 * half:.1f}" '
                     f'height="{H - TOP - BOTTOM}"><title>{esc(_tip(s["as_of"], s[which]))}'
                     "</title></rect>")
    if not drawn:
        parts.append(f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">没有在册户</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(steps: list[dict[str, Any]], which: str) -> str:
    head = (f"<tr><th>日期</th><th>在册户</th><th>{COVERED_ZH}</th><th>{STALE_ZH}</th>"
            f"<th>{UNCOVERED_ZH}</th>"
            + "".join(f"<th>{esc(UncoveredReason(r).label)}</th>" for r in REASONS) + "</tr>")
    rows = []
    for s in steps:
        b = s[which]
        rows.append(
            f"<tr><td class=day>{esc(s['as_of'])}</td><td>{b['households']}</td>"
            f"<td>{b['covered']}（{_pct(b['shares']['covered'])}）</td>"
            f"<td>{b['stale']}（{_pct(b['shares']['stale'])}）</td>"
            f"<td>{b['uncovered']}（{_pct(b['shares']['uncovered'])}）</td>"
            + "".join(f"<td>{b['uncovered_by_reason'][r]}</td>" for r in REASONS) + "</tr>")
    return f'<table data-table="{esc(which)}">{head}{"".join(rows)}</table>'


def trends_page(body: dict[str, Any], *, place_name: str | None = None, link: Link = served_link,
                form_action: str | None = None) -> str:
    """The page for a trends body. ``place_name``: the township's (or village's) name;
    ``form_action``: where the period form sends (None: no form, as in a written file);
    ``link``: links to the index and the township's overview (an empty link is left out)."""
    town = body.get("township_id")
    place = body.get("village_id") or town
    title = f"覆盖率趋势 · {place_name or place or '全县'}"
    targets = [(link("index", None), "返回图示首页")]
    if town:
        targets.append((link("township", town), "乡镇概览"))
    nav = [f'<a href="{esc(url)}">{text}</a>' for url, text in targets if url]
    form = ""
    if form_action is not None:
        hidden = "".join(f'<input type="hidden" name="{k}" value="{esc(body[k])}">'
                         for k in ("township_id", "village_id") if body.get(k))
        options = "".join(f'<option value="{k}"{" selected" if body["step"] == k else ""}>'
                          f"{k.label}</option>" for k in TrendStep)
        form = (f'<form class="period" method="get" action="{esc(form_action)}">{hidden}'
                f'从<input type="date" name="from" value="{esc(body["from"])}">'
                f'到<input type="date" name="to" value="{esc(body["to"])}">'
                f'步长<select name="step">{options}</select><button type="submit">查看</button>'
                "</form>")
    legend = '<p class="legend">' + "".join(
        f'<span><i style="background:{color}"></i>{esc(name)}</span>'
        for _, color, name in SERIES) + "</p>"
    steps = body["steps"]
    parts = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="muted">{esc(body["from"])} 至 {esc(body["to"])} · 每'
        f'{esc(label_of(TrendStep, body["step"]))}一个点 · 共 {len(steps)} 个日期 · '
        f'超过 {esc(body["stale_after_days"])} 天未联系为“{STALE_ZH}”'
        + (" · " + " · ".join(nav) if nav else "") + "</p>",
        form, legend,
        "<h2>全部在册户</h2>", chart(steps, "all", "全部在册户的覆盖构成"),
        f"<h2>重点户（{'、'.join(Category(c).label for c in FOCUS_CATEGORIES)}）</h2>",
        chart(steps, "focus", "重点户的覆盖构成"),
        "<h2>逐期数字 · 全部在册户</h2>", _table(steps, "all"),
        "<h2>逐期数字 · 重点户</h2>", _table(steps, "focus"),
    ]
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width"><title>{esc(title)}</title>'
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>")


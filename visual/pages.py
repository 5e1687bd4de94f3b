"""The served pages around the diagrams: the index and the login page (plain, offline HTML)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from graphsvc.model import DelegateProblem, label_of
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from visual.cache import cached
from visual.render import Link, esc, served_link
from visual.views import (
    COVERED_ZH,
    DELEGATE_ZH,
    MEMBER_ZH,
    STALE_ZH,
    TOWNSHIP_ZH,
    UNCOVERED_ZH,
    township_counts,
)

# a line ending in "\" goes on in the next (kept within 100 columns; the CSS is the same)
PAGE_CSS = """
body{margin:0 auto;max-width:1100px;padding:12px 18px;\
font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;\
color:#222;background:#fafafa}
h1{font-size:22px}h2{font-size:17px;margin-top:26px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{border:1px solid #ddd;padding:5px 8px;text-align:left}th{background:#eef2f7}
td.num{text-align:right}a{color:#1a4f9c}.bad{color:#b71c1c}.muted{color:#666;font-size:13px}
form.login{background:#fff;border:1px solid #ddd;padding:18px;max-width:460px}
form.login input[type=password]{width:100%;padding:6px;margin:8px 0;font-size:15px;\
box-sizing:border-box}
button{padding:6px 14px;font-size:14px}.err{color:#b71c1c}
"""


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width"><title>{esc(title)}</title>'
            f"<style>{PAGE_CSS}</style></head><body>{body}</body></html>")


def login_page(error: str | None = None, *, form: str = "") -> str:
    """A form that exchanges an API key for a session cookie; ``form``: the hidden field that
    shows the form comes from this site (``graphsvc.api.csrf``)."""
    err = f'<p class="err">{esc(error)}</p>' if error else ""
    return _page("登录 · graphsvc 图示", (
        "<h1>graphsvc 图示 · 登录</h1>"
        '<form class="login" method="post" action="/visual/login">'
        "<label>API 密钥（gs_…，由管理员用 <code>graphsvc keys create</code> 生成）"
        '<input type="password" name="key" autocomplete="off" required autofocus></label>'
        f"{form}{err}<button type=\"submit\">登录</button>"
        '<p class="muted">密钥只用于换取本浏览器的会话 Cookie，不会保存在页面中。</p>'
        "</form>"))


def refused_page(reason: str, *, again: str, again_label: str) -> str:
    """A form refused (not sent by this site's own page): why, and a link to start again."""
    lines = "".join(f'<p class="err">{esc(line)}</p>' for line in reason.splitlines())
    return _page("已拒绝 · graphsvc 图示", (
        f"<h1>graphsvc 图示</h1>{lines}"
        f'<p><a href="{esc(again)}">{esc(again_label)}</a></p>'))


def index_page(store: Store, *, as_of: dt.date, rules: RuleSettings,
               townships: Collection[str] | None = None, link: Link = served_link,
               form: str = "") -> str:
    """Townships with their coverage and links to their views; committee members' chains and
    delegates with gaps. ``townships``: the key's townships (None: every township); ``form``:
    the hidden field of the logout form (``graphsvc.api.csrf``)."""
    store = cached(store)
    net = store.pairing_network(as_of)
    towns = [t for t in net["townships"] if townships is None or t["id"] in townships]
    rows = []
    by_town = township_counts(store, as_of, rules, [t["id"] for t in towns])
    for t in towns:
        c = by_town[t["id"]]
        share = f"{c['covered'] / c['total']:.0%}" if c["total"] else "—"
        rows.append(
            f"<tr><td>{esc(t.get('name') or t['id'])}<br>"
            f"<span class=muted>{esc(t['id'])}</span></td>"
            f"<td class=num>{c['total']}</td><td class=num>{c['covered']}</td>"
            f"<td class=num>{share}</td>"
            f"<td class=num>{c['stale']}</td><td class='num{' bad' if c['uncovered'] else ''}'>"
            f"{c['uncovered']}</td><td><a href=\"{esc(link('township', t['id']))}\">乡镇概览</a> · "
            f"<a href=\"{esc(link('pairings', t['id']))}\">结对图</a> · "
            f"<a href=\"{esc(link('trends', t['id']))}\">覆盖趋势</a></td></tr>")
    parts = [(f"<h1>三联系与结对帮扶图示</h1><p class=muted>截至 {esc(as_of.isoformat())} · "
              '<form method="post" action="/visual/logout" style="display:inline">'
              f'{form}<button type="submit">退出</button></form></p>')]
    if townships is None:
        parts.append(f'<p><a href="{esc(link("township", None))}">全县概览</a> · '
                     f'<a href="{esc(link("pairings", None))}">全县结对图</a> · '
                     f'<a href="{esc(link("trends", None))}">全县覆盖趋势</a></p>')
    parts.append(f"<h2>乡镇覆盖情况</h2><table><tr><th>{TOWNSHIP_ZH}</th><th>在册户</th>"
                 f"<th>{COVERED_ZH}</th><th>覆盖率</th><th>{STALE_ZH}</th><th>{UNCOVERED_ZH}</th>"
                 "<th>图示</th></tr>"
                 + "".join(rows) + "</table>")
    if townships is None:
        cms = store.committee_member_audit(as_of, rules)
        parts.append("<h2>县委委员联系链</h2><ul>" + "".join(
            f"<li><a href=\"{esc(link('chain', c['committee_member_id']))}\">"
            f"{esc(c.get('name') or c['committee_member_id'])}</a> · "
            f"{DELEGATE_ZH} {c['delegate_count']} · "
            f"覆盖户 {c['households_reached']}</li>" for c in cms) + "</ul>")
    delegates: list[dict[str, Any]] = []
    for t in ([None] if townships is None else sorted(townships)):
        delegates += store.delegate_audit(as_of, rules, township_id=t)
    gaps = [r for r in delegates if r["status"] == "gap"]
    parts.append(f"<h2>有缺口的{DELEGATE_ZH}（{len(gaps)} / {len(delegates)}）</h2><table>"
                 f"<tr><th>{DELEGATE_ZH}</th><th>联系{MEMBER_ZH}</th><th>联系户</th><th>问题</th></tr>"
                 + "".join(
                     f"<tr><td><a href=\"{esc(link('delegate', r['delegate_id']))}\">"
                     f"{esc(r.get('name') or r['delegate_id'])}</a></td>"
                     f"<td class=num>{r['member_count']}</td>"
                     f"<td class=num>{r['households_reached']}</td>"
                     "<td class=bad>"
                     f"{esc('、'.join(label_of(DelegateProblem, p) for p in r['problems']))}"
                     "</td></tr>" for r in gaps) + "</table>")
    return _page("graphsvc 图示", "".join(parts))

"""One diagram page: a pyvis network made safe to open on a cut-off intranet.

``Diagram`` collects nodes and edges (capped, with an honest "N more not shown"
node), then ``html()`` renders pyvis 0.3.2's template with vis-network inlined
and repairs what pyvis gets wrong for us:

- every mode links Bootstrap from a CDN: those tags are removed (our own CSS is
  small and inline), so the page loads nothing from the network;
- ``heading`` and node titles are not escaped by pyvis: we pass no heading (ours
  is escaped HTML) and no ``title``; hover text travels as the ``tip`` field of
  the JSON data (Jinja's ``tojson`` escapes ``<``, ``>``, ``&`` and ``'``) and is
  turned into tooltips with ``textContent``, so a name is shown, never run;
- pages are returned as ``str``; writers encode them as UTF-8 themselves
  (pyvis' ``write_html`` uses the platform encoding).
"""

from __future__ import annotations

import html as _html
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pyvis.network import Network

MAX_NODES = 300  # nodes drawn per page before "N more not shown" takes over

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'

# any reference that would make the browser fetch from the network
EXTERNAL_REF = re.compile(
    r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//|@import\s+url\(\s*["']?(?:https?:)?//"""
    r"""|url\(\s*["']?(?:https?:)?//""",
    re.IGNORECASE)

_BOOTSTRAP = re.compile(
    r"<link\b[^>]*bootstrap[^>]*>|<script\b[^>]*bootstrap[^>]*>\s*</script>", re.IGNORECASE)
_EMPTY_HEADING = re.compile(r"<center>\s*<h1>\s*</h1>\s*</center>")

Link = Callable[[str, str | None], str]
"""link(view, id) -> the URL a click on a node opens."""


def served_link(view: str, rid: str | None) -> str:
    """Links between the pages served under ``/visual`` (``index``: the index page)."""
    if view == "index":
        return "/visual/"
    return f"/visual/{view}" + (f"/{quote(rid, safe='')}" if rid else "")


def file_link(view: str, rid: str | None) -> str:
    """Links between pages written side by side as files (``chain-C1.html``); no index."""
    if view == "index":
        return ""
    return quote(f"{view}-{rid}.html" if rid else f"{view}.html", safe="")


_LABEL_INSIDE = {"box", "ellipse", "circle", "database", "text"}


def _dark(color: str) -> bool:
    """Whether white text reads better than black on this #rrggbb colour."""
    try:
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    except ValueError:
        return False
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


def esc(value: Any) -> str:
    return _html.escape("" if value is None else str(value), quote=True)


@dataclass
class LegendItem:
    label: str
    color: str
    shape: str = "dot"  # dot, box, diamond, triangle, line, dashed
    border: str | None = None


@dataclass
class Diagram:
    """Nodes and edges of one page, at most ``max_nodes`` of them drawn."""

    title: str
    layout: str = "physics"  # "physics", "UD" (top-down levels) or "LR" (left-right levels)
    max_nodes: int = MAX_NODES
    net: Network = field(init=False)
    _ids: set[str] = field(default_factory=set, init=False)
    _edges: set[tuple[str, str]] = field(default_factory=set, init=False)
    _hidden: dict[str | None, list[str]] = field(default_factory=dict, init=False)
    _hidden_level: dict[str | None, int | None] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.net = Network(height="640px", width="100%", directed=True, cdn_resources="in_line")

    def __contains__(self, nid: str) -> bool:
        return nid in self._ids

    @property
    def node_count(self) -> int:
        return len(self._ids)

    @property
    def edge_count(self) -> int:
        return len(self._edges)

    def node(self, nid: str, label: str, *, tip: str, color: str, shape: str = "dot",
             level: int | None = None, url: str | None = None, size: int | None = None,
             border: str | None = None, border_width: int = 1, dashes: bool = False,
             parent: str | None = None, force: bool = False) -> bool:
        """Add a node; False (and counted as not shown, under ``parent``) once the cap is hit."""
        if nid in self._ids:
            return True
        if not force and len(self._ids) >= self.max_nodes:
            self._hidden.setdefault(parent, []).append(nid)
            self._hidden_level.setdefault(parent, level)
            return False
        opts: dict[str, Any] = {
            "tip": tip,
            "color": {"background": color, "border": border or color,
                      "highlight": {"background": color, "border": "#000000"},
                      "hover": {"background": color, "border": "#000000"}},
            "borderWidth": border_width,
            "font": {"face": FONT, "size": 14,
                     "color": "#ffffff" if shape in _LABEL_INSIDE and _dark(color) else "#222222"},
        }
        if level is not None:
            opts["level"] = level
        if url is not None:
            opts["url"] = url
        if size is not None:
            opts["size"] = size
        if dashes:
            opts["shapeProperties"] = {"borderDashes": [6, 4]}
        self.net.add_node(nid, label=label, shape=shape, **opts)
        self._ids.add(nid)
        return True

    def edge(self, a: str, b: str, *, color: str = "#888888", dashes: bool = False,
             width: float = 1.5, tip: str | None = None, arrows: bool = True) -> None:
        """Link two drawn nodes (an edge to a node not drawn is left out)."""
        if a not in self._ids or b not in self._ids or (a, b) in self._edges:
            return
        opts: dict[str, Any] = {"color": color, "dashes": dashes, "width": width,
                                "arrows": "to" if arrows else ""}
        if tip:
            opts["tip"] = tip
        self.net.edges.append({"from": a, "to": b, **opts})  # add_edge is quadratic
        self._edges.add((a, b))

    def hidden_count(self) -> int:
        return sum(len(v) for v in self._hidden.values())

    def _add_more_nodes(self) -> None:
        """One "N more not shown" node per parent whose children did not fit (one overall
        when there are many such parents)."""
        groups = [(p, ids) for p, ids in self._hidden.items() if ids]
        if not groups:
            return
        if len(groups) > 20:
            groups = [(None, [i for _, ids in groups for i in ids])]
        # a hierarchical layout needs a level on every node or on none
        levels = [lv for lv in self._hidden_level.values() if lv is not None]
        deepest = max(levels) if levels else None
        for parent, ids in groups:
            nid = f"__more__:{parent or ''}"
            shown_under = parent if parent in self._ids else None
            self.node(nid, f"另有 {len(ids)} 个未显示",
                      tip=(f"另有 {len(ids)} 个节点因页面上限（{self.max_nodes} 个）未显示"
                           f"\n{len(ids)} more not shown (page limit {self.max_nodes} nodes)"),
                      color="#eeeeee", border="#777777", shape="box", dashes=True,
                      level=self._hidden_level.get(parent, deepest)
                      if len(groups) > 1 or parent is not None else deepest, force=True)
            if shown_under:
                self.edge(shown_under, nid, color="#aaaaaa", dashes=True)

    # -- the page ------------------------------------------------------------------------------

    def _options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "interaction": {"hover": True, "tooltipDelay": 120, "navigationButtons": False,
                            "keyboard": False},
            "edges": {"smooth": False, "arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}},
            "nodes": {"font": {"face": FONT}},
        }
        if self.layout in ("UD", "LR"):
            opts["layout"] = {"hierarchical": {
                "enabled": True, "direction": self.layout, "sortMethod": "directed",
                "levelSeparation": 170 if self.layout == "UD" else 420,
                "nodeSpacing": 110 if self.layout == "UD" else 60,
                "shakeTowards": "roots"}}
            opts["physics"] = {"enabled": False}
        else:
            opts["physics"] = {"enabled": True, "solver": "barnesHut",
                               "barnesHut": {"gravitationalConstant": -6000, "springLength": 160},
                               "stabilization": {"enabled": True, "iterations": 300, "fit": True}}
        return opts

    def html(self, heading: str, *, subtitle: str = "", legend: Iterable[LegendItem] = (),
             notes: Iterable[str] = (), links: Iterable[tuple[str, str]] = ()) -> str:
        """The whole page as a string (UTF-8 when written; nothing fetched from the network)."""
        self._add_more_nodes()
        self.net.options = self._options()  # a dict: pyvis json.dumps it (our constants only)
        page = self.net.generate_html()
        page = _BOOTSTRAP.sub("", page)
        page = _EMPTY_HEADING.sub("", page)
        page = page.replace("<html>", '<!DOCTYPE html>\n<html lang="zh-CN">', 1)
        head = (f'<meta charset="utf-8">\n<meta name="viewport" content="width=device-width">\n'
                f"<title>{esc(heading)}</title>\n<style>{CSS}</style>")
        page = page.replace('<meta charset="utf-8">', head, 1)
        top = _header(heading, subtitle, legend, notes, links, self)
        page = page.replace('<div class="card" style="width: 100%">',
                            top + '<div class="card" style="width: 100%">', 1)
        at = page.rfind("</body>")
        page = page[:at] + f"<script>{CLIENT_JS}</script>\n" + page[at:]
        found = EXTERNAL_REF.search(page)
        if found:  # never ship a page that would reach out to the internet
            raise AssertionError(f"external reference in a diagram page: {found.group(0)!r}")
        return page


def _swatch(item: LegendItem) -> str:
    cls = {"dot": "sw dot", "box": "sw box", "diamond": "sw diamond", "triangle": "sw tri",
           "line": "sw line", "dashed": "sw line dashed"}.get(item.shape, "sw dot")
    border = item.border or item.color
    if item.shape in ("line", "dashed"):
        style = f"border-top-color:{item.color}"
    else:
        style = f"background:{item.color};border-color:{border}"
    return f'<li><span class="{cls}" style="{esc(style)}"></span>{esc(item.label)}</li>'


def _header(heading: str, subtitle: str, legend: Iterable[LegendItem], notes: Iterable[str],
            links: Iterable[tuple[str, str]], d: Diagram) -> str:
    nav = "".join(f'<a href="{esc(url)}">{esc(text)}</a>' for text, url in links if url)
    hidden = d.hidden_count()
    counts = f"{d.node_count} 个节点 · {d.edge_count} 条连线"
    if hidden:
        counts += f" · 另有 {hidden} 个未显示（上限 {d.max_nodes}）"
    return (
        '<header class="gs-head">'
        + (f'<nav class="gs-nav">{nav}</nav>' if nav else "")
        + f"<h1>{esc(heading)}</h1>"
        + (f'<p class="gs-sub">{esc(subtitle)}</p>' if subtitle else "")
        + f'<p class="gs-counts" id="gs-counts">{esc(counts)}</p>'
        + '<ul class="gs-legend">' + "".join(_swatch(i) for i in legend) + "</ul>"
        + "".join(f'<p class="gs-note">{esc(n)}</p>' for n in notes)
        + '<p class="gs-hint">悬停查看详情，点击节点打开其视图 · hover for details, click a node to open its view</p>'
        + "</header>")


CSS = """
body{margin:0;padding:0 12px 12px;font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;color:#222;background:#fafafa}
.gs-head h1{font-size:20px;margin:10px 0 2px}
.gs-sub,.gs-counts,.gs-note,.gs-hint{margin:2px 0;font-size:13px;color:#555}
.gs-note{color:#8a1c1c}
.gs-nav a{margin-right:14px;font-size:13px;color:#1a4f9c}
.gs-legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:13px}
.gs-legend li{display:flex;align-items:center;gap:5px}
.sw{display:inline-block;width:12px;height:12px;border:2px solid #999}
.sw.dot{border-radius:50%}
.sw.diamond{transform:rotate(45deg);width:10px;height:10px}
.sw.tri{width:0;height:0;border-left:7px solid transparent!important;border-right:7px solid transparent!important;border-bottom:12px solid currentColor;background:none!important}
.sw.line{width:22px;height:0;border:0;border-top:3px solid #888}
.sw.line.dashed{border-top-style:dashed}
.card{background:#fff}
#mynetwork{float:none!important;height:calc(100vh - 190px)!important;min-height:420px}
div.vis-tooltip{white-space:pre-line;font-family:inherit;font-size:13px;max-width:420px}
.gs-tip{white-space:pre-line}
"""

# tooltips built with textContent (never innerHTML); clicking a node opens its view;
# the network is exposed as window.network for tests and curious users
CLIENT_JS = """
(function () {
  var net = window.network;
  if (!net) { return; }
  function tipElement(text) {
    var el = document.createElement("div");
    el.className = "gs-tip";
    el.textContent = text;
    return el;
  }
  var nodeTips = [];
  nodes.forEach(function (n) { if (n.tip) { nodeTips.push({id: n.id, title: tipElement(n.tip)}); } });
  nodes.update(nodeTips);
  var edgeTips = [];
  edges.forEach(function (e) { if (e.tip) { edgeTips.push({id: e.id, title: tipElement(e.tip)}); } });
  edges.update(edgeTips);
  net.on("click", function (params) {
    if (!params.nodes || !params.nodes.length) { return; }
    var n = nodes.get(params.nodes[0]);
    if (n && typeof n.url === "string" && n.url.indexOf(":") === -1) { window.location.href = n.url; }
  });
  net.on("hoverNode", function (params) {
    var n = nodes.get(params.node);
    document.getElementById("mynetwork").style.cursor = (n && n.url) ? "pointer" : "default";
  });
  net.on("blurNode", function () { document.getElementById("mynetwork").style.cursor = "default"; });
  net.once("stabilizationIterationsDone", function () { net.setOptions({physics: false}); });
  net.once("afterDrawing", function () { document.body.setAttribute("data-drawn", "1"); });
})();
"""


def write_page(path: str, page: str) -> None:
    """Write a page as UTF-8 whatever the platform's encoding."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(page)


def json_attr(value: Any) -> str:
    """A value as JSON, safe inside an HTML attribute or a script."""
    return esc(json.dumps(value, ensure_ascii=False))

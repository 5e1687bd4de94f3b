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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import quote, urlencode

# pyvis 0.3.2 ships neither types nor stubs (none on PyPI either): Network is Any to mypy
from pyvis.network import Network  # type: ignore[import-untyped]

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


class Page(str):
    """A diagram page's HTML, and the households it draws with their personal data (their
    heads' names, their requests: unmasked for a key that may see them), for the log of
    reads of personal data."""

    households: frozenset[str]

    def __new__(cls, html: str, households: Iterable[str] = ()) -> Self:
        page = super().__new__(cls, html)
        page.households = frozenset(households)
        return page


def served_link(view: str, rid: str | None) -> str:
    """Links between the pages served under ``/visual`` (``index``: the index page;
    ``trends``: the coverage-over-time chart of a township, or of the county). The id is
    percent-encoded whole ('/', '?', '#', '%' included): the server reads it back from its
    one path segment. An id '.' or '..' goes in the query (``?rid=``), since a browser takes
    such a segment, however encoded, as a step in the path."""
    if view == "index":
        return "/visual/"
    if view == "trends":
        return "/visual/trends" + (f"?township_id={quote(rid, safe='')}" if rid else "")
    if rid in (".", ".."):
        return f"/visual/{view}?" + urlencode({"rid": rid})
    return f"/visual/{view}" + (f"/{quote(rid, safe='')}" if rid else "")


def with_query(url: str, query: str) -> str:
    """A link with more query parameters (``query``: already encoded, ``a=1&b=2``)."""
    return f"{url}{'&' if '?' in url else '?'}{query}" if query else url


def file_link(view: str, rid: str | None) -> str:
    """Links between pages written side by side as files (``chain-C1.html``); no index and
    no trends chart (an empty link is left out)."""
    if view in ("index", "trends"):
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
class Layer:
    """Nodes and edges a reader switches on and off on the page (a checkbox; ``?PARAM=1`` in
    the address switches it on at load), with their own legend and notes, shown only while
    the layer is on. Drawn with ``with diagram.layer(name): ...``."""

    name: str
    label: str  # the checkbox's words
    param: str  # the query parameter that switches it on: ?param=1
    on: bool = False  # on when the page opens
    legend: list[LegendItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    edge_ends: set[tuple[str, str]] = field(default_factory=set)  # (from, to) of ``edges``
    hidden: int = 0  # nodes left out at the cap


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
    layers: dict[str, Layer] = field(default_factory=dict, init=False)
    _drawing: Layer | None = field(default=None, init=False)
    households: set[str] = field(default_factory=set, init=False)  # drawn, layers included

    def __post_init__(self) -> None:
        self.net = Network(height="640px", width="100%", directed=True, cdn_resources="in_line")

    def __contains__(self, nid: str) -> bool:
        return nid in self._ids or (self._drawing is not None and nid in self._drawing.ids)

    def add_layer(self, layer: Layer) -> Layer:
        """Register a layer (see ``Layer``); draw into it with ``layer(name)``."""
        self.layers[layer.name] = layer
        return layer

    @contextmanager
    def layer(self, name: str) -> Iterator[Layer]:
        """While open, ``node`` and ``edge`` add to the layer ``name``, not to the page's base
        drawing; nodes of the base may be linked to (a node already drawn is not drawn again)."""
        before, self._drawing = self._drawing, self.layers[name]
        try:
            yield self._drawing
        finally:
            self._drawing = before

    @property
    def node_count(self) -> int:
        return len(self._ids)

    @property
    def edge_count(self) -> int:
        return len(self._edges)

    def node(self, nid: str, label: str, *, tip: str, color: str, shape: str = "dot",
             level: int | None = None, url: str | None = None, size: int | None = None,
             border: str | None = None, border_width: int = 1, dashes: bool = False,
             parent: str | None = None, force: bool = False, household: bool = False) -> bool:
        """Add a node; False (and counted as not shown, under ``parent``) once the cap is hit.
        ``household``: the node is a household, drawn with its personal data."""
        if nid in self:
            return True
        drawing = self._drawing
        if drawing is not None:
            if not force and len(drawing.ids) >= self.max_nodes:
                drawing.hidden += 1
                return False
        elif not force and len(self._ids) >= self.max_nodes:
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
        if drawing is not None:  # as pyvis would hand it to vis-network; placed near parent
            drawing.nodes.append({**opts, "id": nid, "label": label, "shape": shape,
                                  **({"near": parent} if parent else {})})
            drawing.ids.add(nid)
        else:
            self.net.add_node(nid, label=label, shape=shape, **opts)
            self._ids.add(nid)
        if household:
            self.households.add(nid)
        return True

    def edge(self, a: str, b: str, *, color: str = "#888888", dashes: bool = False,
             width: float = 1.5, tip: str | None = None, arrows: bool = True,
             curved: bool = False) -> None:
        """Link two drawn nodes (an edge to a node not drawn is left out); ``curved``: bent,
        so that it stays apart from a straight edge between the same levels."""
        drawing = self._drawing
        if a not in self or b not in self:
            return
        opts: dict[str, Any] = {"color": color, "dashes": dashes, "width": width,
                                "arrows": "to" if arrows else ""}
        if tip:
            opts["tip"] = tip
        if curved:
            opts["smooth"] = {"enabled": True, "type": "curvedCW", "roundness": 0.3}
        if drawing is not None:
            if (a, b) in self._edges or (a, b) in drawing.edge_ends:
                return
            drawing.edge_ends.add((a, b))
            drawing.edges.append({"id": f"{drawing.name}:{len(drawing.edges)}", "from": a,
                                  "to": b, **opts})
            return
        if (a, b) in self._edges:
            return
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
             notes: Iterable[str] = (), links: Iterable[tuple[str, str]] = ()) -> Page:
        """The whole page as a string (UTF-8 when written; nothing fetched from the network),
        knowing the households it drew."""
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
        layers = {name: {"nodes": ly.nodes, "edges": ly.edges, "param": ly.param, "on": ly.on,
                         "physics": self.layout == "physics"} for name, ly in self.layers.items()}
        page = (page[:at] + f"<script>window.gsLayers = {script_json(layers)};</script>\n"
                f"<script>{CLIENT_JS}</script>\n" + page[at:])
        found = EXTERNAL_REF.search(page)
        if found:  # never ship a page that would reach out to the internet
            raise AssertionError(f"external reference in a diagram page: {found.group(0)!r}")
        return Page(page, self.households)


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
    toggles, parts = "", ""
    for ly in d.layers.values():
        toggles += (f'<label class="gs-toggle"><input type="checkbox" data-layer="{esc(ly.name)}"'
                    f'{" checked" if ly.on else ""}> {esc(ly.label)}'
                    f'<span class="gs-param">（地址加 ?{esc(ly.param)}=1）</span></label>')
        extra = [f"另有 {ly.hidden} 个未显示（上限 {d.max_nodes}）"] if ly.hidden else []
        parts += (f'<div class="gs-layer" data-layer-part="{esc(ly.name)}"'
                  f'{"" if ly.on else " hidden"}>'
                  + ('<ul class="gs-legend">' + "".join(_swatch(i) for i in ly.legend) + "</ul>"
                     if ly.legend else "")
                  + "".join(f'<p class="gs-note gs-layer-note">{esc(n)}</p>'
                            for n in [*ly.notes, *extra])
                  + "</div>")
    return (
        '<header class="gs-head">'
        + (f'<nav class="gs-nav">{nav}</nav>' if nav else "")
        + f"<h1>{esc(heading)}</h1>"
        + (f'<p class="gs-sub">{esc(subtitle)}</p>' if subtitle else "")
        + f'<p class="gs-counts" id="gs-counts">{esc(counts)}</p>'
        + (f'<p class="gs-toggles">{toggles}</p>' if toggles else "")
        + '<ul class="gs-legend">' + "".join(_swatch(i) for i in legend) + "</ul>"
        + "".join(f'<p class="gs-note">{esc(n)}</p>' for n in notes)
        + parts
        + ('<p class="gs-hint">悬停查看详情，点击节点打开其视图 · '
           "hover for details, click a node to open its view</p>")
        + "</header>")


# a line ending in "\" goes on in the next (kept within 100 columns; the CSS is the same)
CSS = """
body{margin:0;padding:0 12px 12px;\
font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;\
color:#222;background:#fafafa}
.gs-head h1{font-size:20px;margin:10px 0 2px}
.gs-sub,.gs-counts,.gs-note,.gs-hint{margin:2px 0;font-size:13px;color:#555}
.gs-note{color:#8a1c1c}
.gs-nav a{margin-right:14px;font-size:13px;color:#1a4f9c}
.gs-legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 16px;\
font-size:13px}
.gs-legend li{display:flex;align-items:center;gap:5px}
.sw{display:inline-block;width:12px;height:12px;border:2px solid #999}
.sw.dot{border-radius:50%}
.sw.diamond{transform:rotate(45deg);width:10px;height:10px}
.sw.tri{width:0;height:0;border-top:0!important;border-left:7px solid transparent!important;\
border-right:7px solid transparent!important;border-bottom:12px solid currentColor;\
background:none!important}
.sw.line{width:22px;height:0;border:0;border-top:3px solid #888}
.sw.line.dashed{border-top-style:dashed}
.card{background:#fff}
#mynetwork{float:none!important;height:calc(100vh - 190px)!important;min-height:420px}
div.vis-tooltip{white-space:pre-line;font-family:inherit;font-size:13px;max-width:420px}
.gs-tip{white-space:pre-line}
.gs-toggles{margin:4px 0}
.gs-toggle{font-size:14px;font-weight:bold;color:#6a1b9a;cursor:pointer;margin-right:16px}
.gs-param{font-weight:normal;font-size:12px;color:#777}
.gs-layer{border-left:4px solid #d500f9;padding-left:8px;margin:4px 0}
.gs-layer-note{color:#4a148c}
"""

# tooltips built with textContent (never innerHTML); clicking a node opens its view;
# the network is exposed as window.network for tests and curious users; a line ending in "\"
# goes on in the next (kept within 100 columns; the script is the same)
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
  nodes.forEach(function (n) { \
if (n.tip) { nodeTips.push({id: n.id, title: tipElement(n.tip)}); } });
  nodes.update(nodeTips);
  var edgeTips = [];
  edges.forEach(function (e) { \
if (e.tip) { edgeTips.push({id: e.id, title: tipElement(e.tip)}); } });
  edges.update(edgeTips);
  net.on("click", function (params) {
    if (!params.nodes || !params.nodes.length) { return; }
    var n = nodes.get(params.nodes[0]);
    if (n && typeof n.url === "string" && n.url.indexOf(":") === -1) { \
window.location.href = n.url; }
  });
  net.on("hoverNode", function (params) {
    var n = nodes.get(params.node);
    document.getElementById("mynetwork").style.cursor = (n && n.url) ? "pointer" : "default";
  });
  net.on("blurNode", function () { \
document.getElementById("mynetwork").style.cursor = "default"; });
  net.once("stabilizationIterationsDone", function () { net.setOptions({physics: false}); });
  net.once("afterDrawing", function () { document.body.setAttribute("data-drawn", "1"); });
  // layers (a repair plan...): added to and taken from the drawing by a checkbox or ?param=1
  var layers = window.gsLayers || {};
  function withTips(list) {
    return list.map(function (x) {
      var c = Object.assign({}, x);
      if (c.tip) { c.title = tipElement(c.tip); }
      return c;
    });
  }
  function setLayer(name, on, atLoad) {
    var L = layers[name];
    if (!L || !!L.shown === on) { return; }
    L.shown = on;
    if (on) {
      var placed = {};
      var add = withTips(L.nodes).map(function (n) {
        var at = n.near && (placed[n.near] || (nodes.get(n.near) ? net.getPosition(n.near) : null));
        if (at) {
          n.x = at.x + (Math.random() - 0.5) * 160;
          n.y = at.y + (Math.random() - 0.5) * 160;
          placed[n.id] = {x: n.x, y: n.y};
        }
        delete n.near;
        return n;
      });
      nodes.add(add);
      edges.add(withTips(L.edges));
      if (L.physics) {
        net.setOptions({physics: {enabled: true}});
        net.once("stabilizationIterationsDone", function () {
          net.setOptions({physics: false});
          net.fit();
          document.body.setAttribute("data-layer-" + name, L.shown ? "1" : "0");
        });
        net.stabilize(300);
      }
    } else {
      edges.remove(L.edges.map(function (e) { return e.id; }));
      nodes.remove(L.nodes.map(function (n) { return n.id; }));
    }
    document.querySelectorAll("[data-layer-part]").forEach(function (el) {
      if (el.getAttribute("data-layer-part") === name) { el.hidden = !on; }
    });
    document.querySelectorAll("input[data-layer]").forEach(function (el) {
      if (el.getAttribute("data-layer") === name) { el.checked = on; }
    });
    if (!atLoad && window.history && window.history.replaceState && location.protocol !== "file:") {
      var u = new URL(window.location.href);
      if (on) { u.searchParams.set(L.param, "1"); } else { u.searchParams.delete(L.param); }
      window.history.replaceState(null, "", u.toString());
    }
    fitHeight();
    if (!on || !L.physics) { document.body.setAttribute("data-layer-" + name, on ? "1" : "0"); }
  }
  // the drawing takes the height the header leaves (a layer's legend makes the header taller)
  function fitHeight() {
    var box = document.getElementById("mynetwork");
    var top = box.getBoundingClientRect().top + window.scrollY;
    box.style.setProperty("height", Math.max(420, window.innerHeight - top - 12) + "px", \
"important");
    net.setSize("100%", box.style.getPropertyValue("height"));
    net.redraw();
  }
  fitHeight();
  net.fit();
  var asked = new URLSearchParams(window.location.search);
  Object.keys(layers).forEach(function (name) {
    var L = layers[name];
    document.body.setAttribute("data-layer-" + name, "0");
    if (!(L.on || asked.get(L.param) === "1")) { return; }
    if (L.physics) {  // once the page's own layout has settled, beside its nodes
      net.once("stabilizationIterationsDone", function () { setLayer(name, true, true); });
    } else {
      setLayer(name, true, true);
    }
  });
  document.querySelectorAll("input[data-layer]").forEach(function (el) {
    el.addEventListener("change", function () { \
setLayer(el.getAttribute("data-layer"), el.checked, false); });
  });
  window.gsSetLayer = setLayer;
})();
"""


def write_page(path: str, page: str) -> None:
    """Write a page as UTF-8 whatever the platform's encoding."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(page)


def script_json(value: Any) -> str:
    """A value as JSON that is safe inside a ``<script>`` element (no ``</script>``, no
    ``<!--``, no line separators that end a JavaScript string)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    for ch, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, code)
    return text


def json_attr(value: Any) -> str:
    """A value as JSON, safe inside an HTML attribute or a script."""
    return esc(json.dumps(value, ensure_ascii=False))

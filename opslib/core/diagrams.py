"""Mermaid flowcharts drawn as SVG in Python: diagrams that show offline, everywhere.

    flowchart_svg(source) -> str | None    None when the source uses more than this draws

The documents carry Mermaid source (GitHub renders it); notebooks, the Voilà app and the
review copies show this SVG instead, so no page needs mermaid.js from a CDN. It draws the
subset opslib's documents use: `flowchart` (or `graph`) LR/RL/TD/TB/BT, nodes `id`,
`id["label"]`, `id("label")`, `id[label]`, and edges `a --> b` (chains `a --> b --> c` too).
Ranks are longest-path layers; more than six ranks wrap onto further rows.
"""

from __future__ import annotations

import html
import re

__all__ = ["flowchart_svg"]

_HEAD = re.compile(r"^\s*(?:flowchart|graph)\s+(LR|RL|TD|TB|BT)\s*;?\s*$")
_NODE = r"([A-Za-z0-9_][\w-]*)\s*(?:\[\s*\"([^\"]*)\"\s*\]|\(\s*\"([^\"]*)\"\s*\)|\[([^\[\]\"]*)\]|\(([^()\"]*)\))?"
_NODE_RE = re.compile(rf"^\s*{_NODE}\s*$")
_EDGE_SPLIT = re.compile(r"\s*-->\s*")
PER_ROW = 6
CHAR_W, BOX_H, GAP_X, GAP_Y, PAD = 7.4, 34, 34, 30, 14


def _parse(source: str) -> tuple[str, dict[str, str], list[tuple[str, str]]] | None:
    lines = [ln for ln in source.strip().splitlines() if ln.strip() and not ln.strip().startswith("%%")]
    if not lines:
        return None
    head = _HEAD.match(lines[0])
    if not head:
        return None
    labels: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[1:]:
        parts = _EDGE_SPLIT.split(line.strip().rstrip(";"))
        ids = []
        for part in parts:
            m = _NODE_RE.match(part)
            if not m:
                return None
            node, label = m.group(1), next((g for g in m.groups()[1:] if g is not None), None)
            if label is not None or node not in labels:
                labels[node] = label if label is not None else labels.get(node, node)
            ids.append(node)
        edges += list(zip(ids, ids[1:], strict=False))
    return head.group(1), labels, edges


def _ranks(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering (a cycle's back edges are ignored: order of appearance decides)."""
    order = {n: i for i, n in enumerate(nodes)}
    rank = dict.fromkeys(nodes, 0)
    forward = [(a, b) for a, b in edges if order[a] < order[b]]
    for _ in nodes:
        changed = False
        for a, b in forward:
            if rank[b] < rank[a] + 1:
                rank[b] = rank[a] + 1
                changed = True
        if not changed:
            break
    return rank


def flowchart_svg(source: str) -> str | None:
    """The flowchart as a standalone SVG document, or None when it uses syntax this does not draw."""
    parsed = _parse(source)
    if parsed is None:
        return None
    direction, labels, edges = parsed
    nodes = list(labels)
    if not nodes:
        return None
    rank = _ranks(nodes, edges)
    box_w = max(70.0, max(len(lbl) for lbl in labels.values()) * CHAR_W + 2 * PAD)
    layers: dict[int, list[str]] = {}
    for n in nodes:
        layers.setdefault(rank[n], []).append(n)
    horizontal = direction in ("LR", "RL")
    depth = max(len(v) for v in layers.values())
    pos: dict[str, tuple[float, float]] = {}
    for r, members in layers.items():
        band, step = divmod(r, PER_ROW)
        if direction in ("RL", "BT"):
            step = PER_ROW - 1 - step if len(layers) > PER_ROW else len(layers) - 1 - step
        for i, n in enumerate(members):
            if horizontal:
                x = step * (box_w + GAP_X)
                y = band * (depth * (BOX_H + GAP_Y) + GAP_Y) + i * (BOX_H + GAP_Y)
            else:
                x = band * (depth * (box_w + GAP_X) + GAP_X) + i * (box_w + GAP_X)
                y = step * (BOX_H + GAP_Y)
            pos[n] = (x + 2, y + 2)
    width = max(x for x, _ in pos.values()) + box_w + 4
    height = max(y for _, y in pos.values()) + BOX_H + 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
           'font-family="DejaVu Sans, Arial, sans-serif" font-size="12" role="img">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>']
    for a, b in edges:
        (ax, ay), (bx, by) = pos[a], pos[b]
        if horizontal and abs(ay - by) < 1 and bx > ax:
            pts = [(ax + box_w, ay + BOX_H / 2), (bx, by + BOX_H / 2)]
        elif horizontal and abs(ay - by) < 1:
            pts = [(ax, ay + BOX_H / 2), (bx + box_w, by + BOX_H / 2)]
        elif not horizontal and abs(ax - bx) < 1 and by > ay:
            pts = [(ax + box_w / 2, ay + BOX_H), (bx + box_w / 2, by)]
        elif by > ay:  # to a later row (or column): leave downwards, arrive from above
            mid = ay + BOX_H + (by - ay - BOX_H) / 2
            pts = [(ax + box_w / 2, ay + BOX_H), (ax + box_w / 2, mid), (bx + box_w / 2, mid), (bx + box_w / 2, by)]
        else:
            pts = [(ax + box_w / 2, ay), (bx + box_w / 2, by + BOX_H)]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="#57606a" stroke-width="1.4" marker-end="url(#arrow)"/>')
    for n in nodes:
        nx, ny = pos[n]
        out.append(f'<rect x="{nx:.1f}" y="{ny:.1f}" width="{box_w:.1f}" height="{BOX_H}" rx="6" fill="#ddf4ff" stroke="#54aeff"/>'
                   f'<text x="{nx + box_w / 2:.1f}" y="{ny + BOX_H / 2 + 4:.1f}" text-anchor="middle" fill="#1f2328">{html.escape(labels[n])}</text>')
    out.append("</svg>")
    return "".join(out)

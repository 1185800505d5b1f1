"""The interactive cost explorer (ipywidgets): sliders and drop-downs for the main drivers,
a live breakdown table, the charts and the guardrail status.

Every callback calls the same pure function as the batch run (`cost.estimate`) through
`CostExplorer.update()`; "save scenario" writes the chosen values as an overlay file.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opslib.catalog.pricing import load_catalog
from opslib.core.formatting import money
from opslib.documents import cost_plan as costmod
from opslib.documents.cost_plan_charts import COLOURS, figures, png_bytes
from opslib.errors import OpslibError

__all__ = ["CostExplorer", "cost_explorer", "show_charts", "breakdown_html", "guardrail_html", "chart_html", "size_options"]


def breakdown_html(plan) -> str:
    rows = "".join(
        f"<tr><td>{ln.environment}</td><td>{ln.component}</td><td>{ln.category}</td>"
        f"<td style='text-align:right'>{money(ln.cost[1]) if ln.cost else '—'}</td>"
        f"<td>{html.escape(ln.range_text)}</td></tr>"
        for ln in plan.lines
    )
    head = "<tr><th>env</th><th>component</th><th>category</th><th>expected</th><th>range</th></tr>"
    total = f"<p><b>Total: {html.escape(plan.total_text)}</b> — P10/P50/P90 {money(plan.p10)} / {money(plan.p50)} / {money(plan.p90)}</p>"
    return total + f"<table class='opslib-cost'>{head}{rows}</table>"


def guardrail_html(plan) -> str:
    items = []
    for e in plan.envs:
        colour = "#cf222e" if e.breach else ("#9a6700" if e.pct >= plan.thresholds[0] else "#1a7f37")
        state = "BREACH: worst case over the limit" if e.breach else (f"alert ≥ {plan.thresholds[0]}%" if e.pct >= plan.thresholds[0] else "ok")
        items.append(f"<li style='color:{colour}'><b>{e.name}</b>: expected {money(e.expected)} = {e.pct:.0f}% of "
                     f"{money(e.budget)} ({e.limit}); worst case at {e.replicas_max} replicas {money(e.worst_case)} — {state}</li>")
    return "<p><b>Guardrails</b></p><ul>" + "".join(items) + "</ul>"


def _bar(width_pct: float, colour: str, title: str) -> str:
    return (f"<div title='{html.escape(title)}' style='display:inline-block;height:14px;width:{max(width_pct, 0):.2f}%;"
            f"background:{colour}'></div>")


def chart_html(plan) -> str:
    """The three charts as plain HTML bars: redrawn in about a millisecond on every slider move
    (the matplotlib versions, as in cost-plan.md, take 250+ ms and are drawn on request)."""
    cats = plan.categories
    colour = {c: COLOURS[i % len(COLOURS)] for i, c in enumerate(cats)}
    top = max([e.high for e in plan.envs] + [e.budget for e in plan.envs] + [1.0])
    rows = []
    for e in plan.envs:
        parts = "".join(
            _bar(100 * v / top, colour[c], f"{c}: {money(v)}")
            for c in cats
            for v in [sum(ln.cost[1] for ln in plan.lines if ln.cost and ln.category == c and ln.environment == e.name)] if v
        )
        rows.append(f"<tr><td>{e.name}</td><td style='width:100%'><div style='white-space:nowrap'>{parts}</div></td>"
                    f"<td style='text-align:right'>{money(e.expected)}</td></tr>")
    legend = " ".join(f"<span style='color:{colour[c]}'>■</span> {c}" for c in cats)
    breakdown = f"<p><b>Expected monthly cost by category</b> {legend}</p><table style='width:100%'>{''.join(rows)}</table>"

    span = max(plan.high, plan.p90, 1.0)
    marks = "".join(
        f"<div title='{name} {money(v)}' style='position:absolute;left:{100 * v / span:.2f}%;top:0;height:18px;border-left:2px {style} #333'></div>"
        f"<div style='position:absolute;left:{100 * v / span:.2f}%;top:18px;font-size:10px'>{name}</div>"
        for name, v, style in (("P10", plan.p10, "dotted"), ("P50", plan.p50, "solid"), ("P90", plan.p90, "dotted"))
    )
    band = (f"<div style='position:absolute;left:{100 * plan.low / span:.2f}%;width:{100 * (plan.high - plan.low) / span:.2f}%;"
            f"top:4px;height:10px;background:#4e79a7;opacity:0.35'></div>")
    distribution = (f"<p><b>Total range</b> {money(plan.low)}–{money(plan.high)}, P10/P50/P90 "
                    f"{money(plan.p10)} / {money(plan.p50)} / {money(plan.p90)}</p>"
                    f"<div style='position:relative;height:32px;border-bottom:1px solid #ccc'>{band}{marks}</div>")

    rows = []
    for e in plan.envs:
        scale = max(e.budget, e.worst_case, e.high, 1.0)
        ticks = "".join(
            f"<div title='{t}% of budget' style='position:absolute;left:{100 * e.budget * t / 100 / scale:.2f}%;top:0;height:16px;"
            f"border-left:2px {'solid #333' if t >= 100 else 'dashed #f28e2b'}'></div>" for t in plan.thresholds)
        worst = (f"<div title='worst case {money(e.worst_case)}' style='position:absolute;left:{100 * e.worst_case / scale:.2f}%;"
                 f"top:-2px;color:#e15759;font-size:11px'>▼</div>")
        fill = "#cf222e" if e.breach else "#4e79a7"
        rows.append(f"<tr><td>{e.name}</td><td style='width:100%'><div style='position:relative;height:16px;background:#f6f8fa'>"
                    f"<div style='height:16px;width:{100 * e.expected / scale:.2f}%;background:{fill}'></div>{ticks}{worst}</div></td>"
                    f"<td style='text-align:right;white-space:nowrap'>{e.pct:.0f}% of {money(e.budget)}</td></tr>")
    budget = ("<p><b>Estimate vs. budget</b> (lines: alert thresholds " + "/".join(f"{t}%" for t in plan.thresholds)
              + "; ▼ worst case at maximum scale)</p><table style='width:100%'>" + "".join(rows) + "</table>")
    return breakdown + distribution + budget


def show_charts(plan) -> None:
    """The cost plan's three charts, as written to figures/."""
    from IPython.display import Image, display

    if plan is not None:
        display(*[Image(png_bytes(f)) for f in figures(plan).values()])


def size_options(params) -> tuple[str | None, list[str]]:
    """The first hourly or per-month compute component and the catalog prices it could switch to (same vendor service, unit, region)."""
    prices = load_catalog(params.cost, params.base_dir, params.catalog.prices, params.cost_price_entries)
    for comp in params.cost_components:
        p = prices.get(comp.price or "")
        if comp.category == "compute" and p is not None and comp.autoscaled:
            same = sorted(k for k, v in prices.items() if (v.provider, v.service, v.unit, v.region) == (p.provider, p.service, p.unit, p.region))
            return comp.name, same
    return None, []


@dataclass
class CostExplorer:
    params: Any
    widget: Any = None
    sliders: dict = field(default_factory=dict)
    size: Any = None
    size_component: str | None = None
    replicas: Any = None
    table: Any = None
    status: Any = None
    charts: Any = None
    live_charts: Any = None
    figures: Any = None
    document_charts: Any = None
    message: Any = None
    plan: Any = None

    def overrides(self) -> costmod.Overrides:
        prices = {self.size_component: self.size.value} if self.size is not None and self.size_component else {}
        reps = {self.params.production.name: int(self.replicas.value)} if self.replicas is not None else {}
        return costmod.Overrides(drivers={k: float(s.value) for k, s in self.sliders.items()}, prices=prices, replicas_max=reps)

    def update(self, *_: Any) -> None:
        """Recompute with the widgets' values and refresh the table, guardrails and (if on) charts."""
        try:
            self.plan = costmod.estimate(self.params, self.overrides())
        except OpslibError as exc:
            self.message.value = f"<pre style='color:#cf222e'>{html.escape(str(exc))}</pre>"
            return
        self.message.value = ""
        self.table.value = breakdown_html(self.plan)
        self.status.value = guardrail_html(self.plan)
        self.charts.value = chart_html(self.plan) if self.live_charts.value else ""
        self.figures.layout.display = None if self.document_charts.value else "none"  # no empty image frames
        if self.document_charts.value:
            self.message.value = "<i>drawing the cost-plan charts…</i>"  # about a second: say so while it runs
            self.draw_charts()
            self.message.value = ""

    def draw_charts(self) -> None:
        """The cost plan's matplotlib charts (as written to figures/), at preview resolution."""
        figs = figures(self.plan, dpi=50)
        for image, key in zip(self.figures.children, ("breakdown", "distribution", "budget"), strict=True):
            image.value = png_bytes(figs[key])

    def save(self, path: str | Path) -> Path:
        return costmod.save_overlay(path, self.overrides(), self.params)


def cost_explorer(params, charts: bool = True) -> CostExplorer:
    """Build the explorer for one project's parameters (with a cost: section)."""
    import ipywidgets as w

    if params.cost is None:
        raise OpslibError(f"{params.path}: no cost: section; add drivers, components and budgets to explore costs.")
    ex = CostExplorer(params=params)
    cost = params.cost
    for name in sorted(cost.drivers):
        d = cost.drivers[name]
        top = max(d.high * 3, d.expected * 2, 1.0)
        step = top / 300 if top < 300 else round(top / 300)
        ex.sliders[name] = w.FloatSlider(value=d.expected, min=0, max=top, step=step, description=name, readout_format=".3g",
                                         style={"description_width": "160px"}, layout=w.Layout(width="520px"), continuous_update=False)
    ex.size_component, options = size_options(params)
    if ex.size_component:
        current = next(c.price for c in cost.components if c.name == ex.size_component)
        ex.size = w.Dropdown(options=options, value=current, description=f"{ex.size_component} size", style={"description_width": "160px"},
                             layout=w.Layout(width="520px"))
    prod = params.production
    ex.replicas = w.IntSlider(value=prod.replicas.max, min=max(prod.replicas.min, 1), max=max(prod.replicas.max * 3, 2),
                              description=f"{prod.name} max replicas", style={"description_width": "160px"}, layout=w.Layout(width="520px"))
    ex.table = w.HTML(layout=w.Layout(max_height="420px", overflow="auto"))
    ex.status = w.HTML()
    ex.message = w.HTML()
    ex.live_charts = w.Checkbox(value=charts, description="live charts")
    ex.charts = w.HTML(layout=w.Layout(width="640px"))
    ex.document_charts = w.Checkbox(value=False, description="cost-plan charts (slower)")
    ex.figures = w.HBox([w.Image(format="png", layout=w.Layout(width="32%")) for _ in range(3)])
    path = w.Text(value=str(params.base_dir / f"{params.project.name}.scenario.yaml"), description="scenario file", layout=w.Layout(width="520px"))
    button = w.Button(description="save scenario")
    saved = w.HTML()

    def on_save(_):
        try:
            saved.value = f"wrote <code>{html.escape(str(ex.save(path.value)))}</code>"
        except OSError as exc:
            saved.value = f"<span style='color:#cf222e'>{html.escape(str(exc))}; choose a writable path</span>"

    for s in ex.sliders.values():
        s.observe(ex.update, names="value")
    for c in (ex.size, ex.replicas, ex.live_charts, ex.document_charts):
        if c is not None:
            c.observe(ex.update, names="value")
    button.on_click(on_save)
    controls = [*ex.sliders.values(), *([ex.size] if ex.size else []), ex.replicas, w.HBox([ex.live_charts, ex.document_charts])]
    ex.widget = w.VBox([w.VBox(controls), ex.message, ex.status, ex.charts, ex.figures, ex.table, w.HBox([path, button]), saved])
    ex.update()
    return ex

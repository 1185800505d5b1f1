"""The cost plan in the notebook (10-cost-plan) and the Voilà app: the explorer — one labelled
control per input of the estimate, with its unit, its help and the parameters' low / expected /
high — its live results, saving the values as a scenario and applying them to the parameters;
then the checks and the document.

Every change calls the same pure function as the batch run (`cost_plan.estimate`) through
`CostExplorer.update()`. A typed value is taken as typed: beyond the slider's end the slider
grows; only a value no estimate can use (below the minimum, absurdly large) is clamped, and
the row says so.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opslib.catalog.pricing import load_catalog
from opslib.core.formatting import money, quantity
from opslib.documents import cost_plan as costmod
from opslib.documents.cost_plan_charts import COLOURS, figures, png_bytes
from opslib.documents.scenario import MAX_REPLICAS, edit_parameters, save_scenario, scenario_dir, write_parameters
from opslib.errors import OpslibError
from opslib.notebook.common import TABLE_CSS, error_html, human_label, show_findings, show_html
from opslib.params.cost import Driver
from opslib.params.models import Environment

__all__ = ["CostExplorer", "NumberControl", "cost_explorer", "breakdown_html", "guardrail_html", "chart_html", "size_options",
           "size_choices", "inputs_html", "explorer", "checks", "document", "write", "nice_step"]

MAX_DRIVER = 1e15  # beyond any real monthly usage: a typo, not a plan


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
        noun = "replica" if e.replicas_max == 1 else "replicas"
        items.append(f"<li style='color:{colour}'><b>{e.name}</b>: expected {money(e.expected)} = {e.pct:.0f}% of "
                     f"{money(e.budget)} ({e.limit}); worst case at {e.replicas_max} {noun} {money(e.worst_case)} — {state}</li>")
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


def nice_step(top: float) -> float:
    """A round slider step giving about 300 positions up to `top` (1, 2 or 5 × a power of ten)."""
    if top <= 0:
        return 1.0
    raw = top / 300
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _nice_top(value: float) -> float:
    """A round slider end above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 1.5, 2, 3, 5, 7.5, 10) if m * power >= value)


def size_choices(params, comp) -> list[tuple[str, str]]:
    """(label, price id) of the catalog prices a component could switch to: same vendor service,
    unit and region, cheapest first; labels as people read them ("m5.large Linux on-demand — $0.096 per hour")."""
    prices = load_catalog(params.cost, params.base_dir, params.catalog.prices, params.cost_price_entries)
    p = prices.get(comp.price or "")
    if p is None:
        return []
    same = [v for v in prices.values() if (v.provider, v.service, v.unit, v.region) == (p.provider, p.service, p.unit, p.region)]
    same.sort(key=lambda v: (v.price_usd is None, v.price_usd or 0.0, v.sku))
    return [(f"{v.sku} — " + (f"${v.price_usd:,.6g} per {v.unit}" if v.price_usd is not None else "price unknown"), v.id) for v in same]


def size_options(params) -> list[tuple[Any, list[tuple[str, str]]]]:
    """The compute and database components with more than one size to choose from, and their choices."""
    if params.cost is None:
        return []
    out = []
    for comp in params.cost_components:
        if comp.category in ("compute", "database", "serverless") and comp.price:
            choices = size_choices(params, comp)
            if len(choices) > 1:
                out.append((comp, choices))
    return out


@dataclass
class NumberControl:
    """One number of the estimate: label, slider, a box to type the exact value, the value in
    words with its unit, the help line, and a note when a typed value had to be changed."""

    key: str
    slider: Any
    box: Any
    readout: Any
    note: Any
    row: Any
    low: float
    cap: float
    unit: str
    integer: bool = False
    on_change: Callable[[], None] | None = None
    _busy: bool = False

    @property
    def value(self) -> float:
        return float(self.box.value)

    def set(self, value: float) -> None:
        """Set the value as if typed (tests and scenario loading use it)."""
        self.box.value = int(value) if self.integer else float(value)

    def _typed(self, change) -> None:
        if self._busy:
            return
        value = change["new"]
        note = ""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            value, note = self.low, f"not a number; set to {quantity(self.low)}"
        elif value < self.low:
            note = f"{quantity(value)} is below the minimum {quantity(self.low)}; set to {quantity(self.low)}"
            value = self.low
        elif value > self.cap:
            note = f"{quantity(value)} is above {quantity(self.cap)}, more than this estimate can stand for; set to {quantity(self.cap)}"
            value = self.cap
        self._busy = True
        try:
            if value != change["new"]:
                self.box.value = int(value) if self.integer else float(value)
            if value > self.slider.max:
                self.slider.max = _nice_top(value * 1.25) if not self.integer else max(int(value * 1.25), int(value) + 1)
            self.slider.value = value
        finally:
            self._busy = False
        self.note.value = f"<span style='color:#9a6700'>{html.escape(note)}</span>" if note else ""
        self._changed()

    def _slid(self, change) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self.box.value = int(change["new"]) if self.integer else float(change["new"])
        finally:
            self._busy = False
        self.note.value = ""
        self._changed()

    def _changed(self) -> None:
        self.readout.value = f"= <b>{quantity(self.value)}</b> {html.escape(self.unit)}"
        if self.on_change is not None:
            self.on_change()


LABEL_W, SLIDER_W, BOX_W = "190px", "300px", "130px"


def _number_control(key: str, label: str, value: float, low: float, top: float, cap: float, unit: str, help_html: str,
                    integer: bool = False) -> NumberControl:
    import ipywidgets as w

    if integer:
        slider = w.IntSlider(value=int(value), min=int(low), max=int(max(top, value, low + 1)), step=1, readout=False,
                             continuous_update=False, layout=w.Layout(width=SLIDER_W))
        box = w.IntText(value=int(value), layout=w.Layout(width=BOX_W))
    else:
        top = max(top, value, 1e-9)
        slider = w.FloatSlider(value=value, min=low, max=top, step=nice_step(top), readout=False, continuous_update=False,
                               layout=w.Layout(width=SLIDER_W))
        box = w.FloatText(value=value, layout=w.Layout(width=BOX_W))
    name = w.HTML(f"<b>{html.escape(label)}</b>", layout=w.Layout(width=LABEL_W))
    readout, note = w.HTML(), w.HTML()
    helpline = w.HTML(f"<div style='color:#57606a;font-size:12px;margin:-4px 0 4px 200px;line-height:1.35'>{help_html}</div>")
    row = w.VBox([w.HBox([name, slider, box, readout]), helpline, note], layout=w.Layout(margin="0 0 2px 0"))
    row.add_class("opslib-control")
    c = NumberControl(key, slider, box, readout, note, row, low, cap, unit, integer)
    box.observe(c._typed, names="value")
    slider.observe(c._slid, names="value")
    c.readout.value = f"= <b>{quantity(value)}</b> {html.escape(unit)}"
    return c


def _range_text(r, unit: str) -> str:
    return f"low {quantity(r.low)} · expected {quantity(r.expected)} · high {quantity(r.high)} {html.escape(unit)}"


def _field_help(model, name: str) -> str:
    """The schema's description of a field (the same text `opslib schema` prints)."""
    return model.model_fields[name].description or ""


@dataclass
class CostExplorer:
    params: Any
    widget: Any = None
    controls: dict = field(default_factory=dict)  # driver name → NumberControl
    sizes: dict = field(default_factory=dict)  # component name → Dropdown
    replicas: NumberControl | None = None
    table: Any = None
    status: Any = None
    charts: Any = None
    live_charts: Any = None
    figures: Any = None
    document_charts: Any = None
    message: Any = None
    scenario_name: Any = None
    saved: Any = None
    apply_area: Any = None
    plan: Any = None
    on_saved: Callable[[str], None] | None = None
    on_applied: Callable[[Any], None] | None = None  # called with the parameters file written
    pending: Any = None  # the parameters edit shown and waiting for "write"
    loading: bool = False  # putting a scenario's values in: one update at the end

    @property
    def sliders(self) -> dict:
        """driver name → its slider (what a person drags)."""
        return {k: c.slider for k, c in self.controls.items()}

    def overrides(self) -> costmod.Overrides:
        """Every control's value (what the estimate uses)."""
        prices = {k: d.value for k, d in self.sizes.items()}
        reps = {self.params.production.name: int(self.replicas.value)} if self.replicas is not None else {}
        return costmod.Overrides(drivers={k: c.value for k, c in self.controls.items()}, prices=prices, replicas_max=reps)

    def changes(self) -> costmod.Overrides:
        """Only the values that differ from the parameters: what a scenario saves and applies."""
        cost = self.params.cost
        o = self.overrides()
        prices = {c.name: c.price for c in cost.components}
        maxima = {e.name: e.replicas.max for e in self.params.environments}
        return costmod.Overrides(drivers={k: v for k, v in o.drivers.items() if v != cost.drivers[k].expected},
                                 prices={k: v for k, v in o.prices.items() if v != prices[k]},
                                 replicas_max={k: v for k, v in o.replicas_max.items() if v != maxima[k]})

    def load(self, overrides: costmod.Overrides | None) -> None:
        """Put a scenario's values into the controls (one update at the end)."""
        if overrides is None:
            return
        self.loading = True
        try:
            for name, value in overrides.drivers.items():
                if name in self.controls:
                    self.controls[name].set(value)
            for comp, pid in overrides.prices.items():
                if comp in self.sizes:
                    self.sizes[comp].value = pid
            if self.replicas is not None and self.params.production.name in overrides.replicas_max:
                self.replicas.set(overrides.replicas_max[self.params.production.name])
        finally:
            self.loading = False
        self.update()

    def update(self, *_: Any) -> None:
        """Recompute with the controls' values and refresh the results (and, if on, the charts)."""
        if self.loading:
            return
        try:
            self.plan = costmod.estimate(self.params, self.overrides())
        except OpslibError as exc:
            self.message.value = error_html(exc)
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

    def save(self, name: str):
        """Save the changed values as scenarios/<project>/<name>.yaml (the only place it writes)."""
        return save_scenario(self.params, name, self.changes())

    def propose(self):
        """The parameters file with the changed values: the edit, not written (its diff is shown)."""
        self.pending = edit_parameters(self.params, self.changes())
        return self.pending

    def apply(self):
        """Write the proposed edit into the parameters file (validated first)."""
        if self.pending is None:
            raise OpslibError("nothing to apply; press 'Apply to parameters…' first to see the change.")
        path, self.pending = write_parameters(self.pending), None
        return path


def cost_explorer(params, charts: bool = True, overrides: costmod.Overrides | None = None, allow_apply: bool = True) -> CostExplorer:
    """The explorer for one project's parameters (with a cost: section), starting from `overrides`
    (a saved scenario) when given. `allow_apply=False` (the app) saves scenarios only."""
    import ipywidgets as w

    if params.cost is None:
        raise OpslibError(f"{params.path}: no cost: section; add drivers, components and budgets to explore costs.")
    ex = CostExplorer(params=params)
    cost = params.cost
    expected_help = _field_help(Driver, "expected")
    for name in sorted(cost.drivers):
        d = cost.drivers[name]
        envs = "".join(f"; {html.escape(e)}: {_range_text(r, d.unit)}" for e, r in sorted(d.environments.items()))
        help_html = (f"{html.escape(d.description)}. Parameters: {_range_text(d, d.unit)}{envs}. "
                     f"This sets the {html.escape(expected_help)} (expected); low and high move with it.")
        top = max(d.high * 3, d.expected * 2, 1e-9)
        ex.controls[name] = _number_control(name, human_label(name), d.expected, 0.0, _nice_top(top), MAX_DRIVER, d.unit, help_html)
    size_rows = []
    for comp, choices in size_options(params):
        dd = w.Dropdown(options=choices, value=comp.price, layout=w.Layout(width="430px"))
        ex.sizes[comp.name] = dd
        label = w.HTML(f"<b>{html.escape(comp.name)}</b>", layout=w.Layout(width=LABEL_W))
        helpline = w.HTML(f"<div style='color:#57606a;font-size:12px;margin:-4px 0 4px 200px'>{html.escape(comp.description)}; "
                          f"the price per unit from the pricing catalog, same service and region ({len(choices)} choices).</div>")
        size_rows.append(w.VBox([w.HBox([label, dd]), helpline]))
    prod = params.production
    lo = max(prod.replicas.min, 1)
    ex.replicas = _number_control(
        "replicas_max", f"{prod.name}: most replicas", prod.replicas.max, lo, max(prod.replicas.max * 3, lo + 1), MAX_REPLICAS,
        "replicas", f"{html.escape(_field_help(Environment.model_fields['replicas'].annotation, 'max').capitalize())}. Parameters: min {prod.replicas.min} · max {prod.replicas.max}; "
                    "the worst case prices every autoscaled component at this many.", integer=True)
    ex.table = w.HTML(layout=w.Layout(max_height="420px", overflow="auto"))
    ex.status = w.HTML()
    ex.message = w.HTML()
    ex.live_charts = w.Checkbox(value=charts, description="live charts", indent=False)
    ex.charts = w.HTML(layout=w.Layout(width="640px"))
    ex.document_charts = w.Checkbox(value=False, description="the cost plan's charts (slower)", indent=False)
    ex.figures = w.HBox([w.Image(format="png", layout=w.Layout(width="32%")) for _ in range(3)])
    for c in [*ex.controls.values(), ex.replicas]:
        c.on_change = ex.update
    for dd in ex.sizes.values():
        dd.observe(ex.update, names="value")
    for box in (ex.live_charts, ex.document_charts):
        box.observe(ex.update, names="value")

    # saving: a name, never a path; the file goes to scenarios/<project>/
    ex.scenario_name = w.Text(placeholder="a name, e.g. peak-season", layout=w.Layout(width="240px"))
    save = w.Button(description="Save as scenario", tooltip=f"writes {scenario_dir(params)}/<name>.yaml")
    ex.saved = w.HTML()

    def on_save(_):
        try:
            path = ex.save(ex.scenario_name.value)
        except (OpslibError, OSError) as exc:
            ex.saved.value = error_html(exc)
            return
        ex.saved.value = (f"Saved <code>scenarios/{html.escape(params.project.name)}/{html.escape(path.name)}</code>. "
                          "Pick it in <b>Scenario</b> at the top to see the documents with it.")
        if ex.on_saved is not None:
            ex.on_saved(path.stem)

    save.on_click(on_save)
    saving = w.VBox([w.HTML("<b>Keep these values</b>"), w.HBox([ex.scenario_name, save]), ex.saved])
    parts = [w.HTML("<b>Usage</b> (per month unless the unit says otherwise)"), *[c.row for c in ex.controls.values()]]
    if size_rows:
        parts += [w.HTML("<b>Sizes</b>"), *size_rows]
    parts += [w.HTML("<b>Scale</b>"), ex.replicas.row, w.HBox([ex.live_charts, ex.document_charts])]
    results = [ex.message, ex.status, ex.charts, ex.figures, ex.table]
    if allow_apply and params.path is not None:
        ex.apply_area = w.VBox()
        propose = w.Button(description="Apply to parameters…", tooltip=f"shows the change to {params.path.name}, then asks")

        def on_propose(_):
            try:
                edit = ex.propose()
            except OpslibError as exc:
                ex.apply_area.children = [w.HTML(error_html(exc))]
                return
            if not edit.diff:
                ex.apply_area.children = [w.HTML(f"<p>{html.escape(params.path.name)} already holds these values.</p>")]
                return
            confirm = w.Button(description=f"Write {params.path.name}", button_style="warning")
            cancel = w.Button(description="Cancel")
            diff = html.escape("".join(edit.diff))
            ex.apply_area.children = [w.HTML(f"<p>This changes <code>{html.escape(str(params.path))}</code> (comments and order kept):</p>"
                                             f"<pre style='font-size:12px;max-height:24em;overflow:auto;background:#f6f8fa'>{diff}</pre>"),
                                      w.HBox([confirm, cancel])]

            def on_confirm(_):
                try:
                    path = ex.apply()
                except OpslibError as exc:
                    ex.apply_area.children = [w.HTML(error_html(exc))]
                    return
                ex.apply_area.children = [w.HTML(f"<p>Wrote <code>{html.escape(str(path))}</code>.</p>")]
                if ex.on_applied is not None:
                    ex.on_applied(path)

            def on_cancel(_):
                ex.pending = None
                ex.apply_area.children = []

            confirm.on_click(on_confirm)
            cancel.on_click(on_cancel)

        propose.on_click(on_propose)
        saving.children = [*saving.children, w.HBox([propose]), ex.apply_area]
    ex.widget = w.VBox([w.VBox(parts), *results, saving])
    ex.widget.add_class("opslib-cost-explorer")
    ex.update()
    ex.load(overrides)
    return ex


def inputs_html(params, overrides: costmod.Overrides | None = None) -> str:
    """The explorer's inputs as a table (a batch run's review copy shows this, not widgets)."""
    cost = params.cost
    rows = []
    for name in sorted(cost.drivers):
        d = cost.drivers[name]
        rows.append(f"<tr><td>{html.escape(human_label(name))}</td><td>{html.escape(d.unit)}</td><td class=num>{quantity(d.low)}</td>"
                    f"<td class=num><b>{quantity(d.expected)}</b></td><td class=num>{quantity(d.high)}</td><td>{html.escape(d.description)}</td></tr>")
    head = "<tr><th>usage</th><th>unit</th><th>low</th><th>expected</th><th>high</th><th>what drives it</th></tr>"
    from_scenario = " (with the scenario's values)" if overrides is not None else ""
    return (f"{TABLE_CSS}<p><b>Inputs of this estimate</b>{from_scenario}</p><table class='opslib-table'>{head}{''.join(rows)}</table>"
            f"<p>Most replicas in {html.escape(params.production.name)}: {params.production.replicas.max}.</p>")


# --- the notebook's views (Session.show) -----------------------------------------------------------


def explorer(s) -> None:
    """The explorer (interactive) or, in a batch run, its inputs and results as static HTML."""
    from IPython.display import display

    if s.base.cost is None:
        show_html("<p>No <code>cost:</code> section in the parameters: add drivers, components and budgets to plan costs.</p>")
        return
    if not s.interactive:  # the review copy: the values and the verdict; the document below has the charts and tables
        show_html(guardrail_html(costmod.estimate(s.params)) + inputs_html(s.params, s.overrides))
        return
    ex = cost_explorer(s.base, overrides=s.overrides, allow_apply=not s.app)
    ex.on_saved = lambda name: s.header_changed()
    ex.on_applied = lambda path: s.pick(scenario="", notice=f"Wrote {path.name}: its values are now the parameters (comments and order kept).")
    s.cache["explorer"] = ex
    display(ex.widget)


def _draft(s):
    if "cost-draft" not in s.cache:
        s.cache["cost-draft"] = costmod.draft(s.params, s.status)  # with its figures: the preview shows them
    return s.cache["cost-draft"]


def checks(s) -> None:
    show_findings(_draft(s).findings)


def document(s) -> None:
    """cost-plan.md with its charts (each chart once: the document carries them)."""
    s.document(_draft(s))


def write(s):
    return costmod.write(s.params, s.status, s.out_dir)

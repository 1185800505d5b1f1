"""What notebooks/40-cicd-pipeline.ipynb displays: the stages, the quality gates, the generated
CI files with their schema validation, and the alert rules with their thresholds; a drop-down
explorer for CI system and deployment strategy. Every function calls the same pure functions
as the batch run (opslib.pipeline, opslib.alert)."""

from __future__ import annotations

import html
from pathlib import Path

from opslib.core.diagrams import flowchart_svg
from opslib.documents import alerts as alertdoc
from opslib.documents import pipeline
from opslib.documents.monitoring import alert_specs
from opslib.notebook.common import show_findings, show_html, show_table
from opslib.params.models import ProjectParams, load_params

__all__ = ["show_diagram", "stages_table", "gates_table", "files_table", "alerts_table", "show_file", "show_files", "deploy_files",
           "show_written", "pipeline_explorer", "stages", "gates", "files", "checks", "alerts", "document", "explorer", "write"]

CHOICES = {"GitHub Actions + GitLab CI": ["github", "gitlab"], "GitHub Actions": ["github"], "GitLab CI": ["gitlab"]}


def stages_table(p):
    import pandas as pd

    return pd.DataFrame([{"stage": s.name, "runs": s.runs, "when": s.trigger, "gate": s.gate} for s in p.stages])


def gates_table(p):
    import pandas as pd

    return pd.DataFrame([{"gate": g.gate, "requirement": g.requirement, "failure action": g.action, "job": g.job} for g in p.gates])


def files_table(p):
    import pandas as pd

    return pd.DataFrame([{"file": f"ci/{v.path}", "schema": v.schema, "result": "valid" if v.ok else "; ".join(v.errors),
                          "lines": p.files[v.path].count("\n")} for v in p.validations])


def alerts_table(params: ProjectParams):
    import pandas as pd

    return pd.DataFrame([{"alert": a.alert, "threshold": a.threshold, "for": a.for_, "severity": a.severity,
                          "rationale": a.rationale} for a in alert_specs(params)])


def show_diagram(markdown: str) -> None:
    """The stage diagram (the mermaid block of pipeline.md), drawn as SVG here (core/diagrams.py:
    no mermaid.js, so it shows offline and in the review copies)."""
    from IPython.display import SVG, Markdown, display

    blocks = markdown.split("```mermaid\n")
    if len(blocks) > 1:
        source = blocks[1].split("```")[0]
        svg = flowchart_svg(source)
        display(SVG(svg) if svg is not None else Markdown("```mermaid\n" + source + "```"))


def show_file(p, path: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(f"**ci/{path}**\n\n```yaml\n{p.files[path]}```"))


def deploy_files(p) -> list[str]:
    """The file that deploys, per CI system the pipeline has: what the notebook shows."""
    return [path for path in (".github/workflows/deploy.yml", ".gitlab-ci.yml") if path in p.files]


def show_files(p) -> None:
    """Show the deploy file of each CI system in use (ci.systems), never a fixed one."""
    for path in deploy_files(p):
        show_file(p, path)


def show_written(written: list) -> None:
    from IPython.display import Markdown, display

    if not written:
        return
    display(Markdown("\n".join(f"- wrote `{w.path}` ({sum(f.status == 'pass' for f in w.findings)} checks passed)" for w in written)))


def pipeline_explorer(params: str | Path | ProjectParams):
    """Drop-downs for CI system and deployment strategy; shows stages, validation and one file."""

    import ipywidgets as w

    params = params if isinstance(params, ProjectParams) else load_params(params)
    strategies = sorted(params.catalog.platform(params.platform).deploy)
    system = w.Dropdown(options=list(CHOICES), description="CI system")
    strategy = w.Dropdown(options=strategies, value=params.deploy.strategy, description="Strategy")
    file = w.Dropdown(options=[], description="File")
    out = w.HTML()
    state: dict = {}

    def refresh(*_):
        draft = pipeline.preview(params, systems=CHOICES[system.value], strategy=strategy.value)
        state["p"] = draft.model
        paths = list(draft.model.files)
        if list(file.options) != paths:
            file.options = paths
        rows = "".join(f"<tr><td>{html.escape(s.name)}</td><td>{html.escape(s.trigger)}</td><td>{html.escape(s.gate)}</td></tr>"
                       for s in draft.model.stages)
        checks = "".join(f"<li>{'warning' if f.status == 'fail' and f.severity == 'warning' else f.status}: {html.escape(f.item)}</li>"
                         for f in draft.findings)
        text = draft.model.files.get(file.value or paths[0], "")
        out.value = (f"<table><tr><th>stage</th><th>when</th><th>gate</th></tr>{rows}</table><ul>{checks}</ul>"
                     f"<pre style='max-height:30em;overflow:auto'>{html.escape(text)}</pre>")

    for widget in (system, strategy, file):
        widget.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([system, strategy, file]), out])


# --- the notebook's views (Session.show) -----------------------------------------------------------


def _draft(s):
    if "pipeline-draft" not in s.cache:
        s.cache["pipeline-draft"] = pipeline.preview(s.params)
    return s.cache["pipeline-draft"]


def stages(s) -> None:
    d = _draft(s)
    show_diagram(d.markdown)
    show_table(stages_table(d.model))


def gates(s) -> None:
    show_table(gates_table(_draft(s).model))


def files(s, path: str | None = None) -> None:
    """The files table, then `path`, or the deploy file of each CI system in ci.systems."""
    d = _draft(s)
    show_table(files_table(d.model), numeric=("lines",))
    if path is None:
        show_files(d.model)
    elif path in d.model.files:
        show_file(d.model, path)


def checks(s) -> None:
    show_findings(_draft(s).findings)


def alerts(s) -> None:
    show_table(alerts_table(s.params))


def document(s) -> None:
    s.document(_draft(s))


def explorer(s) -> None:
    """CI system and strategy drop-downs; a batch run says which the documents use."""
    from IPython.display import display

    if s.interactive:
        display(pipeline_explorer(s.params))
    else:
        d = _draft(s)
        systems = ", ".join(sorted({"GitHub Actions" if p.startswith(".github") else "GitLab CI" for p in d.model.files}))
        show_html(f"<p>CI systems: <b>{html.escape(systems)}</b>; deployment strategy: <b>{html.escape(s.params.deploy.strategy)}</b>.</p>")


def write(s):
    """pipeline.md with ci/…, and alerts.yml with its unit tests."""
    return [pipeline.write(s.params, s.status, s.out_dir), alertdoc.write(s.params, s.status, s.out_dir)]

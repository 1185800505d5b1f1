"""What notebooks/40-cicd-pipeline.ipynb displays: the stages, the quality gates, the generated
CI files with their schema validation, and the alert rules with their thresholds; a drop-down
explorer for CI system and deployment strategy. Every function calls the same pure functions
as the batch run (opslib.pipeline, opslib.alert)."""

from __future__ import annotations

from pathlib import Path

from opslib.documents import pipeline
from opslib.documents.monitoring import alert_specs
from opslib.params.models import ProjectParams, load_params

__all__ = ["show_diagram", "stages_table", "gates_table", "files_table", "alerts_table", "show_file", "show_files", "deploy_files",
           "show_written", "pipeline_explorer"]

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
    """The stage diagram (the mermaid block of pipeline.md)."""
    from IPython.display import Markdown, display

    blocks = markdown.split("```mermaid\n")
    if len(blocks) > 1:
        display(Markdown("```mermaid\n" + blocks[1].split("```")[0] + "```"))


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
        display(Markdown("Preview only: set `out_dir` to write pipeline.md, ci/… and alerts.yml."))
        return
    display(Markdown("\n".join(f"- wrote `{w.path}` ({sum(f.status == 'pass' for f in w.findings)} checks passed)" for w in written)))


def pipeline_explorer(params_path: str | Path):
    """Drop-downs for CI system and deployment strategy; shows stages, validation and one file."""
    import html

    import ipywidgets as w

    params = load_params(params_path)
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

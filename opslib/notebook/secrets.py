"""What notebooks/20-secret-inventory.ipynb displays: the inventory table, the rotation
calendar chart, scan results and the cross-check, with filters by environment and store.
Every function calls the same pure functions as the batch run (opslib.secret, opslib.scan)."""

from __future__ import annotations

from pathlib import Path

from opslib.catalog.secrets import secret_stores
from opslib.check.scan import cross_check, list_files, scan_paths
from opslib.documents.secrets import rotation_calendar, secret_path
from opslib.notebook.common import summary
from opslib.params.models import ProjectParams

__all__ = ["show_written", "inventory_table", "calendar_table", "calendar_chart", "scan_project", "scan_table", "cross_check_table", "inventory_explorer"]

COLOURS = {"overdue": "#cf222e", "due soon": "#bf8700", "ok": "#1a7f37", "on compromise": "#57606a"}


def inventory_table(params: ProjectParams, env: str | None = None, store: str | None = None):
    """One row per secret and environment (names and metadata only), filtered by environment and store."""
    import pandas as pd

    due = {r.name: r for r in rotation_calendar(params)}
    rows = []
    for e in params.environments:
        for i in params.secrets.items if params.secrets else []:
            if (i.environments and e.name not in i.environments) or (env and e.name != env) or (store and i.store != store):
                continue
            c = due[i.name]
            rows.append({"environment": e.name, "secret": secret_path(i, e.name), "env var": i.env_var,
                         "kind": params.catalog.secret_kinds[i.kind]["title"], "store": secret_stores()[i.store]["title"],
                         "services": ", ".join(i.services), "owner": i.owner, "rotation days": c.rotation_days,
                         "last rotated": c.last_rotated.isoformat(), "next due": c.next_due.isoformat() if c.next_due else "", "status": c.status})
    return pd.DataFrame(rows)


def calendar_table(params: ProjectParams):
    import pandas as pd

    return pd.DataFrame([{"secret": r.name, "env var": r.env_var, "last rotated": r.last_rotated.isoformat(),
                          "next due": r.next_due.isoformat() if r.next_due else "", "days left": r.days_left, "status": r.status}
                         for r in rotation_calendar(params)])


def calendar_chart(params: ProjectParams):
    """Horizontal bars from last rotation to next due date; overdue in red; the as-of date as a line."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    rows = [r for r in rotation_calendar(params) if r.next_due is not None]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.4))
    for y, r in enumerate(rows):
        start = mdates.date2num(r.last_rotated)
        ax.barh(y, mdates.date2num(r.next_due) - start, left=start, color=COLOURS[r.status], height=0.6)
    ax.axvline(mdates.date2num(params.project.as_of), color="black", linestyle="--", linewidth=1, label=f"as of {params.project.as_of}")
    ax.set_yticks(range(len(rows)), [f"{r.name.replace('{env}/', '')} ({r.status})" for r in rows])
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.set_title(f"{params.project.name}: rotation calendar (bar ends at the next due date; red = overdue)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def scan_project(params: ProjectParams, path: str | Path | None = None):
    """Scan the project's folder (default: the folder of its status.json) and cross-check with the inventory."""
    root = Path(path) if path else (params.base_dir / params.project.status_file).resolve().parent
    files = list_files(root)
    findings = scan_paths(root, files)
    return root, findings, cross_check(root, params, findings, files)


def scan_table(findings):
    import pandas as pd

    cols = ["file", "line", "where", "kind", "provider", "sha1", "rotate"]
    return pd.DataFrame([{"file": f.file, "line": f.line, "where": f.where, "kind": f.kind, "provider": f.provider,
                          "sha1": f.hash[:12], "rotate": f.rotate_url} for f in findings], columns=cols)


def cross_check_table(check):
    import pandas as pd

    return pd.DataFrame({"cross-check": check.problems() or ["inventory and scanned files agree"]})


def inventory_explorer(params: ProjectParams):
    """Drop-downs for environment and store; the filtered inventory table updates."""
    import ipywidgets as w
    from IPython.display import display

    envs = w.Dropdown(description="Environment", options=[("all", "")] + [(e.name, e.name) for e in params.environments])
    used = sorted({i.store for i in params.secrets.items}) if params.secrets else []
    stores = w.Dropdown(description="Store", options=[("all", "")] + [(secret_stores()[s]["title"], s) for s in used])
    out = w.Output()

    def refresh(*_):
        out.clear_output()
        with out:
            display(inventory_table(params, env=envs.value or None, store=stores.value or None))

    envs.observe(refresh, names="value")
    stores.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([envs, stores]), out])


def show_written(written) -> None:
    from IPython.display import Markdown, display

    if written is None:
        display(Markdown("Preview only: set `out_dir` (or run `opslib batch`) to write secrets.md, .env.example and .pre-commit-config.yaml."))
    else:
        display(Markdown(f"Wrote `{written.path.name}`, `.env.example` and `.pre-commit-config.yaml`: {summary(written.findings)}."))

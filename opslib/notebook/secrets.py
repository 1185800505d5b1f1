"""What notebooks/20-secret-inventory.ipynb displays: the inventory table, the rotation
calendar chart, scan results and the cross-check, with filters by environment and store.
Every function calls the same pure functions as the batch run (opslib.secret, opslib.scan)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from opslib.catalog.secrets import secret_stores
from opslib.check.scan import cross_check, env_reads, list_files, scan_paths
from opslib.documents import secrets as secretdoc
from opslib.documents.cost_plan_charts import png_bytes
from opslib.documents.secrets import rotation_calendar, secret_path
from opslib.notebook.common import show_findings, show_html, show_table, summary, table_html
from opslib.params.models import ProjectParams

__all__ = ["show_written", "inventory_table", "calendar_table", "calendar_chart", "scan_project", "scan_table", "cross_check_table",
           "cross_check_rows", "inventory_rows", "inventory_explorer", "inventory", "calendar", "scan", "checks", "document", "write"]

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


def inventory_rows(params: ProjectParams, env: str | None = None, store: str | None = None) -> list[dict]:
    """The inventory as the notebook and the review copy show it: the columns that fit a page."""
    return [{"environment": r["environment"], "env var and secret": f"{r['env var']} ← {r['secret']}", "kind": r["kind"], "store": r["store"],
             "owner": r["owner"], "rotation": f"every {r['rotation days']} days" + (f", next {r['next due']}" if r["next due"] else ""),
             "status": r["status"]}
            for r in inventory_table(params, env=env, store=store).to_dict("records")]


def calendar_table(params: ProjectParams):
    import pandas as pd

    return pd.DataFrame([{"secret": r.name, "env var": r.env_var, "last rotated": r.last_rotated.isoformat(),
                          "next due": r.next_due.isoformat() if r.next_due else "", "days left": r.days_left, "status": r.status}
                         for r in rotation_calendar(params)])


def calendar_chart(params: ProjectParams):
    """Horizontal bars from last rotation to next due date; overdue in red; the as-of date as a line."""
    import matplotlib.dates as mdates

    rows = [r for r in rotation_calendar(params) if r.next_due is not None]
    fig = Figure(figsize=(9, 0.45 * len(rows) + 1.4))
    ax = fig.subplots()
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
    root = Path(path) if path else params.project_folder
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


def cross_check_rows(root: Path, check, reads: dict) -> list[dict]:
    """The cross-check as it may honestly be read: "declared but referenced nowhere" only means
    something when the scanned folder holds code that reads environment variables at all."""
    rows = [{"result": "fail", "finding": p} for p in check.problems()
            if not (not reads and p.endswith("remove it or check the scanned path"))]
    if not reads and check.unreferenced_secrets:
        rows.append({"result": "not measured",
                     "finding": f"{root.name}: no scanned file reads an environment variable, so which secrets the code uses is not known; "
                                "scan the code repository: opslib scan-secrets <repository> --params <parameters file>"})
    return rows or [{"result": "pass", "finding": "the inventory and the scanned files agree"}]


def inventory_explorer(params: ProjectParams):
    """Drop-downs for environment and store; the filtered inventory table updates."""
    import ipywidgets as w

    envs = w.Dropdown(description="Environment", options=[("all", "")] + [(e.name, e.name) for e in params.environments])
    used = sorted({i.store for i in params.secrets.items}) if params.secrets else []
    stores = w.Dropdown(description="Store", options=[("all", "")] + [(secret_stores()[s]["title"], s) for s in used])
    out = w.HTML()

    def refresh(*_):
        out.value = table_html(inventory_rows(params, env=envs.value or None, store=stores.value or None))

    envs.observe(refresh, names="value")
    stores.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([envs, stores]), out])


def show_written(written) -> None:
    from IPython.display import Markdown, display

    if written is not None:
        display(Markdown(f"Wrote `{written.path.name}`, `.env.example` and `.pre-commit-config.yaml`: {summary(written.findings)}."))


# --- the notebook's views (Session.show) -----------------------------------------------------------


def inventory(s) -> None:
    """Filters by environment and store (interactive), else the whole inventory."""
    from IPython.display import display

    if s.params.secrets is None:
        show_html("<p>No <code>secrets:</code> section in the parameters: add the secret inventory (names and metadata, never values).</p>")
    elif s.interactive:
        display(inventory_explorer(s.params))
    else:
        show_table(inventory_rows(s.params))


def calendar(s) -> None:
    from IPython.display import Image, display

    if s.params.secrets is None:
        return
    display(Image(png_bytes(calendar_chart(s.params))))
    show_table(calendar_table(s.params), numeric=("days left",))


def scan(s) -> None:
    root = s.params.project_folder
    files = list_files(root)
    findings = scan_paths(root, files)
    check = cross_check(root, s.params, findings, files)
    show_html(f"<p>Scanned <code>{root.name}</code> ({len(files)} files): {len(findings)} finding(s).</p>")
    if findings:
        show_table(scan_table(findings))
    show_table(cross_check_rows(root, check, env_reads(root, files)), caption="Cross-check of the scan with the inventory")


def _draft(s):
    if "secrets-draft" not in s.cache:
        s.cache["secrets-draft"] = secretdoc.draft(s.params, s.status)
    return s.cache["secrets-draft"]


def checks(s) -> None:
    show_findings(_draft(s).findings)


def document(s) -> None:
    s.document(_draft(s))


def write(s):
    return secretdoc.write(s.params, s.status, s.out_dir)

"""One planning session per notebook: the project picker at the top, and every view below it
following the project (and the saved cost scenario) picked there.

    s = open_session(params_path, scenario=…, out_dir=…, force=…, interactive=…)
    s.header()              the picker and the status line (a plain status line in a batch run)
    s.show(view, *args)     view(s, *args) now, and again whenever the picker changes
    s.finish(write, text)   write(s) when out_dir is set (the batch); says what to do next (interactive only)

Which project. `params_path` (papermill, the batch) wins; else OPSLIB_PARAMS (`opslib app`
sets it; a path relative to the repository root, or a project name); else the first project
of parameters/. The repository root is the first of the kernel's folder and its parents that
holds parameters/ — notebooks run in notebooks/, so `parameters/x.yaml` means the same in a
notebook, in the shell and in the README. A bad value is one red sentence above the picker,
never a traceback, and the session falls back to the default project.

Interactive views are ipywidgets Output areas that are cleared and re-run when the project or
scenario changes; in a batch run (`interactive=False`) a view simply displays, so executed
notebooks and review copies hold ordinary outputs, and an error fails the run.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opslib.documents.cost_plan import Overrides
from opslib.documents.scenario import apply_scenario, list_scenarios, load_scenario
from opslib.errors import OpslibError, StatusGateError
from opslib.notebook.app import APP_ENV, PARAMS_ENV
from opslib.notebook.common import error_html, markdown_for_display, show_markdown
from opslib.params.models import ProjectParams, load_params
from opslib.params.status import StatusCheck, check_status

__all__ = ["PARAMS_ENV", "APP_ENV", "Session", "open_session", "repo_root", "projects", "resolve_params", "default_params"]



def repo_root(start: str | Path | None = None) -> Path:
    """The first of `start` (default: the working folder) and its parents that holds parameters/."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "parameters").is_dir():
            return folder
    return here


def projects(root: Path) -> list[Path]:
    folder = root / "parameters"
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []


def resolve_params(value: str | Path, root: Path) -> Path:
    """A parameters file named by path (absolute, or relative to the repository root) or by project name."""
    text = str(value).strip()
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = root / path
    if path.is_file():
        return path.resolve()
    for candidate in (root / "parameters" / f"{text}.yaml", root / "parameters" / f"{text}.yml"):
        if "/" not in text and candidate.is_file():
            return candidate.resolve()
    known = ", ".join(p.stem for p in projects(root)) or "none"
    raise OpslibError(f"{text}: no such parameters file (relative paths start at {root}); name one of the projects ({known}) "
                      "or a path such as parameters/<project>.yaml.")


def default_params(root: Path) -> Path:
    """OPSLIB_PARAMS, else the first project of parameters/ — the same default in every notebook."""
    given = os.environ.get(PARAMS_ENV, "").strip()
    if given:
        return resolve_params(given, root)
    found = projects(root)
    if not found:
        raise OpslibError(f"{root / 'parameters'}: no parameters files; add parameters/<project>.yaml (see the README, 'Add a project').")
    return found[0].resolve()


@dataclass
class Session:
    path: Path | None
    root: Path
    scenario: str = ""
    out_dir: str = ""
    force: bool = False
    interactive: bool = True
    app: bool = False
    base: ProjectParams | None = None  # the parameters as the file holds them
    params: ProjectParams | None = None  # with the scenario applied: what every view shows
    overrides: Overrides | None = None
    status: StatusCheck | None = None
    problem: str = ""  # why the picked project cannot be shown (one sentence)
    note: str = ""  # e.g. a blocked status.json, shown under the status line
    notice: str = ""  # what the last action did (e.g. "wrote parameters/x.yaml"), until the next pick
    cache: dict = field(default_factory=dict)
    _views: list = field(default_factory=list)
    picker: Any = None  # the header's drop-downs (interactive)

    # --- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        """Read the picked project (and scenario); in a batch run a problem raises, interactively it is shown."""
        self.cache.clear()
        self.base = self.params = self.overrides = self.status = None
        self.problem = self.note = ""
        try:
            if self.path is None:
                raise OpslibError("no project picked; choose one above.")
            self.base = load_params(self.path)
            try:
                self.overrides = load_scenario(self.base, self.scenario) if self.scenario else None
            except OpslibError as exc:
                if not self.interactive:
                    raise
                self.note, self.scenario = f"{exc} Showing the parameters without it.", ""
            self.params = apply_scenario(self.base, self.overrides)
            try:
                self.status = check_status(self.params, force=self.force)
            except StatusGateError as exc:
                if not self.interactive:
                    raise
                self.status = check_status(self.params, force=True)
                self.note = f"{exc} The documents below are previews; publishing refuses until status.json allows it."
        except OpslibError as exc:
            if not self.interactive:
                raise
            self.base = self.params = None
            self.problem = str(exc)

    @property
    def title(self) -> str:
        return self.params.project.name if self.params is not None else "no project"

    def status_line(self) -> str:
        if self.params is None or self.status is None:
            return ""
        p = self.params
        scenario = f" · cost scenario <b>{html.escape(self.scenario)}</b>" if self.scenario else ""
        return (f"<b>{html.escape(p.project.name)}</b> on <b>{html.escape(p.platform)}</b> · as of {p.project.as_of.isoformat()}"
                f"{scenario} · {html.escape(self.status.summary)}")

    # --- display ----------------------------------------------------------------------------

    def header(self):
        """The picker (project, saved cost scenario) and the status line; a plain line in a batch run."""
        from IPython.display import HTML, display

        if not self.interactive:
            display(HTML(f"<p class='opslib-status'>{self.status_line()}</p>"))
            return None
        self.picker = _Header(self)
        return self.picker.widget

    def show(self, view: Callable[..., Any], *args: Any):
        """Run `view(self, *args)` now (and, interactively, again after every pick)."""
        if not self.interactive:
            view(self, *args)
            return None
        import ipywidgets as w

        out = w.Output()
        self._views.append((out, view, args))
        self._render(out, view, args)
        return out

    def _render(self, out, view, args) -> None:
        from IPython.display import HTML, display

        out.clear_output()
        with out:
            if self.params is None:
                return
            try:
                view(self, *args)
            except OpslibError as exc:
                display(HTML(error_html(exc)))

    def refresh(self) -> None:
        """Reload the project and re-run every view (the pickers call this)."""
        self.load()
        if self.picker is not None:
            self.picker.update()
        for out, view, args in self._views:
            self._render(out, view, args)

    def pick(self, path: str | Path | None = None, scenario: str | None = None, notice: str = "") -> None:
        """Switch project and/or scenario, as the pickers do (tests call it too); `notice` says why."""
        self.notice = notice
        if path is not None:
            self.path = Path(path)
            self.scenario = "" if scenario is None else scenario
        elif scenario is not None:
            self.scenario = scenario
        self.refresh()

    def document(self, draft, title: str | None = None) -> None:
        """A document with its figures: in full in a batch run (the review copy reads it), folded
        in an interactive session (the controls above it come first)."""
        from IPython.display import Markdown, display

        text = draft.text if draft.text is not None else (draft.note or "")
        if not self.interactive:
            show_markdown(text, draft.files)
            return
        import ipywidgets as w

        out = w.Output()  # filled directly: a nested `with out:` inside a view's Output loses what follows it in a callback
        out.append_display_data(Markdown(markdown_for_display(text, draft.files)))
        name = title or draft.file
        display(w.Accordion(children=[out], titles=(f"{name}: the full document (open to read)",), selected_index=None))

    def header_changed(self) -> None:
        """A scenario was saved: list it in the picker (the views stay as they are)."""
        if self.picker is not None:
            self.picker.update()

    def finish(self, write: Callable[[Session], Any] | None, next_step: str = "") -> None:
        """Write the document when out_dir is set (a batch run: silently; a failing check raises);
        interactively, say what to do next. The app says nothing: budget owners save scenarios."""
        from IPython.display import HTML, display

        if self.params is None:
            return
        written = write(self) if write is not None and self.out_dir else None
        if not self.interactive or self.app:
            return
        lines = []
        if written is not None:
            lines.append(f"Written into {html.escape(str(Path(self.out_dir).resolve()))}.")
        if next_step:
            lines.append(next_step)
        where = self.params.path
        if where is not None and not self.out_dir:
            rel = os.path.relpath(where, self.root) if Path(where).resolve().is_relative_to(self.root) else str(where)
            scen = f" --scenario {self.scenario}" if self.scenario else ""
            lines.append(f"To publish the documents: <code>opslib render {html.escape(rel)}{scen}</code> "
                         "(or <code>opslib batch</code> for every project, with the review copies).")
        display(HTML("<div class='opslib-next'><b>Next</b><ul>" + "".join(f"<li>{t}</li>" for t in lines) + "</ul></div>"))


class _Header:
    """The project and scenario drop-downs and the status line; changing one refreshes the session."""

    def __init__(self, s: Session):
        import ipywidgets as w

        self.s = s
        style = {"description_width": "70px"}
        self.project = w.Dropdown(description="Project", style=style, layout=w.Layout(width="320px"),
                                  tooltip="the parameters file (parameters/<project>.yaml) every section below follows")
        self.scenario = w.Dropdown(description="Scenario", style=style, layout=w.Layout(width="320px"),
                                   tooltip="a cost scenario saved from the cost explorer (scenarios/<project>/<name>.yaml), or the parameters as they are")
        self.title = w.HTML()
        self.line = w.HTML()
        self.message = w.HTML()
        self.page_title = w.Output(layout=w.Layout(display="none"))  # the app: the browser tab names the project too
        self.busy = False
        self.update()
        self.project.observe(self._project, names="value")
        self.scenario.observe(self._scenario, names="value")
        self.widget = w.VBox([self.title, w.HBox([self.project, self.scenario]), self.line, self.message, self.page_title],
                             layout=w.Layout(border_bottom="1px solid #d0d7de", padding="0 0 6px 0", margin="0 0 8px 0"))

    def update(self) -> None:
        s = self.s
        self.busy = True
        try:
            options = [(p.stem, str(p.resolve())) for p in projects(s.root)]
            if s.path is not None and str(Path(s.path).resolve()) not in {v for _, v in options}:
                options.append((Path(s.path).stem, str(Path(s.path).resolve())))
            self.project.options = options
            self.project.value = str(Path(s.path).resolve()) if s.path is not None else None
            names = list_scenarios(s.base) if s.base is not None else []
            if s.scenario and s.scenario not in names:
                names.append(s.scenario)
            self.scenario.options = [("none: the parameters as saved", "")] + [(n, n) for n in names]
            self.scenario.value = s.scenario
            self.scenario.disabled = s.base is None or s.base.cost is None
        finally:
            self.busy = False
        kind = "Cost explorer" if s.app else "Planning"
        self.title.value = f"<h2 style='margin:4px 0'>{kind}: {html.escape(s.title)}</h2>"
        if s.app:
            from IPython.display import Javascript

            self.page_title.outputs = ()
            self.page_title.append_display_data(Javascript(f"document.title = {json.dumps(f'{kind}: {s.title}')};"))
        self.line.value = f"<p>{s.status_line()}</p>"
        notes = [t for t in (s.problem, s.note) if t]
        self.message.value = (f"<p style='color:#1a7f37'>{html.escape(s.notice)}</p>" if s.notice else "") + "".join(
            f"<p style='color:#cf222e;white-space:pre-wrap'>{html.escape(t)}</p>" for t in notes)

    def _project(self, change) -> None:
        if not self.busy:
            self.s.pick(path=change["new"])

    def _scenario(self, change) -> None:
        if not self.busy:
            self.s.pick(scenario=change["new"] or "")


def open_session(params_path: str | Path = "", scenario: str = "", out_dir: str = "", force: bool = False,
                 interactive: bool = True) -> Session:
    """The session of one notebook run (see the module docstring for which project it opens)."""
    root = repo_root()
    app = bool(os.environ.get(APP_ENV)) and interactive
    problem = ""
    path: Path | None = None
    try:
        path = resolve_params(params_path, root) if str(params_path).strip() else default_params(root)
    except OpslibError as exc:
        if not interactive:
            raise
        problem = str(exc)
        found = projects(root)
        path = found[0].resolve() if found else None
    s = Session(path=path, root=root, scenario=str(scenario or "").strip(), out_dir=str(out_dir or ""), force=force,
                interactive=interactive, app=app)
    s.load()
    if problem:
        s.problem = problem + (f" Showing {path.stem} instead." if path is not None else "")
    return s

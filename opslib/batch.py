"""Batch runs: every notebook in notebooks/ for every project, with papermill, in parallel.

Recipe per project (one worker process each):
  1. validate the parameters (done first, in the parent: bad input never starts a kernel);
  2. execute each notebook into a staging folder `<out>/.<project>.tmp/notebooks/`,
     parameters injected into the `parameters`-tagged cell;
  3. export an HTML review copy of each executed notebook without code cells;
  4. write run.json, then swap the staging folder into `<out>/<project>/`.
A failure leaves the previous `<out>/<project>/` untouched and no half-written documents;
the failed executed notebook is kept under `<out>/_failed/<project>/` for debugging.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from .errors import OpslibError
from .export import export_review
from .output import write_text_atomic
from .params import load_params, params_hash

__all__ = ["NOTEBOOK_PARAMETERS", "ProjectResult", "run_batch", "run_project", "discover_params", "document_files", "run_record", "swap_into_place"]

NOTEBOOK_PARAMETERS = ("params_path", "out_dir", "force", "interactive")
VERSIONED = ("opslib", "papermill", "nbconvert", "nbformat", "ipykernel", "pydantic", "jinja2", "pandas", "matplotlib", "ipywidgets")


@dataclass
class ProjectResult:
    project: str
    params_path: str
    ok: bool
    error: str | None = None
    notebook: str | None = None
    cell: str | None = None
    seconds: float = 0.0
    out_dir: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        if self.ok:
            return f"{self.project}: ok ({self.seconds:.1f} s) → {self.out_dir}"
        where = " ".join(p for p in (self.notebook, self.cell) if p)
        return f"{self.project}: FAILED{' in ' + where if where else ''}: {self.error}"


def discover_params(paths: list[str] | None, default_dir: Path = Path("parameters")) -> list[Path]:
    """The parameters files named (folders expand to their *.yaml), or every file in parameters/."""
    found: list[Path] = []
    for p in paths or [str(default_dir)]:
        path = Path(p)
        if path.is_dir():
            found += sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
        else:
            found.append(path)
    return found


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def document_files(out_dir: Path) -> list[Path]:
    """The generated documents in `out_dir` (figures and .env.example included; not the
    executed notebooks, the review copies or run.json, which hold run-specific data)."""
    skip = {"notebooks", "review"}
    return sorted(
        p for p in Path(out_dir).rglob("*")
        if p.is_file() and p.name != "run.json" and p.relative_to(out_dir).parts[0] not in skip
    )


def run_record(params, mode: str, out_dir: Path, findings: list, timings: dict[str, float], force: bool) -> dict:
    import hashlib

    return {
        "project": params.project.name,
        "mode": mode,
        "params_path": str(params.path),
        "params_sha256": params_hash(params),
        "as_of": params.project.as_of.isoformat(),
        "forced": force,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "documents": {d.relative_to(out_dir).as_posix(): hashlib.sha256(d.read_bytes()).hexdigest() for d in document_files(out_dir)},
        "checks": [f.as_dict() for f in findings],
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


def swap_into_place(staging: Path, final: Path) -> None:
    """Replace `final` with `staging` (rename; the old folder is removed only after)."""
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _first_line(text: str) -> str:
    lines = [ln for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""


def run_project(params_path: str, notebooks: list[str], out_root: str, force: bool = False) -> ProjectResult:
    """Run every notebook for one project (in a worker process)."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from .document import document_modules

    started = time.perf_counter()
    params = load_params(params_path)
    name = params.project.name
    out = Path(out_root).resolve()
    staging = out / f".{name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "notebooks").mkdir(parents=True)
    result = ProjectResult(project=name, params_path=str(params_path), ok=False)
    try:
        for nb in map(Path, notebooks):
            declared = set(pm.inspect_notebook(str(nb)))
            missing = [p for p in NOTEBOOK_PARAMETERS if p not in declared]
            if missing:
                result.notebook = nb.name
                result.error = f"{nb}: the parameters cell does not define {', '.join(missing)}; add them to the cell tagged 'parameters'"
                return result
            executed = staging / "notebooks" / nb.name
            t0 = time.perf_counter()
            try:
                pm.execute_notebook(
                    str(nb), str(executed),
                    parameters={"params_path": str(Path(params_path).resolve()), "out_dir": str(staging), "force": force, "interactive": False},
                    kernel_name="python3", progress_bar=False, cwd=str(nb.parent), log_output=False,
                )
            except PapermillExecutionError as exc:
                failed_dir = out / "_failed" / name
                failed_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy2(executed, failed_dir / nb.name)
                result.notebook = nb.name
                result.cell = f"cell {exc.cell_index + 1} (execution {exc.exec_count})"
                result.error = f"{exc.ename}: {_first_line(exc.evalue)} (executed notebook: {failed_dir / nb.name})"
                return result
            result.timings[f"{nb.stem}.execute"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            export_review(executed, staging / "review" / f"{nb.stem}.html")
            result.timings[f"{nb.stem}.export"] = time.perf_counter() - t0
        findings = [f for mod in document_modules() for f in mod.check_written(staging, params)]
        result.seconds = time.perf_counter() - started
        record = run_record(params, "batch", staging, findings, {**result.timings, "total": result.seconds}, force)
        record["notebooks"] = [Path(nb).name for nb in notebooks]
        write_text_atomic(staging / "run.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
        swap_into_place(staging, out / name)
        shutil.rmtree(out / "_failed" / name, ignore_errors=True)
        result.ok = True
        result.out_dir = str(out / name)
        return result
    except OpslibError as exc:
        result.error = str(exc)
        return result
    except Exception as exc:  # a kernel that died, a disk error: report it, keep the others going
        result.error = f"{exc.__class__.__name__}: {_first_line(str(exc))}"
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _safe_run(args: tuple) -> ProjectResult:
    try:
        return run_project(*args)
    except BaseException as exc:  # never let one project take the pool down
        return ProjectResult(project=Path(args[0]).stem, params_path=args[0], ok=False, error=f"{exc.__class__.__name__}: {exc}")


def run_batch(params_paths: list[Path], notebooks_dir: Path, out_root: Path, jobs: int, force: bool = False,
              progress: bool = True) -> list[ProjectResult]:
    """Validate every project, then run the valid ones in parallel; return one result each."""
    from tqdm import tqdm

    notebooks = sorted(str(p) for p in Path(notebooks_dir).glob("*.ipynb"))
    if not notebooks:
        raise OpslibError(f"{notebooks_dir}: no notebooks found; pass --notebooks DIR pointing at the notebooks/ folder.")
    results: list[ProjectResult] = []
    runnable: list[str] = []
    for path in params_paths:
        try:
            load_params(path)
            runnable.append(str(path))
        except OpslibError as exc:
            results.append(ProjectResult(project=Path(path).stem, params_path=str(path), ok=False, error=str(exc)))
    out_root.mkdir(parents=True, exist_ok=True)
    tasks = [(p, notebooks, str(out_root), force) for p in runnable]
    bar = tqdm(total=len(tasks), desc="opslib batch", unit="project", file=sys.stderr, disable=not progress or not tasks)
    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            results.append(_safe_run(t))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            futures = [pool.submit(_safe_run, t) for t in tasks]
            for fut in as_completed(futures):
                results.append(fut.result())
                bar.update()
    bar.close()
    return sorted(results, key=lambda r: r.project)


def summary(results: list[ProjectResult]) -> dict:
    return {"projects": [asdict(r) for r in results], "failed": sum(not r.ok for r in results)}

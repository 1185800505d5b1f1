"""Batch runs: every notebook in notebooks/ for every project, with papermill, in parallel.

Recipe:
  1. validate every project's parameters (here: bad input never starts a kernel), take this
     shard's share (`--shard I/N`) and skip the projects whose fingerprint (fingerprint.py:
     parameters, linked files, notebooks, opslib source and versions) equals the one in their
     last successful run.json, unless rebuild;
  2. hand one task per project to an executor (executors.py: this process, a pool of warm
     worker processes, or a Dask cluster). The worker executes each notebook (papermill, its
     own fresh kernel, forked from the worker's pre-imported zygote (zygote.py) unless
     OPSLIB_ZYGOTE=0; notebooks stay independent) into a work folder `<out>/.<project>.work-…/`
     beside the final one (same depth: relative links in documents come out the same), exports
     an HTML review copy (export.export_review), writes run.json and returns every file as bytes;
  3. this process checks that no file holds a secret value, writes them into a staging folder
     of its own (`<out>/.<project>.<random>.tmp/`) and, holding the output folder's lock with
     Ctrl-C and SIGTERM deferred, swaps it into `<out>/<project>/`.
A failure leaves the previous `<out>/<project>/` untouched and no half-written documents;
the failed executed notebook is kept under `<out>/_failed/<project>/` for debugging (unless it
holds a secret value).
`check_batch` runs everything into a temporary sibling of `<out>` and diffs the documents.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Protocol

from opslib.catalog.secrets import secret_kinds_in
from opslib.core.files import exchange, folder_lock, output_folder, signals_deferred, write_text_atomic
from opslib.documents.contract import document_modules, refuse_secrets
from opslib.documents.scenario import folder_name, scenario_path, with_scenario
from opslib.errors import InputError, OpslibError
from opslib.params.models import load_params, params_hash
from opslib.run import zygote
from opslib.run.drift import compare_documents, document_files
from opslib.run.executors import make_executor
from opslib.run.export import export_review
from opslib.run.fingerprint import is_unchanged, project_fingerprint

__all__ = ["NOTEBOOK_PARAMETERS", "ProjectResult", "ProjectTask", "ProjectOutcome", "run_batch", "check_batch", "run_project",
           "execute_project", "discover_params", "select_shard", "parse_shard", "run_record", "swap_into_place"]

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
    skipped: bool = False

    def describe(self) -> str:
        if self.skipped:
            return f"{self.project}: unchanged since its last run, skipped → {self.out_dir} (--rebuild runs it again)"
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


def parse_shard(value: str) -> tuple[int, int]:
    """`I/N` → (I, N): the I-th (0-based, like Kubernetes' JOB_COMPLETION_INDEX) of N shards."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value or "")
    if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
        raise InputError(f"--shard {value}: give I/N with 0 <= I < N (0-based, e.g. 0/4 to 3/4 for four shards).")
    return int(m.group(1)), int(m.group(2))


def shard_of(path: Path, count: int) -> int:
    """The shard of a parameters file: SHA-256 of its file name modulo N. Stable: adding or
    removing a project never moves another one (their incremental caches stay valid)."""
    return int(hashlib.sha256(Path(path).name.encode()).hexdigest(), 16) % count


def select_shard(paths: list[Path], index: int, count: int) -> list[Path]:
    return [p for p in paths if shard_of(p, count) == index]


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def run_record(params, mode: str, out_dir: Path, findings: list, timings: dict[str, float], force: bool) -> dict:
    return {
        "project": params.project.name,
        "mode": mode,
        "params_path": str(params.path),
        "params_sha256": params_hash(params),
        "as_of": params.project.as_of.isoformat(),
        "forced": force,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "documents": {d.relative_to(out_dir).as_posix(): hashlib.sha256(d.read_bytes()).hexdigest() for d in document_files(out_dir)},
        "checks": [f.as_dict() for f in findings],
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


def swap_into_place(staging: Path, final: Path) -> None:
    """Replace `final` with `staging` in one step where the system allows (a reader sees the old
    folder or the new one, never neither), else by two renames; the old folder is removed only
    after. The caller holds the output folder's lock."""
    if final.exists() and exchange(staging, final):
        shutil.rmtree(staging, ignore_errors=True)  # now the old folder
        return
    old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _first_line(text: str) -> str:
    lines = [ln for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""


@dataclass
class ProjectTask:
    """One project for a worker; paths are absolute and must exist where the worker runs."""

    params_path: str
    project: str
    notebooks: list[str]
    out_root: str
    force: bool = False
    fingerprint: str = ""
    scenario: str = ""  # a saved cost scenario (scenarios/<project>/<name>.yaml) the notebooks apply


@dataclass
class ProjectOutcome:
    """What a worker sends back: the result, and every file of the project as bytes
    (documents, executed notebooks, review HTML, run.json), or the failed executed notebook."""

    result: ProjectResult
    files: dict[str, bytes] = field(default_factory=dict)
    failed_notebook: tuple[str, bytes] | None = None


@lru_cache(maxsize=256)
def _declared_parameters(notebook: str, mtime_ns: int) -> frozenset[str]:
    """The names a notebook's parameters cell defines (parsed once per worker and notebook version)."""
    import papermill as pm

    return frozenset(pm.inspect_notebook(notebook))


def execute_project(task: ProjectTask) -> ProjectOutcome:
    """Run every notebook for one project in a work folder; return the files (worker side)."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    out = Path(task.out_root)
    work = out / f".{task.project}.work-{uuid.uuid4().hex[:8]}"  # beside <out>/<project>: same relative links
    result = ProjectResult(project=task.project, params_path=task.params_path, ok=False)
    outcome = ProjectOutcome(result)
    try:
        (work / "notebooks").mkdir(parents=True)
        params = with_scenario(load_params(task.params_path), task.scenario)
        # Kernels forked from a process that already imported what the notebooks import (plain
        # kernels when it is off or could not start); either way over UNIX sockets.
        zygote.start(notebooks=task.notebooks)
        kernel_options = {"kernel_manager_class": zygote.kernel_manager_class()}
        for nb in map(Path, task.notebooks):
            declared = _declared_parameters(str(nb), nb.stat().st_mtime_ns)
            missing = [p for p in NOTEBOOK_PARAMETERS + (("scenario",) if task.scenario else ()) if p not in declared]
            if missing:
                result.notebook = nb.name
                result.error = f"{nb}: the parameters cell does not define {', '.join(missing)}; add them to the cell tagged 'parameters'"
                return outcome
            executed = work / "notebooks" / nb.name
            t0 = time.perf_counter()
            try:
                pm.execute_notebook(
                    str(nb), str(executed),
                    parameters={"params_path": task.params_path, "out_dir": str(work), "force": task.force, "interactive": False,
                                **({"scenario": task.scenario} if task.scenario else {})},
                    kernel_name="python3", progress_bar=False, cwd=str(nb.parent), log_output=False,
                    request_save_on_cell_execute=False, **kernel_options,
                )
            except PapermillExecutionError as exc:
                failed = out / "_failed" / task.project / nb.name
                outcome.failed_notebook = (nb.name, executed.read_bytes())
                result.notebook = nb.name
                result.cell = f"cell {exc.cell_index + 1} (execution {exc.exec_count})"
                result.error = f"{exc.ename}: {_first_line(exc.evalue)} (executed notebook: {failed})"
                return outcome
            result.timings[f"{nb.stem}.execute"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            export_review(executed, work / "review" / f"{nb.stem}.html")
            result.timings[f"{nb.stem}.export"] = time.perf_counter() - t0
        findings = [f for mod in document_modules() for f in mod.check_written(work, params)]
        result.seconds = time.perf_counter() - started
        record = run_record(params, "batch", work, findings, {**result.timings, "total": result.seconds}, task.force)
        record["notebooks"] = [Path(nb).name for nb in task.notebooks]
        if task.scenario:
            record["scenario"] = task.scenario
        record["inputs_sha256"] = task.fingerprint  # the fingerprint; a *_sha256 key, like params_sha256
        write_text_atomic(work / "run.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
        outcome.files = {p.relative_to(work).as_posix(): p.read_bytes() for p in sorted(work.rglob("*")) if p.is_file()}
        result.ok = True
        return outcome
    except OpslibError as exc:
        result.error = str(exc)
        return outcome
    except Exception as exc:  # a kernel that died, a disk error: report it, keep the others going
        result.error = f"{exc.__class__.__name__}: {_first_line(str(exc))}"
        return outcome
    finally:
        shutil.rmtree(work, ignore_errors=True)


def store_outcome(outcome: ProjectOutcome, out_root: Path) -> ProjectResult:
    """Write a worker's files into `<out>/.<project>.tmp/` and swap it into place (client side);
    on failure keep the failed executed notebook under `<out>/_failed/<project>/`."""
    result = outcome.result
    out = Path(out_root).resolve()
    final = out / result.project
    if not result.ok:
        if outcome.failed_notebook:
            name, data = outcome.failed_notebook
            if secret_kinds_in(data):
                result.error = f"{result.error}; the executed notebook holds a secret value and was not kept"
            else:
                failed_dir = out / "_failed" / result.project
                failed_dir.mkdir(parents=True, exist_ok=True)
                (failed_dir / name).write_bytes(data)
        return result
    staging: Path | None = None
    try:
        refuse_secrets({final / rel: data for rel, data in outcome.files.items()})
        staging = Path(tempfile.mkdtemp(prefix=f".{result.project}.", suffix=".tmp", dir=out))
        for rel, data in outcome.files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        with folder_lock(out), signals_deferred():
            swap_into_place(staging, final)
    except OpslibError as exc:
        result.ok, result.error = False, str(exc)
        return result
    except OSError as exc:
        result.ok = False
        result.error = f"cannot write {final} ({exc.__class__.__name__}: {exc.strerror or exc}); check the output folder"
        return result
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(out / "_failed" / result.project, ignore_errors=True)
    result.out_dir = str(out / result.project)
    return result


def run_project(params_path: str, notebooks: list[str], out_root: str, force: bool = False) -> ProjectResult:
    """Run every notebook for one project in this process and write its folder."""
    params = load_params(params_path)
    task = ProjectTask(str(Path(params_path).resolve()), params.project.name, [str(Path(n).resolve()) for n in notebooks],
                       str(Path(out_root).resolve()), force)
    return store_outcome(execute_project(task), Path(out_root))


def _notebooks(notebooks_dir: Path) -> list[str]:
    notebooks = sorted(str(p.resolve()) for p in Path(notebooks_dir).glob("*.ipynb"))
    if not notebooks:
        raise InputError(f"{notebooks_dir}: no notebooks found; pass --notebooks DIR pointing at the notebooks/ folder.")
    return notebooks


class Progress(Protocol):
    """What the caller shows while projects run (the CLI's progress bar)."""

    def start(self, total: int) -> None: ...

    def advance(self) -> None: ...

    def close(self) -> None: ...


def run_batch(params_paths: list[Path], notebooks_dir: Path, out_root: Path, jobs: int, force: bool = False,
              progress: Progress | None = None, rebuild: bool = False, executor: str = "local",
              scheduler: str | None = None, scenario: str | None = None) -> list[ProjectResult]:
    """Validate every project, skip the unchanged ones (unless rebuild or force), run the rest
    on the executor; return one result each, sorted by project. With a scenario, every project
    runs with its scenarios/<project>/<scenario>.yaml into `<out>/<project>@<scenario>/`."""
    notebooks = _notebooks(notebooks_dir)
    out_root = output_folder(out_root)
    results: list[ProjectResult] = []
    tasks: list[ProjectTask] = []
    versions = package_versions()
    for path in params_paths:
        try:
            params = load_params(path)
            fp = project_fingerprint(with_scenario(params, scenario), notebooks, force, versions, out_root)
            if scenario:  # the scenario file is an input too
                fp = hashlib.sha256((fp + scenario_path(params, scenario).read_text(encoding="utf-8")).encode()).hexdigest()
        except OpslibError as exc:
            results.append(ProjectResult(project=Path(path).stem, params_path=str(path), ok=False, error=str(exc)))
            continue
        except OSError as exc:
            results.append(ProjectResult(project=Path(path).stem, params_path=str(path), ok=False,
                                         error=f"{path}: cannot read {exc.filename or 'a linked file'} ({exc.strerror}); fix the path"))
            continue
        name = folder_name(params.project.name, scenario)
        if not (rebuild or force) and is_unchanged(out_root / name, fp):
            results.append(ProjectResult(project=name, params_path=str(path), ok=True, skipped=True, out_dir=str(out_root / name)))
            continue
        tasks.append(ProjectTask(str(Path(path).resolve()), name, notebooks, str(out_root.resolve()), force, fp, scenario or ""))
    if progress is not None:
        progress.start(len(tasks))
    if tasks:
        with make_executor(executor, jobs, len(tasks), scheduler) as ex:
            for task, outcome in ex.run(execute_project, tasks):
                if isinstance(outcome, BaseException):  # the worker itself died
                    results.append(ProjectResult(project=task.project, params_path=task.params_path, ok=False,
                                                 error=f"the worker running it stopped ({outcome.__class__.__name__}: {_first_line(str(outcome))}); run it again with --jobs 1 to see why"))
                else:
                    results.append(store_outcome(outcome, out_root))
                if progress is not None:
                    progress.advance()
    if progress is not None:
        progress.close()
    return sorted(results, key=lambda r: r.project)


def check_batch(params_paths: list[Path], notebooks_dir: Path, out_root: Path, jobs: int, force: bool = False,
                progress: Progress | None = None, executor: str = "local", scheduler: str | None = None,
                scenario: str | None = None) -> tuple[list[ProjectResult], list[str]]:
    """Run every project into a temporary sibling of `out_root` (so relative links come out the
    same), diff its documents against `out_root`'s; nothing is written into `out_root`."""
    out_root = Path(out_root).resolve()
    if out_root.exists() and not out_root.is_dir():
        output_folder(out_root)  # the one message for an --out that is a file
    out_root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_root.name}.check-", dir=out_root.parent))
    try:
        results = run_batch(params_paths, notebooks_dir, tmp, jobs, force=force, progress=progress, rebuild=True,
                            executor=executor, scheduler=scheduler, scenario=scenario)
        diff: list[str] = []
        for r in results:
            if r.ok:
                diff += compare_documents(out_root / r.project, tmp / r.project, label=r.project)
                r.out_dir = str(out_root / r.project)
        return results, diff
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def summary(results: list[ProjectResult]) -> dict:
    return {"projects": [asdict(r) for r in results], "failed": sum(not r.ok for r in results)}

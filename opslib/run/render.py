"""`opslib render`: every document of one project, written directly (no notebook kernel).

    render_project(params_path, out_root=None, force=False, scenario=None) -> Rendered   stage → check → swap
    check_project(params_path, out_root=None, force=False, scenario=None)  -> Drift      the same into a staging folder, diffed

With a scenario (scenarios/<project>/<name>.yaml, documents/scenario.py) the documents are
those of the parameters with its values, written into `<out>/<project>@<name>/`.

Every document is drafted into a staging folder beside the final one (the same depth, so
relative links come out the same; a unique name per run); one failing check refuses the whole
project and the previous `<out>/<project>/` stays as it was; the failing draft is kept in
`<out>/<project>.failed/<file>` with a FAILING DRAFT banner on top (not when it would hold a
secret value) and the message says where; the next passing render removes it. The swap holds the output folder's
lock (another writer of the same folder waits) with Ctrl-C and SIGTERM deferred until it is
done. The staging folder is removed however the run ends (SIGTERM included: the CLI raises it
like Ctrl-C). Messages name the final path, never the staging folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from opslib.check.findings import Finding
from opslib.core.files import exchange, folder_lock, output_folder, signals_deferred, write_text_atomic
from opslib.documents.commands import default_doc_dir
from opslib.documents.contract import FAILED_SUFFIX, Draft, document_modules, keep_failed
from opslib.documents.scenario import folder_name, with_scenario
from opslib.errors import ChecksFailed, OpslibError
from opslib.params.models import ProjectParams, load_params
from opslib.params.status import StatusCheck, check_status
from opslib.run.batch import run_record, swap_into_place
from opslib.run.drift import compare_documents

__all__ = ["Drift", "Rendered", "check_project", "failed_folder", "render_project"]


@dataclass(frozen=True)
class Rendered:
    params_path: Path
    project: str
    out_dir: Path
    files: list[str]  # the documents written (main files)
    findings: list[Finding]

    @property
    def passed(self) -> int:
        return sum(f.status == "pass" for f in self.findings)


@dataclass(frozen=True)
class Drift:
    params_path: Path
    out_dir: Path
    diff: list[str]  # unified-diff lines; empty when the documents match


def _staging(final: Path) -> Path:
    output_folder(final.parent)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))


def failed_folder(final: Path) -> Path:
    """Where a render that fails its checks keeps the failing draft: `<out>/<project>.failed/`."""
    return final.with_name(final.name + FAILED_SUFFIX)


def _keep(exc: ChecksFailed, final: Path) -> str:
    """Keep the failing draft beside the build folder (under the output folder's lock); the
    sentence that says where, or why it was not kept."""
    if not isinstance(exc.draft, Draft) or exc.draft.text is None:
        return ""
    folder = failed_folder(final)
    with folder_lock(final.parent), signals_deferred():
        kept = keep_failed(exc.draft, folder)
    if kept is None:
        return "\nThe failing draft was not kept: it would contain a secret value."
    return f"\nThe failing draft is in {kept} (marked FAILING DRAFT at the top); read the failing items there in context."


def _write_all(params: ProjectParams, status: StatusCheck, staging: Path, final: Path, keep: bool = False) -> list[Finding]:
    findings: list[Finding] = []
    try:
        for mod in document_modules():  # every document must pass before any replaces the old ones
            findings += mod.write(params, status, staging).findings
    except OpslibError as exc:  # name the file the user will look for, not the staging folder that is gone
        note = _keep(exc, final) if keep and isinstance(exc, ChecksFailed) else ""
        exc.args = (str(exc).replace(str(staging), str(final)) + note,)
        raise
    return findings


def _load(params_path: str | Path, out_root: str | Path | None, scenario: str | None) -> tuple[ProjectParams, Path]:
    params = load_params(params_path)
    final = default_doc_dir(params, Path(out_root) if out_root else None)
    return with_scenario(params, scenario), final.with_name(folder_name(final.name, scenario))


def render_project(params_path: str | Path, out_root: str | Path | None = None, force: bool = False,
                   scenario: str | None = None) -> Rendered:
    """Write every document of the project into `<out_root>/<project>/` (default: build/ beside
    parameters/), with run.json. Raises OpslibError (bad input, blocked status, failing check)."""
    started = time.perf_counter()
    params, final = _load(params_path, out_root, scenario)
    status = check_status(params, force=force)  # a blocked project creates nothing
    staging = _staging(final)
    try:
        findings = _write_all(params, status, staging, final, keep=True)
        names = sorted(p.name for p in staging.iterdir() if p.is_file())
        record = run_record(params, "render", staging, findings, {"total": time.perf_counter() - started}, force)
        if scenario:
            record["scenario"] = scenario
        write_text_atomic(staging / "run.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
        with folder_lock(final.parent), signals_deferred():
            if final.is_dir():  # keep what batch added (executed notebooks, review copies); replace the documents
                for item in staging.iterdir():
                    target = final / item.name
                    if target.is_dir() and item.is_dir():
                        if exchange(item, target):  # figures/, ci/: never missing for a reader
                            continue  # the old one is in staging, removed below
                        shutil.rmtree(target)
                    os.replace(item, target)
            else:
                swap_into_place(staging, final)
            shutil.rmtree(failed_folder(final), ignore_errors=True)  # the drafts of an earlier failing render are stale now
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    written = [w for w in (mod.FILE for mod in document_modules()) if w in names]
    return Rendered(Path(params_path), params.project.name, final, written, findings)


def check_project(params_path: str | Path, out_root: str | Path | None = None, force: bool = False,
                  scenario: str | None = None) -> Drift:
    """Draft every document into a staging folder and diff it against `<out_root>/<project>/`;
    leaves no trace, not even an output folder it had to create."""
    params, final = _load(params_path, out_root, scenario)
    status = check_status(params, force=force)
    made_out = not final.parent.exists()
    staging = _staging(final)
    try:
        _write_all(params, status, staging, final)
        return Drift(Path(params_path), final, compare_documents(final, staging, label=str(final)))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if made_out:
            shutil.rmtree(final.parent, ignore_errors=True)

"""The `opslib` command.

    opslib validate PARAMS…                       every mistake at once; exit 2 on bad input
    opslib render PARAMS… [--out DIR] [--force] [--check]   documents directly, no notebook kernel (fast path)
    opslib batch [PARAMS…] [--jobs N] [--out DIR] [--rebuild] [--check] [--shard I/N] [--executor local|dask]
                                                  every notebook for every project (papermill); unchanged projects are skipped
    opslib check FILE… [--env NAMES] [--format text|json]   the quality bar on a runbook
    opslib cost-diff OLD NEW                      monthly cost change per component and environment
    opslib scan-secrets PATH [--params P]         secret values in a repository (never printed)
    opslib plan PARAMS --env E --version X.Y.Z    deployment plan behind its gates
    opslib report RESULTS.yaml                    deployment report from what happened
    opslib schema                                 the parameters JSON Schema

Exit codes: 0 success, 1 a run or a check failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from opslib import __version__
from opslib.errors import InputError, OpslibError

__all__ = ["main"]


def _err(msg: str) -> None:
    print(f"opslib: {msg}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from opslib.params.models import load_params
    from opslib.params.status import check_status

    code = 0
    for path in args.params:
        try:
            params = load_params(path)
            status = check_status(params, force=True)
            note = f"; {status.summary}"
            if status.halting:
                note += " (blocked: render and batch will refuse without --force)"
            print(f"{path}: valid ({params.project.name} on {params.platform}, {len(params.environments)} environments){note}")
        except OpslibError as exc:
            _err(str(exc))
            code = max(code, 2)
    return code


def _jobs(value: str) -> int:
    if value == "auto":
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("--jobs takes a number or 'auto'") from None
    if n < 1:
        raise argparse.ArgumentTypeError("--jobs must be at least 1")
    return n


def _print_drift(diff: list[str]) -> None:
    from opslib.run.drift import MAX_LINES, limit

    sys.stdout.write("".join(limit(diff, MAX_LINES)))


def cmd_render(args: argparse.Namespace) -> int:
    import shutil

    from opslib.run.batch import discover_params, run_record, swap_into_place
    from opslib.documents.contract import document_modules
    from opslib.core.files import write_text_atomic
    from opslib.params.models import load_params
    from opslib.documents.commands import default_doc_dir
    from opslib.params.status import check_status

    code = 0
    drift: list[str] = []
    for path in discover_params(args.params):
        started = time.perf_counter()
        try:
            params = load_params(path)
            status = check_status(params, force=args.force)
            final = default_doc_dir(params, Path(args.out) if args.out else None)
            # a sibling of the final folder: relative links in the documents come out the same
            staging = final.with_name(f".{final.name}.{'check' if args.check else 'tmp'}")
            shutil.rmtree(staging, ignore_errors=True)
            made_out = not final.parent.exists()
            staging.mkdir(parents=True)
            try:
                # every document must pass its checks before any of them replaces the old ones
                written = [mod.write(params, status, staging) for mod in document_modules()]
                findings = [f for w in written for f in w.findings]
                if args.check:
                    from opslib.run.drift import compare_documents

                    found = compare_documents(final, staging, label=str(final))
                    drift += found
                    print(f"{path}: {'documents differ from the parameters' if found else 'documents match the parameters'} ({final})",
                          file=sys.stderr)
                    continue
                record = run_record(params, "render", staging, findings, {"total": time.perf_counter() - started}, args.force)
                write_text_atomic(staging / "run.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
                if final.exists():  # keep what batch added (notebooks, review) and replace the documents
                    for item in staging.iterdir():
                        target = final / item.name
                        if target.is_dir() and item.is_dir():
                            shutil.rmtree(target)
                        os.replace(item, target)
                else:
                    swap_into_place(staging, final)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
                if args.check and made_out:  # check mode leaves no trace, not even an empty output folder
                    shutil.rmtree(final.parent, ignore_errors=True)
            names = ", ".join(w.path.name for w in written if (final / w.path.name).exists())
            print(f"{path}: wrote {names} into {final} ({sum(f.status == 'pass' for f in findings)} checks passed)")
        except OpslibError as exc:
            _err(str(exc))
            code = max(code, exc.exit_code)
    if drift:
        _print_drift(drift)
        _err("the committed documents differ from what the parameters produce (diff above); run `opslib render` and commit the result.")
        code = max(code, 1)
    return code


def cmd_batch(args: argparse.Namespace) -> int:
    from opslib.run.batch import check_batch, discover_params, parse_shard, run_batch, select_shard

    paths = discover_params(args.params)
    if not paths:
        raise InputError("no parameters files found; pass PARAMS or add parameters/<project>.yaml")
    if args.shard:
        index, count = parse_shard(args.shard)
        total = len(paths)
        paths = select_shard(paths, index, count)
        if not args.quiet:
            print(f"shard {index}/{count}: {len(paths)} of {total} project(s)", file=sys.stderr)
        if not paths:
            print(f"shard {index}/{count}: no projects in this shard; nothing to do")
            return 0
    if args.executor == "dask" and not args.scheduler:
        raise InputError("--executor dask needs --scheduler ADDRESS (e.g. tcp://scheduler:8786).")
    out = Path(args.out or "build")
    run = dict(jobs=args.jobs, force=args.force, progress=not args.quiet, executor=args.executor, scheduler=args.scheduler)
    if args.check:
        results, drift = check_batch(paths, Path(args.notebooks), out, **run)
    else:
        results, drift = run_batch(paths, Path(args.notebooks), out, rebuild=args.rebuild, **run), []
    for r in results:
        (print if r.ok else _err)(r.describe())
    failed = sum(not r.ok for r in results)
    if args.check:
        if drift:
            _print_drift(drift)
            _err(f"the documents in {out}/ differ from what the parameters produce (diff above); run `opslib batch` and commit the result.")
        else:
            print(f"{len(results) - failed} of {len(results)} project(s): the documents in {out}/ match the parameters"
                  + (f"; {failed} failed" if failed else ""))
        return 1 if failed or drift else 0
    skipped = sum(r.skipped for r in results)
    print(f"{len(results) - failed} of {len(results)} project(s) built into {out}/"
          + (f" ({skipped} unchanged, skipped)" if skipped else "") + (f"; {failed} failed" if failed else ""))
    return 1 if failed else 0


def cmd_check(args: argparse.Namespace) -> int:
    from opslib.check.formats import exceeds, render_reports
    from opslib.check.document import check_document

    envs = [e for e in args.env.split(",") if e] if args.env else None
    code = 0
    reports = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            _err(f"{path}: file not found; pass the path of a runbook, cost plan, secrets or pipeline document")
            code = 2
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _err(f"{path}: cannot read it as UTF-8 text ({exc.__class__.__name__}); pass a Markdown document")
            code = 2
            continue
        report = check_document(text, path=path, genre=args.genre, environments=envs)
        reports.append(report)
        if exceeds(report, args.fail_on):
            code = max(code, 1)
    if reports:
        print(render_reports(reports, args.format))
    return code


def _revision_file(spec: str, stack) -> str:
    """`REV:path` (a git revision of a parameters file) → a temporary copy beside `path`, so its
    relative links resolve; an existing file name is returned as it is."""
    import subprocess
    import tempfile

    if Path(spec).exists() or ":" not in spec:
        return spec
    rev, rel = spec.split(":", 1)
    target = Path(rel)
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=target.parent or ".", capture_output=True, text=True, check=True).stdout.strip()
        repo_path = Path(os.path.relpath(target.resolve(), top)).as_posix()
        text = subprocess.run(["git", "show", f"{rev}:{repo_path}"], cwd=top, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise InputError(f"{spec}: cannot read {rel} at git revision {rev} ({detail.strip().splitlines()[-1] if detail.strip() else 'git failed'}); check the revision and path.") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}@", suffix=".yaml", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    stack.callback(lambda: Path(tmp).unlink(missing_ok=True))
    return tmp


def cmd_cost_diff(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from opslib.documents.cost_plan import cost_diff_main

    with ExitStack() as stack:
        old, new = _revision_file(args.old, stack), _revision_file(args.new, stack)
        try:
            return cost_diff_main(old, new)
        except OpslibError as exc:  # name the revision the user typed, not our temporary copy
            exc.args = (str(exc).replace(old, args.old).replace(new, args.new),)
            raise


def cmd_scan_secrets(args: argparse.Namespace) -> int:
    from opslib.check.scan import scan_secrets_main

    return scan_secrets_main(args.path, args.params, args.format)


def cmd_plan(args: argparse.Namespace) -> int:
    from opslib.documents.deployment_plan import plan_main

    return plan_main(args.params, args.env, args.version, qa_report=args.qa_report, window=args.window, out=args.out,
                     force=args.force, history=args.history, strategy=args.strategy)


def cmd_report(args: argparse.Namespace) -> int:
    from opslib.documents.deployment_report import report_main

    return report_main(args.results, out=args.out)


def cmd_schema(args: argparse.Namespace) -> int:
    from opslib.params.models import ProjectParams

    print(json.dumps(ProjectParams.model_json_schema(), indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="opslib", description="Production-readiness documents from parameters/<project>.yaml.")
    p.add_argument("--version", action="version", version=f"opslib {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check parameters files; list every mistake")
    v.add_argument("params", nargs="+", metavar="PARAMS")
    v.set_defaults(fn=cmd_validate)

    r = sub.add_parser("render", help="write the documents directly (no notebooks)")
    r.add_argument("params", nargs="*", metavar="PARAMS", help="files or folders (default: parameters/)")
    r.add_argument("--out", metavar="DIR", help="output folder (default: build/ beside parameters/)")
    r.add_argument("--force", action="store_true", help="generate even if status.json says blocked or on-hold")
    r.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 and print a diff when the documents in the output folder differ from what the parameters produce")
    r.set_defaults(fn=cmd_render)

    b = sub.add_parser("batch", help="run every notebook for every project with papermill")
    b.add_argument("params", nargs="*", metavar="PARAMS", help="files or folders (default: parameters/)")
    b.add_argument("--jobs", type=_jobs, default="auto", metavar="N", help="parallel projects (default: auto = CPU count)")
    b.add_argument("--out", metavar="DIR", help="output folder (default: build/)")
    b.add_argument("--notebooks", default="notebooks", metavar="DIR", help="notebooks to run (default: notebooks/)")
    b.add_argument("--force", action="store_true",
                   help="generate even if status.json says blocked or on-hold (and rebuild unchanged projects)")
    b.add_argument("--rebuild", action="store_true",
                   help="run every project again, even those unchanged since their last successful run")
    b.add_argument("--check", action="store_true",
                   help="write nothing; run into a temporary folder and exit 1 with a diff when the documents in --out differ")
    b.add_argument("--shard", metavar="I/N",
                   help="run only the I-th of N slices of the projects (0-based; a project's slice is a hash of its file name)")
    b.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local worker processes (default) or an existing Dask cluster (needs --scheduler)")
    b.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address for --executor dask (e.g. tcp://scheduler:8786)")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(fn=cmd_batch)

    c = sub.add_parser("check", help="check operational documents (runbooks, cost plans, secrets, pipelines) against the quality bar")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--env", metavar="NAMES", help="comma-separated environments the document must cover (default: dev,staging,prod)")
    c.add_argument("--format", choices=("text", "json", "markdown", "github"), default="text",
                   help="text (default), json, markdown (a report for pull requests) or github (workflow annotations)")
    c.add_argument("--fail-on", choices=("error", "warning", "never"), default="error",
                   help="exit 1 when a finding of this severity or worse fails (default: error)")
    c.add_argument("--genre", choices=("service-runbook", "alert-runbook", "procedure", "checklist", "template", "cost-plan", "secrets", "pipeline", "deployment-plan", "deployment-report", "readiness", "cost-report"),
                   help="skip genre detection and check the files as this kind of document")
    c.set_defaults(fn=cmd_check)

    d = sub.add_parser("cost-diff", help="monthly cost change between two parameters files (markdown, for pull requests)")
    d.add_argument("old", metavar="OLD", help="parameters file before the change (or REV:path of a git revision)")
    d.add_argument("new", metavar="NEW", help="parameters file after the change (or REV:path)")
    d.set_defaults(fn=cmd_cost_diff)

    k = sub.add_parser("scan-secrets", help="scan a repository's git-tracked files for secret values (never prints them)")
    k.add_argument("path", metavar="PATH", help="repository or folder to scan")
    k.add_argument("--params", metavar="PARAMS", help="parameters file whose secret inventory to cross-check")
    k.add_argument("--format", choices=("text", "json"), default="text")
    k.set_defaults(fn=cmd_scan_secrets)

    pl = sub.add_parser("plan", help="deployment plan for one release and environment, behind its gates")
    pl.add_argument("params", metavar="PARAMS")
    pl.add_argument("--env", required=True, metavar="ENV", help="target environment (e.g. prod)")
    pl.add_argument("--version", required=True, metavar="X.Y.Z", help="semantic version being released")
    pl.add_argument("--qa-report", metavar="PATH", help="QA report (QA/QA-Report-<UNIT_ID>.md) whose status must be approved")
    pl.add_argument("--window", metavar="START/END", help="deployment window, ISO times (e.g. 2026-11-03T14:00Z/2026-11-03T16:00Z)")
    pl.add_argument("--history", metavar="PATH", help="deployment history (default: deployments/<project>.yaml beside parameters/)")
    pl.add_argument("--strategy", choices=("rolling", "blue-green", "canary", "recreate"), help="override the parameters' strategy")
    pl.add_argument("--out", metavar="DIR", help="output folder (default: build/)")
    pl.add_argument("--force", action="store_true", help="write the plan although a gate failed; the plan records the override")
    pl.set_defaults(fn=cmd_plan)

    rp = sub.add_parser("report", help="deployment report from a record of what happened")
    rp.add_argument("results", metavar="RESULTS.yaml")
    rp.add_argument("--out", metavar="DIR", help="output folder (default: beside RESULTS.yaml)")
    rp.set_defaults(fn=cmd_report)

    from opslib.notebook.app import register as _reg_app; _reg_app(sub)
    from opslib.documents.cost_report import register as _reg_actuals; _reg_actuals(sub)
    s = sub.add_parser("schema", help="print the JSON Schema of parameters files")
    s.set_defaults(fn=cmd_schema)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except OpslibError as exc:
        _err(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted; documents already written are complete, the rest were not started.")
        return 130


if __name__ == "__main__":
    sys.exit(main())

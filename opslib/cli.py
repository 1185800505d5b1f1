"""The `opslib` command.

    opslib validate PARAMS…                       every mistake at once; exit 2 on bad input
    opslib render PARAMS… [--out DIR] [--force] [--check]   documents directly, no notebook kernel (fast path)
    opslib batch [PARAMS…] [--jobs N] [--out DIR] [--rebuild] [--check] [--shard I/N] [--executor local|dask]
                                                  every notebook for every project (papermill); unchanged projects are skipped
    opslib check FILE… [--env NAMES] [--format text|json]   the quality bar on a runbook
    opslib cost-diff OLD [NEW] [--scenario NAME]  monthly cost change per component and environment
    opslib scenario list|apply PARAMS [NAME]      saved cost scenarios; apply one to the parameters file (diff first)
    opslib scan-secrets PATH [--params P]         secret values in a repository (never printed)
    opslib plan PARAMS --env E --version X.Y.Z    deployment plan behind its gates
    opslib report RESULTS.yaml                    deployment report from what happened
    opslib schema [--markdown]                    the parameters JSON Schema (or the field reference, docs/parameters.md)
    opslib init NAME [--from PATH] [--platform P] [--kind K] [--ci S] [--store S] [--datastore D] [--environments A,B]
                                                  a first, commented parameters/NAME.yaml (asks in a terminal)

Exit codes: 0 success, 1 a run or a check failed, 2 bad input, 130 Ctrl-C, 143 SIGTERM
(both stop workers and kernels and remove temporary folders first). Every message is printed
with any secret value in it redacted (a file name, a key or a blocked_reason may hold one).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from opslib import __version__
from opslib.errors import InputError, OpslibError, Terminated

# the genres `opslib check --genre` accepts (opslib.check.document.GENRES; kept here so that the
# parser is built without importing the checker, a test keeps the two in step)
CHECK_GENRES = ("service-runbook", "alert-runbook", "procedure", "checklist", "template", "cost-plan", "secrets", "pipeline",
                "deployment-plan", "deployment-report", "readiness", "cost-report", "postmortem")

__all__ = ["main"]


def _err(msg: str) -> None:
    from opslib.catalog.secrets import redact

    print(f"opslib: {redact(msg)}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from opslib.params.models import load_params
    from opslib.params.status import check_status

    code = 0
    for path in args.params:
        try:
            params = load_params(path)
            status = check_status(params, force=True).model_copy(update={"forced": False})
            note = f"; {status.summary}"
            if status.halting and status.status is not None:
                note += f" ({status.status.status}: render and batch will refuse without --force)"
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
    from opslib.run.batch import discover_params
    from opslib.run.render import check_project, render_project

    code = 0
    drift: list[str] = []
    for path in discover_params(args.params):
        try:
            if args.check:
                found = check_project(path, args.out, force=args.force, scenario=args.scenario)
                drift += found.diff
                print(f"{path}: {'documents differ from the parameters' if found.diff else 'documents match the parameters'} ({found.out_dir})",
                      file=sys.stderr)
                continue
            done = render_project(path, args.out, force=args.force, scenario=args.scenario)
            print(f"{path}: wrote {', '.join(done.files)} into {done.out_dir} ({done.passed} checks passed)")
        except OpslibError as exc:
            _err(str(exc))
            code = max(code, exc.exit_code)
    if drift:
        _print_drift(drift)
        _err("the committed documents differ from what the parameters produce (diff above); run `opslib render` and commit the result.")
        code = max(code, 1)
    return code


class _Bar:
    """The batch's progress bar (tqdm on stderr)."""

    def __init__(self, enabled: bool):
        self.enabled, self.bar = enabled, None

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc="opslib batch", unit="project", file=sys.stderr, disable=not self.enabled or not total)

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.update()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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
    run = dict(jobs=args.jobs, force=args.force, progress=_Bar(not args.quiet), executor=args.executor, scheduler=args.scheduler,
               scenario=args.scenario)
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


CHECK_MAX_BYTES = 5_000_000


def cmd_check(args: argparse.Namespace) -> int:
    from opslib.catalog.catalog import platform_names
    from opslib.check.document import check_document
    from opslib.check.formats import exceeds, render_reports
    from opslib.core.yamlio import read_input_text

    envs = [e for e in args.env.split(",") if e] if args.env else None
    if args.platform is not None and args.platform not in platform_names():
        _err(f"--platform {args.platform!r}: not a shipped platform; use one of {', '.join(platform_names())}")
        return 2
    if args.alerts is not None and (problem := _alert_rules_problem(Path(args.alerts))):
        _err(problem)
        return 2
    code = 0
    reports = []
    for name in args.files:
        path = Path(name)
        if path.is_dir():
            _err(f"{path}: is a folder; pass the documents in it (e.g. {path}/*.md)")
            code = 2
            continue
        if not path.exists():
            _err(f"{path}: file not found; pass the path of a runbook, cost plan, secrets or pipeline document")
            code = 2
            continue
        try:
            text = read_input_text(path, "Markdown document", max_bytes=CHECK_MAX_BYTES)
        except InputError as exc:
            _err(str(exc))
            code = 2
            continue
        report = check_document(text, path=path, genre=args.genre, environments=envs, platform=args.platform, alerts=args.alerts)
        reports.append(report)
        if exceeds(report, args.fail_on):
            code = max(code, 1)
    if reports:
        print(render_reports(reports, args.format))
    return code


def _alert_rules_problem(path: Path) -> str | None:
    """Why `path` cannot serve as `--alerts` (one sentence), or None when it is a Prometheus rules file."""
    import yaml

    if not path.is_file():
        return f"--alerts {path}: file not found; pass the Prometheus rules file whose runbook_url anchors the runbook must open (e.g. alerts.yml)"
    try:
        rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        return f"--alerts {path}: not readable YAML{line}; fix the file or pass the right one"
    if not isinstance(rules, dict) or not isinstance(rules.get("groups"), list):
        return f"--alerts {path}: no 'groups:' list of alert rules; pass a Prometheus rules file (groups → rules → annotations.runbook_url)"
    return None


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
    """Print the cost diff; exit 1 when the new parameters' worst case at maximum scale exceeds
    an environment's spending limit."""
    from contextlib import ExitStack

    from opslib.documents.cost_plan import diff, estimate
    from opslib.documents.scenario import with_scenario
    from opslib.errors import ParamsError
    from opslib.params.models import load_params

    if args.new is None and not args.scenario:
        raise InputError("cost-diff needs NEW or --scenario NAME; e.g. opslib cost-diff parameters/x.yaml --scenario peak-season.")
    args.new = args.new or args.old
    with ExitStack() as stack:
        old_path, new_path = _revision_file(args.old, stack), _revision_file(args.new, stack)
        try:
            old, new = load_params(old_path), with_scenario(load_params(new_path), args.scenario)
            for p, path in ((old, old_path), (new, new_path)):
                if p.cost is None:
                    raise ParamsError(path, ["cost: missing; add a cost: section to compare costs"])
            text = diff(old, new)
            if args.scenario:  # the same file on both sides: say which side carries the scenario
                text = text.replace(f" → {new.path}\n", f" → {new.path} with scenario {args.scenario}\n", 1)
            print(text, end="")
            return 1 if any(e.breach for e in estimate(new, simulate=False).envs) else 0
        except OpslibError as exc:  # name the revision the user typed, not our temporary copy
            exc.args = (str(exc).replace(old_path, args.old).replace(new_path, args.new),)
            raise


def cmd_scenario(args: argparse.Namespace) -> int:
    """list: the saved scenarios of a project; apply: print the diff, then write it (not with --dry-run)."""
    from opslib.documents.scenario import edit_parameters, list_scenarios, load_scenario, scenario_dir, write_parameters
    from opslib.params.models import load_params

    params = load_params(args.params)
    if args.action == "list":
        names = list_scenarios(params)
        print("\n".join(names) if names else f"no scenarios in {scenario_dir(params)}; save one from the cost explorer")
        return 0
    if not args.name:
        raise InputError("scenario apply needs the scenario's NAME; `opslib scenario list PARAMS` shows them.")
    edit = edit_parameters(params, load_scenario(params, args.name))
    if not edit.diff:
        print(f"{args.params}: already holds the values of scenario {args.name}; nothing to change")
        return 0
    sys.stdout.write("".join(edit.diff))
    if args.dry_run:
        print(f"{args.params}: not written (--dry-run)", file=sys.stderr)
        return 0
    write_parameters(edit)
    print(f"{args.params}: scenario {args.name} written into it (diff above); comments and order kept", file=sys.stderr)
    return 0


def cmd_cost_gate(args: argparse.Namespace) -> int:
    """The pipeline's cost-check stage: a Markdown cost report; exit 1 when an environment's
    expected monthly cost exceeds its budget."""
    from opslib.documents.cost_plan import cost_gate
    from opslib.params.models import load_params

    ok, report = cost_gate(load_params(args.params))
    print(report, end="")
    return 0 if ok else 1


def cmd_scan_secrets(args: argparse.Namespace) -> int:
    """Print findings (never values); exit 1 when a secret is found, 2 when a file could not be
    read (never reported as clean), 0 when clean."""
    from opslib.check.scan import cross_check, list_files, scan_paths
    from opslib.params.models import load_params

    root = Path(args.path)
    if not root.exists():
        raise InputError(f"{args.path}: no such file or folder; give the repository (or file) to scan.")
    params = load_params(args.params) if args.params else None
    files = list_files(root)
    skipped: list[tuple[str, str]] = []
    findings = scan_paths(root, files, skipped=skipped)
    check = cross_check(root, params, findings, files) if params is not None else None
    if args.format == "json":
        doc = {
            "scanned_files": len(files) - len(skipped),
            "not_scanned": [{"file": f, "reason": why} for f, why in skipped],
            "findings": [f.as_dict() for f in findings],
            "cross_check": None if check is None else {
                "secrets_in_code_not_in_inventory": [f.as_dict() for f in check.undeclared_in_code],
                "declared_secrets_hard_coded": [{"env_var": v, **f.as_dict()} for v, f in check.declared_hardcoded],
                "env_vars_read_not_declared": {v: [f"{a}:{b}" for a, b in u] for v, u in sorted(check.undeclared_env_vars.items())},
                "declared_not_referenced": check.unreferenced_secrets,
            },
        }
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        for f in findings:
            print(f.describe())
        if check is not None:
            for problem in check.problems():
                print(f"cross-check: {problem}")
        for rel, why in skipped:
            print(f"{rel}: not scanned ({why}); make it readable and scan again")
        noun = "secret" if len(findings) == 1 else "secrets"
        print(f"{len(files) - len(skipped)} files scanned: {len(findings)} {noun} found"
              + (f", {len(skipped)} file(s) could not be read (not scanned, see above)" if skipped else "")
              + ("" if not findings else "; rotate each one (see the link), then remove it from the code and its history"))
    return 1 if findings else 2 if skipped else 0


def cmd_plan(args: argparse.Namespace) -> int:
    """Write the deployment plan behind its gates; a failed gate exits 1 (GateFailed) unless --force."""
    from opslib.documents.deployment_plan import plan_path, prepare, write_plan
    from opslib.params.models import load_params

    params = load_params(args.params)
    plan = prepare(params, args.env, args.version, args.qa_report, args.window, args.history, args.strategy, args.force)
    path = write_plan(plan, plan_path(params, args.env, plan.version, args.out), params)
    for g in plan.gates:
        print(f"  {'pass' if g.ok else 'FORCED'} {g.name}: {g.evidence}")
    print(f"{args.params}: wrote {path}" + (f" (--force overrode {len(plan.forced)} failed gate(s))" if plan.forced else ""))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from opslib.documents.deployment_report import write_report

    r, path = write_report(args.results, out=args.out)
    print(f"{args.results}: wrote {path} (status {r.status})")
    return 0


def cmd_actuals(args: argparse.Namespace) -> int:
    """Exit 1 when an environment's actual spend reached 100% of its budget in the month reported."""
    import re

    from opslib.documents.commands import default_doc_dir
    from opslib.documents.cost_report import FIGURES, FILE, write_report
    from opslib.documents.spend import summary_json, summary_text
    from opslib.params.models import load_params

    if args.month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.month):
        raise InputError(f"--month {args.month}: not a month; write it as YYYY-MM, e.g. 2026-10.")
    from opslib.core.files import output_folder

    params = load_params(args.params)
    out_dir = output_folder(args.out) / params.project.name if args.out else default_doc_dir(params)
    report, _ = write_report(params, out_dir, args.billing or None, args.month)
    if args.format == "json":
        print(json.dumps(summary_json(report), indent=2, sort_keys=True))
    elif args.format == "markdown":
        print((out_dir / FILE).read_text(encoding="utf-8"), end="")
    else:
        print(summary_text(report))
        print(f"wrote {out_dir / FILE} and {len(FIGURES)} figures")
    return 1 if report.over_budget else 0


def cmd_app(args: argparse.Namespace) -> int:
    """Serve a notebook with Voilà until stopped (SIGTERM, SIGINT or SIGHUP stop Voilà and its kernels too)."""
    from opslib.notebook.app import APP_ENV, APPS, PARAMS_ENV, serve_until_stopped, voila_command
    from opslib.params.models import load_params

    notebook = Path(args.notebooks) / APPS[args.name]
    if not notebook.is_file():
        raise InputError(f"{notebook}: notebook not found; pass --notebooks DIR pointing at the notebooks/ folder.")
    env = dict(os.environ)
    env[APP_ENV] = args.name
    if args.params:
        params = load_params(args.params)
        if args.name == "cost" and params.cost is None:
            raise InputError(f"{args.params}: no cost: section; add drivers, components and budgets to explore costs.")
        env[PARAMS_ENV] = str(Path(args.params).resolve())
    print(f"opslib app {args.name}: http://{args.ip}:{args.port}/  (Ctrl-C stops)", file=sys.stderr)
    return serve_until_stopped(voila_command(notebook.resolve(), args.port, args.ip), env)


def cmd_export_pdf(args: argparse.Namespace) -> int:
    from opslib.run.export import export_pdf

    code = 0
    for html in map(Path, args.html):
        target = Path(args.out) / html.with_suffix(".pdf").name if args.out else None
        try:
            print(export_pdf(html, target, browser=args.browser))
        except OpslibError as exc:
            _err(str(exc))
            code = 2
    return code


def _port(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("--port takes a number (1024–65535)") from None
    if not 0 < n < 65536:
        raise argparse.ArgumentTypeError("--port takes a number (1024–65535)")
    return n


def _scenario_name(value: str) -> str:
    from opslib.documents.scenario import NAME_PATTERN

    if not NAME_PATTERN.match(value):
        raise argparse.ArgumentTypeError("a scenario name is lower-case letters, digits and dashes (e.g. peak-season)")
    return value


def cmd_schema(args: argparse.Namespace) -> int:
    from opslib.params.reference import markdown, schema_text

    sys.stdout.write(markdown() if args.markdown else schema_text())
    return 0


def _ask(question: str, choices: Sequence[str] | None, default: str) -> str:
    """One question on the terminal (stderr), with its choices and default."""
    if choices:
        print(f"  choices: {', '.join(choices)}", file=sys.stderr)
    try:
        return input(f"{question} [{default}] ")
    except EOFError:
        return ""


def _split(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def cmd_init(args: argparse.Namespace) -> int:
    from opslib.catalog.secrets import redact
    from opslib.run.detect import detect
    from opslib.run.init import ask_choices, init_project, make_choices

    root = Path(args.dir)
    found = detect(Path(args.source)) if args.source else None
    given = {"platform": args.platform, "kinds": _split(args.kind), "ci": _split(args.ci), "store": args.store,
             "datastores": _split(args.datastore), "environments": _split(args.environments), "team": args.team,
             "description": args.description, "repository": args.repository}
    choices = make_choices(args.name, given, found)
    if not args.no_input and sys.stdin.isatty():
        choices = ask_choices(choices, _ask)
    done = init_project(root, choices, found)
    found_note = f"{done.detected} value(s) found in {args.source}, " if args.source else ""
    print(f"wrote {done.path}: {found_note}{done.questions} QUESTION(s) to check (each a guess that validates; answer it in the file)")
    for extra in done.created[1:]:
        print(f"  and {extra} (it did not exist)")
    if found is not None and found.skipped:
        print(f"  not read ({len(found.skipped)}):")
        for line in found.skipped[:20]:
            print(f"    {redact(line)}")  # a file's name could hold a token
        if len(found.skipped) > 20:
            print(f"    and {len(found.skipped) - 20} more")
    print(f"next: opslib render {done.path}")
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
    r.add_argument("--scenario", metavar="NAME", type=_scenario_name,
                   help="apply the saved cost scenario scenarios/<project>/NAME.yaml; documents go to <out>/<project>@NAME/")
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
    b.add_argument("--scenario", metavar="NAME", type=_scenario_name,
                   help="run every project with its saved cost scenario scenarios/<project>/NAME.yaml, into <out>/<project>@NAME/")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(fn=cmd_batch)

    c = sub.add_parser("check", help="check operational documents (runbooks, cost plans, secrets, pipelines) against the quality bar")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--env", metavar="NAMES", help="comma-separated environments the document must cover (default: dev,staging,prod)")
    c.add_argument("--format", choices=("text", "json", "markdown", "github"), default="text",
                   help="text (default), json, markdown (a report for pull requests) or github (workflow annotations)")
    c.add_argument("--fail-on", choices=("error", "warning", "never"), default="error",
                   help="exit 1 when a finding of this severity or worse fails (default: error)")
    c.add_argument("--genre", choices=CHECK_GENRES,
                   help="skip genre detection and check the files as this kind of document")
    c.add_argument("--platform", metavar="NAME",
                   help="judge tool fit against this shipped platform's tools: heroku, kubernetes, aws-lambda, vm-systemd "
                        "(default: the platform the document's commands show)")
    c.add_argument("--alerts", metavar="FILE",
                   help="Prometheus rules whose runbook_url anchors must open a section of the runbook (default: alerts.yml beside the document)")
    c.set_defaults(fn=cmd_check)

    d = sub.add_parser("cost-diff", help="monthly cost change between two parameters files (markdown, for pull requests)")
    d.add_argument("old", metavar="OLD", help="parameters file before the change (or REV:path of a git revision)")
    d.add_argument("new", metavar="NEW", nargs="?", help="parameters file after the change (or REV:path); default: OLD (with --scenario)")
    d.add_argument("--scenario", metavar="NAME", type=_scenario_name,
                   help="apply the saved cost scenario scenarios/<project>/NAME.yaml to NEW: what the scenario would change")
    d.set_defaults(fn=cmd_cost_diff)

    sc = sub.add_parser("scenario", help="saved cost scenarios (scenarios/<project>/NAME.yaml): list them, or apply one to the parameters file")
    sc.add_argument("action", choices=("list", "apply"))
    sc.add_argument("params", metavar="PARAMS")
    sc.add_argument("name", metavar="NAME", nargs="?", type=_scenario_name)
    sc.add_argument("--dry-run", action="store_true", help="apply: print the diff, write nothing")
    sc.set_defaults(fn=cmd_scenario)

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

    a = sub.add_parser("app", help="serve a notebook as a web app with Voilà (sliders and results, no code)")
    a.add_argument("name", choices=("cost",), help="which app: cost (the cost explorer of 10-cost-plan.ipynb)")
    a.add_argument("--params", help="the project to open first (default: $OPSLIB_PARAMS, else the first of parameters/); the page has a picker")
    a.add_argument("--port", type=_port, default=8866, help="port to listen on (default 8866)")
    a.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    a.add_argument("--notebooks", default="notebooks", help="the notebooks/ folder (default ./notebooks)")
    a.set_defaults(fn=cmd_app)
    e = sub.add_parser("export-pdf", help="print HTML review copies to PDF with Chromium (for sign-off)")
    e.add_argument("html", nargs="+", help="review copies, e.g. build/<project>/review/10-cost-plan.html")
    e.add_argument("--out", help="folder for the PDFs (default: beside each HTML file)")
    e.add_argument("--browser", default="/usr/bin/chromium", help="Chromium executable (default /usr/bin/chromium)")
    e.set_defaults(fn=cmd_export_pdf)
    ac = sub.add_parser(
        "actuals", help="actual spend from FOCUS billing exports against the cost plan and budgets (cost-report.md)",
        description="Reads FOCUS 1.0–1.2 cost-and-usage exports (CSV, .csv.gz, Parquet; files or folders) with DuckDB, attributes the rows "
                    "to the project's environments and writes cost-report.md with its figures. Exit codes: 0 ok, 1 an environment's "
                    "actual spend reached 100% of its budget in the month reported, 2 bad input.")
    ac.add_argument("billing", nargs="*", metavar="BILLING", help="FOCUS exports (.csv, .csv.gz, .parquet) or folders; default: the parameters' actuals.billing")
    ac.add_argument("--params", required=True, metavar="PARAMS", help="the project's parameters file (budgets, estimate, attribution)")
    ac.add_argument("--out", metavar="DIR", help="output folder; the report goes to DIR/<project>/ (default: build/)")
    ac.add_argument("--month", metavar="YYYY-MM", help="month to report (default: the last month in the data)")
    ac.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="what to print (the report file is always written)")
    ac.set_defaults(fn=cmd_actuals)
    g = sub.add_parser("cost-gate", help="the pipeline's cost check: expected monthly cost against each environment's budget (Markdown)")
    g.add_argument("params", metavar="PARAMS")
    g.set_defaults(fn=cmd_cost_gate)
    s = sub.add_parser("schema", help="print the JSON Schema of parameters files (or, with --markdown, docs/parameters.md)")
    s.add_argument("--markdown", action="store_true", help="the human-readable reference of every field (docs/parameters.md)")
    s.set_defaults(fn=cmd_schema)
    i = sub.add_parser(
        "init", help="write a first, commented parameters/NAME.yaml (asks in a terminal; flags otherwise; --from reads a repository)",
        description="Writes parameters/NAME.yaml with every field described, the choices, and a QUESTION comment on each guess; "
                    "creates docs/status.json, docs/architecture.md, plan.md and spec.md skeletons and schema/parameters.schema.json "
                    "when they do not exist. Never overwrites a file. With --from PATH the values the repository states (Procfile, "
                    "Kubernetes and Helm, ECS task definitions, Cloud Run, serverless/SAM, docker-compose, CI files, language "
                    "manifests, secret names, Prometheus rules, health endpoints) are filled in with their source file and line.")
    i.add_argument("name", metavar="NAME", help="project name: lower-case letters, digits and dashes (e.g. shop-api)")
    i.add_argument("--from", dest="source", metavar="PATH", help="an existing repository to read (never followed outside PATH; secret values never read)")
    i.add_argument("--dir", default=".", help="folder to write parameters/NAME.yaml into (default: the current folder)")
    i.add_argument("--platform", help="where it runs (a platform folder of opslib/data/platforms, e.g. kubernetes, heroku, aws-lambda)")
    i.add_argument("--kind", action="append", metavar="KIND", help="web, worker and/or job (repeat or comma-separate; default web)")
    i.add_argument("--ci", action="append", metavar="SYSTEM", help="github and/or gitlab (default github)")
    i.add_argument("--store", help="secret store (opslib/data/secret-stores.yaml; default: the platform's own)")
    i.add_argument("--datastore", action="append", metavar="SERVICE", help="a database, cache or queue service of opslib/data/datastores.yaml (repeat)")
    i.add_argument("--environments", action="append", metavar="NAMES", help="environment names in promotion order (default dev,staging,prod)")
    i.add_argument("--team", help="owning team")
    i.add_argument("--description", help="one sentence: what the service does and for whom")
    i.add_argument("--repository", help="URL of the source repository")
    i.add_argument("--no-input", action="store_true", help="never ask, even in a terminal")
    i.set_defaults(fn=cmd_init)
    return p


def _ignore(_signum: int, _frame) -> None:
    return None


def _stop(signum: int, _frame) -> None:
    """SIGTERM (and Ctrl-C): raised once in the main thread, so every clean-up runs; further
    signals are ignored while it does (it is bounded: workers get 30 s)."""
    signal.signal(signal.SIGTERM, _ignore)  # not SIG_IGN: Python raises OSError for a signal pending on SIG_IGN
    signal.signal(signal.SIGINT, _ignore)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    import threading

    main_thread = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)} if main_thread else {}
    try:
        return args.fn(args)
    except OpslibError as exc:
        _err(str(exc))
        return exc.exit_code
    except Terminated:
        _err("terminated (SIGTERM); workers and kernels were stopped and temporary folders removed; "
             "documents already written are complete, the rest were not written.")
        return 143
    except KeyboardInterrupt:
        _err("interrupted; documents already written are complete, the rest were not started.")
        return 130
    except OSError as exc:  # a disk, permission or path problem outside the checks above
        where = exc.filename or "a file"
        _err(f"{where}: {exc.strerror or exc.__class__.__name__}; check the path, its permissions and the free space, and run again.")
        return 2
    except RecursionError:
        _err("the input is nested too deeply to process; flatten it and run again.")
        return 2
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())

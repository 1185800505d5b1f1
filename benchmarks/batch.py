"""Batch at scale: the naive papermill + nbconvert loop vs `opslib batch` vs `opslib render`.

    .venv/bin/python benchmarks/batch.py --projects 20 --naive-repeats 1 --repeats 3

Generates N valid projects in a temporary folder (copies of parameters/*.yaml under new
names, with the examples/ they link to), then measures in the same run:
  (a) naive: per notebook, `papermill NB OUT -p …` then `jupyter nbconvert --to html --no-input`,
      serially (what a user would script);
  (b) `opslib batch --jobs auto --rebuild` (fresh output folder each repetition), plus one
      incremental run where every project is unchanged;
  (b0) the same batch once with plain kernels (OPSLIB_ZYGOTE=0): what forking kernels from a
      pre-imported zygote saves (--no-plain skips it);
  (c) `opslib render` (no kernels: the floor).
Prints medians, a/b and b/c, the per-notebook median of (a), where (b)'s time goes (run.json
timings), whether (a) and (b) wrote byte-identical documents, and the machine (cores, load).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from opslib.run.drift import document_files  # noqa: E402


def make_projects(root: Path, n: int) -> list[Path]:
    """n parameters files in root/parameters (round-robin over the examples, renamed)."""
    shutil.copytree(REPO / "examples", root / "examples")
    (root / "parameters").mkdir()
    sources = sorted((REPO / "parameters").glob("*.yaml"))
    out = []
    for i in range(n):
        src = sources[i % len(sources)]
        text = src.read_text(encoding="utf-8")
        name = f"{src.stem}-{i:03d}"
        text, hits = re.subn(rf"^(  name: ){re.escape(src.stem)}$", rf"\g<1>{name}", text, count=1, flags=re.M)
        assert hits == 1, f"{src}: project name not found"
        path = root / "parameters" / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


ENV = dict(os.environ)


def snapshot_opslib(root: Path) -> None:
    """Run every command against a copy of opslib (PYTHONPATH wins over the editable install),
    so edits to the working tree during the benchmark change neither documents nor timings."""
    shutil.copytree(REPO / "opslib", root / "src" / "opslib", ignore=shutil.ignore_patterns("__pycache__", ".*"))
    ENV["PYTHONPATH"] = os.pathsep.join([str(root / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
    ENV["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"


def run(cmd: list[str], env: dict[str, str] | None = None, **kw) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**ENV, **(env or {})}, **kw)
    if proc.returncode != 0:
        sys.exit(f"benchmark: {' '.join(cmd[:3])}… failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def naive(projects: list[Path], notebooks: list[Path], out: Path, per_notebook: list[float]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    for params in projects:
        project = out / params.stem
        for nb in notebooks:
            executed = project / "notebooks" / nb.name
            executed.parent.mkdir(parents=True, exist_ok=True)
            s = run([str(BIN / "papermill"), str(nb), str(executed), "-k", "python3", "--cwd", str(nb.parent),
                     "-p", "params_path", str(params), "-p", "out_dir", str(project), "-p", "force", "False",
                     "-p", "interactive", "False", "--no-progress-bar"])
            s += run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed),
                      "--output-dir", str(project / "review")])
            per_notebook.append(s)
    return time.perf_counter() - t0


def opslib(args: list[str], env: dict[str, str] | None = None) -> float:
    return run([str(BIN / "opslib"), *args], env=env)


def compare(a: Path, b: Path, projects: list[Path]) -> list[str]:
    problems = []
    for params in projects:
        pa, pb = a / params.stem, b / params.stem
        fa = {p.relative_to(pa).as_posix(): p for p in document_files(pa)}
        fb = {p.relative_to(pb).as_posix(): p for p in document_files(pb)}
        if fa.keys() != fb.keys():
            problems.append(f"{params.stem}: different files: {sorted(fa.keys() ^ fb.keys())}")
        problems += [f"{params.stem}/{rel} differs" for rel in sorted(fa.keys() & fb.keys()) if fa[rel].read_bytes() != fb[rel].read_bytes()]
        if not fa:
            problems.append(f"{params.stem}: no documents")
    return problems


def where_time_goes(out: Path, projects: list[Path]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for params in projects:
        for key, value in json.loads((out / params.stem / "run.json").read_text())["timings_s"].items():
            totals[key] += value
    return dict(totals)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projects", type=int, default=20, help="number of projects (e.g. 5, 20, 50; default 20)")
    ap.add_argument("--repeats", type=int, default=3, help="repetitions of (b) and (c) (default 3)")
    ap.add_argument("--naive-repeats", type=int, default=1, help="repetitions of (a) (default 1; ~5 notebooks × 2 commands per project)")
    ap.add_argument("--naive-projects", type=int, metavar="K",
                    help="run (a) on the first K projects only and extrapolate its time to N (it is serial: time ∝ projects); "
                         "the identical-documents check then covers those K")
    ap.add_argument("--jobs", default="auto", help="opslib batch --jobs (default auto)")
    ap.add_argument("--no-plain", action="store_true", help="skip (b0), the batch with plain kernels (OPSLIB_ZYGOTE=0)")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder, removed)")
    args = ap.parse_args()

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="opslib-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    env_note = f"cores {os.cpu_count()}, load {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min) at start"
    try:
        snapshot_opslib(root)
        projects = make_projects(root, args.projects)
        shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".*"))  # a snapshot: others may edit them
        notebooks = sorted((root / "notebooks").glob("*.ipynb"))
        print(f"N = {len(projects)} projects × {len(notebooks)} notebooks; {env_note}", flush=True)
        per_nb: list[float] = []
        naive_projects = projects[: args.naive_projects] if args.naive_projects else projects
        scale = len(projects) / len(naive_projects)
        a = [naive(naive_projects, notebooks, root / "out-a", per_nb) * scale for _ in range(args.naive_repeats)]
        note = f" (measured on {len(naive_projects)} projects, × {scale:.1f})" if scale != 1 else ""
        print(f"(a) naive loop: {[round(x, 1) for x in a]} s{note}", flush=True)
        pdir = str(root / "parameters")
        b = []
        for _ in range(args.repeats):
            shutil.rmtree(root / "out-b", ignore_errors=True)
            b.append(opslib(["batch", pdir, "--out", str(root / "out-b"), "--jobs", args.jobs, "--rebuild", "--quiet",
                             "--notebooks", str(root / "notebooks")]))
        print(f"(b) opslib batch: {[round(x, 1) for x in b]} s", flush=True)
        b0 = None
        if not args.no_plain:
            b0 = opslib(["batch", pdir, "--out", str(root / "out-b0"), "--jobs", args.jobs, "--rebuild", "--quiet",
                         "--notebooks", str(root / "notebooks")], env={"OPSLIB_ZYGOTE": "0"})
            print(f"(b0) opslib batch, plain kernels (OPSLIB_ZYGOTE=0): {b0:.1f} s", flush=True)
        inc = opslib(["batch", pdir, "--out", str(root / "out-b"), "--jobs", args.jobs, "--quiet", "--notebooks", str(root / "notebooks")])
        c = [opslib(["render", pdir, "--out", str(root / "out-c")]) for _ in range(args.repeats)]
        print(f"(c) opslib render: {[round(x, 1) for x in c]} s", flush=True)
        ma, mb, mc = statistics.median(a), statistics.median(b), statistics.median(c)
        problems = compare(root / "out-a", root / "out-b", naive_projects)
        spent = where_time_goes(root / "out-b", projects)
        execute = sum(v for k, v in spent.items() if k.endswith(".execute"))
        export = sum(v for k, v in spent.items() if k.endswith(".export"))
        print()
        print(f"machine: {env_note}; load at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"N = {len(projects)}: median (a) naive {ma:.1f} s{note} | (b) opslib batch --jobs {args.jobs} {mb:.1f} s | (c) opslib render {mc:.1f} s")
        print(f"a/b = {ma / mb:.2f}×   b/c = {mb / mc:.2f}×   per-notebook median of (a) = {statistics.median(per_nb):.2f} s "
              f"(papermill + nbconvert commands)")
        if b0 is not None:
            plain_diff = compare(root / "out-b0", root / "out-b", projects)
            print(f"(b0) plain kernels {b0:.1f} s: a/b0 = {ma / b0:.2f}×, b0/b = {b0 / mb:.2f}× (the zygote's gain); identical documents: "
                  + ("yes" if not plain_diff else "NO\n  " + "\n  ".join(plain_diff[:10])))
        print(f"incremental re-run of (b) with nothing changed: {inc:.1f} s")
        print(f"(b) worker time, summed over projects: notebook execution {execute:.1f} s, HTML export {export:.1f} s; by notebook: "
              + ", ".join(f"{k} {v:.1f}" for k, v in sorted(spent.items()) if k != "total"))
        render_diff = compare(root / "out-b", root / "out-c", projects)
        print("identical documents (b) batch vs (c) render: " + ("yes" if not render_diff else "NO\n  " + "\n  ".join(render_diff[:10])))
        print(f"identical documents (a) vs (b) ({len(naive_projects)} projects, every document byte for byte): " + ("yes" if not problems else "NO\n  " + "\n  ".join(problems[:20])))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Runbook size and repetition, against issue 18's targets, over the examples and generated projects.

    PYTHONPATH=. .venv/bin/python benchmarks/runbook_size.py [PARAMS…] [--matrix N] [--seed S]

For every runbook (default: parameters/*.yaml; `--matrix N` adds N projects drawn from the generated
matrix of tests/projects.py, plus the minimal service of every platform) it prints:

- lines: all lines of runbook.md (the targets: a minimal service ≤ 300, the largest example ≤ 900);
- repeated: the share of non-blank lines that repeat an earlier line of the same runbook, target ≤ 5 %;
  left out as structure, not content, as `opslib check` leaves them out (opslib.check.shape.structural):
  code fences, table separators, shell keywords and brackets alone on a line (`done`, `fi`, `}`, an
  expected output's `# {`) and label-only lines (`**Start**:`); loop headers and commands count;
- rollback on first screen: the line where the production rollback commands start (a code block
  within the first 60 lines);
- rollback section: the line where `## Rollback` starts;
- with `--sections K`, the K longest sections of each runbook.

A runbook that fails its checks is counted with its draft (`runbook.draft`), so a failing project
still shows its size; the failures are printed.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from opslib.check.shape import structural  # noqa: E402
from opslib.documents import runbook  # noqa: E402
from opslib.params.models import load_params  # noqa: E402
from opslib.params.status import check_status  # noqa: E402

FIRST_SCREEN = 60


def measure(text: str) -> dict[str, float | int | None]:
    lines = text.splitlines()
    content = [ln.strip() for ln in lines if not structural(ln)]
    seen: Counter[str] = Counter()
    repeated = 0
    for ln in content:
        repeated += seen[ln] > 0
        seen[ln] += 1
    quick = next((i for i, ln in enumerate(lines, 1) if re.match(r"(\*\*|### )Roll back", ln)), None)
    block = next((i for i, ln in enumerate(lines, 1) if quick and i > quick and ln.startswith("```")), None)
    rollback = next((i for i, ln in enumerate(lines, 1) if ln.strip() == "## Rollback"), None)
    return {"lines": len(lines), "repeated": repeated / max(len(content), 1), "first_screen": block if block and block <= FIRST_SCREEN else None,
            "rollback": rollback}


def sections(text: str) -> list[tuple[str, int]]:
    """The runbook's sections (every heading down to ###, one line per alert section counted under
    "### (alerts)"), longest first: where the lines are."""
    out: Counter[str] = Counter()
    current, in_alerts = "(top)", False
    for ln in text.splitlines():
        if ln.startswith("## "):
            current, in_alerts = ln[3:], ln.strip() == "## Alerts"
        elif ln.startswith("### "):
            current = "Alerts: one section per alert" if in_alerts else ln[4:]
        out[current] += 1
    return out.most_common()


def _generated(n: int, seed: int, dest: Path) -> list[Path]:
    from projects import make_project, platform_names, sample_choices

    out = [make_project(dest / f"minimal-{p}", platform=p, kinds=("web",), ci=("github",), datastores=(), dependencies=0, name=f"minimal-{p}")
           for p in platform_names()]
    rng = random.Random(seed)
    for i in range(n):
        try:
            out.append(make_project(dest / f"gen-{i}", **dict(sample_choices(rng), name=f"gen-{i}")))
        except Exception as exc:  # noqa: BLE001 - a draw the generator cannot write is reported, not fatal
            print(f"gen-{i}: not generated ({exc})", file=sys.stderr)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("params", nargs="*", type=Path)
    ap.add_argument("--matrix", type=int, default=0, help="also N generated projects and every platform's minimal service")
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--sections", type=int, default=0, metavar="K", help="also the K longest sections of each runbook (where the lines are)")
    args = ap.parse_args()
    paths = list(args.params) or sorted((ROOT / "parameters").glob("*.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        if args.matrix:
            paths += _generated(args.matrix, args.seed, Path(tmp))
        print(f"{'project':<40} {'lines':>6} {'repeated':>9} {'rollback cmds':>14} {'## Rollback':>12}  failing checks")
        for path in paths:
            try:
                params = load_params(path)
            except Exception as exc:  # noqa: BLE001 - refused by validate: not a runbook to measure
                print(f"{path.stem:<40} refused: {str(exc).splitlines()[0][:80]}")
                continue
            d = runbook.draft(params, check_status(params, force=True), Path(tmp) / "out" / params.project.name)
            m = measure(d.text)
            fails = [f for f in d.findings if f.status == "fail" and f.severity == "error"]
            print(f"{params.project.name:<40} {m['lines']:>6} {m['repeated']:>8.1%} {str(m['first_screen'] or 'no'):>14} {str(m['rollback']):>12}  {len(fails)}")
            for f in fails:
                print(f"    {f.message[:200]}")
            for title, count in sections(d.text)[:args.sections]:
                print(f"    {count:>5}  {title}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

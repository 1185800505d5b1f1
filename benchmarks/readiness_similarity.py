"""How alike the examples' readiness reviews are: the pairwise line similarity (difflib's
SequenceMatcher ratio over lines, 1.0 = identical) of readiness.md between every two projects,
and each review's verdict and counts. A review that says the same thing for every project is
not reviewing the projects (issue 18: 0.96 when every item passed on a document's presence).

    .venv/bin/python benchmarks/readiness_similarity.py [--golden | --rev REV]

Default: the reviews rendered now from parameters/*.yaml (into a temporary folder).
--golden: tests/golden/*/readiness.md as committed. --rev REV: the goldens at a git revision
(e.g. --rev 26d8627, the reviews before the verdict and the evidence file).
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import re
import subprocess
import tempfile
from pathlib import Path

from opslib import check_status, load_params
from opslib.documents import readiness
from opslib.documents.contract import document_modules

REPO = Path(__file__).resolve().parent.parent


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.splitlines(), b.splitlines(), autojunk=False).ratio()


def rendered(names: list[str]) -> dict[str, str]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            params = load_params(REPO / "parameters" / f"{name}.yaml")
            status = check_status(params)
            d = Path(tmp) / name
            d.mkdir()
            for mod in document_modules():
                if mod is not readiness:
                    mod.write(params, status, d)
            out[name] = readiness.write(params, status, d).path.read_text(encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", action="store_true", help="compare tests/golden/*/readiness.md")
    ap.add_argument("--rev", help="compare the goldens at this git revision")
    args = ap.parse_args()
    names = sorted(p.stem for p in (REPO / "parameters").glob("*.yaml"))
    if args.rev:
        texts = {n: subprocess.run(["git", "show", f"{args.rev}:tests/golden/{n}/readiness.md"], cwd=REPO, check=True,
                                   capture_output=True, text=True).stdout for n in names}
    elif args.golden:
        texts = {n: (REPO / "tests" / "golden" / n / "readiness.md").read_text(encoding="utf-8") for n in names}
    else:
        texts = rendered(names)
    for a, b in itertools.combinations(names, 2):
        print(f"{a} vs {b}: {ratio(texts[a], texts[b]):.3f}")
    for n in names:
        verdict = re.search(r"\*\*Verdict: ([a-z-]+)\*\*", texts[n])
        counts = re.search(r"\((\d+ verified[^)]*)\)|\((\d+ pass[^)]*)\)", texts[n])
        print(f"{n}: {len(texts[n].splitlines())} lines; verdict {verdict.group(1) if verdict else 'none'}; "
              f"{(counts.group(1) or counts.group(2)) if counts else 'no counts'}")


if __name__ == "__main__":
    main()

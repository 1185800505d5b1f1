"""Benchmark: `opslib scan-secrets` (opslib.scan.scan_paths) against the detect-secrets CLI on
the same generated tree, in the same run.

    .venv/bin/python benchmarks/scan.py [--files 3000] [--keep]

The tree is a git repository of generated Python, YAML, JSON, Markdown and notebook files;
1 % of them hold a fake token assembled at run time (nothing realistic is stored here).
Both tools scan the git-tracked files. Prints seconds per tool and the number of findings.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ALNUM = string.ascii_letters + string.digits


def fake_token(rng: random.Random) -> str:
    pick = rng.randrange(4)
    r = lambda n, a=ALNUM: "".join(rng.choice(a) for _ in range(n))  # noqa: E731
    return [lambda: "AK" + "IA" + r(16, string.ascii_uppercase + "234567"), lambda: "gh" + "p_" + r(36),
            lambda: "hv" + "s." + r(90), lambda: "h" + "f_" + r(34)][pick]()


def generate(root: Path, n: int, seed: int = 7) -> int:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    rng = random.Random(seed)
    planted = 0
    for i in range(n):
        folder = root / f"pkg{i % 40:02d}"
        folder.mkdir(exist_ok=True)
        leak = i % 100 == 0
        token = fake_token(rng) if leak else None
        planted += leak
        kind = i % 5
        if kind == 0:
            body = "\n".join(f"def f{j}(x):\n    return os.environ.get('VAR_{j}', x) * {j}\n" for j in range(15))
            (folder / f"m{i}.py").write_text("import os\n" + body + (f'\nTOKEN = "{token}"\n' if token else ""))
        elif kind == 1:
            lines = [f"service{j}:\n  image: registry.example.com/app/s{j}\n  replicas: {j % 5 + 1}" for j in range(12)]
            (folder / f"c{i}.yaml").write_text("\n".join(lines) + (f"\nupstream_token: {token}\n" if token else "\n"))
        elif kind == 2:
            data = {f"k{j}": {"url": f"https://api.example.com/v1/items/{j}", "count": j} for j in range(20)}
            if token:
                data["auth"] = {"token": token}
            (folder / f"d{i}.json").write_text(json.dumps(data, indent=2))
        elif kind == 3:
            (folder / f"r{i}.md").write_text("# Notes\n\n" + "\n".join(f"- step {j}: run `make test-{j}`" for j in range(25)) + (f"\n\nkey {token}\n" if token else "\n"))
        else:
            cells = [new_code_cell(f"x{j} = {j} * 2\nprint(x{j})", outputs=[new_output("stream", name="stdout", text=f"{j * 2}\n")]) for j in range(8)]
            if token:
                cells.append(new_code_cell("print(client.token)", outputs=[new_output("stream", name="stdout", text=token + "\n")]))
            nbformat.write(new_notebook(cells=cells), str(folder / f"n{i}.ipynb"))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return planted


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--keep", action="store_true", help="keep the generated tree")
    args = ap.parse_args()

    from opslib.check.scan import scan_paths

    root = Path(tempfile.mkdtemp(prefix="opslib-scan-bench-"))
    try:
        planted = generate(root, args.files)
        results = []
        for label, workers in (("opslib scan (1 process)", 1), ("opslib scan (default workers)", None)):
            t0 = time.perf_counter()
            found = scan_paths(root, workers=workers)
            results.append((label, time.perf_counter() - t0, len({f.file for f in found})))
        cli = Path(sys.executable).with_name("detect-secrets")
        t0 = time.perf_counter()
        res = subprocess.run([str(cli), "scan", str(root)], capture_output=True, text=True, check=True, cwd=root)
        files = json.loads(res.stdout)["results"]
        results.append(("detect-secrets scan (CLI)", time.perf_counter() - t0, len(files)))
        print(f"tree: {args.files} files, {planted} with a planted fake token ({root})")
        for label, secs, n in results:
            print(f"{label:32s} {secs:7.1f} s   files with findings: {n}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Generated projects at scale: the contract of issue 16 over N projects drawn from the matrix
platform × service kinds × CI systems × secret stores × datastores × strategies × dependencies.

    .venv/bin/python benchmarks/generated.py --projects 200 --jobs 2 --seed 0

Every project must either be refused by `opslib validate` (exit 2, each problem naming its
field) or render every document with every check passing, plus a deployment plan for
production; never a traceback (tests/projects.py `outcome`). Prints one line per project that
breaks the contract, then the counts (rendered / refused / broken), the refusal reasons, the
coverage of each axis and the time per project (median, p90, total). Exit 1 when any broke.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from projects import make_project, outcome, sample_choices  # noqa: E402


def _one(args: tuple[int, dict, str]) -> tuple[int, dict, bool, list[str], str, float]:
    i, choices, root = args
    started = time.perf_counter()
    dest = Path(root) / f"p{i}"
    path = make_project(dest, **choices)
    result = outcome(path, dest / "build")
    reason = result.message.strip().splitlines()[1].strip() if result.refused and len(result.message.strip().splitlines()) > 1 else ""
    return i, choices, result.refused, result.problems, reason, time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projects", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    draws = [sample_choices(rng) for _ in range(args.projects)]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="opslib-generated-") as root:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(_one, [(i, c, root) for i, c in enumerate(draws)]))
    total = time.perf_counter() - started
    broken = [r for r in results if r[3]]
    for i, choices, _refused, problems, _reason, _t in broken:
        print(f"project {i} {choices}:\n  " + "\n  ".join(p[:400] for p in problems))
    refused = [r for r in results if r[2] and not r[3]]
    times = sorted(r[5] for r in results if not r[2])
    print(f"\n{len(results)} projects: {len(results) - len(refused) - len(broken)} rendered, {len(refused)} refused with a field path, "
          f"{len(broken)} broke the contract")
    for reason, n in Counter(r[4].split(":")[0] for r in refused).most_common():
        print(f"  refused on {reason}: {n}")
    for axis in ("platform", "kinds", "ci", "store", "datastores", "strategy", "dependencies"):
        seen = Counter(str(c[axis]) for _, c, *_ in results)
        print(f"  {axis}: {len(seen)} values, {dict(sorted(seen.items()))}")
    if times:
        print(f"render + checks + plan per valid project: median {statistics.median(times):.1f} s, "
              f"p90 {times[int(0.9 * (len(times) - 1))]:.1f} s; wall {total:.0f} s with {args.jobs} job(s)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

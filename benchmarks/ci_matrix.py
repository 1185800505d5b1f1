"""The CI pipeline over the whole generated matrix of tests/test_ci_gates.py: every example
platform × CI systems (GitHub, GitLab, both) × environments (all, staging + prod, prod) ×
opslib source (pip, image, none) × every strategy the platform offers. Prints how many
pipelines were built, how many break a gate (each problem listed), and the time per pipeline
(wall-clock and CPU; on a shared machine the CPU figure is the stable one).

    .venv/bin/python benchmarks/ci_matrix.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from opslib.documents import pipeline

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from test_ci_gates import FULL_MATRIX, gating_problems, generated  # noqa: E402  (the test module holds the matrix)


def main() -> None:
    built, broken = 0, []
    started, cpu0 = time.perf_counter(), time.process_time()
    for combo in FULL_MATRIX:
        params = generated(*combo)
        for strategy in sorted(params.catalog.platform(params.platform).deploy):
            problems = gating_problems(pipeline.build(params, strategy=strategy))
            built += 1
            broken += [f"{'/'.join(combo)}/{strategy}: {p}" for p in problems]
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    print(f"{len(FULL_MATRIX)} projects, {built} pipelines (project × strategy), {len(broken)} gating problems")
    print(f"{1000 * wall / built:.0f} ms wall, {1000 * cpu / built:.0f} ms CPU per pipeline")
    for line in broken:
        print("  " + line)
    raise SystemExit(1 if broken else 0)


if __name__ == "__main__":
    main()

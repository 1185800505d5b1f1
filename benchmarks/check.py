"""Throughput of `opslib check` on the public corpus (tests/corpus: runbooks, procedures,
checklists, templates, cost plans, postmortems, …) and on the generated documents (tests/golden: runbooks, cost plans, secrets, pipelines,
readiness reviews, cost reports, deployment plans and reports): documents per second, one
process, the median of `--repeat` timed runs of `--rounds` passes each. Both wall-clock and
CPU (process) time are reported: on a shared machine the CPU figure is the stable one.

    .venv/bin/python benchmarks/check.py [--rounds N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from opslib.check.document import check_document

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5, help="passes over the documents per timed run")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs; the median is reported")
    args = ap.parse_args()
    for label, files in (("corpus", sorted(p for p in (REPO / "tests" / "corpus").glob("*.md") if p.name != "README.md")),
                         ("generated", sorted((REPO / "tests" / "golden").glob("*/*.md")))):
        texts = [(p, p.read_text(encoding="utf-8")) for p in files]
        check_document(texts[0][1], path=texts[0][0])  # warm the catalogs and detect-secrets
        n = len(texts) * args.rounds
        lines = sum(t.count("\n") for _, t in texts) * args.rounds
        wall, cpu = [], []
        for _ in range(args.repeat):
            started, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(args.rounds):
                for p, t in texts:
                    check_document(t, path=p if label == "corpus" else None)
            wall.append(n / (time.perf_counter() - started))
            cpu.append(n / (time.process_time() - cpu0))
        mw, mc = statistics.median(wall), statistics.median(cpu)
        print(f"{label}: {len(texts)} documents ({lines // args.rounds:,} lines) × {args.rounds} rounds, median of {args.repeat} runs: "
              f"{mc:.1f} documents/s CPU ({mc * lines / n:,.0f} lines/s), {mw:.1f} documents/s wall "
              f"(wall runs: {', '.join(f'{r:.1f}' for r in wall)})")


if __name__ == "__main__":
    main()

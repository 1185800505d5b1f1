"""Throughput of `opslib check` on the public corpus (tests/corpus) and the generated documents
(tests/golden): documents per second, one process.

    .venv/bin/python benchmarks/check.py [--rounds N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from opslib.doccheck import check_document

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    for label, files in (("corpus", sorted((REPO / "tests" / "corpus").glob("*.md"))),
                         ("generated", sorted((REPO / "tests" / "golden").glob("*/*.md")))):
        texts = [(p, p.read_text(encoding="utf-8")) for p in files]
        check_document(texts[0][1], path=texts[0][0])  # warm the catalogs and detect-secrets
        started = time.perf_counter()
        for _ in range(args.rounds):
            for p, t in texts:
                check_document(t, path=p if label == "corpus" else None)
        elapsed = time.perf_counter() - started
        n = len(texts) * args.rounds
        lines = sum(t.count("\n") for _, t in texts) * args.rounds
        print(f"{label}: {n} documents in {elapsed:.2f} s = {n / elapsed:.1f} documents/s ({lines / elapsed:,.0f} lines/s)")


if __name__ == "__main__":
    main()

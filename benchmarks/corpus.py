"""How well `opslib check` follows human judgement on the public corpus (tests/corpus): genre
detection (a confusion matrix and the accuracy), the ranking of the substance score (AUC of good
over thin and of good over medium: the share of pairs ranked the right way, a tie counting half),
and the share of pairs of different judgement that tie. The judgements and genres in
tests/corpus/SOURCES.yaml were written before any scoring. The splits, in the order they were
spent: `tune` (the substance rules were tuned on it), `held-out` and `fresh` (first reported
untouched, then used with tune to fit the genre model: benchmarks/fit_genre.py), `blind`
(collected, judged and committed after all that, reported once, then added to the genre model's
training data), `blind2` (collected, judged and committed after the blind set was spent, reported
once, then added to the training data), `train3` (training documents for the weak genres) and
`blind3` (collected, judged and committed after blind2 was spent, never read by the genre fit,
reported once; the default).

Each document is checked under its original path in its repository (SOURCES.yaml `path`), not
the corpus file name, so that genre detection cannot read the genre from a name the corpus
builder chose.

    PYTHONPATH=. .venv/bin/python benchmarks/corpus.py [--split blind3|blind2|blind|train3|tune|held-out|fresh|seen|all] [--list] [--check]

`--check` exits 1 when a target of issue 19 is missed on the chosen split (AUC good>thin ≥ 0.9,
good>medium ≥ 0.75, genre accuracy ≥ 90 %, ties < 10 %).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from itertools import product
from pathlib import Path

import yaml

from opslib.check.document import check_document

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "corpus"
TARGETS = {"auc good>thin": 0.9, "auc good>medium": 0.75, "genre accuracy": 0.9}
MAX_TIES = 0.10
SPLIT_GROUPS = {"unseen": ("held-out", "fresh"), "seen": ("tune", "held-out", "fresh", "blind", "blind2", "train3")}


def auc(high: list[float], low: list[float]) -> float:
    """P(a document of `high` scores above one of `low`), a tie counting half."""
    pairs = [(h > lo) + 0.5 * (h == lo) for h, lo in product(high, low)]
    return sum(pairs) / len(pairs) if pairs else float("nan")


def evaluate(split: str) -> dict:
    sources = yaml.safe_load((CORPUS / "SOURCES.yaml").read_text(encoding="utf-8"))["documents"]
    rows = []
    for name, meta in sorted(sources.items()):
        if split not in ("all", meta["split"]) and not (split in ("unseen", "seen") and meta["split"] in SPLIT_GROUPS[split]):
            continue
        report = check_document((CORPUS / name).read_text(encoding="utf-8"), path=CORPUS / name, name=meta["path"])
        rows.append({"file": name, "genre": meta["genre"], "detected": report.genre, "sure": report.genre_sure,
                     "judgement": meta["judgement"], "score": report.score})
    by = {j: [r["score"] for r in rows if r["judgement"] == j] for j in ("good", "medium", "thin")}
    pairs = [(a, b) for i, a in enumerate(rows) for b in rows[i + 1:] if a["judgement"] != b["judgement"]]
    ties = sum(a["score"] == b["score"] for a, b in pairs)
    return {"rows": rows, "auc good>thin": auc(by["good"], by["thin"]), "auc good>medium": auc(by["good"], by["medium"]),
            "auc medium>thin": auc(by["medium"], by["thin"]),
            "genre accuracy": sum(r["genre"] == r["detected"] for r in rows) / len(rows),
            "unsure": sum(not r["sure"] for r in rows),
            "sure accuracy": sum(r["genre"] == r["detected"] for r in rows if r["sure"]) / max(sum(r["sure"] for r in rows), 1),
            "unsure wrong": sum(r["genre"] != r["detected"] for r in rows if not r["sure"]), "ties": ties / len(pairs) if pairs else 0.0, "pairs": len(pairs),
            "means": {j: sum(v) / len(v) for j, v in by.items() if v}}


def confusion(rows: list[dict]) -> list[str]:
    truth = sorted({r["genre"] for r in rows})
    found = sorted({r["detected"] for r in rows} | set(truth))
    counts = Counter((r["genre"], r["detected"]) for r in rows)
    head = "| genre \\ detected | " + " | ".join(found) + " |"
    out = [head, "|---|" + "---:|" * len(found)]
    for g in truth:
        out.append(f"| {g} | " + " | ".join(str(counts[g, d] or "·") for d in found) + " |")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=("blind3", "blind2", "blind", "train3", "tune", "held-out", "fresh", "unseen", "seen", "all"), default="blind3",
                    help="unseen: held-out and fresh together (unseen by the substance rules); seen: tune, held-out, fresh, blind, blind2 and train3 "
                         "(what the genre model was fitted on)")
    ap.add_argument("--list", action="store_true", help="list every document with its judgement and score")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    res = evaluate(args.split)
    rows = res["rows"]
    if args.list:
        for r in sorted(rows, key=lambda r: (r["judgement"], -r["score"])):
            mark = "" if r["genre"] == r["detected"] else f"  (detected {r['detected']})"
            print(f"{r['judgement']:6} {r['score']:5.1f}  {r['genre']:15} {r['file']}{mark}{'' if r['sure'] else '  [unsure]'}")
        print()
    print(f"split {args.split}: {len(rows)} documents, " + ", ".join(f"{j} {sum(r['judgement'] == j for r in rows)}" for j in ("good", "medium", "thin")))
    print("mean score: " + ", ".join(f"{j} {m:.1f}" for j, m in res["means"].items()))
    for key in ("auc good>thin", "auc good>medium", "auc medium>thin"):
        target = f" (target ≥ {TARGETS[key]})" if key in TARGETS else ""
        print(f"{key}: {res[key]:.3f}{target}")
    print(f"genre accuracy: {res['genre accuracy']:.1%} (target ≥ 90 %); {res['unsure']} document(s) where the checker says it is unsure "
          f"({res['unsure wrong']} of them misread); {res['sure accuracy']:.1%} where it is sure")
    print(f"ties: {res['ties']:.1%} of {res['pairs']} pairs of different judgement (target < 10 %)")
    print()
    print("\n".join(confusion(rows)))
    missed = [k for k, t in TARGETS.items() if not res[k] >= t] + (["ties"] if res["ties"] >= MAX_TIES else [])
    if args.check and missed:
        print(f"missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

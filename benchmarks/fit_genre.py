"""Fit the genre model of `opslib check` (opslib/data/check-genre-model.json) and cross-validate it.

The model (opslib/check/classify.py) is a multinomial logistic regression: a genre's score is its
own signal counts (check-genres.yaml) times weights shared by every genre plus the genre's own
adjustment of them, plus the genre's bias, plus the document's standardised shape times the
genre's own weights. It is fitted by gradient
descent (Adam, L2 penalty on the biases and shape weights) on:

- the corpus documents of the splits that have been looked at: tune, held-out, fresh, blind and
  blind2 (each reported once and so spent), and train3 (training documents for the weak genres)
  (tests/corpus/SOURCES.yaml; each under its path in its own repository); never `blind3`, the
  untouched set;
- opslib's own generated documents (tests/golden: runbooks, cost plans, secrets, pipelines,
  readiness reviews, a cost report, deployment plans and reports), each with and without its file
  name, so that the genres the public corpus lacks are learned too.

The penalty is chosen by stratified k-fold cross-validation over the corpus documents (the
generated ones stay in every training fold); the script prints the k-fold accuracy and confusion
of the chosen penalty, and the same penalty's accuracy when the folds are whole organisations (no
organisation's documents on both sides: the closer estimate for documents of an organisation the
corpus lacks), then fits on everything and writes the model.

    PYTHONPATH=. .venv/bin/python benchmarks/fit_genre.py [--folds 5] [--check]

`--check` fits and cross-validates without writing (exit 1 if the written model differs from a
fresh fit, i.e. someone edited the data or the features without refitting).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

from opslib.check.classify import MODEL, SHAPES, SIGNAL_KINDS, features, override
from opslib.check.document import GENRES
from opslib.check.markdown import parse

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "corpus"
GOLDEN = REPO / "tests" / "golden"
TRAIN_SPLITS = ("tune", "held-out", "fresh", "blind", "blind2", "train3")
PENALTIES = (0.003, 0.01, 0.03, 0.1, 0.3)
SURE_PROBABILITY = 0.5
GOLDEN_GENRES = {"runbook.md": "service-runbook", "cost-plan.md": "cost-plan", "secrets.md": "secrets", "pipeline.md": "pipeline",
                 "readiness.md": "readiness", "cost-report.md": "cost-report", "procedures.md": "procedure"}
SHAPE_NAMES = tuple(SHAPES)


def organisation(repo: str) -> str:
    """The organisation behind a repository (the GitLab runbooks are read from two personal mirrors)."""
    owner = repo.split("/")[0].lower()
    return {"mattrussi": "gitlab", "yujunz": "gitlab"}.get(owner, owner)


def training_rows() -> list[dict]:
    """Corpus documents of the seen splits and opslib's generated documents, with their genre."""
    sources = yaml.safe_load((CORPUS / "SOURCES.yaml").read_text(encoding="utf-8"))["documents"]
    rows = []
    for file, meta in sorted(sources.items()):
        if meta["split"] not in TRAIN_SPLITS:
            continue  # the untouched blind3 set is never read here
        rows.append({"file": file, "genre": meta["genre"], "corpus": True, "org": organisation(meta["repo"]),
                     "feats": features(parse((CORPUS / file).read_text(encoding="utf-8")), meta["path"])})
    for path in sorted(GOLDEN.rglob("*.md")):
        genre = GOLDEN_GENRES.get(path.name) or {"plans": "deployment-plan", "reports": "deployment-report"}.get(path.parent.name)
        if genre:  # checked with and without its file name (a generated document is often checked as text)
            doc = parse(path.read_text(encoding="utf-8"))
            rows += [{"file": path.relative_to(GOLDEN).as_posix(), "genre": genre, "corpus": False, "feats": features(doc, name)}
                     for name in (path.name, "")]
    return rows


def arrays(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R[n, g, k] signal counts, S[n, f] raw shape, y[n] genre index."""
    r = np.array([[[row["feats"].signals[g][k] for k in SIGNAL_KINDS] for g in GENRES] for row in rows])
    s = np.array([[row["feats"].shape[f] for f in SHAPE_NAMES] for row in rows])
    y = np.array([GENRES.index(row["genre"]) for row in rows])
    return r, s, y


def fit(r: np.ndarray, s: np.ndarray, y: np.ndarray, penalty: float, steps: int = 3000) -> dict:
    """Fit by Adam on the mean cross-entropy plus `penalty` × (|bias|² + |shape weights|² + |own|²)."""
    mean, std = s.mean(0), s.std(0)
    std[std < 1e-6] = 1.0
    z = (s - mean) / std
    n, g = len(y), len(GENRES)
    params = [np.ones(len(SIGNAL_KINDS)), np.zeros(g), np.zeros((g, len(SHAPE_NAMES))), np.zeros((g, len(SIGNAL_KINDS)))]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    onehot = np.eye(g)[y]
    for t in range(1, steps + 1):
        shared, bias, shape, own = params
        logit = r @ shared + bias + z @ shape.T + np.einsum("ngk,gk->ng", r, own)
        logit -= logit.max(1, keepdims=True)
        prob = np.exp(logit)
        prob /= prob.sum(1, keepdims=True)
        d = (prob - onehot) / n
        grads = [np.einsum("ngk,ng->k", r, d), d.sum(0) + 2 * penalty * bias, d.T @ z + 2 * penalty * shape,
                 np.einsum("ngk,ng->gk", r, d) + 2 * penalty * own]
        for i, (p, gr) in enumerate(zip(params, grads, strict=True)):
            m1, m2 = moments[i]
            m1 = 0.9 * m1 + 0.1 * gr
            m2 = 0.999 * m2 + 0.001 * gr * gr
            moments[i] = (m1, m2)
            p -= 0.05 * (m1 / (1 - 0.9 ** t)) / (np.sqrt(m2 / (1 - 0.999 ** t)) + 1e-8)
    shared, bias, shape, own = params
    return {"own": {gn: {k: round(float(w), 4) for k, w in zip(SIGNAL_KINDS, own[i], strict=True) if abs(w) >= 5e-4} for i, gn in enumerate(GENRES)},
            "shared": {k: round(float(w), 4) for k, w in zip(SIGNAL_KINDS, shared, strict=True)},
            "bias": {gn: round(float(b), 4) for gn, b in zip(GENRES, bias, strict=True)},
            "shape": {gn: {f: round(float(w), 4) for f, w in zip(SHAPE_NAMES, shape[i], strict=True) if abs(w) >= 5e-4} for i, gn in enumerate(GENRES)},
            "scale": {f: [round(float(m), 4), round(float(sd), 4)] for f, m, sd in zip(SHAPE_NAMES, mean, std, strict=True)}}


def predict(model: dict, r: np.ndarray, s: np.ndarray, forced: list[str | None]) -> list[int]:
    """As classify() decides: the model's best genre unless a shape override applies."""
    mean = np.array([model["scale"][f][0] for f in SHAPE_NAMES])
    std = np.array([model["scale"][f][1] for f in SHAPE_NAMES])
    shared = np.array([model["shared"][k] for k in SIGNAL_KINDS])
    bias = np.array([model["bias"][g] for g in GENRES])
    shape = np.array([[model["shape"][g].get(f, 0.0) for f in SHAPE_NAMES] for g in GENRES])
    own = np.array([[model["own"][g].get(k, 0.0) for k in SIGNAL_KINDS] for g in GENRES])
    best = (r @ shared + bias + ((s - mean) / std) @ shape.T + np.einsum("ngk,gk->ng", r, own)).argmax(1)
    return [GENRES.index(f) if f else int(b) for b, f in zip(best, forced, strict=True)]


def folds(rows: list[dict], k: int) -> list[int]:
    """Stratified: within each genre, in file-name order, documents go to folds 0, 1, …, k-1, 0, …"""
    seen: Counter = Counter()
    out = []
    for row in rows:
        out.append(seen[row["genre"]] % k if row["corpus"] else -1)
        seen[row["genre"]] += 1
    return out


def organisation_folds(rows: list[dict], k: int) -> list[int]:
    """Grouped: every document of an organisation in the same fold (organisations in name order go to
    folds 0, 1, …), so each fold is scored by a model that never saw that organisation's documents."""
    orgs = sorted({row["org"] for row in rows if row["corpus"]})
    fold_of = {o: i % k for i, o in enumerate(orgs)}
    return [fold_of[row["org"]] if row["corpus"] else -1 for row in rows]


def cross_validate(rows: list[dict], penalty: float, k: int, grouped: bool = False) -> tuple[float, list[tuple[str, str]]]:
    r, s, y = arrays(rows)
    fold = np.array(organisation_folds(rows, k) if grouped else folds(rows, k))
    pairs = []
    for f in range(k):
        test = fold == f
        model = fit(r[~test], s[~test], y[~test], penalty)
        pred = predict(model, r[test], s[test], [override(row["feats"]) for row, t in zip(rows, test, strict=True) if t])
        pairs += [(GENRES[t], GENRES[p]) for t, p in zip(y[test], pred, strict=True)]
    return sum(t == p for t, p in pairs) / len(pairs), pairs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the stored model is not a fresh fit")
    args = ap.parse_args()
    rows = training_rows()
    counts = Counter(r["genre"] for r in rows if r["corpus"])
    print(f"training: {sum(r['corpus'] for r in rows)} corpus documents ({', '.join(TRAIN_SPLITS)}) + "
          f"{sum(not r['corpus'] for r in rows)} generated documents; genres: {dict(sorted(counts.items()))}")
    results = {p: cross_validate(rows, p, args.folds) for p in PENALTIES}
    for p, (acc, _pairs) in results.items():
        print(f"penalty {p:<6} {args.folds}-fold accuracy on the corpus documents: {acc:.1%}")
    best = max(PENALTIES, key=lambda p: (results[p][0], p))  # ties: the stronger penalty
    acc, pairs = results[best]
    print(f"chosen penalty {best}: {args.folds}-fold accuracy {acc:.1%}")
    by_org, _ = cross_validate(rows, best, args.folds, grouped=True)
    print(f"  by organisation ({args.folds} folds, no organisation in both training and test): {by_org:.1%}")
    confusion = Counter(pairs)
    for g in sorted({t for t, _ in pairs}):
        wrong = {p: c for (t, p), c in confusion.items() if t == g and p != g}
        print(f"  {g:16} {confusion[g, g]}/{sum(c for (t, _), c in confusion.items() if t == g)}" + (f"  misread as {wrong}" if wrong else ""))
    r, s, y = arrays(rows)
    model = fit(r, s, y, best)
    model = {"about": "opslib check's genre model, fitted by benchmarks/fit_genre.py (do not edit by hand)",
             "trained_on": {"corpus_splits": list(TRAIN_SPLITS), "corpus_documents": int(sum(x["corpus"] for x in rows)),
                            "generated_documents": int(sum(not x["corpus"] for x in rows))},
             "penalty": best, "cv": {"folds": args.folds, "accuracy": round(acc, 4), "by_organisation": round(by_org, 4)},
             "sure_probability": SURE_PROBABILITY, **model}
    text = json.dumps(model, indent=1, sort_keys=False) + "\n"
    if args.check:
        same = MODEL.is_file() and json.loads(MODEL.read_text(encoding="utf-8")) == json.loads(text)
        print("stored model is a fresh fit" if same else "stored model differs from a fresh fit: run benchmarks/fit_genre.py")
        return 0 if same else 1
    MODEL.write_text(text, encoding="utf-8")
    print(f"wrote {MODEL.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The genre model of `opslib check` (opslib/check/classify.py, opslib/data/check-genre-model.json,
fitted by benchmarks/fit_genre.py): what it reads, how it decides and what it was fitted on."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from opslib.check.classify import MODEL, SHAPES, SIGNAL_KINDS, classify, features, logits
from opslib.check.document import GENRES
from opslib.check.markdown import parse
from opslib.cli import CHECK_GENRES

HERE = Path(__file__).resolve().parent


def _fit_module():
    spec = importlib.util.spec_from_file_location("fit_genre", HERE.parent / "benchmarks" / "fit_genre.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_offers_every_genre_the_checker_knows():
    assert CHECK_GENRES == GENRES and "postmortem" in CHECK_GENRES


def test_the_stored_model_covers_every_genre_and_feature_and_was_not_fitted_on_the_untouched_set():
    model = json.loads(MODEL.read_text(encoding="utf-8"))
    assert set(model["bias"]) == set(GENRES) and set(model["shared"]) == set(SIGNAL_KINDS) and set(model["scale"]) == set(SHAPES)
    assert "blind2" not in model["trained_on"]["corpus_splits"] and 0.5 <= model["cv"]["accuracy"] <= 1.0
    assert {"tune", "held-out", "fresh", "blind"} == set(model["trained_on"]["corpus_splits"])  # the spent sets, no more
    assert 0 < model["sure_probability"] < 1


def test_the_training_rows_never_include_the_untouched_set():
    fit = _fit_module()
    rows = fit.training_rows()
    sources = fit.yaml.safe_load((fit.CORPUS / "SOURCES.yaml").read_text(encoding="utf-8"))["documents"]
    untouched = {f for f, m in sources.items() if m["split"] == "blind2"}
    spent = {f for f, m in sources.items() if m["split"] == "blind"}
    corpus_rows = {r["file"] for r in rows if r["corpus"]}
    assert len(untouched) >= 30 and not untouched & corpus_rows
    assert spent <= corpus_rows  # the spent blind set is training data now
    assert {r["genre"] for r in rows} == set(GENRES)  # the generated documents bring the genres the corpus lacks


def test_features_are_bounded_whatever_the_size():
    small = features(parse("# KubeletDown\n\n## Meaning\n\nfires\n"), "KubeletDown.md")
    big = features(parse("# Notes\n\n" + "- [ ] Run `kubectl get pods` ($12/month) at 10:00?\n" * 5000), "notes.md")
    assert small.shape["camel_title"] == 1.0 and big.shape["camel_title"] == 0.0
    for f in (small, big):
        assert set(f.shape) == set(SHAPES) and all(0.0 <= v <= 25.0 for v in f.shape.values())
    assert big.shape["tasks"] == 1.0 and big.shape["questions"] > 0.9 and big.shape["money"] > small.shape["money"]


def test_the_fitting_separates_genres_it_is_given():
    """Three genres told apart by one shape feature each: the fit learns it from scratch."""
    fit = _fit_module()
    rng = np.random.default_rng(0)
    n, g = 90, len(GENRES)
    y = np.array([GENRES.index(x) for x in ("alert-runbook", "cost-plan", "checklist")] * (n // 3))
    s = rng.normal(0, 0.1, (n, len(fit.SHAPE_NAMES)))
    for i, genre in enumerate(y):
        s[i, fit.SHAPE_NAMES.index({GENRES.index("alert-runbook"): "camel_title", GENRES.index("cost-plan"): "money",
                                    GENRES.index("checklist"): "tasks"}[genre])] += 3
    r = np.zeros((n, g, len(SIGNAL_KINDS)))
    model = fit.fit(r, s, y, 0.01, steps=800)
    assert (np.array(fit.predict(model, r, s, [None] * n)) == y).mean() == 1.0


def test_signals_still_decide_a_genre_the_corpus_lacks():
    """A deployment report has no public example: its own signals (shared weights) name it."""
    text = ("# Deployment report: shop 1.4.0 to prod\n\nStatus: **success**. Rollback required: no.\n\n## Deployment timeline\n\n"
            "| time | step |\n|---|---|\n| 10:00 | start |\n\n## Verification results\n\nAll checks passed.\n")
    guess = classify(parse(text), "")
    assert guess.genre == "deployment-report", guess.scores


@pytest.mark.parametrize("text", ["", "just words", "# ?\n\n?\n"])
def test_an_empty_or_odd_document_gets_a_guess_and_probabilities(text):
    guess = classify(parse(text), "")
    assert guess.genre in GENRES and abs(sum(guess.scores.values()) - 1) < 0.01
    assert set(logits(features(parse(text), ""))) == set(GENRES)

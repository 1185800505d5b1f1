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
    assert "blind3" not in model["trained_on"]["corpus_splits"] and 0.5 <= model["cv"]["accuracy"] <= 1.0
    # the spent sets and the training documents of train3, no more
    assert {"tune", "held-out", "fresh", "blind", "blind2", "train3"} == set(model["trained_on"]["corpus_splits"])
    assert 0 < model["sure_probability"] < 1
    assert 0.5 <= model["cv"]["by_organisation"] <= 1.0  # folds of whole organisations: the estimate for a new one


def test_the_training_rows_never_include_the_untouched_set():
    fit = _fit_module()
    rows = fit.training_rows()
    sources = fit.yaml.safe_load((fit.CORPUS / "SOURCES.yaml").read_text(encoding="utf-8"))["documents"]
    untouched = {f for f, m in sources.items() if m["split"] == "blind3"}
    spent = {f for f, m in sources.items() if m["split"] in ("blind", "blind2", "train3")}
    corpus_rows = {r["file"] for r in rows if r["corpus"]}
    assert len(untouched) >= 30 and not untouched & corpus_rows
    assert spent <= corpus_rows  # the spent blind sets and train3 are training data now
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


def test_name_signals_read_the_file_and_its_folder_not_a_repository_layout():
    """A repository that keeps every page under `runbooks/` does not make each one a service runbook."""
    doc = parse("# Add nodes to the cluster\n\n1. Run `kubectl get nodes`\n")
    deep = features(doc, "runbooks/source/add-nodes-to-the-cluster.html.md.erb").signals
    near = features(doc, "runbooks/add-nodes-to-the-cluster.md").signals
    assert deep["service-runbook"]["names"] == 0.0 and near["service-runbook"]["names"] == 1.0
    assert features(doc, "alerts/KubeletDown.md").signals["alert-runbook"]["names"] == 2.0  # the folder and the CamelCase file

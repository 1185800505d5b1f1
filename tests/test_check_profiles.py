"""One checker per genre: generated and hand-written documents go through the same function;
the strict profile (our generated documents) only adds findings; the registry and the
quality-bar catalog."""

from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import GOLDEN, PARAMS
from test_check_genres import COST, COST_REPORT, PLAN, READINESS, REPORT

from opslib import check as check_room
from opslib.check import cost_plan as cost_check
from opslib.check.alerts import check_alerts
from opslib.check.cost_plan import check_cost_plan
from opslib.check.cost_report import check_cost_report
from opslib.check.document import check_document
from opslib.check.findings import failed
from opslib.check.genres import CHECKERS, GENERIC_GENRES, check_genre
from opslib.check.items import ItemTexts, genres, item_keys, item_texts, readiness_items
from opslib.check.pipeline import check_pipeline
from opslib.check.readiness import check_readiness
from opslib.check.runbook import check_runbook
from opslib.check.secrets import check_secrets
from opslib.documents import alerts, cost_plan, cost_report, pipeline, readiness, runbook, secrets
from opslib.params.models import load_params

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
SOURCES = yaml.safe_load((CORPUS / "SOURCES.yaml").read_text())["documents"]
GENRE_OF = {"runbook.md": "service-runbook", "cost-plan.md": "cost-plan", "secrets.md": "secrets", "pipeline.md": "pipeline",
            "readiness.md": "readiness", "cost-report.md": "cost-report"}


# --- the same function for generated and hand-written documents ----------------------------

@pytest.mark.parametrize("genre, used_by_documents", [
    ("service-runbook", runbook.check_runbook), ("cost-plan", cost_plan.check_cost_plan), ("cost-report", cost_report.check_cost_report),
    ("secrets", secrets.check_secrets_doc), ("pipeline", pipeline.check_pipeline_doc), ("readiness", readiness.check_readiness),
    ("alerts", alerts.check_alerts),
])
def test_the_documents_call_the_registered_checker(genre, used_by_documents):
    assert CHECKERS[genre] is used_by_documents
    assert check_room.check_genre is check_genre and check_room.CHECKERS is CHECKERS


def test_a_generated_and_a_hand_written_cost_plan_go_through_the_same_rules(monkeypatch):
    """The generated plan (cost_plan.preview, what render writes) and a team's plan (opslib check)
    are read by the same rule function; the generated one is held to the strict profile too."""
    seen = []
    real = cost_check._lenient

    def spy(doc, envs):
        seen.append(doc.text)
        return real(doc, envs)

    monkeypatch.setattr(cost_check, "_lenient", spy)
    draft = cost_plan.preview(load_params(PARAMS / "weather-api.yaml"))
    report = check_document(COST, name="payments-cost.md")
    assert seen == [draft.markdown, COST]
    assert report.genre == "cost-plan" and not failed(report.findings)
    assert not failed(draft.findings)
    # both pass every item of the same checklist, the generated one under the strict profile
    assert {f.item for f in draft.findings if f.area != "truth"} == {f.item for f in report.findings if f.area == "cost-plan"} == set(cost_check.ITEMS.values())


def test_the_hand_written_cost_plan_fails_only_the_shape_of_ours():
    lenient, strict = check_cost_plan(COST), check_cost_plan(COST, strict=True)
    assert not failed(lenient)
    extra = failed(strict)
    assert extra and all(f in strict and f not in lenient for f in extra)
    messages = " | ".join(f.message for f in extra)
    assert "### Assumptions" in messages and "### Spending limits" in messages  # the generated plans' shape, in the old words


# procedures.md (beside the runbook) is a procedure: only the generic rules judge it (tests/test_check_document.py)
@pytest.mark.parametrize("name", sorted(p.name for p in (GOLDEN / "weather-api").glob("*.md") if p.name in GENRE_OF))
def test_generated_documents_pass_their_checker_in_both_profiles(name):
    params = load_params(PARAMS / "weather-api.yaml")
    text = (GOLDEN / "weather-api" / name).read_text()
    for strict in (False, True):
        findings = check_genre(GENRE_OF[name], text, params=params, strict=strict)
        assert findings and not failed(findings), (strict, failed(findings))


# --- the strict profile only adds findings ------------------------------------------------

def _drop_section(text: str, n: int) -> str:
    """The text without its n-th '## ' section (a way to break a document)."""
    lines = text.splitlines(keepends=True)
    heads = [i for i, ln in enumerate(lines) if ln.startswith("## ")]
    if not heads:
        return text
    start = heads[n % len(heads)]
    end = next((i for i in heads if i > start), len(lines))
    return "".join(lines[:start] + lines[end:])


def _documents():
    """(genre, text, params) for every generated document, each broken three ways, the corpus
    and the hand-written snippets."""
    out = []
    for project in ("weather-api", "shop-platform", "agent-orchestrator"):
        params = load_params(PARAMS / f"{project}.yaml")
        for path in sorted(p for p in (GOLDEN / project).glob("*.md") if p.name in GENRE_OF):
            text = path.read_text()
            out += [(GENRE_OF[path.name], t, params) for t in (text, _drop_section(text, 0), _drop_section(text, 2), text.replace("$", "USD "))]
    for name, meta in SOURCES.items():
        genre = meta.get("genre", "alert-runbook")
        if genre in CHECKERS:
            out.append((genre, (CORPUS / name).read_text(), None))
    out += [("cost-plan", COST, None), ("deployment-plan", PLAN, None), ("deployment-report", REPORT, None),
            ("readiness", READINESS, None), ("cost-report", COST_REPORT, None)]
    out += [(g, t, None) for g, t in (("deployment-plan", p.read_text()) for p in sorted((GOLDEN / "plans").glob("*.md")))]
    out += [(g, t, None) for g, t in (("deployment-report", p.read_text()) for p in sorted((GOLDEN / "reports").glob("*.md")))]
    return out


def test_the_strict_profile_only_adds_findings():
    added = 0
    for genre, text, params in _documents():
        lenient = check_genre(genre, text, params=params)
        strict = check_genre(genre, text, params=params, strict=True)
        missing = Counter(lenient) - Counter(strict)
        assert not missing, (genre, text[:60], missing)
        assert {f.item for f in failed(lenient)} <= {f.item for f in failed(strict)}
        added += len(strict) - len(lenient)
    assert added > 0  # the profiles differ somewhere


@pytest.mark.parametrize("checker, text, kwargs", [
    (check_runbook, "# notes\n", {"path": Path("notes.md")}),
    (check_secrets, "# Secrets\n", {}),
    (check_pipeline, "# Pipeline\n", {}),
    (check_cost_report, COST_REPORT, {"environments": ["dev", "staging", "prod"]}),
    (check_readiness, READINESS, {}),
])
def test_strict_demands_fail_where_lenient_is_silent(checker, text, kwargs):
    lenient, strict = checker(text, **kwargs), checker(text, strict=True, **kwargs)
    assert not Counter(lenient) - Counter(strict)
    if checker in (check_secrets, check_pipeline):  # no extra demands: our documents' shape is the rule
        assert strict == lenient
    else:
        assert len(failed(strict)) > len(failed(lenient))


# --- the registry ---------------------------------------------------------------------------

def test_every_genre_of_opslib_check_has_a_checker_or_only_generic_rules():
    from opslib.check.document import GENRES

    assert set(GENRES) <= set(CHECKERS) | set(GENERIC_GENRES)
    assert check_genre("alert-runbook", "# X\n") == []
    with pytest.raises(ValueError, match="unknown genre"):
        check_genre("poem", "# X\n")


def test_alert_rules_are_a_genre_too(tmp_path):
    text = (GOLDEN / "weather-api" / "alerts.yml").read_text()
    findings = check_genre("alerts", text)
    by = {f.item: f.status for f in findings}
    assert by[alerts.ITEMS["meaning"]] == "pass" and by[alerts.ITEMS["test"]] == "not measured"
    assert {f.status for f in check_alerts(text, strict=True) if f.item == alerts.ITEMS["test"]} == {"fail"}


# --- the catalog ----------------------------------------------------------------------------

def test_every_checker_takes_its_item_texts_from_the_catalog():
    catalog = {text for g in genres() for text in item_texts(g).values()}
    for genre, text, params in _documents()[:40]:
        for f in check_genre(genre, text, params=params, strict=True):
            assert f.item in catalog or f.item.startswith("cost-report.md has a "), f.item


def test_readiness_refers_to_catalog_items_by_key():
    assert item_keys() == {"runbook": "service-runbook", "cost": "cost-plan", "secret": "secrets", "pipeline": "pipeline",
                           "alert": "alerts", "doc": "documentation", "truth": "truth"}
    assert readiness.items() is readiness_items() and len(readiness_items()) == 47
    refs = {ref for it in readiness_items() for ref in it.get("checks", [])}
    assert {"runbook.health", "cost.limits", "doc.placeholders", "alert.check"} <= refs


def test_an_unknown_item_is_named():
    with pytest.raises(KeyError, match="quality-bar.yaml has no item cost-plan.nope"):
        ItemTexts("cost-plan")["nope"]


def test_an_unknown_readiness_reference_is_a_catalog_error(tmp_path, monkeypatch):
    from opslib.check import items
    from opslib.errors import CatalogError

    bad = tmp_path / "readiness-items.yaml"
    bad.write_text("items:\n  - {id: x-01, area: A, source: S, text: T, checks: [runbook.nope]}\n")
    monkeypatch.setattr(items, "READINESS", bad)
    items.readiness_items.cache_clear()
    try:
        with pytest.raises(CatalogError, match="x-01 refers to unknown check runbook.nope"):
            items.readiness_items()
    finally:
        items.readiness_items.cache_clear()

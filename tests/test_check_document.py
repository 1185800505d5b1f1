"""`opslib check` on any operational document: genres, synonyms, placeholder traps, rules,
formats, scores, the generated documents and the public corpus ranking."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from opslib.check.document import check_document, detect_genre, find_placeholders
from opslib.check.formats import exceeds, render_reports
from opslib.check.markdown import canonical_section, parse
from opslib.cli import main

HERE = Path(__file__).parent
# Every generated Markdown document: the per-project documents, the deployment plans
# (golden/plans/) and the deployment reports (golden/reports/).
GOLDEN = sorted((HERE / "golden").glob("*/*.md"))
GENRE_OF = {"runbook.md": "service-runbook", "cost-plan.md": "cost-plan", "secrets.md": "secrets", "pipeline.md": "pipeline",
            "readiness.md": "readiness", "cost-report.md": "cost-report", "procedures.md": "procedure"}


def expected_genre(path):
    genre = {"plans": "deployment-plan", "reports": "deployment-report"}.get(path.parent.name) or GENRE_OF.get(path.name)
    if genre is None:
        pytest.fail(f"{path.name} is a new kind of generated document; give it a genre in GENRE_OF (and rules in opslib/check*.py)")
    return genre
CORPUS = HERE / "corpus"
SOURCES = yaml.safe_load((CORPUS / "SOURCES.yaml").read_text())["documents"]


def fails(report, word):
    return [f for f in report.findings if f.status == "fail" and word.lower() in f.item.lower()]


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_generated_document_passes_with_zero_failures(path):
    report = check_document(path.read_text())  # no file name: the genre comes from the text
    assert report.genre == expected_genre(path)
    # the truth rules' findings (area "truth") on today's documents are listed by benchmarks/truth.py; the
    # shape warnings of issue 18 (length, repetition, rollback on the first screen) by `opslib check tests/golden/*/runbook.md`
    assert [f for f in report.findings if f.status == "fail" and f.area not in ("truth", "shape")] == [] and report.compliance == 100.0
    assert [f for f in report.findings if f.status == "fail" and f.area == "shape" and f.severity != "warning"] == []
    # substance (commands, outputs, verification, escalation, rollback): records of past events have no procedure
    assert report.genre_sure and (report.score >= 50 or report.genre in ("readiness", "deployment-report", "cost-report")) and report.score > 0
    assert sum(f.status == "pass" for f in report.findings) >= 6  # decided, not waved through as n/a


@pytest.mark.parametrize("title, canon", [
    ("Deploy", "Deployment"), ("Release process", "Deployment"), ("Rollout to production", "Deployment"),
    ("Debugging", "Troubleshooting"), ("Diagnosis", "Troubleshooting"), ("Mitigation", "Troubleshooting"),
    ("Meaning", "Monitoring"), ("Impact", "Monitoring"), ("1. Rolling back", "Rollback"), ("Revert", "Rollback"),
    ("Cost optimization", "Optimization Opportunities"), ("Introduction", None), ("Deployer notes", None),
])
def test_section_synonyms(title, canon):
    assert canonical_section(title) == canon


def test_synonyms_satisfy_the_section_order_rule():
    text = "# Svc\n\n## Release\n\n## Day-2 operations\n\n## Observability\n\n## Debugging\n\n## Revert\n"
    doc = parse(text)
    assert [doc.find(n).title for n in ("Deployment", "Operations", "Monitoring", "Troubleshooting", "Rollback")] == \
        ["Release", "Day-2 operations", "Observability", "Debugging", "Revert"]
    # a sub-subsection never stands in for a main section
    assert parse("# Svc\n\n## Deployment\n\n### Alerts\n").find("Monitoring") is None


def test_sections_inside_html_comments_do_not_count():
    doc = parse("# A\n\n<!--\n## Meaning\n\nold\n-->\n\n## Diagnosis\n\n```\nkubectl get pods\n```\n")
    assert [s.title for s in doc.sections] == ["A", "Diagnosis"]
    report = check_document(doc.text, genre="alert-runbook")
    assert fails(report, "Required sections")


def test_front_matter_is_not_a_heading():
    doc = parse("---\ntitle: X\nweight: 20\n---\n\n# Alert\n\n## Meaning\n")
    assert [(s.title, s.line) for s in doc.sections] == [("Alert", 6), ("Meaning", 8)]


@pytest.mark.parametrize("text, name, genre", [
    ("# KubeX\n\n## Meaning\n\nfires\n\n## Impact\n\nbad\n\n## Diagnosis\n\n## Mitigation\n", "KubeX.md", "alert-runbook"),
    ("# Svc\n\n## Deployment\n\n## Operations\n\n## Rollback\n", "notes.md", "service-runbook"),
    ("# Release checklist\n\n- [ ] a\n- [ ] b\n- [x] c\n", "release.md", "checklist"),
    ("# Runbook: [Service Name]\n\n**Owner**: <your-name-here>\n**Team**: TODO\n\n> What does it do?\n\n[Date]\n\nTBD\n", "r.md", "template"),
    ("# Costs\n\n## Estimated Costs\n\n## Cost Tracking\n\n## Guardrails\n", "plan.md", "cost-plan"),
    ("# Secrets\n\n## Rotation\n\n## Emergency Rotation\n", "x.md", "secrets"),
    ("# Scaling Redis\n\n## Prerequisites\n\n## Step 1: provision\n\n```\ngcloud compute instances list\n```\n", "scaling.md", "procedure"),
])
def test_genre_detection(text, name, genre):
    assert detect_genre(text, name) == genre


@pytest.mark.parametrize("line, flagged", [
    ("Set the URL to <your-value-here>.", True),
    ("Owner: TODO", True),
    ("Status: TBD", True),
    ("> What does this service do?", True),
    ("Channel: _(e.g. #payments-oncall)_", True),
    ("<Insert a description of the service here>", True),
    ("Cost: $X.XX per month", True),
    # false-positive traps
    ("<details>", False),
    ('<a href="https://example.com">dashboard</a>', False),
    ("summary: '{{ $labels.instance }} is down'", False),
    ("see <https://example.com/runbook>", False),
    ("Name every app <project>-<environment>.", False),  # naming notation outside code
])
def test_placeholder_rule(line, flagged):
    hits = [h for h in find_placeholders(parse(f"# Doc\n\n{line}\n")) if h[2] == "error"]
    assert bool(hits) == flagged, hits


def test_declared_command_parameters_are_not_placeholders():
    declared = "# P\n\n- `CLUSTER`: the cluster name\n\n```bash\nkubectl --context <CLUSTER> get pods\n```\n"
    shell_var = "# P\n\n```bash\nPVC='<claim label from the alert>'\nexport NS=prod\nkubectl -n $NS describe pvc <PVC>\necho $PVC\n```\n"
    undeclared = "# P\n\n```bash\nkubectl --context <CLUSTER> get pods\n```\n"
    assert find_placeholders(parse(declared)) == []
    assert find_placeholders(parse(shell_var)) == []
    assert [(h[1], h[2]) for h in find_placeholders(parse(undeclared))] == [("<CLUSTER>", "warning")]


ALERT = """# HighErrorRate

## Meaning

Fires when more than 5% of requests fail for 10 minutes, because users then see errors.

## Diagnosis

```bash
kubectl -n shop logs deploy/api --since=15m
```

Expected output: no `ERROR` lines. If the command fails, check your kube context.

## Mitigation

```bash
kubectl -n shop rollout undo deploy/api
```

Verify: the error rate drops below 1% within 5 minutes. Escalate to #payments-oncall.
See [the architecture](architecture.md). Last updated: 2026-11-02.
"""


@pytest.mark.parametrize("mutate, word", [
    (lambda t: t.replace("```bash\nkubectl -n shop rollout undo deploy/api\n```", "Roll back the deployment."), "specific commands"),
    (lambda t: t.replace("Expected output: no `ERROR` lines. ", ""), "Expected outputs"),
    (lambda t: t.replace("Verify: the", "The"), "validation criteria"),
    (lambda t: t.replace("more than 5% of requests fail for 10 minutes", "requests fail").replace("below 1% within 5 minutes", "back"), "Thresholds"),
    (lambda t: t.replace(", because users then see errors", ""), "Thresholds"),
    (lambda t: t.replace(" Escalate to #payments-oncall.", ""), "escalations"),
    (lambda t: t.replace("Last updated: 2026-11-02.", ""), "as of"),
    (lambda t: t.replace("See [the architecture](architecture.md).", ""), "architecture"),
    (lambda t: t.replace("## Meaning", "## Notes"), "Required sections"),
    (lambda t: t + "\naws_secret_access_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEYAB\"\n", "secret values"),
    (lambda t: t + "\nghp_abcdefghijklmnopqrstuvwxyz0123456789\n", "secret values"),
    (lambda t: t + "\nOwner: <your-team-here>\n", "placeholders"),
])
def test_each_generic_rule_passes_then_fails(mutate, word):
    good = check_document(ALERT, name="HighErrorRate.md")
    assert good.genre == "alert-runbook" and not fails(good, word)
    assert [f for f in good.findings if f.status == "fail"] == []
    bad = check_document(mutate(ALERT), name="HighErrorRate.md")
    assert fails(bad, word), [f for f in bad.findings if f.status == "fail"]
    assert bad.compliance < good.compliance
    if word in ("specific commands", "Expected outputs", "validation criteria", "escalations", "placeholders"):
        assert bad.score < good.score  # the substance score follows what the operator loses


def test_secret_value_is_never_printed():
    secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    report = check_document(ALERT + f"\n{secret}\n", name="HighErrorRate.md")
    for fmt in ("text", "json", "markdown", "github"):
        assert secret not in render_reports([report], fmt)


def test_fail_on_thresholds():
    report = check_document(ALERT + "\n```bash\nkubectl get pods --context <CTX>\n```\n", name="HighErrorRate.md")
    assert {f.severity for f in report.findings if f.status == "fail"} == {"warning"}
    assert not exceeds(report, "error") and exceeds(report, "warning") and not exceeds(report, "never")


def test_cli_formats_and_exit_codes(tmp_path, capsys):
    good, thin = tmp_path / "HighErrorRate.md", CORPUS / "prometheus-operator-kube-proxy-down.md"
    good.write_text(ALERT)
    assert main(["check", str(good), str(thin), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [d["genre"] for d in data] == ["alert-runbook", "alert-runbook"] and data[0]["compliance"] == 100.0
    assert data[0]["score"] > data[1]["score"] and data[1]["top_changes"][0]["add"]
    assert main(["check", str(thin), "--fail-on", "never"]) == 0
    out = capsys.readouterr().out
    assert f"score {data[1]['score']:.1f} (items passed" in out and "to raise the score: line " in out
    assert main(["check", str(thin), "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert f"::error file={thin},line=33,title=Examples use realistic values (not just placeholders)::" in out
    assert main(["check", str(thin), "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert "| line | severity | item | fix |" in out and "The 3 changes that would raise the score most:" in out and "\n1. line " in out
    assert main(["check", str(tmp_path / "nope.md")]) == 2


def test_pre_commit_hook_runs_opslib_check():
    hooks = yaml.safe_load((HERE.parent / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["id"] == "opslib-check" and hooks[0]["entry"].startswith("opslib check")


def test_corpus_sources_are_recorded_and_permissive():
    assert sorted(SOURCES) == sorted(p.name for p in CORPUS.glob("*.md") if p.name != "README.md")
    for meta in SOURCES.values():
        assert meta["license"] in {"Apache-2.0", "MIT", "BSD-3-Clause", "BSD-2-Clause", "CC-BY-4.0", "ISC", "CC0-1.0"}
        assert len(meta["commit"]) == 40 and meta["judgement"] in {"good", "medium", "thin"} and meta["reason"]
        assert meta["license_evidence"].startswith(("confirmed: ", "unconfirmed")) and meta["split"] in ("tune", "held-out", "fresh", "blind", "blind2", "train3", "blind3")
    # issue 19: at least 60 real documents of many organisations and genres, unfilled templates and
    # postmortems among the negatives, both halves holding every judgement
    assert len(SOURCES) >= 60 and len({m["repo"].split("/")[0] for m in SOURCES.values()}) >= 15
    assert {"alert-runbook", "service-runbook", "procedure", "checklist", "template", "cost-plan", "postmortem", "readiness"} <= \
        {m["genre"] for m in SOURCES.values()}
    for split in ("tune", "held-out"):
        assert {m["judgement"] for m in SOURCES.values() if m["split"] == split} == {"good", "medium", "thin"}


def _corpus_benchmark():
    spec = importlib.util.spec_from_file_location("corpus_benchmark", HERE.parent / "benchmarks" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus_figures():
    bench = _corpus_benchmark()
    return {split: bench.evaluate(split) for split in ("tune", "held-out", "fresh", "blind", "blind2", "blind3")}


def test_corpus_targets_hold_on_the_tune_half(corpus_figures):
    """The rules were tuned on this half: issue 19's targets hold on it."""
    res = corpus_figures["tune"]
    assert res["auc good>thin"] >= 0.9 and res["auc good>medium"] >= 0.75 and res["genre accuracy"] >= 0.9, res
    assert res["ties"] < 0.10


@pytest.mark.parametrize("split", ["held-out", "fresh"])
def test_corpus_unseen_documents_rank_good_above_thin(corpus_figures, split):
    """The held-out half and the fresh set, which the substance rules were never tuned on (the genre
    model was fitted on them since; figures in docs/checking.md): the ranking and the ties hold;
    the genre accuracy, which misses its target there, is reported, not pinned."""
    res = corpus_figures[split]
    assert res["auc good>thin"] >= 0.9 and res["auc good>medium"] >= 0.7 and res["ties"] < 0.10, res
    assert res["means"]["good"] > res["means"]["medium"] > res["means"]["thin"]


def test_corpus_blind_set_ranks_good_above_thin(corpus_figures):
    """The first blind set, judged and committed before the checker ever ran on it: what held at
    its one look (docs/checking.md) must keep holding. It is spent (the genre model trains on it
    since), so its genre accuracy is in-sample and not pinned; good > medium missed its target."""
    res = corpus_figures["blind"]
    assert len(res["rows"]) >= 30 and res["auc good>thin"] >= 0.9 and res["ties"] < 0.10, res
    assert res["means"]["good"] > res["means"]["medium"] > res["means"]["thin"]


def test_corpus_second_blind_set_ranks_good_above_medium_and_thin(corpus_figures):
    """The second blind set (blind2), judged and committed before the checker ever ran on it: what
    held at its one look (docs/checking.md) must keep holding. It is spent (the genre model trains
    on it since), so its genre accuracy is in-sample and not pinned."""
    res = corpus_figures["blind2"]
    assert len(res["rows"]) >= 30 and sum(r["judgement"] == "good" for r in res["rows"]) >= 8, res
    assert res["auc good>thin"] >= 0.9 and res["auc good>medium"] >= 0.75 and res["ties"] < 0.10, res
    assert res["means"]["good"] > res["means"]["medium"] > res["means"]["thin"]


def test_corpus_third_blind_set_ranks_good_above_medium_and_thin(corpus_figures):
    """The third blind set (blind3), every genre, judged and committed before the checker ever ran
    on it and never read by the genre fit: what held at its one look (docs/checking.md) must keep
    holding. Its genre accuracy missed the target there (66.7 %) and is reported, not pinned."""
    res = corpus_figures["blind3"]
    assert len(res["rows"]) >= 30 and sum(r["judgement"] == "good" for r in res["rows"]) >= 8, res
    assert {r["genre"] for r in res["rows"]} == {m["genre"] for m in SOURCES.values()}  # every genre of the corpus
    assert res["auc good>thin"] >= 0.9 and res["auc good>medium"] >= 0.75 and res["ties"] < 0.10, res
    assert res["means"]["good"] > res["means"]["medium"] > res["means"]["thin"]


def test_unfilled_templates_and_postmortems_score_low_whatever_their_headings(corpus_figures):
    rows = [r for res in corpus_figures.values() for r in res["rows"]]
    good = sorted(r["score"] for r in rows if r["judgement"] == "good")
    for r in rows:
        if r["genre"] in ("template", "postmortem"):
            assert r["score"] < good[len(good) // 2], r  # below the median good document


def test_benchmark_prints_the_confusion_matrix():
    out = subprocess.run([sys.executable, str(HERE.parent / "benchmarks" / "corpus.py"), "--split", "tune"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(HERE.parent)}, check=True).stdout
    assert "| genre \\ detected |" in out and "auc good>thin:" in out and "genre accuracy:" in out


def test_brackets_in_code_are_not_placeholders():
    text = "# Svc\n\n```bash\nprintf '[Service]\\nLimitNOFILE=65536\\n' | sudo tee limits.conf\n```\n\nOwner: [Team]\n"
    hits = find_placeholders(parse(text))
    assert [h[1] for h in hits] == ["[Team]"]

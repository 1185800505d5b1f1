"""Readiness review: golden readiness.md per example; an item is verified only on evidence of state
(a check opslib ran, or a fresh entry of the evidence file), never on a document saying so."""

import difflib
import itertools
import json
import shlex

import pytest
import yaml
from conftest import EXAMPLES, PARAMS, REPO, execute_notebook
from projects import make_project

from opslib import check_status, load_params
from opslib.check.findings import failed
from opslib.documents import readiness
from opslib.documents.contract import document_modules
from opslib.errors import ParamsError

STATE_ITEMS = {it["id"] for it in readiness.items() if "state" in it}


def _render(params, status, d):
    d.mkdir(parents=True, exist_ok=True)
    for mod in document_modules():
        if mod is not readiness:
            mod.write(params, status, d)
    return d


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every example project's documents, written once (as opslib render does)."""
    out = {}
    for name in EXAMPLES:
        params = load_params(PARAMS / f"{name}.yaml")
        status = check_status(params)
        out[name] = (params, status, _render(params, status, tmp_path_factory.mktemp("build") / name))
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Two generated projects (Kubernetes with AWS Secrets Manager, Heroku with config vars), rendered."""
    out = {}
    for platform, store in (("kubernetes", "aws-secrets-manager"), ("heroku", "heroku-config-vars")):
        root = tmp_path_factory.mktemp(platform)
        path = make_project(root, platform=platform, store=store, kinds=("web", "worker"), datastores=("aws-sqs",) if platform != "heroku" else ("heroku-redis",),
                            name=f"gen-{platform}")
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))  # the cost-check job's opslib, pinned (else pipeline.md has a placeholder)
        doc.setdefault("ci", {})["opslib_source"] = "opslib @ git+https://github.com/acme/opslib@3f9c2a7e41b08d5c6e2f1a9b7d4c0e8f5a2b6c1d"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        params = load_params(path)
        status = check_status(params)
        out[platform] = (path, params, status, _render(params, status, root / "build"))
    return out


def _by(rv):
    return {i.id: i for i in rv.items}


def _with_evidence(path, evidence: dict | str, **section):
    """The parameters at `path` with readiness.evidence pointing at a file holding `evidence`."""
    ev = path.parent / "evidence.yaml"
    ev.write_text(evidence if isinstance(evidence, str) else yaml.safe_dump(evidence, sort_keys=False), encoding="utf-8")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["readiness"] = {"evidence": "evidence.yaml", **section}
    out = path.parent / f"{path.stem}-with-evidence.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


def _entry(day="2026-11-01", result="pass"):
    return {"verified_by": "Sam Okafor (SRE)", "date": day, "result": result, "link": "https://tickets.example.com/OPS-1", "note": "checked by hand"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_readiness(rendered, name, golden):
    params, status, d = rendered[name]
    written = readiness.write(params, status, d)
    text = written.path.read_text()
    assert not failed(written.findings) and "pass" in {f.status for f in written.findings}
    assert not failed(readiness.check_written(d, params))
    assert str(d) not in text
    assert text.splitlines()[2].startswith(f"**Verdict: {readiness.review(params, d, status).verdict}**")
    golden(f"{name}/readiness.md", text)


def test_write_reuses_a_review_already_made(rendered):
    params, status, d = rendered["weather-api"]
    fresh = readiness.write(params, status, d).path.read_text()
    rv = readiness.review(params, d, status)
    assert readiness.write(params, status, d, rv).path.read_text() == fresh


def test_every_item_listed(rendered):
    params, status, d = rendered["shop-platform"]
    rv = readiness.review(params, d, status)
    assert len(rv.items) == len(readiness.items()) == 47
    by = _by(rv)
    assert by["dod-01"].status == "verified" and "opslib checked runbook.md" in by["dod-01"].evidence
    assert by["prc-22"].status == "not measured"
    assert by["prc-24"].status == "documented, not verified" and "documented in runbook.md" in by["prc-24"].evidence
    assert sum(rv.counts.values()) == 47


def test_no_item_passes_on_presence_alone(rendered):
    """weather-api's evidence file verifies the dashboards; without it they are only documented,
    with the dashboards' own links to open — and no state item is verified by a document."""
    params, status, d = rendered["weather-api"]
    with_file = _by(readiness.review(params, d, status))
    assert with_file["prc-13"].status == "verified" and "Priya Natarajan" in with_file["prc-13"].evidence
    bare = readiness.review(params.model_copy(update={"readiness": None}), d, status)
    by = _by(bare)
    item = by["prc-13"]
    assert item.status == "documented, not verified" and "not verified" in item.evidence
    assert {c.link for c in item.verify} == {str(x.url) for x in params.monitoring.dashboards}
    for iid in STATE_ITEMS:
        assert by[iid].status != "verified" or not by[iid].evidence.startswith(("documented", "opslib checked")), iid
    assert by["prc-14"].status == "documented, not verified"  # promtool accepting the file is not the rules loaded
    assert bare.verdict == "undecided"


def test_a_failing_item_gives_no_go(rendered):
    params, status, d = rendered["weather-api"]
    rv = readiness.review(params, d, status)
    assert _by(rv)["prc-14"].status == "fail" and "9 of the 14 rules" in _by(rv)["prc-14"].evidence
    assert rv.verdict == "no-go" and "prc-14" in rv.why


def test_missing_documents_fail_and_give_no_go(tmp_path, rendered):
    params, status, _ = rendered["shop-platform"]
    rv = readiness.review(params, tmp_path, status)
    by = _by(rv)
    assert by["dod-01"].status == "fail" and "runbook.md" in by["dod-01"].evidence
    assert rv.verdict == "no-go"


def test_no_cost_section_fails_cost_items(rendered):
    params, status, d = rendered["shop-platform"]
    bare = params.model_copy(update={"cost": None})
    item = _by(readiness.review(bare, d, status))["dod-02"]
    assert item.status == "fail" and "paid platform" in item.evidence


def test_go_live_from_production_plan(tmp_path, rendered):
    params, status, d = rendered["shop-platform"]
    plan = tmp_path / "deployments" / "2.4.0-prod" / "deployment-plan.md"
    plan.parent.mkdir(parents=True)
    plan.write_text("- **Deploy Window:** 2026-11-04 14:00 UTC – 2026-11-04 16:00 UTC\n")
    by = _by(readiness.review(params, tmp_path, status))
    assert by["prc-32"].status == "verified" and "2026-11-04 14:00" in by["prc-32"].evidence


def test_stale_evidence_is_not_verified(generated):
    path, _, status, d = generated["kubernetes"]
    old = {"schema_version": 1, "items": {"prc-13": _entry("2026-08-01")}}
    params = load_params(_with_evidence(path, old))
    days = (params.project.as_of - __import__("datetime").date(2026, 8, 1)).days
    item = _by(readiness.review(params, d, status))["prc-13"]
    assert item.status == "documented, not verified" and f"{days} days old (limit 30)" in item.evidence
    longer = load_params(_with_evidence(path, old, max_age_days=days))
    assert _by(readiness.review(longer, d, status))["prc-13"].status == "verified"


def test_go_only_when_every_blocking_item_is_verified(generated):
    """A generated project: every open item gets a fresh evidence entry and the three signatures
    say go → go; one signature no-go → no-go; one blocking entry missing → undecided."""
    path, params, status, d = generated["kubernetes"]
    first = readiness.review(params, d, status)
    assert first.verdict == "undecided" and first.open_items
    day = params.project.as_of.isoformat()
    sign = [{"role": r, "name": "Alex Chen", "date": day, "decision": "go"} for r in ("technical review", "cost approval", "stakeholder")]
    ids = [i.id for i in first.items if i.status in ("documented, not verified", "not measured")]
    full = {"schema_version": 1, "items": {i: _entry(day) for i in ids}, "sign_off": sign}
    rv = readiness.review(load_params(_with_evidence(path, full)), d, status)
    assert rv.verdict == "go" and not rv.open_items, [(i.id, i.status) for i in rv.items if i.open]
    text = readiness.render_review(rv)
    assert "**Verdict: go**" in text and "| Cost approval |" in text and "Alex Chen" in text
    missing = {**full, "items": {i: e for i, e in full["items"].items() if i != "prc-13"}}
    assert readiness.review(load_params(_with_evidence(path, missing)), d, status).verdict == "undecided"
    refused = {**full, "sign_off": [dict(sign[0], decision="no-go", conditions="load the alert rules first"), *sign[1:]]}
    rv = readiness.review(load_params(_with_evidence(path, refused)), d, status)
    assert rv.verdict == "no-go" and _by(rv)["prc-29"].status == "fail" and "load the alert rules first" in _by(rv)["prc-29"].evidence


def test_verify_commands_come_from_the_projects_platform(generated):
    """What the reviewer runs is the project's own: its platform's commands, its names, quoted."""
    tools = {"kubernetes": "kubectl", "heroku": "heroku"}
    other = {"kubernetes": "heroku ", "heroku": "kubectl "}
    for platform, (_, params, status, d) in generated.items():
        rv = readiness.review(params, d, status)
        by = _by(rv)
        logs = [c.command for c in by["prc-16"].verify if c.command]
        assert logs and all(tools[platform] in c and params.project.name in c for c in logs), logs
        commands = [c.command for i in rv.items for c in i.verify if c.command]
        assert commands and not [c for c in commands if other[platform] in c]
        for c in commands:
            shlex.split(c.replace("\\\n", " "))  # every command parses as shell words
        assert [c for c in by["prc-19"].verify if c.command]  # the secret store's metadata command
        text = readiness.render_review(rv)
        assert params.project.name in text and str(params.monitoring.dashboards[0].url) in text


def test_readiness_differs_between_projects(rendered):
    """The three examples' reviews share their item list but not their evidence: pairwise line
    similarity (difflib) stays under 0.75 (it was 0.96 when every item passed on presence)."""
    texts = {}
    for name, (params, status, d) in rendered.items():
        texts[name] = readiness.render_review(readiness.review(params, d, status)).splitlines()
    for a, b in itertools.combinations(texts, 2):
        ratio = difflib.SequenceMatcher(None, texts[a], texts[b], autojunk=False).ratio()
        assert ratio < 0.75, (a, b, ratio)


def test_every_verify_and_auto_key_is_known():
    autos = {"status", "history", "rollback", "plan", "cost_gate", "sign_off:technical review", "sign_off:cost approval", "sign_off:stakeholder"}
    for it in readiness.items():
        assert it.get("verify") is None or it["verify"] in readiness.VERIFIERS, it["id"]
        assert it.get("auto") is None or it["auto"] in autos, it["id"]
        assert set(it) <= {"id", "source", "area", "text", "checks", "state", "auto", "verify", "applies", "blocking", "needs_cost", "params", "not_measured"}, it["id"]


@pytest.mark.parametrize(("content", "words"), [
    ({"schema_version": 1, "items": {"prc-99x": _entry()}}, ["evidence.yaml", "items", "not a readiness item id"]),
    ({"schema_version": 1, "items": {"prc-13": {**_entry(), "result": "maybe"}}}, ["evidence.yaml", "items.prc-13.result"]),
    ({"schema_version": 1, "items": {"prc-13": {k: v for k, v in _entry().items() if k != "link"}}}, ["evidence.yaml", "items.prc-13.link", "missing"]),
    ({"schema_version": 1, "items": {"prc-13": {**_entry(), "colour": "red"}}}, ["evidence.yaml", "items.prc-13.colour", "unknown key"]),
    ({"schema_version": 1, "sign_off": [{"role": "cfo", "name": "A", "date": "2026-11-01", "decision": "go"}]}, ["evidence.yaml", "sign_off[0].role"]),
    ({"items": {}}, ["evidence.yaml", "schema_version", "missing"]),
    ("schema_version: 1\nitems:\n  prc-13: {verified_by: A, date: 2026-02-30, result: pass, link: x}\n", ["evidence.yaml", "not a real date"]),
    ("- just a list\n", ["evidence.yaml", "must be a mapping"]),
    ("a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(f"{c}: &{c} [{', '.join(['*' + chr(ord(c) - 1)] * 10)}]\n" for c in "bcdefgh"), ["evidence.yaml", "expands to more than"]),
    ({"schema_version": 1, "items": {"prc-13": {**_entry(), "note": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"}}}, ["evidence.yaml", "looks like"]),
    ({"schema_version": 1, "items": {"prc-13": {**_entry(), "note": "x" * 5000}}}, ["evidence.yaml", "items.prc-13.note"]),
])
def test_a_bad_evidence_file_is_one_clear_error(generated, content, words):
    path = generated["heroku"][0]
    with pytest.raises(ParamsError) as err:
        load_params(_with_evidence(path, content))
    text = str(err.value)
    assert "Traceback" not in text and all(w in text for w in words), text
    assert "ghp_A1b2" not in text


def test_a_missing_evidence_file_names_it(generated):
    path = generated["heroku"][0]
    doc = yaml.safe_load(path.read_text())
    doc["readiness"] = {"evidence": "nowhere.yaml"}
    bad = path.parent / "missing-evidence.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(ParamsError, match="readiness.evidence.*nowhere.yaml.*not found"):
        load_params(bad)


@pytest.mark.kernel
def test_notebook_writes_readiness(tmp_path, rendered):
    params, status, d = rendered["agent-orchestrator"]
    out = tmp_path / "90.ipynb"
    execute_notebook(str(REPO / "notebooks" / "90-readiness-review.ipynb"), str(out),
                        parameters={"params_path": str(PARAMS / "agent-orchestrator.yaml"), "out_dir": str(d), "interactive": False},
                        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"))
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert "image/png" in {m for o in outputs for m in o.get("data", {})}
    assert (d / "readiness.md").read_text() == readiness.render_review(readiness.review(params, d, status))


def test_deploys_and_rollbacks_recorded_verify_the_tested_items(generated, tmp_path):
    """prc-24 (deployment guide tested) is verified by a successful deploy of every environment in
    the deployment history; prc-11 (recovery tested) by a rollback in a deployment report."""
    path, params, status, d = generated["kubernetes"]
    history = path.parent.parent / "deployments" / f"{params.project.name}.yaml"
    history.parent.mkdir(exist_ok=True)
    by = _by(readiness.review(params, d, status))
    assert by["prc-24"].status == "documented, not verified" and "no successful deploy recorded" in by["prc-24"].evidence
    assert [c for c in by["prc-24"].verify if c.command and params.project.name in c.command]
    rows = [{"version": "1.2.0", "env": e.name, "date": "2026-10-20", "status": "success"} for e in params.environments[:-1]]
    history.write_text(yaml.safe_dump({"deployments": rows}))
    item = _by(readiness.review(params, d, status))["prc-24"]
    assert item.status == "documented, not verified" and f"none of {params.production.name}" in item.evidence
    history.write_text(yaml.safe_dump({"deployments": [*rows, {"version": "1.2.0", "env": params.production.name, "date": "2026-10-21", "status": "success"}]}))
    report = d / "deployments" / "1.2.1-staging" / "deployment-report.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text('---\nstatus: "rolled_back"\ndeployed: "2026-10-22 10:00"\n---\n\n- **Environment:** staging\n- **Version:** 1.2.1\n')
    try:
        by = _by(readiness.review(params, d, status))
        assert by["prc-24"].status == "verified" and f"{params.production.name} 1.2.0 on 2026-10-21" in by["prc-24"].evidence
        assert by["prc-11"].status == "verified" and "staging 1.2.1 on 2026-10-22 (deployments/1.2.1-staging/deployment-report.md)" in by["prc-11"].evidence
    finally:
        history.unlink()
        report.unlink()


def test_notebook_views_show_the_verdict_and_the_signatures(rendered):
    """The notebook's views (no kernel): the verdict box says readiness.md's verdict, the sign-off
    block carries the evidence file's signature, the tables and chart count the five statuses."""
    from opslib.notebook import readiness as view

    params, status, d = rendered["weather-api"]
    rv = readiness.review(params, d, status)
    assert view.decision(rv) == ("no-go", rv.why)
    assert "Verdict: no-go" in view.verdict_html(rv) and "#cf222e" in view.verdict_html(rv)
    signoff = view.signoff_html(rv)
    assert "Priya Natarajan" in signoff and "Stakeholder sign-off" in signoff
    table = view.areas_table(rv)
    assert list(table.columns) == list(readiness.STATUSES) and int(table.to_numpy().sum()) == len(rv.items)
    assert "verify" not in view.items_table(rv).columns
    assert "no-go" in view.areas_chart(rv, params.project.name).axes[0].get_title()


@pytest.mark.parametrize(("edit", "item", "words"), [
    (lambda t: t.replace("**Verdict: no-go**", "**Verdict: go**"), "verdict", "the verdict says go but the items say no-go"),
    (lambda t: t.replace("## Sign-off", "## Signatures"), "verdict", "no Sign-off section"),
    (lambda t: t.replace("| yes | documented, not verified | documented in cost-plan.md", "| yes | verified | documented in cost-plan.md"), "state",
     "prc-15 verified by a document alone"),
])
def test_the_checker_catches_a_verdict_or_a_verification_the_items_do_not_support(edit, item, words):
    from opslib.check.readiness import ITEMS, check_readiness

    text = (REPO / "tests" / "golden" / "weather-api" / "readiness.md").read_text()
    assert not failed(check_readiness(text, strict=True))
    broken = edit(text)
    assert broken != text
    found = [f for f in check_readiness(broken, strict=True) if f.item == ITEMS[item]]
    assert [f.status for f in found] == ["fail"] and words in found[0].message
    assert not [f for f in check_readiness(broken) if f.item == ITEMS[item]]  # strict only: a hand-written review is not held to our layout

"""alerts.yml: burn rates computed from each SLO, every rule explained, promtool check and
unit tests, and the runbook's Monitoring table listing exactly the same alerts."""

import re

import pytest
from conftest import EXAMPLES, PARAMS

from opslib.check.markdown import parse
from opslib.core.templates import environment
from opslib.documents import alerts as alert
from opslib.documents import monitoring
from opslib.documents.ci_files import load
from opslib.documents.runbook import build as build_runbook
from opslib.documents.runbook import render_runbook
from opslib.errors import ChecksFailed
from opslib.params.ci import CiSection
from opslib.params.models import load_params
from opslib.params.status import check_status

needs_promtool = pytest.mark.usefixtures("promtool_installed")


@pytest.mark.parametrize("period, expected", [
    (30, (14.4, 6.0, 1.0)),
    (28, (13.44, 5.6, 0.933333)),
    (7, (3.36, 1.4, 0.233333)),
])
def test_burn_rates_are_computed_from_the_period(period, expected):
    rates = tuple(monitoring.burn_rate(spend, period, long_w) for spend, long_w, _, _ in monitoring.BUDGET_POLICY)
    assert rates == pytest.approx(expected)


def test_28_day_slo_gets_its_own_thresholds():
    from opslib.params.models import Slo

    slo = Slo(name="api availability", sli="availability", objective=99.9, window_days=28)
    fast, slow, ticket = monitoring.slo_alerts(slo, 'job="x"')
    assert fast.limit == pytest.approx(0.01344) and "> 0.01344)" in fast.expr and "[1h]" in fast.expr and "[5m]" in fast.expr
    assert slow.limit == pytest.approx(0.0056) and "[6h]" in slow.expr and "[30m]" in slow.expr
    assert ticket.severity == "ticket" and "[3d]" in ticket.expr and "13.44×" not in ticket.rationale
    assert fast.threshold == "> 1.344% over 1 h and over 5 min"


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_alerts(name, golden):
    golden(f"{name}/alerts.yml", alert.render_rules(load_params(PARAMS / f"{name}.yaml")))


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_rule_is_explained(name):
    params = load_params(PARAMS / f"{name}.yaml")
    rules = [r for g in load(alert.render_rules(params))["groups"] for r in g["rules"]]
    assert len({r["alert"] for r in rules}) == len(rules)
    for r in rules:
        assert r["labels"]["severity"] in ("page", "ticket")
        for key in ("summary", "rationale", "threshold", "runbook_url", "description"):
            assert r["annotations"][key], (r["alert"], key)
        assert r["annotations"]["runbook_url"] == f"runbook.md#{r['alert'].lower()}"  # the alert's own section
    names = {r["alert"] for r in rules}
    kinds = {svc.kind for svc in params.services}
    # the HTTP alerts where there is HTTP; each worker's queue and each job's runs otherwise
    assert ({"HighErrorRate", "HighLatencyP95", "RequestRateAnomaly"} <= names) == ("web" in kinds)
    for svc in params.services:
        suffix = "".join(part.title() for part in svc.name.split("-"))
        wanted = {"worker": ["WorkerProcessingFailures"], "job": ["JobMissedRun", "JobFailed", "JobRunTooLong"]}.get(svc.kind, [])
        assert {f"{a}{suffix}" for a in wanted} <= names, (svc.name, sorted(names))


def test_platform_specific_alerts():
    names = {n: {a.alert for a in monitoring.alert_specs(load_params(PARAMS / f"{n}.yaml"))} for n in EXAMPLES}
    assert "DeploymentReplicasUnavailable" in names["shop-platform"] and "LambdaThrottles" not in names["shop-platform"]
    assert "LambdaThrottles" in names["agent-orchestrator"] and "HighCpuUtilisation" not in names["agent-orchestrator"]
    assert {"HighCpuUtilisation", "HighMemoryUtilisation", "InstanceRestarts"} <= names["weather-api"]


def test_thresholds_follow_the_ci_section(monkeypatch):
    params = load_params(PARAMS / "weather-api.yaml")
    ci = CiSection(error_rate_pct=2, cpu_pct=70, memory_pct=90, latency_baseline_ms=150)
    monkeypatch.setattr(monitoring, "ci_of", lambda p: ci)
    specs = {a.alert: a for a in monitoring.alert_specs(params)}
    assert specs["HighErrorRate"].expr.endswith("> 0.02") and specs["HighErrorRate"].threshold.startswith("> 2%")
    assert specs["HighLatencyP95"].expr.endswith("> 0.3") and "2× the p95 baseline of 150 ms" in specs["HighLatencyP95"].rationale
    assert specs["HighCpuUtilisation"].expr.endswith("> 0.7")
    assert specs["HighMemoryUtilisation"].expr.endswith("> 0.9")


@pytest.mark.parametrize("name", EXAMPLES)
def test_runbook_lists_the_same_alerts(name):
    """One source: every alerts.yml rule is a row of the runbook's Monitoring table with the same threshold."""
    params = load_params(PARAMS / f"{name}.yaml")
    text = render_runbook(build_runbook(params, check_status(params)))
    doc = parse(text)
    sec = next(s for s in doc.sections if s.title == "Key metrics and alert thresholds")
    rows = [line.split(" | ") for line in doc.body(sec).splitlines() if line.startswith("| ") and "`" in line]
    table = {re.search(r"`(\w+)`", r[1]).group(1): r[2] for r in rows}
    rules = {r["alert"]: r for g in load(alert.render_rules(params))["groups"] for r in g["rules"]}
    assert set(table) == set(rules)
    for name_, rule in rules.items():
        assert table[name_] == rule["annotations"]["threshold"].replace("|", "\\|")
    anchor = environment().filters["anchor"](sec.title)
    assert anchor == "key-metrics-and-alert-thresholds"  # pipeline.md links it
    # every alert's runbook_url opens a section of its own, with what to do
    anchors = {environment().filters["anchor"](s.title): s for s in doc.sections}
    for rule in rules.values():
        target = anchors[rule["annotations"]["runbook_url"].split("#", 1)[1]]
        assert target.title == rule["alert"] and "**Do**:" in doc.body(target)


@needs_promtool
@pytest.mark.parametrize("name", EXAMPLES)
def test_promtool_check_and_unit_tests(name, tmp_path):
    params = load_params(PARAMS / f"{name}.yaml")
    w = alert.write(params, check_status(params), tmp_path)
    # the truth rules' findings (area "truth") are tested in tests/test_truth.py
    assert [f.status for f in w.findings if f.area != "truth"] == ["pass", "pass", "pass"], w.findings
    tests = load((tmp_path / "alerts-test.yml").read_text())["tests"]
    # custom SLIs read the team's own series, which a synthetic fixture cannot know: not unit-tested
    page = [a.alert for a in monitoring.alert_specs(params) if a.severity == "page" and ((a.slo and a.sli != "custom") or a.alert == "HighErrorRate")]
    fired = {t["alert_rule_test"][0]["alertname"] for t in tests if t["alert_rule_test"][0]["exp_alerts"]}
    silent = {t["alert_rule_test"][0]["alertname"] for t in tests if not t["alert_rule_test"][0]["exp_alerts"]}
    assert fired == silent == set(page)
    assert [f.status for f in alert.check_written(tmp_path, params) if f.area != "truth"] == ["pass", "pass", "pass"]


@needs_promtool
def test_unit_tests_catch_a_broken_rule(tmp_path):
    params = load_params(PARAMS / "weather-api.yaml")
    alert.write(params, check_status(params), tmp_path)
    rules = tmp_path / "alerts.yml"
    rules.write_text(rules.read_text().replace("> 0.0144)", "> 0.9)"))
    finding = alert.test_rules_file(tmp_path / "alerts-test.yml")
    assert finding.status == "fail" and "ForecastAPIAvailabilityBudgetBurn1h" in finding.message
    rules.write_text("groups:\n  - name: x\n    rules:\n      - alert: Bad\n        expr: sum(rate(x[5m]) >\n")
    assert alert.check_rules_file(rules).status == "fail"


@needs_promtool
def test_write_refuses_rules_promtool_rejects(tmp_path, monkeypatch):
    params = load_params(PARAMS / "weather-api.yaml")
    monkeypatch.setattr(alert, "render_rules", lambda p: "groups:\n  - name: x\n    rules:\n      - alert: Bad\n        expr: rate(\n")
    with pytest.raises(ChecksFailed):
        alert.write(params, check_status(params), tmp_path / "out")
    assert not (tmp_path / "out" / "alerts.yml").exists()


def test_deterministic():
    params = load_params(PARAMS / "shop-platform.yaml")
    assert alert.render_rules(params) == alert.render_rules(params)
    assert alert.render_tests(params) == alert.render_tests(params)
    assert not re.search(r"20\d\d-\d\d-\d\dT", alert.render_rules(params))

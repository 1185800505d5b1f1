"""The cost model: hand-computed totals, Monte Carlo, unknowns, guardrails, rules, diff, golden plans."""

import pytest
from conftest import EXAMPLES, FIXTURES, PARAMS

from opslib.check.cost_plan import ITEMS as COST_ITEMS
from opslib.check.cost_plan import check_cost_plan
from opslib.cli import main
from opslib.core.formatting import money
from opslib.documents import cost_plan as cost
from opslib.errors import ChecksFailed, ParamsError
from opslib.params.models import ProjectParams, load_params
from opslib.params.status import check_status

TINY = FIXTURES / "cost" / "tiny.yaml"


@pytest.fixture(scope="module")
def tiny():
    return load_params(TINY)


def variant(params, edit):
    """The same project with `edit(data)` applied to its dumped parameters (validated again)."""
    data = params.model_dump(mode="json", exclude_none=True)
    edit(data["cost"])
    moved = ProjectParams.model_validate(data, context={"base_dir": params.base_dir})
    moved._path = params.path
    return moved


def comp(data, name):
    return next(c for c in data["components"] if c["name"] == name)


# --- hand-computed arithmetic --------------------------------------------------------------


def test_hand_computed_totals(tiny):
    plan = cost.estimate(tiny)
    hours, t3_small = 730, 0.0208
    vm_unit = hours * t3_small  # one t3.small all month = $15.184
    dev = 1 * vm_unit  # dev: one VM; the API's 100k calls are inside the 500k free units
    api = [(calls - 500_000) * 0.001 * 0.9 for calls in (1e6, 2e6, 4e6)]  # free tier, then 10% contract discount
    prod = [n * vm_unit + a for n, a in zip((1, 2, 3), api, strict=True)]  # 465.184, 1380.368, 3195.552
    envs = {e.name: e for e in plan.envs}
    assert envs["dev"].low == envs["dev"].high == pytest.approx(dev)
    assert (envs["prod"].low, envs["prod"].expected, envs["prod"].high) == pytest.approx(tuple(prod))
    assert (plan.low, plan.expected, plan.high) == pytest.approx((dev + prod[0], dev + prod[1], dev + prod[2]))
    assert plan.expected == pytest.approx(1395.552)
    # worst case at max scale: 4 replicas (prod replicas.max) of the autoscaled VM + the API at its high
    assert envs["prod"].worst_case == pytest.approx(4 * vm_unit + api[2])
    assert plan.cost_per_request.startswith(f"{money(prod[1] / 2e6)} per request in prod")


def test_unknown_quantity_is_not_zero(tiny):
    plan = cost.estimate(tiny)
    logs = [ln for ln in plan.lines if ln.component == "logs"]
    assert all(ln.cost is None and ln.status == "usage" for ln in logs)
    text = cost.preview(tiny).markdown
    assert "monthly cost depends on usage: $0.5 per GB" in text
    assert "| logs | prod | log ingestion, not measured yet | amount not known yet | $0.5 per GB | monthly cost depends on usage" in text
    assert "| api | dev | metered API calls | requests 100,000 − 500,000 free, −10% (annual contract) | $0.001 per call | $0.00 (within the free tier) |" in text
    assert "$0.00 |" not in text  # a zero is always explained


def test_unknown_price_fails_the_check_and_writes_nothing(tiny, tmp_path):
    params = variant(tiny, lambda c: comp(c, "api").pop("price"))
    draft = cost.preview(params)
    assert "price unknown" in draft.markdown
    bad = [f for f in draft.findings if f.status == "fail" and f.area != "truth"]  # truth findings: tests/test_truth.py
    assert [f.item for f in bad] == [COST_ITEMS["ranges"]] and "cost.prices" in bad[0].message
    with pytest.raises(ChecksFailed):
        cost.write(params, check_status(params), tmp_path)
    assert not (tmp_path / "cost-plan.md").exists()


def test_unknown_price_id_is_a_params_error(tmp_path):
    text = TINY.read_text().replace("aws.ec2.t3-small-linux-on-demand.us-east-1", "aws.ec2.t3-smol")
    for f in ("architecture.md", "plan.md", "spec.md", "status.json"):
        (tmp_path / f).write_text((TINY.parent / f).read_text())
    (tmp_path / "p.yaml").write_text(text.replace("    dev: {monthly_usd: 20", "    qa: {monthly_usd: 20"))
    with pytest.raises(ParamsError) as exc:
        load_params(tmp_path / "p.yaml")
    msg = str(exc.value)
    assert "cost.components[0].price: unknown price id 'aws.ec2.t3-smol'" in msg
    assert "cost.budgets.qa: no environment named 'qa'" in msg and "environment 'dev' has no budget" in msg


def test_monte_carlo_is_deterministic(tiny):
    a, b = cost.estimate(tiny), cost.estimate(tiny)
    assert (a.samples == b.samples).all() and (a.p10, a.p50, a.p90) == (b.p10, b.p50, b.p90)
    assert a.low <= a.p10 <= a.p50 <= a.p90 <= a.high
    other = cost.estimate(variant(tiny, lambda c: c.update(seed=7)))
    assert other.p50 != a.p50 and abs(other.p50 - a.p50) / a.p50 < 0.05


def test_free_tier_and_discount_are_shown(tiny):
    text = cost.preview(tiny).markdown
    assert "requests 2,000,000 − 500,000 free, −10% (annual contract)" in text


def test_stale_price_is_flagged(tiny):
    text = cost.preview(tiny).markdown
    assert "aws.cloudwatch.logs-ingestion-standard-class.us-east-1" in text and "⚠ older than 365 days" in text
    fresh = cost.preview(variant(tiny, lambda c: c.update(max_price_age_days=5000))).markdown
    assert "⚠ older than" not in fresh


@pytest.mark.parametrize("price_region, env_region, mismatch", [
    ("us-east-1", "us-east-1", False), ("US-East-1", "us-east-1", False), ("global", "eu-west-1", False),
    ("n/a", "eu-west-1", False), ("us-west-2", "us-east-1", True), ("us", "eu", True), ("EU", "europe-west1", True),
])
def test_region_mismatch_rule(price_region, env_region, mismatch):
    price = cost.Price("x", "aws", "EC2", "sku", price_region, "hour", 1.0, "test", None)
    assert cost.region_mismatch(price, env_region) is mismatch


def test_price_of_another_region_is_flagged_and_fails_unless_acknowledged(tiny):
    """A component priced for us-west-2 in a us-east-1 project: flagged in the plan, and the
    strict check fails until the parameters say why that price stands for us-east-1."""
    other = lambda c: comp(c, "vm").update(price="aws.ec2.t3-small-linux-on-demand.eu-west-1")  # noqa: E731
    draft = cost.preview(variant(tiny, other))
    assert f"**{cost.REGION_MISMATCH}**: vm in dev, prod (us-east-1) is priced with aws.ec2.t3-small-linux-on-demand.eu-west-1, a eu-west-1 price" in draft.markdown
    failed = [f for f in draft.findings if f.status == "fail"]
    assert [f.item for f in failed] == [COST_ITEMS["ranges"]] and "price_region_note" in failed[0].message

    noted = lambda c: (other(c), comp(c, "vm").update(price_region_note="same list price in both regions, checked 2026-10-01"))  # noqa: E731
    draft = cost.preview(variant(tiny, noted))
    assert cost.REGION_MISMATCH not in draft.markdown
    assert "vm in dev, prod (us-east-1) is priced with aws.ec2.t3-small-linux-on-demand.eu-west-1, a eu-west-1 price; acknowledged: same list price" in draft.markdown
    assert not [f for f in draft.findings if f.status == "fail"]
    # the plan's own region needs no note
    assert "another region" not in cost.preview(tiny).markdown


def test_region_mismatch_refuses_to_write_the_plan(tiny, tmp_path):
    moved = variant(tiny, lambda c: comp(c, "vm").update(price="aws.ec2.t3-small-linux-on-demand.eu-west-1"))
    with pytest.raises(ChecksFailed, match="price_region_note"):
        cost.write(moved, check_status(moved, force=True), tmp_path)
    assert not (tmp_path / "cost-plan.md").exists()


def test_overrides_change_the_estimate(tiny):
    base = cost.estimate(tiny)
    more = cost.estimate(tiny, cost.Overrides(drivers={"requests": 4e6}))
    api = (4e6 - 500_000) * 0.001 * 0.9 - (2e6 - 500_000) * 0.001 * 0.9
    assert more.envs[1].expected - base.envs[1].expected == pytest.approx(api)
    with pytest.raises(ParamsError):
        cost.estimate(tiny, cost.Overrides(drivers={"nope": 1}))


# --- guardrails ----------------------------------------------------------------------------


@pytest.mark.parametrize("budget, breach", [(3500, False), (3000, True)])
def test_worst_case_breach_is_a_finding(tiny, tmp_path, budget, breach):
    params = variant(tiny, lambda c: c["budgets"]["prod"].update(monthly_usd=budget))
    draft = cost.preview(params)
    finding = next(f for f in draft.findings if f.item == COST_ITEMS["worst_case"])
    assert finding.status == ("fail" if breach else "pass")
    assert ("**BREACH**" in draft.markdown) is breach
    if breach:
        with pytest.raises(ChecksFailed):
            cost.write(params, check_status(params), tmp_path)


def test_alert_thresholds_are_configurable(tiny):
    text = cost.preview(variant(tiny, lambda c: c.update(alert_thresholds_pct=[50, 80, 100]))).markdown
    assert "50% = $1,750, 80% = $2,800, 100% = $3,500" in text
    assert "70% = $2,450, 90% = $3,150, 100% = $3,500" in cost.preview(tiny).markdown


def test_kubernetes_gets_resource_quotas():
    text = cost.preview(load_params(PARAMS / "shop-platform.yaml")).markdown
    assert "kind: ResourceQuota" in text and "namespace: shop-platform-prod" in text
    assert 'limits.cpu: "25.5"' in text  # (10 replicas × 5 long-running services + 1 run of the job) × 0.5 CPU
    assert "aws budgets create-budget" in text


# --- optimization rules --------------------------------------------------------------------


def _llm(c, price):
    c["components"].append({"name": "llm", "category": "llm", "description": "model tokens", "price": price,
                            "quantity": {"drivers": ["requests"], "factor": 0.001}})


def _s3(c, gb):
    c["components"].append({"name": "bucket", "category": "storage", "description": "S3",
                            "price": "aws.s3.standard-storage-first-50-tb.us-east-1", "quantity": {"count": gb}})


RULES = [
    ("right-sizing", lambda c: comp(c, "vm").update(utilization_pct=30), lambda c: comp(c, "vm").update(utilization_pct=60)),
    ("commitment", lambda c: comp(c, "vm").update(quantity={"count": {"low": 2, "expected": 2, "high": 3}}), lambda c: None),
    ("shutdown", lambda c: None, lambda c: comp(c, "vm").update(always_on=True)),
    ("storage-lifecycle", lambda c: _s3(c, 1000), lambda c: _s3(c, 100)),
    ("caching", lambda c: None, lambda c: comp(c, "api").update(quantity={"count": 2e6})),
    ("arm64", lambda c: None, lambda c: comp(c, "vm").update(arch="arm64")),
    ("spot", lambda c: comp(c, "vm").update(stateless=True), lambda c: None),
    ("cheaper-model", lambda c: _llm(c, "anthropic.claude-api.claude-sonnet-4-5-input.global"),
     lambda c: _llm(c, "anthropic.claude-api.claude-haiku-4-5-input.global")),
]


@pytest.mark.parametrize("rule, fire, quiet", RULES, ids=[r[0] for r in RULES])
def test_rule_fires_and_stays_quiet(tiny, rule, fire, quiet):
    def saving(edit):
        plan = cost.estimate(variant(tiny, edit), simulate=False)
        return [o.saving for o in plan.opportunities if o.rule == rule and o.saving]

    fired = saving(fire)
    assert fired and all(s > 0 for s in fired), f"{rule} should fire"
    assert not saving(quiet), f"{rule} should stay quiet"


def test_rule_savings_arithmetic(tiny):
    plan = cost.estimate(variant(tiny, lambda c: comp(c, "vm").update(utilization_pct=26)), simulate=False)
    by = {(o.rule, o.component): o for o in plan.opportunities}
    vm_prod, vm_dev = 2 * 730 * 0.0208, 730 * 0.0208
    assert by[("right-sizing", "vm")].saving == pytest.approx((vm_dev + vm_prod) * min(0.5, 1 - 26 / 65))  # capped at 50%
    assert by[("shutdown", "vm")].saving == pytest.approx(vm_dev * (1 - 260 / 730))
    assert by[("arm64", "vm")].saving == pytest.approx((vm_dev + vm_prod) * 0.2)
    assert by[("caching", "api")].saving == pytest.approx(1350 * 0.3)
    assert by[("right-sizing", "vm")].priority == "quick win" and by[("arm64", "vm")].priority == "complex"
    order = [o.priority for o in plan.opportunities]
    assert order == sorted(order, key=lambda p: p != "quick win")


def test_right_sizing_always_present(tiny):
    text = cost.preview(tiny).markdown
    assert "Right-size under-used compute and databases | all compute and databases" in text


# --- the document and its checks -----------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_cost_plans(name, golden):
    draft = cost.preview(load_params(PARAMS / f"{name}.yaml"))
    assert not [f for f in draft.findings if f.status != "pass" and f.area != "truth"], draft.findings
    golden(f"{name}/cost-plan.md", draft.markdown)


def test_every_checklist_item_is_checked(tiny):
    items = {f.item for f in cost.preview(tiny).findings if f.area != "truth"}
    assert items == set(COST_ITEMS.values())


def test_vague_plan_fails():
    bad = ("# Cost plan\n\n## Estimated Costs\n\nCloud infrastructure will cost around $1000/month.\n\n"
           "## Guardrails\n\nSet spending limits for each environment.\n")
    failing = {f.item for f in check_cost_plan(bad, environments=["prod"], strict=True) if f.status == "fail"}
    assert failing >= {COST_ITEMS[k] for k in ("sections", "ranges", "components", "tracking", "limits", "autoscaling", "priority", "right_sizing", "as_of")}


def test_write_is_deterministic_and_checks_written(tiny, tmp_path):
    status = check_status(tiny)
    a = cost.write(tiny, status, tmp_path / "a")
    b = cost.write(tiny, status, tmp_path / "b")
    assert a.path.read_bytes() == b.path.read_bytes()
    pngs = sorted(p.name for p in (tmp_path / "a" / "figures").glob("*.png"))
    assert pngs == ["cost-breakdown.png", "cost-budget.png", "cost-distribution.png"]
    for name in pngs:
        assert (tmp_path / "a" / "figures" / name).read_bytes() == (tmp_path / "b" / "figures" / name).read_bytes()
    assert "figures/cost-budget.png" in a.path.read_text()
    assert all(f.status == "pass" for f in cost.check_written(tmp_path / "a", tiny) if f.area != "truth")
    assert cost.check_written(tmp_path / "missing", tiny)[0].status == "fail"


def test_project_without_cost_section(tiny, tmp_path):
    data = tiny.model_dump(mode="json", exclude_none=True)
    data.pop("cost")
    bare = ProjectParams.model_validate(data, context={"base_dir": tiny.base_dir})
    written = cost.write(bare, None, tmp_path)
    assert written.findings[0].status == "n/a" and not written.path.exists()
    assert cost.check_written(tmp_path, bare) == []


# --- cost diff -----------------------------------------------------------------------------


def test_diff_lists_changes_and_budget_impact(tiny):
    new = variant(tiny, lambda c: c["drivers"]["requests"].update(expected=3000000))
    text = cost.diff(tiny, new)
    assert "| prod | api | $1,350 | $2,250 | +$900 |" in text
    assert "| prod | vm |" not in text  # unchanged components are left out
    assert "**Total expected monthly**: $1,396 → $2,296 (+$900, +64.5%)" in text
    assert "increase over 20% in prod: needs approval by Engineering Manager, Finance" in text
    assert "no component changed" in cost.diff(tiny, tiny)


def test_cost_diff_command(tmp_path, capsys):
    assert main(["cost-diff", str(TINY), str(TINY)]) == 0
    assert "# Cost diff" in capsys.readouterr().out
    breach = tmp_path / "fixture"
    breach.mkdir()
    for f in ("architecture.md", "plan.md", "spec.md", "status.json"):
        (breach / f).write_text((TINY.parent / f).read_text())
    (breach / "p.yaml").write_text(TINY.read_text().replace("monthly_usd: 3500", "monthly_usd: 3000"))
    assert main(["cost-diff", str(TINY), str(breach / "p.yaml")]) == 1
    assert "| prod | $3,000 | $1,380 | $1,380 | 46% | over the soft limit: $3,211 |" in capsys.readouterr().out
    assert main(["cost-diff", str(TINY), str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: file not found" in capsys.readouterr().err


def test_own_catalog_file_overrides_shipped_prices(tmp_path):
    for f in ("architecture.md", "plan.md", "spec.md", "status.json"):
        (tmp_path / f).write_text((TINY.parent / f).read_text())
    (tmp_path / "prices.csv").write_text(
        "id,provider,service,sku,region,unit,price_usd,source,as_of\n"
        "aws.ec2.t3-small-linux-on-demand.us-east-1,aws,EC2,t3.small Linux on-demand,us-east-1,hour,0.03,our EDP rate card,2026-10-15\n")
    (tmp_path / "p.yaml").write_text(TINY.read_text().replace("cost:\n", "cost:\n  catalog: prices.csv\n", 1))
    plan = cost.estimate(load_params(tmp_path / "p.yaml"))
    dev = next(e for e in plan.envs if e.name == "dev")
    assert dev.expected == pytest.approx(730 * 0.03)
    assert any(row[2] == "our EDP rate card" and row[4] == "current" for row in plan.prices)


def test_heroku_scaling_caps_are_the_runbooks_commands_on_the_process_type():
    """A Heroku process type is the service's kind (web), not its name, and ps:autoscale:enable
    takes no process argument: with a web service named api, cost-plan.md caps the dynos with
    the very commands runbook.md gives (it used to print `ps:autoscale:enable api` and
    `ps:scale api=1`, which Heroku refuses)."""
    from opslib.documents import runbook

    params = load_params(PARAMS / "weather-api.yaml")
    data = params.model_dump(mode="json", exclude_none=True)
    data["services"][0]["name"] = "api"
    for item in data["secrets"]["items"]:
        item["services"] = ["api" if s == "web" else s for s in item["services"]]
    for c in data["cost"]["components"]:
        if c.get("service") == "web":
            c["service"] = "api"
    for d in data["dependencies"]:
        d["services"] = ["api" if s == "web" else s for s in d["services"]]
    moved = ProjectParams.model_validate(data, context={"base_dir": params.base_dir})
    moved._path = params.path
    text = cost.preview(moved).markdown
    caps = text.split("Commands that enforce the maximums:")[1].split("```bash\n")[1].split("```")[0].splitlines()
    assert len(caps) == len(moved.environments)
    for env in moved.environments:
        book = runbook.preview(moved, check_status(moved, force=True), focus=env.name).markdown
        mine = [c.split("   #")[0] for c in caps if c.split("   #")[0].endswith(f"weather-api-{env.name}") or f"-a weather-api-{env.name} " in c]
        assert len(mine) == 1 and mine[0] in book, (env.name, mine)
    assert "ps:autoscale:enable api" not in text and "ps:scale api=" not in text


def test_vm_scaling_caps_are_commands_not_comments():
    """The VM platform's cost plan capped nothing: it printed '# cap the instance group … at N
    instances'. Its cost.yaml now gives the auto-scaling group command of the runbook."""
    from opslib.documents.runbook import with_platform

    params = with_platform(load_params(PARAMS / "agent-orchestrator.yaml"), "vm-systemd")
    text = cost.preview(params).markdown
    caps = text.split("Commands that enforce the maximums:")[1].split("```bash\n")[1].split("```")[0].splitlines()
    assert caps == [f"aws autoscaling update-auto-scaling-group --region {e.region} --auto-scaling-group-name agent-orchestrator-{e.name} "
                    f"--min-size {e.replicas.min} --max-size {e.replicas.max}" for e in params.environments]
    assert "EC2 Auto Scaling has no quota object" in text


def test_kubernetes_caps_name_the_cluster_like_every_runbook_command():
    """The caps patched the HPA of whatever cluster kubectl's current context was (no --context),
    so capping dev could patch prod; the runbook's kubectl commands all name the context."""
    params = load_params(PARAMS / "shop-platform.yaml")
    text = cost.preview(params).markdown
    caps = text.split("Commands that enforce the maximums:")[1].split("```bash\n")[1].split("```")[0].splitlines()
    assert len(caps) == len(params.environments) * sum(s.long_running for s in params.services)  # a CronJob has no HPA
    for env in params.environments:
        mine = [c for c in caps if f" -n shop-platform-{env.name} " in c]
        assert mine and all(c.startswith(f"kubectl --context shop-platform-{env.name} -n shop-platform-{env.name} patch hpa ") for c in mine), mine


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_platform_without_budgets_api_or_quota_says_why_in_the_cost_plan(name):
    """Heroku has no budgets API, Lambda and Heroku no quota object: the platform's cost.yaml
    gives the reason and the cost plan prints it."""
    params = load_params(PARAMS / f"{name}.yaml")
    platform = params.catalog.platform(params.platform)
    text = cost.preview(params).markdown
    guardrails = text.split("## Guardrails")[1].split("## Optimization Opportunities")[0]
    for capability in (platform.cost.budgets, platform.cost.quota, platform.cost.scaling_caps):
        if capability.unsupported:
            assert " ".join(capability.unsupported.split()) in guardrails
    assert name != "weather-api" or "Heroku has no budget API" in guardrails

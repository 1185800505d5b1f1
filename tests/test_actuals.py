"""Actual spend from FOCUS exports (opslib.focus, opslib.actuals): every figure below is
worked out by hand from the fixtures in tests/fixtures/focus/ (see the comments)."""

import gzip
import json
import shutil
from datetime import date, timedelta

import pytest
from conftest import FIXTURES, PARAMS, execute_notebook

from opslib.check.cost_report import check_cost_report
from opslib.check.findings import failed
from opslib.cli import main
from opslib.documents import cost_report, spend
from opslib.errors import InputError
from opslib.params.models import ProjectParams, load_params

F = FIXTURES / "focus"


@pytest.fixture(scope="module")
def meter():
    return load_params(F / "meter.yaml")


@pytest.fixture(scope="module")
def report(meter):
    return spend.analyse(meter, spend.load(meter))


def by_who(params, files):
    frame = spend.attribute(params, spend.load(params, files))
    return {k: round(v, 2) for k, v in frame.groupby(["env", "how"])["cost"].sum().items()}


# --- reading ---------------------------------------------------------------------------------


def test_reads_a_spec_file(meter):
    b = spend.load(meter)
    # 50 days (Sep 1 – Oct 20) × 3 rows; Sep (10 + 7 + 1) × 30 = 540, Oct 130 + 140 + 200 + 100 = 570
    assert b.rows == 150 and b.notes == []
    assert round(float(b.daily["cost"].sum()), 2) == 1110.0


def test_gzip_parquet_and_folders(meter, tmp_path):
    import duckdb

    folder = tmp_path / "exports"
    folder.mkdir()
    with open(F / "spec-1.1.csv", "rb") as src, gzip.open(folder / "spec.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{F / 'attribution.csv'}', header=true)) TO '{folder / 'attribution.parquet'}' (FORMAT parquet)")
    con.close()
    (folder / "README.txt").write_text("not an export")
    b = spend.load(meter, [folder])
    assert [f.name for f in b.files] == ["attribution.parquet", "spec.csv.gz"]
    # 150 + 7 rows; 1110 + 10 + 4 + 3 + 7 + 2 + 50 + 5 = 1191; typed Parquet timestamps are not deviations
    assert b.rows == 157 and round(float(b.daily["cost"].sum()), 2) == 1191.0
    assert not [n for n in b.notes if "ISO 8601" in n]


def test_deviations_are_normalised_and_reported(meter):
    b = spend.load(meter, [F / "deviations.csv"])
    notes = "\n".join(b.notes)
    # EffectiveCost 8 + (null → BilledCost 5) + 4 + 1 + 2
    assert round(float(b.daily["cost"].sum()), 2) == 20.0
    for expected in [
        "1 column(s) outside FOCUS 1.0–1.2 without the x_ prefix, ignored: CostCenter",  # x_Discount is allowed
        "4 cell(s) held null as text",  # EffectiveCost "null", BilledCost "NULL", SubAccountId "null", Tags "NULL"
        "2 ChargePeriodStart value(s) not in ISO 8601 UTC form",  # "2026-10-06 00:00:00" and "2026-10-06"
        "1 row(s) without EffectiveCost, BilledCost used instead",
        "1 row(s) where BilledCost and EffectiveCost disagree (BilledCost − EffectiveCost = $2.00 in total)",  # 10 vs. 8
        "1 row(s) with EffectiveCost above ListCost",  # 4 > 3
        "1 row(s) whose Tags is not a JSON object",
        "ServiceName 'Amazon EC2' also written as 'amazon ec2' (1 row(s))",
        "ServiceCategory 'Compute' also written as 'compute' (1 row(s))",
        "ChargeCategory 'Usage' also written as 'usage' (1 row(s))",
        "environment tag value 'prod' also written as 'Prod' (1 row(s))",
    ]:
        assert expected in notes
    # the three EC2 rows count as one service in prod; the two S3 rows carry no usable tag
    frame = spend.attribute(meter, b)
    assert set(frame["service"]) == {"Amazon EC2", "Amazon S3"}
    assert by_who(meter, [F / "deviations.csv"]) == {("prod", "tag"): 17.0, ("not attributed", "no project tag, account or service mapping"): 3.0}


def test_missing_columns_are_rejected(meter):
    with pytest.raises(InputError) as exc:
        spend.load(meter, [F / "missing-columns.csv"])
    msg = str(exc.value)
    assert msg.startswith(f"{F / 'missing-columns.csv'}: not a FOCUS cost-and-usage export, the mandatory column(s) EffectiveCost, ServiceName are missing")
    assert msg.count(". ") == 0 and "\n" not in msg


def test_missing_or_unreadable_file_is_an_input_error(meter, tmp_path):
    with pytest.raises(InputError, match="billing export not found"):
        spend.load(meter, [tmp_path / "nope.csv"])
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match=r"broken.parquet: cannot read it as a FOCUS export \("):
        spend.load(meter, [tmp_path / "broken.parquet"])


# --- attribution -----------------------------------------------------------------------------


def test_attribution_by_tags_accounts_and_services(meter):
    assert by_who(meter, [F / "attribution.csv"]) == {
        ("prod", "tag"): 14.0,  # application=meter/prod 10 + application=METER, environment=Production (alias) 4
        ("prod", "service"): 7.0,  # untagged AWS Support → actuals.services
        ("dev", "account"): 3.0,  # untagged, SubAccountId 222222222222 → actuals.accounts
        ("project, no environment", "project tag without environment tag"): 2.0,
        ("other projects", "project tag of another project"): 50.0,  # user:application=data-lake
        ("not attributed", "no project tag, account or service mapping"): 5.0,
    }


def test_unattributed_spend_is_in_the_report(meter):
    r = spend.analyse(meter, spend.load(meter, [F / "attribution.csv"]))
    rows = {(who, how): cost for who, how, cost, _ in r.attribution}
    assert rows[("not attributed", "no project tag, account or service mapping")] == 5.0
    assert rows[("project, no environment", "project tag without environment tag")] == 2.0
    assert "| not attributed | no project tag, account or service mapping | $5.00 | 1 |" in cost_report.render_report(r)


def test_mapping_to_an_unknown_environment_is_a_params_error(meter):
    data = meter.model_dump(mode="json", exclude_none=True)
    data["actuals"]["accounts"] = {"1": "qa"}
    with pytest.raises(Exception, match=r"actuals.accounts.1: no environment named 'qa'"):
        ProjectParams.model_validate(data, context={"base_dir": meter.base_dir})


# --- budgets, thresholds, forecast -----------------------------------------------------------


def test_budget_thresholds_and_forecast(report):
    envs = {e.env: e for e in report.month_envs()}
    assert report.month == "2026-10" and report.months == ["2026-09", "2026-10"]
    dev, prod = envs["dev"], envs["prod"]
    # dev: $5 a day from Oct 1 → 70 on Oct 14, 90 on Oct 18, 100 on Oct 20; forecast 100 + 5 × 11 days = 155
    assert dev.actual == 100 and dev.run_rate == 5 and dev.forecast == 155 and dev.over_budget
    assert [c.day for c in dev.crossings] == [date(2026, 10, 14), date(2026, 10, 18), date(2026, 10, 20)]
    # prod: 20/day Oct 1–13 (260), 30/day Oct 14–20 (210) = 470; 420 reached on day 13 + ceil(160 / 30) = Oct 19
    assert prod.actual == 470 and prod.run_rate == 30 and prod.forecast == 800 and not prod.over_budget
    assert [(c.threshold_pct, c.day, c.projected) for c in prod.crossings] == [
        (70, date(2026, 10, 19), None),
        (90, None, date(2026, 10, 23)),  # 470 + 30 × ceil(70 / 30 = 2.33) ≥ 540
        (100, None, date(2026, 10, 25)),  # 470 + 30 × ceil(130 / 30 = 4.33) ≥ 600
    ]
    sep = {e.env: e for e in report.month_envs("2026-09")}
    # September is complete: prod 17 × 30 = 510; 17 × 25 = 425 ≥ 420 → Sep 25
    assert sep["prod"].complete and sep["prod"].forecast == 510
    assert [c.day for c in sep["prod"].crossed] == [date(2026, 9, 25)]


def test_variance_against_the_estimate(report):
    v = {(r.month, r.category): r for r in report.variance + report.month_totals}
    # estimate: compute 6 × $50 (prod) + 1 × $50 (dev) = 350 (300–450); database $150; maintenance is never billed
    assert (v["2026-09", "compute"].expected, v["2026-09", "compute"].low, v["2026-09", "compute"].high) == (350, 300, 450)
    assert report.unbilled == [("maintenance", 200.0)]
    # September: compute 300 + 30 = 330 (−5.7%), database 7 × 30 = 210 (+40%), total 540 vs. 500 (+8%)
    assert round(v["2026-09", "compute"].variance_pct, 2) == -5.71 and v["2026-09", "compute"].within
    assert v["2026-09", "database"].actual == 210 and round(v["2026-09", "database"].variance_pct, 1) == 40.0
    assert not v["2026-09", "database"].within
    assert v["2026-09", "total"].basis == "actual" and round(v["2026-09", "total"].variance_pct, 1) == 8.0
    # October forecast: compute 15/day × 13 + 25/day × 7 = 370, + 25 × 11 = 645; database 200 + 10 × 11 = 310
    assert v["2026-10", "compute"].basis == "forecast" and round(v["2026-10", "compute"].actual, 2) == 645
    assert round(v["2026-10", "database"].actual, 2) == 310
    assert round(v["2026-10", "total"].actual, 2) == 955 and round(v["2026-10", "total"].variance_pct, 1) == 91.0
    assert report.target_summary.startswith("met in 1 of 2 month(s)")


# --- anomalies -------------------------------------------------------------------------------


def test_anomalies_respect_the_weekly_pattern():
    start = date(2026, 8, 3)  # a Monday
    values = [4.0 if (start + timedelta(days=i)).weekday() >= 5 else 10.0 for i in range(42)]
    values[35] = 40.0  # Monday of week 6: baseline 10 (Mondays), scale max(1.4826 × 0 MAD, 5% of 10) = 0.5 → z 60
    values[40] = 10.0  # Saturday of week 6: normal for a weekday, 2.5× a Saturday's 4 → z = 6 / 0.2 = 30
    found = spend.detect_anomalies(values, start, history_days=28, z_threshold=3.5, min_usd=5)
    assert [(d, v, b, round(z, 1)) for d, v, b, z in found] == [
        (date(2026, 9, 7), 40.0, 10.0, 60.0),
        (date(2026, 9, 12), 10.0, 4.0, 30.0),
    ]
    # no weekend of the normal pattern is flagged, though 4 is far below the overall median of 10
    assert spend.detect_anomalies(values[:35], start) == []


def test_anomaly_episode_and_its_drivers(report):
    [a] = report.anomalies
    # Oct 14 (a Wednesday): Wednesdays Sep 16, 23, 30 cost 17, Oct 7 costs 20 → baseline 17; EC2 20 vs. 10, RDS 10 vs. 7
    assert (a.day, a.env, a.cost, a.baseline, a.days, a.until) == (date(2026, 10, 14), "prod", 30.0, 17.0, 7, date(2026, 10, 20))
    assert a.drivers == (("Amazon EC2", 10.0), ("Amazon RDS", 3.0))


# --- the document ----------------------------------------------------------------------------


def test_golden_cost_report(golden):
    params = load_params(PARAMS / "shop-platform.yaml")
    text = cost_report.render_report(spend.analyse(params, spend.load(params)))
    assert not failed(check_cost_report(text, environments=["dev", "staging", "prod"], strict=True))
    golden("shop-platform/cost-report.md", text)


def test_write_is_deterministic_and_checked(meter, tmp_path):
    w1 = cost_report.write(meter, None, tmp_path / "a")
    w2 = cost_report.write(meter, None, tmp_path / "b")
    assert w1.path.name == "cost-report.md" and {f.status for f in w1.findings} == {"pass", "n/a"}  # n/a: the procedure items
    for rel in ["cost-report.md", *cost_report.FIGURES.values()]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert {f.status for f in cost_report.check_written(tmp_path / "a", meter)} == {"pass", "n/a"}
    assert w2.findings == w1.findings


def test_without_actuals_nothing_is_written(tmp_path):
    params = load_params(PARAMS / "weather-api.yaml")
    w = cost_report.write(params, None, tmp_path)
    assert [f.status for f in w.findings] == ["n/a"] and not list(tmp_path.iterdir())
    assert cost_report.check_written(tmp_path, params) == []


# --- the command -----------------------------------------------------------------------------


def test_cli_exit_codes(tmp_path, capsys):
    params = str(F / "meter.yaml")
    assert main(["actuals", "--params", params, "--out", str(tmp_path)]) == 1  # dev reached 100% in October
    out = capsys.readouterr().out
    assert "dev: $100 of $100 (100%)" in out and (tmp_path / "meter" / "cost-report.md").is_file()
    assert main(["actuals", "--params", params, "--out", str(tmp_path), "--month", "2026-09", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["month"] == "2026-09" and data["variance"][-1]["variance_pct"] == 91.0
    assert main(["actuals", str(F / "missing-columns.csv"), "--params", params, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("opslib: ") and "missing-columns.csv" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert main(["actuals", "--params", params, "--out", str(tmp_path), "--month", "2026-13"]) == 2
    assert "write it as YYYY-MM" in capsys.readouterr().err
    assert main(["actuals", "--params", params, "--out", str(tmp_path), "--month", "2026-07"]) == 2
    assert "covers 2026-09 to 2026-10" in capsys.readouterr().err


def test_cli_without_actuals_section_needs_files(tmp_path, capsys):
    assert main(["actuals", "--params", str(PARAMS / "weather-api.yaml"), "--out", str(tmp_path)]) == 2
    assert "actuals: missing" in capsys.readouterr().err


# --- the notebook ----------------------------------------------------------------------------


# shop-platform's notebook runs in tests/test_batch.py (batch mode); its explorer is tested in-process below
@pytest.mark.parametrize("project, interactive", [("weather-api", False)])
@pytest.mark.kernel
def test_notebook_runs(project, interactive, tmp_path):
    from conftest import REPO

    out = tmp_path / "15-cost-actuals.ipynb"
    execute_notebook(
        str(REPO / "notebooks" / "15-cost-actuals.ipynb"), str(out),
        parameters={"params_path": str(PARAMS / f"{project}.yaml"), "out_dir": str(tmp_path / "out"), "interactive": interactive},
        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"),
    )
    outputs = [o for c in json.loads(out.read_text())["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = json.dumps(outputs)
    if project == "shop-platform":
        assert "application/vnd.jupyter.widget-view+json" in {m for o in outputs for m in o.get("data", {})}
        assert "Cost report: shop-platform" in text and (tmp_path / "out" / "cost-report.md").is_file()
    else:
        assert "No billing data configured" in text and not (tmp_path / "out" / "cost-report.md").exists()


def test_explorer_follows_the_drop_downs(meter, report):
    from opslib.notebook.cost_report import ALL, actuals_explorer

    ex = actuals_explorer(report)
    assert "<b>(all), 2026-10: $570</b>" in ex.table.value and ex.chart.value[:4] == b"\x89PNG"
    ex.env.value = "prod"
    assert "<b>prod, 2026-10: $470</b>" in ex.table.value and list(ex.service.options) == [ALL, "Amazon EC2", "Amazon RDS"]
    ex.service.value = "Amazon RDS"
    assert "<b>prod, 2026-10, Amazon RDS: $200</b>" in ex.table.value and "<td>2026-10-20</td>" in ex.table.value
    ex.month.value = "2026-09"
    assert "<b>prod, 2026-09, Amazon RDS: $210</b>" in ex.table.value
